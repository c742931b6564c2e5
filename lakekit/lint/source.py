"""A SQL text being linted: its statements, and where each node sits in the text.

sqlglot records the character offset of every token it reads; a node's position is
the offset of its first token. Some nodes start with keywords sqlglot does not keep
as tokens (``COUNT(``, ``ORDER BY``, ``CROSS JOIN``), so for those the position is
walked back over the keywords to where a reader's eye would land.

>>> src = SqlSource("q.sql", "SELECT a\\nFROM t\\nORDER BY a")
>>> order = src.statements[0].args["order"]
>>> src.position(order)
(3, 1)
"""

from __future__ import annotations

import bisect
import re
from functools import cached_property

from sqlglot import exp

from lakekit.errors import InputError, UsageError
from lakekit.lint.noqa import NoqaMarks, parse_noqa

_WORD_BEFORE = re.compile(r"([A-Za-z_][A-Za-z_0-9]*)\s*$")
_NAME_BEFORE = re.compile(r"([A-Za-z_][A-Za-z_0-9.\"]*)\s*$")


def parse_sql(text: str) -> list[exp.Expression]:
    """Statements of an Athena SQL text (none for a file of only comments)."""
    from lakekit.sql import parse_statements

    try:
        return parse_statements(text)
    except UsageError:
        import sqlglot
        from sqlglot.errors import SqlglotError

        try:
            if not any(s is not None for s in sqlglot.parse(text, read="athena")):
                return []  # blank, or comments alone: nothing to lint
        except SqlglotError:
            pass
        raise


class SqlSource:
    """One SQL file (or inline SQL) with its parsed statements and noqa marks."""

    def __init__(self, path: str, text: str):
        self.path = path
        self.text = text
        try:
            self.statements = parse_sql(text)
        except UsageError as ex:
            raise InputError(f"{path}: {ex}; fix the SQL or exclude the file") from ex
        self._line_starts = [0] + [m.end() for m in re.finditer(r"\n", text)]

    @cached_property
    def noqa(self) -> NoqaMarks:
        return parse_noqa(self.text)

    @cached_property
    def statement_spans(self) -> list[tuple[int, int]]:
        """(start, end) offsets of each statement's text, in :attr:`statements` order
        (empty when the tokens and the statements do not line up)."""
        from sqlglot.dialects.athena import Athena
        from sqlglot.tokens import TokenType

        spans: list[tuple[int, int]] = []
        first = last = None
        depth = 0
        for token in Athena().tokenize(self.text):
            if token.token_type == TokenType.L_PAREN:
                depth += 1
            elif token.token_type == TokenType.R_PAREN:
                depth -= 1
            if token.token_type == TokenType.SEMICOLON and depth == 0:
                if first is not None:
                    spans.append((first, last + 1))
                first = last = None
                continue
            if first is None:
                first = token.start
            last = token.end
        if first is not None:
            spans.append((first, last + 1))
        return spans if len(spans) == len(self.statements) else []

    # -- positions ---------------------------------------------------------------------
    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset."""
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def start_offset(self, node: exp.Expression) -> int | None:
        """Offset of the node's first token (``None`` when sqlglot kept none)."""
        starts = [n.meta["start"] for n in node.walk() if n.meta and "start" in n.meta]
        if not starts:
            return None
        offset = min(starts)
        if isinstance(node, exp.Window) and isinstance(node.this, exp.Func):
            node = node.this
        if isinstance(node, exp.Func) and not isinstance(node, (exp.Binary, exp.Predicate)):
            offset = self._back_to_function_name(offset)
        elif isinstance(node, exp.Order):
            offset = self._back_over_words(offset, {"BY", "ORDER"})
        elif isinstance(node, exp.Join):
            offset = self._back_over_words(offset, {"JOIN", "CROSS", "INNER", "LEFT", "RIGHT", "FULL", "OUTER", ","})
        return offset

    def position(self, node: exp.Expression) -> tuple[int, int]:
        offset = self.start_offset(node)
        return self.line_col(offset) if offset is not None else (1, 1)

    def _back_over_words(self, offset: int, words: set[str]) -> int:
        while True:
            before = self.text[:offset].rstrip()
            if "," in words and before.endswith(","):
                offset = len(before) - 1
                continue
            match = _WORD_BEFORE.search(before)
            if not match or match.group(1).upper() not in words:
                return offset
            offset = match.start(1)

    def _back_to_function_name(self, offset: int) -> int:
        # ``count(DISTINCT x)``: step back over DISTINCT and "(" to the function's name.
        before = self.text[:offset].rstrip()
        match = _WORD_BEFORE.search(before)
        if match and match.group(1).upper() in ("DISTINCT", "ALL"):
            before = before[: match.start(1)].rstrip()
        if not before.endswith("("):
            return offset
        before = before[:-1].rstrip()
        match = _NAME_BEFORE.search(before)
        return match.start(1) if match else offset
