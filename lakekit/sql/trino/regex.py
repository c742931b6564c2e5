"""What the local engine needs to know about a Trino (Java-syntax) regular expression.

DuckDB matches with RE2. The common syntax means the same in both; Java constructs RE2
lacks (lookaround, backreferences, possessive quantifiers) are refused by name, so a
pattern either behaves as in Athena or does not run. The pattern is also read for its
groups: how many there are, and whether a group may not take part in a match (then
Athena returns NULL where DuckDB returns '').

>>> group_count(r"(\\d+)([a-z]+)"), group_may_be_unmatched("(x)?c", 1), group_may_be_unmatched("(a)(b)", 2)
(2, True, False)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lakekit.sql.trino.errors import not_supported

__all__ = ["check_pattern", "duckdb_replacement", "group_count", "group_may_be_unmatched", "is_fully_anchored", "uses_context"]


@dataclass
class _Group:
    capturing: bool
    index: int | None
    parent: _Group | None
    alternation: bool = False
    optional: bool = False
    children: list[_Group] = field(default_factory=list)


@dataclass
class _Parsed:
    groups: list[_Group]
    top: _Group
    context: bool
    anchored_start: bool
    anchored_end: bool


def _parse(pattern: str, function: str = "regexp") -> _Parsed:
    top = _Group(False, None, None)
    current = top
    groups: list[_Group] = []
    context = False
    i = 0
    n = len(pattern)
    last_closed: _Group | None = None
    anchored_end = False
    while i < n:
        ch = pattern[i]
        anchored_end = False
        if ch == "\\":
            nxt = pattern[i + 1:i + 2]
            if nxt.isdigit() and nxt != "0":
                raise not_supported(f"{function}() with the backreference \\{nxt}", "DuckDB's RE2 has no backreferences")
            if nxt in ("b", "B", "A", "z", "Z", "G"):
                if nxt in ("G", "Z"):
                    raise not_supported(f"{function}() with \\{nxt}")
                context = True
            if nxt in ("Q",):
                raise not_supported(f"{function}() with \\Q...\\E quoting")
            if nxt in ("R", "X", "h", "H", "k"):
                raise not_supported(f"{function}() with \\{nxt}")
            i += 2
            last_closed = None
            continue
        if ch == "[":
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                if pattern[j] == "\\":
                    j += 1
                elif pattern[j] == "[":
                    raise not_supported(f"{function}() with nested character classes")
                j += 1
            i = j + 1
            last_closed = None
            continue
        if ch == "(":
            rest = pattern[i + 1:i + 4]
            capturing = True
            if rest.startswith("?"):
                if rest.startswith(("?=", "?!", "?<=", "?<!")):
                    raise not_supported(f"{function}() with lookaround", "DuckDB's RE2 has no lookahead or lookbehind")
                if rest.startswith("?>"):
                    raise not_supported(f"{function}() with atomic groups")
                capturing = rest.startswith(("?<", "?P<")) and not rest.startswith(("?<=", "?<!"))
            group = _Group(capturing, None, current)
            if capturing:
                groups.append(group)
                group.index = len(groups)
            current.children.append(group)
            current = group
            i += 1
            last_closed = None
            continue
        if ch == ")":
            last_closed = current
            current = current.parent or top
            i += 1
            continue
        if ch == "|":
            current.alternation = True
            i += 1
            last_closed = None
            continue
        if ch in "?*+{":
            if ch == "{":
                end = pattern.find("}", i)
                quantifier = pattern[i:end + 1] if end > 0 else ""
                optional = quantifier.startswith("{0")
                i = end + 1 if end > 0 else i + 1
            else:
                optional = ch in "?*"
                i += 1
            if pattern[i:i + 1] == "+":
                raise not_supported(f"{function}() with possessive quantifiers")
            if pattern[i:i + 1] == "?":
                i += 1
            if last_closed is not None and optional:
                last_closed.optional = True
            last_closed = None
            continue
        if ch in "^$":
            context = True
            anchored_end = ch == "$"
        i += 1
        last_closed = None
    return _Parsed(groups, top, context, pattern.startswith("^"), anchored_end and not pattern.endswith("\\$"))


def check_pattern(pattern: str, function: str) -> None:
    """Refuse Java regex syntax that RE2 reads differently or not at all."""
    _parse(pattern, function)
    if "(?d)" in pattern or "(?u)" in pattern or "(?U" in pattern:
        raise not_supported(f"{function}() with the (?d) or (?u) flags")


def group_count(pattern: str) -> int:
    return len(_parse(pattern).groups)


def group_may_be_unmatched(pattern: str, index: int) -> bool:
    """Whether capturing group ``index`` can be absent from a match (optional, or in an
    alternative, itself or through a group around it)."""
    parsed = _parse(pattern)
    group: _Group | None = parsed.groups[index - 1]
    while group is not None:
        if group.optional or group.alternation and group is not parsed.groups[index - 1]:
            return True
        parent = group.parent
        if parent is not None and parent.alternation:
            return True
        group = parent
    return False


def uses_context(pattern: str) -> bool:
    """Whether the pattern looks outside its match (anchors, word boundaries)."""
    return _parse(pattern).context


def is_fully_anchored(pattern: str) -> bool:
    parsed = _parse(pattern)
    return parsed.anchored_start and parsed.anchored_end and not parsed.top.alternation


def duckdb_replacement(text: str, groups: int) -> str:
    r"""A Java replacement (``$1``, ``\$``) as RE2 writes it (``\1``, ``$``).

    >>> duckdb_replacement("3c$2 ", 2)
    '3c\\2 '
    """
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            if i + 1 >= len(text):
                raise not_supported("regexp_replace() with a replacement ending in a backslash")
            literal = text[i + 1]
            out.append("\\\\" if literal == "\\" else literal)
            i += 2
            continue
        if ch == "$":
            j = i + 1
            if text[j:j + 1] == "{":
                raise not_supported("regexp_replace() with named group references", "use $1, $2 ...")
            digits = ""
            while j < len(text) and text[j].isdigit() and int(digits + text[j]) <= groups:
                digits += text[j]
                j += 1
            if not digits:
                raise not_supported("regexp_replace() with a $ that names no group", "Athena fails on it")
            if int(digits) > 9:
                raise not_supported("regexp_replace() referring to group 10 or later")
            out.append("\\" + digits)
            i = j
            continue
        out.append(ch)
        i += 1
    return "".join(out)
