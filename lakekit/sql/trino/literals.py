"""Constant values the translation reads before the query runs: literal strings, time
zones, Unicode escapes, and the parse corrections sqlglot needs for Trino's syntax."""

from __future__ import annotations

import re

from sqlglot import exp

from lakekit.sql.trino.errors import not_supported

__all__ = ["constant_string", "constant_int", "constant_zone", "literal_zone", "unicode_text", "fix_parse"]


def constant_string(node: exp.Expression) -> str | None:
    """The value of a string literal (through parentheses and casts to varchar), else None."""
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Literal) and node.is_string:
        return node.this
    if isinstance(node, exp.UnicodeString):
        return unicode_text(node)
    if isinstance(node, exp.Cast) and node.to.this in (exp.DType.VARCHAR, exp.DType.TEXT) and not node.to.expressions:
        return constant_string(node.this)
    return None


def constant_int(node: exp.Expression) -> int | None:
    """The value of an integer literal (``-3`` included), else None."""
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Neg):
        inner = constant_int(node.this)
        return -inner if inner is not None else None
    if isinstance(node, exp.Literal) and node.is_int:
        return int(node.this.replace("_", ""))
    return None


_OFFSET = re.compile(r"^[+-]\d{1,2}(:?\d{2})?$")


def normalize_zone(zone: str) -> str:
    """A zone as Trino names it: ``UTC``, ``+05:30``, ``America/Los_Angeles``."""
    from zoneinfo import ZoneInfo, available_timezones

    text = zone.strip()
    upper = text.upper()
    if upper in ("UTC", "Z", "GMT", "UT", "ZULU", "UCT", "ETC/UTC", "ETC/GMT", "GMT0", "ETC/UCT"):
        return "UTC"
    if _OFFSET.match(text):
        sign, digits = text[0], text[1:].replace(":", "")
        hours, minutes = int(digits[:-2] if len(digits) > 2 else digits), int(digits[-2:]) if len(digits) > 2 else 0
        if hours == 0 and minutes == 0:
            return "UTC"
        return f"{sign}{hours:02d}:{minutes:02d}"
    for name in (text, text.replace(" ", "_")):
        try:
            ZoneInfo(name)
            return name
        except Exception:  # noqa: BLE001 - zoneinfo raises several kinds for unknown names
            pass
    lowered = {z.lower(): z for z in available_timezones()}
    if text.lower() in lowered:
        return lowered[text.lower()]
    raise not_supported(f"time zone {zone!r}", "the local engine does not know this zone")


def constant_zone(node: exp.Expression, construct: str) -> str:
    """The zone a constant expression names; a zone computed per row is refused."""
    text = constant_string(node)
    if text is None:
        raise not_supported(f"{construct} with a time zone computed per row",
                            "DuckDB timestamps carry no zone of their own")
    return normalize_zone(text)


_LITERAL_ZONE = re.compile(r"^\s*\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*(.*?)\s*$")


def literal_zone(text: str) -> str:
    """The zone written in a ``TIMESTAMP '... zone'`` literal (UTC when none)."""
    m = _LITERAL_ZONE.match(text)
    zone = m.group(1) if m else ""
    return normalize_zone(zone) if zone else "UTC"


def split_timestamp_literal(text: str) -> tuple[str, str | None]:
    """``('2020-05-11 11:15:05', '+05:30')`` from ``'2020-05-11 11:15:05 +05:30'``."""
    m = re.match(r"^\s*(\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?)\s*(.*?)\s*$", text)
    if not m:
        return text, None
    return m.group(1), (m.group(2) or None)


def unicode_text(node: exp.UnicodeString) -> str:
    r"""The text of ``U&'...'`` with its escapes (``\2603``, ``\+01F600``) decoded."""
    escape = node.args.get("escape")
    esc = escape.this if isinstance(escape, exp.Literal) else "\\"
    text = node.this
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == esc:
            if text[i + 1:i + 2] == esc:
                out.append(esc)
                i += 2
            elif text[i + 1:i + 2] == "+":
                out.append(chr(int(text[i + 2:i + 8], 16)))
                i += 8
            else:
                out.append(chr(int(text[i + 1:i + 5], 16)))
                i += 5
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def fix_parse(tree: exp.Expression, sql: str | None) -> None:
    """Correct what sqlglot's Athena parser reads differently from Trino.

    * ``10_000`` (digit separators) parses as ``10 AS _000``: join them back.
    * ``DECIMAL '1.50'`` parses as ``CAST('1.50' AS DECIMAL)``, which in Trino is
      ``decimal(38,0)``; when the text holds the literal form, give it the literal's
      precision and scale.
    """
    for alias in list(tree.find_all(exp.Alias)):
        literal, name = alias.this, alias.args.get("alias")
        if (isinstance(literal, exp.Literal) and not literal.is_string and isinstance(name, exp.Identifier)
                and not name.quoted and re.fullmatch(r"_\d+(?:_\d+)*", name.name)):
            end, start = literal.meta.get("end"), name.meta.get("start")
            if end is not None and start is not None and start == end + 1:
                alias.replace(exp.Literal.number(literal.this + name.name))
    for bracket in list(tree.find_all(exp.Bracket)):
        # sqlglot stores a literal subscript 0-based (a[5] as 4) unless offset=1 says the
        # index is as written; keep every index as Trino writes it.
        if bracket.args.get("offset") != 1 and len(bracket.expressions) == 1:
            index = bracket.expressions[0]
            if isinstance(index, exp.Literal) and index.is_int:
                bracket.set("expressions", [exp.Literal.number(int(index.this) + 1)])
            bracket.set("offset", 1)
    if sql is None:
        return
    for cast in list(tree.find_all(exp.Cast)):
        if (cast.to.this == exp.DType.DECIMAL and not cast.to.expressions and isinstance(cast.this, exp.Literal)
                and cast.this.is_string):
            text = cast.this.this
            pattern = r"\bDECIMAL\s*'" + re.escape(text) + "'"
            if re.search(pattern, sql, flags=re.IGNORECASE):
                m = re.fullmatch(r"\s*[+-]?(\d*)(?:\.(\d*))?\s*", text)
                if not m:
                    continue
                whole, fraction = m.group(1) or "", m.group(2) or ""
                precision = max(len(whole) + len(fraction), 1)
                cast.set("to", exp.DataType.build(f"DECIMAL({precision}, {len(fraction)})"))
