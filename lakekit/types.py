"""Athena (Hive DDL) type names <-> Arrow types <-> DuckDB types: the one type table.

lakekit writes only types that map one to one onto Athena's, so a table's catalog
columns, its Parquet schema and what Athena reads always agree.

``timestamp`` is one type everywhere: Athena's ``timestamp`` (no zone, UTC by
lakekit's convention), Arrow ``timestamp[us, tz=UTC]`` in the files lakekit writes,
and DuckDB ``TIMESTAMP WITH TIME ZONE`` (what DuckDB reads those files as; every
DuckDB connection lakekit opens has ``TimeZone='UTC'``, so it shows the same
wall-clock values Athena shows). Values that come back zone-aware are turned into
naive UTC before they are compared with anything.

>>> import pyarrow as pa
>>> athena_type(pa.timestamp("us", "UTC")), athena_type(pa.list_(pa.int64()))
('timestamp', 'array<bigint>')
>>> arrow_type("struct<a:bigint,b:array<string>>")
StructType(struct<a: int64, b: list<item: string>>)
>>> duckdb_type("bigint"), duckdb_type("timestamp"), duckdb_type("array<string>")
('BIGINT', 'TIMESTAMP WITH TIME ZONE', 'VARCHAR')
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.types as pat

from lakekit.errors import UsageError

TIMESTAMP = pa.timestamp("us", tz="UTC")

#: Athena type -> DuckDB type, for the simple types lakekit reads with DuckDB.
_SIMPLE_TO_DUCKDB = {
    "string": "VARCHAR", "varchar": "VARCHAR", "bigint": "BIGINT", "int": "INTEGER",
    "integer": "INTEGER", "smallint": "SMALLINT", "tinyint": "TINYINT", "double": "DOUBLE",
    "float": "FLOAT", "real": "FLOAT", "boolean": "BOOLEAN", "date": "DATE",
    "timestamp": "TIMESTAMP WITH TIME ZONE", "binary": "BLOB",
}


def duckdb_type(athena: str) -> str:
    """The DuckDB type for an Athena type name (VARCHAR for anything unusual)."""
    return _SIMPLE_TO_DUCKDB.get(athena.lower(), "VARCHAR")


def duckdb_type_or_none(athena: str) -> str | None:
    """The DuckDB type for a simple Athena type name, None for any other."""
    return _SIMPLE_TO_DUCKDB.get(athena.lower())


_SIMPLE_TO_ARROW = {
    "bigint": pa.int64(),
    "int": pa.int32(),
    "integer": pa.int32(),
    "smallint": pa.int16(),
    "tinyint": pa.int8(),
    "double": pa.float64(),
    "float": pa.float32(),
    "real": pa.float32(),
    "string": pa.string(),
    "varchar": pa.string(),
    "boolean": pa.bool_(),
    "timestamp": TIMESTAMP,
    "date": pa.date32(),
    "binary": pa.binary(),
}


#: Arrow type tests -> Athena type name, for the types that map by kind alone. Unsigned
#: integers take the next signed size up (uint64 needs decimal(20,0)).
_ARROW_KIND_TO_ATHENA = (
    ((pat.is_int64, pat.is_uint32), "bigint"),
    ((pat.is_int32, pat.is_uint16), "int"),
    ((pat.is_int16, pat.is_uint8), "smallint"),
    ((pat.is_int8,), "tinyint"),
    ((pat.is_uint64,), "decimal(20,0)"),
    ((pat.is_float64,), "double"),
    ((pat.is_float32, pat.is_float16), "float"),
    ((pat.is_string, pat.is_large_string, pat.is_string_view), "string"),
    ((pat.is_boolean,), "boolean"),
    ((pat.is_timestamp,), "timestamp"),
    ((pat.is_date,), "date"),
    ((pat.is_binary, pat.is_large_binary, pat.is_fixed_size_binary), "binary"),
    ((pat.is_null,), "string"),
)


def athena_type(t: pa.DataType) -> str:
    """The Athena type name of an Arrow type lakekit stores."""
    for tests, name in _ARROW_KIND_TO_ATHENA:
        if any(test(t) for test in tests):
            return name
    if pat.is_decimal(t):
        return f"decimal({t.precision},{t.scale})"
    if pat.is_list(t) or pat.is_large_list(t):
        return f"array<{athena_type(t.value_type)}>"
    if pat.is_map(t):
        return f"map<{athena_type(t.key_type)},{athena_type(t.item_type)}>"
    if pat.is_struct(t):
        inner = ",".join(f"{t.field(i).name}:{athena_type(t.field(i).type)}" for i in range(t.num_fields))
        return f"struct<{inner}>"
    raise UsageError(f"Arrow type {t} has no Athena equivalent")


def arrow_type(name: str) -> pa.DataType:
    """The Arrow type lakekit uses for an Athena type name."""
    parsed, rest = _parse(name.replace(" ", "").lower())
    if rest:
        raise UsageError(f"cannot read Athena type {name!r}")
    return parsed


def _parse(s: str) -> tuple[pa.DataType, str]:
    for prefix in ("array<", "map<", "struct<", "decimal("):
        if s.startswith(prefix):
            break
    else:
        end = min((i for i in (s.find(","), s.find(">")) if i >= 0), default=len(s))
        word, rest = s[:end], s[end:]
        base = word.split("(")[0]  # varchar(10) -> varchar
        if base not in _SIMPLE_TO_ARROW:
            raise UsageError(f"unknown Athena type {word!r}")
        return _SIMPLE_TO_ARROW[base], rest
    if prefix == "decimal(":
        body, rest = s[len(prefix):].split(")", 1)
        p, _, sc = body.partition(",")
        return pa.decimal128(int(p), int(sc or 0)), rest
    rest = s[len(prefix):]
    if prefix == "array<":
        item, rest = _parse(rest)
        return pa.list_(item), _expect(rest, ">")
    if prefix == "map<":
        key, rest = _parse(rest)
        value, rest = _parse(_expect(rest, ","))
        return pa.map_(key, value), _expect(rest, ">")
    fields = []
    while not rest.startswith(">"):
        fname, _, rest = rest.partition(":")
        ftype, rest = _parse(rest)
        fields.append(pa.field(fname, ftype))
        if rest.startswith(","):
            rest = rest[1:]
    return pa.struct(fields), rest[1:]


def _expect(s: str, token: str) -> str:
    if not s.startswith(token):
        raise UsageError(f"malformed Athena type near {s!r}")
    return s[len(token):]
