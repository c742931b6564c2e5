"""``-- noqa`` comments: silence findings on one SQL line, all of them or chosen codes.

>>> marks = parse_noqa("SELECT *  -- noqa: Q001\\nSELECT a FROM t ORDER BY a -- noqa\\n")
>>> is_silenced(marks, 1, "Q001"), is_silenced(marks, 1, "Q004"), is_silenced(marks, 2, "Q004")
(True, False, True)
"""

from __future__ import annotations

import re

#: ``-- noqa`` silences every rule on its line; ``-- noqa: Q001,Q004`` only those.
_NOQA = re.compile(r"--\s*noqa(?:\s*:\s*(?P<codes>[A-Za-z]+[0-9]+(?:[\s,]+[A-Za-z]+[0-9]+)*))?", re.IGNORECASE)

#: line number -> codes silenced there; ``None`` means every code.
NoqaMarks = dict[int, "frozenset[str] | None"]


def parse_noqa(text: str) -> NoqaMarks:
    """Find the noqa comments of a SQL text, by 1-based line number."""
    marks: NoqaMarks = {}
    if "noqa" not in text.lower():
        return marks
    for number, line in enumerate(text.splitlines(), start=1):
        match = _NOQA.search(line)
        if not match:
            continue
        codes = match.group("codes")
        marks[number] = frozenset(c.upper() for c in re.split(r"[\s,]+", codes) if c) if codes else None
    return marks


def is_silenced(marks: NoqaMarks, line: int, code: str) -> bool:
    """True when line ``line`` carries a noqa comment that covers ``code``."""
    if line not in marks:
        return False
    codes = marks[line]
    return codes is None or code in codes
