"""``CAST`` and ``TRY_CAST`` with Trino's conversion rules on DuckDB.

Where DuckDB converts differently, the cast is spelled out: a double rounds half away
from zero into an integer (DuckDB rounds half to even), ``varchar(n)`` truncates, JSON
casts to and from SQL values follow Trino (``CAST('abc' AS JSON)`` is the JSON string
``"abc"``; a JSON object does not cast to varchar), timestamps print their precision.
Importing the module adds the rule for ``CAST`` and ``TRY_CAST`` to the emitter's table.
"""

from __future__ import annotations

from sqlglot import exp

from lakekit.sql.trino.emit import Emitter, duck_cast, from_local, rule, string, template, to_local
from lakekit.sql.trino.errors import not_supported
from lakekit.sql.trino.infer import TYPE_KEY, ttype
from lakekit.sql.trino.literals import normalize_zone, split_timestamp_literal
from lakekit.sql.trino.types import TType, duckdb_type

__all__ = ["emit_cast", "to_varchar"]


@rule(exp.Cast, exp.TryCast)
def _cast_node(em: Emitter, node: exp.Cast) -> exp.Expression:
    return emit_cast(em, node.this, node.this.meta.get(TYPE_KEY), ttype(node), safe=isinstance(node, exp.TryCast))


def emit_cast(em: Emitter, value: exp.Expression, source: TType | None, target: TType, safe: bool) -> exp.Expression:
    """``CAST(value AS target)`` (``TRY_CAST`` when ``safe``) with Trino's semantics."""
    out = _cast(em, value, source, target, safe)
    return out


def _plain(value: exp.Expression, target: TType | str, safe: bool) -> exp.Expression:
    text = target if isinstance(target, str) else duckdb_type(target)
    cls = exp.TryCast if safe else exp.Cast
    return cls(this=value, to=exp.DataType.build(text, dialect="duckdb"))


def _cast(em: Emitter, value: exp.Expression, source: TType | None, target: TType, safe: bool) -> exp.Expression:
    if source is None or source.is_unknown:
        return _plain(value, target, safe)
    if target.base == "char" or source.base == "char":
        raise not_supported("the char(n) type", "DuckDB has no blank-padded strings")
    if source == target and target.base != "varchar":
        return value
    if target.base == "json":
        return _to_json(em, value, source)
    if source.base == "json":
        return _from_json(em, value, target, safe)
    if target.is_string:
        text = to_varchar(em, value, source, safe)
        if target.length is not None:
            return template(f"substring({{0}}, 1, {target.length})", text)
        return text
    if target.is_integer and source.is_floating:
        return _plain(template("round({0})", value), target, safe)
    if target.is_integer and source.is_string:
        return _plain(template("trim({0}, ' ')", value), target, safe) if False else _plain(value, target, safe)
    if target.base == "timestamp" and source.base == "timestamp with time zone":
        zone = source.zone
        if zone is None:
            raise not_supported("CAST(timestamp with time zone AS timestamp) for a value of unknown zone")
        return to_local(value, zone)
    if target.base == "date" and source.base == "timestamp with time zone":
        zone = source.zone
        if zone is None:
            raise not_supported("CAST(timestamp with time zone AS date) for a value of unknown zone")
        return _plain(to_local(value, zone), "DATE", safe)
    if target.base == "timestamp with time zone" and source.base == "varchar" and isinstance(value, exp.Literal):
        stamp, zone = split_timestamp_literal(value.this)
        if zone:
            return from_local(string(stamp), normalize_zone(zone))
        return _plain(value, "TIMESTAMPTZ", safe)
    if target.base == "timestamp" and source.is_string and isinstance(value, exp.Literal):
        if len(value.this.rpartition(".")[2]) > 6 and "." in value.this:
            raise not_supported("timestamps with nanoseconds", "DuckDB keeps microseconds")
        return _plain(value, target, safe)
    if target.is_decimal and source.is_floating:
        return _plain(value, target, safe)
    if target.is_row and source.is_row:
        return _plain(value, target, safe)
    return _plain(value, target, safe)


def to_varchar(em: Emitter, value: exp.Expression, source: TType, safe: bool = False) -> exp.Expression:
    """A value as Trino's ``CAST(x AS varchar)`` prints it."""
    base = source.base
    if source.is_string:
        return value
    if source.is_integer or base == "boolean" or source.is_decimal or base == "date":
        return _plain(value, "VARCHAR", safe)
    if source.is_floating:
        raise not_supported(f"CAST({base} AS varchar)", "Athena prints doubles as 1.5E0")
    if base == "timestamp":
        return em.macro(f"lk_timestamp_text_{min(source.precision, 6)}", value)
    if base == "timestamp with time zone":
        zone = source.zone
        if zone is None:
            raise not_supported("CAST(timestamp with time zone AS varchar) for a value of unknown zone")
        local = to_local(value, zone)
        return template("{0} || ' ' || {1}", em.macro(f"lk_timestamp_text_{min(source.precision, 6)}", local), string(zone))
    if base == "time":
        return em.macro(f"lk_time_text_{min(source.precision, 6)}", value)
    if base == "json":
        return _json_to_varchar(em, value)
    raise not_supported(f"CAST({source} AS varchar)")


# -- JSON ----------------------------------------------------------------------------------------
def _to_json(em: Emitter, value: exp.Expression, source: TType) -> exp.Expression:
    if source.is_string:
        return template("to_json({0})", value)
    if source.is_floating:
        raise not_supported(f"CAST({source.base} AS JSON)", "Athena prints doubles in JSON its own way")
    if source.is_integer or source.is_decimal or source.base == "boolean":
        return template("to_json({0})", value)
    if source.is_array or source.is_map or source.is_row:
        _check_json_element(source)
        if source.is_map:
            return template("to_json(map_from_entries(list_sort(map_entries({0}))))", value)
        return template("to_json({0})", value)
    raise not_supported(f"CAST({source} AS JSON)")


def _check_json_element(t: TType) -> None:
    if t.is_row and any(name is None for name in t.fields):
        raise not_supported("CAST(row AS JSON) for a row without field names")
    if t.is_floating:
        raise not_supported(f"CAST({t.base} AS JSON)", "Athena prints doubles in JSON its own way")
    if t.is_map and not t.elements[0].is_string:
        raise not_supported("CAST(map AS JSON) with non-varchar keys")
    for element in t.elements:
        _check_json_element(element)


def _json_to_varchar(em: Emitter, value: exp.Expression) -> exp.Expression:
    return em.macro("lk_json_to_varchar", value)


def _from_json(em: Emitter, value: exp.Expression, target: TType, safe: bool) -> exp.Expression:
    if target.is_string:
        return _json_to_varchar(em, value)
    if target.is_row:
        names = target.fields
        if any(n is None for n in names):
            raise not_supported("CAST(JSON AS row) without field names")
        positional = ", ".join(
            (f"'{n}': json_extract_string({{0}}, '$[{i}]')" if t.is_string else
             f"'{n}': CAST(json_extract({{0}}, '$[{i}]') AS {duckdb_type(t)})")
            for i, (n, t) in enumerate(zip(names, target.elements))
        )
        return template(f"CASE WHEN json_type({{0}}) = 'ARRAY' THEN {{{positional}}} ELSE CAST({{0}} AS {duckdb_type(target)}) END",
                        value)
    if target.is_array and target.element.base == "json":
        # a JSON null element is the JSON value null, not a missing one
        return template("list_transform({0}, lambda lk_x: coalesce(lk_x, json('null')))", _plain(value, target, safe))
    if target.is_map and target.elements[1].base == "json":
        return template("map_from_entries(list_transform(map_entries({0}), lambda lk_e: {'key': lk_e.key, "
                        "'value': coalesce(lk_e.value, json('null'))}))", _plain(value, target, safe))
    if target.is_array or target.is_map or target.is_numeric or target.base == "boolean":
        return _plain(value, target, safe)
    raise not_supported(f"CAST(JSON AS {target})")


__all__ += ["duck_cast"]
