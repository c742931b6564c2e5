"""``format()`` (Java's Formatter), ``format_number()`` and ``parse_data_size()``.

Trino's ``format`` is ``java.util.Formatter``; DuckDB's ``printf`` is C's. They agree on
little beyond ``%s``, so the format string (a literal) is read here and each
specifier becomes DuckDB expressions: ``%s``, ``%d`` and ``%f`` with width, ``-``,
``0`` and ``,`` flags, precision, ``%%``, ``%n`` and argument indexes. Other
conversions (``%x``, ``%e``, ``%t`` ...) are refused by name.

Importing the module adds these functions to :mod:`~lakekit.sql.trino.registry`'s table.
"""

from __future__ import annotations

import re

from sqlglot import exp

from lakekit.sql.trino.emit import Emitter, string, template
from lakekit.sql.trino.errors import TrinoTypeError, not_supported
from lakekit.sql.trino.infer import ttype
from lakekit.sql.trino.literals import constant_string
from lakekit.sql.trino.registry import F
from lakekit.sql.trino.types import VARCHAR, decimal

_SPEC = re.compile(r"%(?:(\d+)\$)?([-#+ 0,(<]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])")


def _format_emit(em: Emitter, node: exp.Expression, args: list[exp.Expression]) -> exp.Expression:
    fmt_node, values = args[0], args[1:]
    fmt = constant_string(fmt_node)
    if fmt is None:
        raise not_supported("format() with a format string computed per row")
    pieces: list[exp.Expression] = []
    position = 0
    next_arg = 0
    for m in _SPEC.finditer(fmt):
        if m.start() > position:
            pieces.append(string(fmt[position:m.start()]))
        position = m.end()
        index, flags, width, precision, conversion = m.groups()
        if conversion == "%":
            pieces.append(string("%"))
            continue
        if conversion == "n":
            pieces.append(string("\n"))
            continue
        if "<" in flags:
            raise not_supported(f"format('{m.group(0)}')")
        if conversion not in "sdf" or set(flags) - set("-0,"):
            raise not_supported(f"format('{m.group(0)}')", "Java format strings beyond %s, %d and %f")
        if index is not None:
            arg_index = int(index) - 1
        else:
            arg_index = next_arg
            next_arg += 1
        if arg_index >= len(values):
            raise TrinoTypeError(f"format string {fmt!r} needs more arguments than the {len(values)} given")
        pieces.append(_convert(em, m.group(0), values[arg_index], flags, width, precision, conversion))
    if position < len(fmt):
        if "%" in fmt[position:]:
            raise not_supported(f"format({fmt!r})")
        pieces.append(string(fmt[position:]))
    if not pieces:
        return string("")
    out = pieces[0]
    for piece in pieces[1:]:
        out = exp.DPipe(this=out, expression=piece, safe=False)
    return exp.Paren(this=out)


def _convert(em, spec, value, flags, width, precision, conversion):
    t = ttype(value)
    if conversion == "s":
        if t.is_floating or t.is_timestamp or t.base in ("time", "json", "varbinary") or t.is_array or t.is_map or t.is_row:
            raise not_supported(f"format('{spec}') of a {t.base}", "Java prints it its own way")
        if t.is_decimal:
            text = template("CASE WHEN {0} <> 0 AND abs({0}) < 0.000001 THEN {1} ELSE CAST({0} AS VARCHAR) END", value,
                            em.fail("format('%s') of a tiny decimal is not supported by the local engine; run it with --engine athena"))
        else:
            text = template("CAST({0} AS VARCHAR)", value) if not t.is_string else value
        if precision is not None:
            text = template(f"substring({{0}}, 1, {int(precision)})", text)
        text = template("coalesce({0}, 'null')", text)
        if "0" in flags or "," in flags:
            raise not_supported(f"format('{spec}')")
    elif conversion == "d":
        if not (t.is_integer or t.is_unknown):
            raise not_supported(f"format('{spec}') of a {t.base}", "Java fails on it")
        if precision is not None:
            raise not_supported(f"format('{spec}')")
        digits = template("CAST(abs(CAST({0} AS HUGEINT)) AS VARCHAR)", value)
        if "," in flags:
            digits = _group(digits)
        sign = template("CASE WHEN {0} < 0 THEN '-' ELSE '' END", value)
        text = _numeric_text(sign, digits, flags, width)
        return template("coalesce({0}, 'null')", text)
    else:  # f
        digits_after = int(precision) if precision is not None else 6
        if not (t.is_floating or t.is_decimal):
            raise not_supported(f"format('{spec}') of a {t.base}", "Java fails on it")
        if t.is_decimal:
            rounded = template(f"CAST(round({{0}}, {digits_after}) AS DECIMAL(38, {digits_after}))", value)
        else:
            # Java rounds the shortest decimal form of the double half up; that form
            # agrees with the double printed to 17 significant digits.
            rounded = template(f"CAST(round(CAST(printf('%.16e', {{0}}) AS DECIMAL(38, 20)), {digits_after}) AS DECIMAL(38, {digits_after}))",
                               value)
        magnitude = template("CAST(abs({0}) AS VARCHAR)", rounded)
        whole = template("split_part({0}, '.', 1)", magnitude)
        if "," in flags:
            whole = _group(whole)
        fraction = template("'.' || split_part({0}, '.', 2)", magnitude) if digits_after else string("")
        sign = template("CASE WHEN {0} < 0 THEN '-' ELSE '' END", rounded)
        text = _numeric_text(sign, template("{0} || {1}", whole, fraction), flags, width)
        if t.is_floating:
            text = template("CASE WHEN isnan({0}) THEN 'NaN' WHEN isinf({0}) THEN CASE WHEN {0} > 0 THEN 'Infinity' "
                            "ELSE '-Infinity' END ELSE {1} END", value, text)
        return template("coalesce({0}, 'null')", text)
    if width is not None:
        fn = "rpad" if "-" in flags else "lpad"
        text = template(f"CASE WHEN length({{0}}) >= {int(width)} THEN {{0}} ELSE {fn}({{0}}, {int(width)}, ' ') END", text)
    return text


def _group(digits: exp.Expression) -> exp.Expression:
    """Thousands separators in a string of digits."""
    return template("regexp_replace(reverse(regexp_replace(reverse({0}), '(\\d\\d\\d)', '\\1,', 'g')), '^,', '')", digits)


def _numeric_text(sign, digits, flags, width):
    if width is None:
        return template("{0} || {1}", sign, digits)
    size = int(width)
    if "-" in flags:
        return template(f"rpad({{0}} || {{1}}, CAST(greatest({size}, length({{0}} || {{1}})) AS INTEGER), ' ')", sign, digits)
    if "0" in flags:
        return template(f"{{0}} || lpad({{1}}, CAST(greatest({size} - length({{0}}), length({{1}})) AS INTEGER), '0')", sign, digits)
    return template(f"lpad({{0}} || {{1}}, CAST(greatest({size}, length({{0}} || {{1}})) AS INTEGER), ' ')", sign, digits)


F.add("format", exp.Format, ret=VARCHAR, keys=("this", "expressions"), emit=_format_emit)
F.add("format_number", ret=VARCHAR, arity=(1, 1),
      emit=lambda em, node, args: em.macro("lk_format_number", template("CAST(trunc({0}) AS BIGINT)", args[0])))
F.add("parse_data_size", ret=decimal(38, 0), arity=(1, 1), emit=lambda em, node, args: em.macro("lk_parse_data_size", args[0]))
