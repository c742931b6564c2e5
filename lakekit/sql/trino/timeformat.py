"""Date format strings: MySQL-style (``date_format``, ``date_parse``) and Joda
(``format_datetime``, ``parse_datetime``), as DuckDB's strftime/strptime patterns.

sqlglot already rewrote a MySQL pattern into strftime codes (``%i`` -> ``%M``); what is
left is to refuse the specifiers Trino does not support or DuckDB reads differently.

>>> joda_to_strftime("yyyy-MM-dd HH:mm:ss.SSS", "format_datetime", "UTC")
'%Y-%m-%d %H:%M:%S.%g'
"""

from __future__ import annotations

import re

from lakekit.sql.trino.errors import not_supported

__all__ = ["check_strftime", "joda_to_strftime"]

#: strftime codes (after sqlglot's MySQL rewrite) whose meaning agrees in Trino and DuckDB
_SAME = {"Y", "m", "d", "-d", "-m", "H", "-H", "I", "-I", "M", "S", "p", "j", "a", "A", "b", "B", "f", "G", "%"}
_REFUSED = {"W": "%u (week starting Monday)", "U": "%U", "V": "%V", "w": "%w", "X": "%X", "D": "%D"}


def check_strftime(fmt: str, function: str) -> str:
    """``fmt`` (sqlglot's strftime form of a MySQL pattern) when DuckDB reads it as Trino."""
    i = 0
    while i < len(fmt):
        if fmt[i] != "%":
            i += 1
            continue
        code = fmt[i + 1:i + 3] if fmt[i + 1:i + 2] == "-" else fmt[i + 1:i + 2]
        if code in _REFUSED:
            raise not_supported(f"{function}() with {_REFUSED[code]}", "Athena does not support it")
        if code == "y" and function == "date_parse":
            raise not_supported("date_parse() with %y", "the century of two-digit years differs")
        if code == "v":
            raise not_supported(f"{function}() with %v")
        if code not in _SAME and code != "y":
            raise not_supported(f"{function}() with %{code}")
        i += 1 + len(code)
    return fmt


def joda_to_strftime(pattern: str, function: str, zone: str | None, parsing: bool = False) -> str:
    """A Joda-Time pattern as a strftime pattern (``zone``: the value's zone, for ``z``/``Z``)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "'":
            end = pattern.find("'", i + 1)
            if end == i + 1:
                out.append("'")
                i += 2
                continue
            if end < 0:
                raise not_supported(f"{function}() with the pattern {pattern!r}", "an unclosed quote")
            out.append(pattern[i + 1:end].replace("%", "%%"))
            i = end + 1
            continue
        if not ch.isalpha():
            out.append("%%" if ch == "%" else ch)
            i += 1
            continue
        m = re.match(rf"{re.escape(ch)}+", pattern[i:])
        count = len(m.group(0))
        out.append(_letter(ch, count, function, zone, parsing))
        i += count
    return "".join(out)


def _letter(ch: str, count: int, function: str, zone: str | None, parsing: bool) -> str:
    def refuse() -> str:
        raise not_supported(f"{function}() with the pattern letter {ch * count!r}")

    if ch in "yY":
        if count == 2:
            return refuse() if parsing else "%y"
        return "%Y"
    if ch == "M":
        return {1: "%-m", 2: "%m", 3: "%b"}.get(count, "%B")
    if ch == "d":
        return {1: "%-d", 2: "%d"}.get(count) or refuse()
    if ch == "H":
        return {1: "%-H", 2: "%H"}.get(count) or refuse()
    if ch == "h":
        return {1: "%-I", 2: "%I"}.get(count) or refuse()
    if ch == "m":
        return {1: "%-M", 2: "%M"}.get(count) or refuse()
    if ch == "s":
        return {1: "%-S", 2: "%S"}.get(count) or refuse()
    if ch == "S":
        return {3: "%g", 6: "%f"}.get(count) or refuse()
    if ch == "a":
        return "%p"
    if ch == "E":
        return "%a" if count <= 3 else "%A"
    if ch == "D":
        return {1: "%-j", 3: "%j"}.get(count) or refuse()
    if ch == "e" and not parsing:
        return "%u"
    if ch == "G" and not parsing:
        return "AD"
    if ch in "zZ" and not parsing:
        if zone is None:
            return refuse()
        if ch == "Z" and count == 3 or ch == "z" and count >= 4 and zone == "UTC":
            return zone.replace("%", "%%")
        if zone == "UTC":
            return {1: "+0000", 2: "+00:00"}.get(count) if ch == "Z" else ("UTC" if count < 4 else refuse())
        if zone.startswith(("+", "-")) and ch == "Z":
            return {1: zone.replace(":", ""), 2: zone}.get(count) or refuse()
        return refuse()
    return refuse()
