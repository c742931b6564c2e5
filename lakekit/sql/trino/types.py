"""Trino's types as the local engine reasons about them, and their DuckDB and Arrow forms.

Athena (engine v3) is Trino: every expression has a Trino type, the type decides the
semantics (``5 / 2`` is integer division because both sides are integers), and
``typeof()`` prints it. :class:`TType` is that type; :func:`super_type` is Trino's
implicit coercion (integer + decimal is decimal, date + timestamp is timestamp).

>>> decimal(12, 1).name(), array(INTEGER).name(), parse_type("map(varchar, array(bigint))").name()
('decimal(12,1)', 'array(integer)', 'map(varchar,array(bigint))')
>>> super_type(INTEGER, decimal(2, 1)).name()
'decimal(11,1)'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "BIGINT", "BOOLEAN", "DATE", "DOUBLE", "INTEGER", "JSON", "REAL", "SMALLINT", "TINYINT",
    "UNKNOWN", "VARBINARY", "VARCHAR", "INTERVAL_DAY_SECOND", "INTERVAL_YEAR_MONTH",
    "TType", "array", "decimal", "map_of", "parse_type", "row", "super_type", "timestamp",
    "timestamp_tz", "time", "varchar",
]

#: the precision Trino's integer types take when coerced to decimal
_INTEGER_DECIMAL_PRECISION = {"tinyint": 3, "smallint": 5, "integer": 10, "bigint": 19}
_INTEGER_RANK = ["tinyint", "smallint", "integer", "bigint"]


@dataclass(frozen=True)
class TType:
    """A Trino type. ``params``: precision/scale/length; ``elements``: nested types;
    ``fields``: row field names (None for anonymous fields); ``zone``: for
    ``timestamp with time zone`` values, the zone the value carries when it is known
    before the query runs (a literal's, ``AT TIME ZONE 'X'``'s)."""

    base: str
    params: tuple[int, ...] = ()
    elements: tuple[TType, ...] = ()
    fields: tuple[str | None, ...] = ()
    zone: str | None = field(default=None, compare=False)

    # -- names -------------------------------------------------------------------------
    def name(self) -> str:
        """The type as Trino's ``typeof()`` spells it."""
        if self.base == "array":
            return f"array({self.elements[0].name()})"
        if self.base == "map":
            return f"map({self.elements[0].name()},{self.elements[1].name()})"
        if self.base == "row":
            return "row(" + ",".join(
                (f'"{n}" ' if n else "") + e.name() for n, e in zip(self.fields, self.elements)
            ) + ")"
        if self.base == "timestamp with time zone":
            return f"timestamp({self.params[0]}) with time zone"
        if self.base == "time with time zone":
            return f"time({self.params[0]}) with time zone"
        if self.params:
            return f"{self.base}({','.join(str(p) for p in self.params)})"
        return self.base

    def __str__(self) -> str:
        return self.name()

    # -- kinds -------------------------------------------------------------------------
    @property
    def is_unknown(self) -> bool:
        return self.base == "unknown"

    @property
    def is_integer(self) -> bool:
        return self.base in _INTEGER_RANK

    @property
    def is_decimal(self) -> bool:
        return self.base == "decimal"

    @property
    def is_floating(self) -> bool:
        return self.base in ("real", "double")

    @property
    def is_numeric(self) -> bool:
        return self.is_integer or self.is_decimal or self.is_floating

    @property
    def is_string(self) -> bool:
        return self.base in ("varchar", "char")

    @property
    def is_temporal(self) -> bool:
        return self.base in ("date", "timestamp", "timestamp with time zone", "time", "time with time zone")

    @property
    def is_timestamp(self) -> bool:
        return self.base in ("timestamp", "timestamp with time zone")

    @property
    def is_interval(self) -> bool:
        return self.base.startswith("interval")

    @property
    def is_array(self) -> bool:
        return self.base == "array"

    @property
    def is_map(self) -> bool:
        return self.base == "map"

    @property
    def is_row(self) -> bool:
        return self.base == "row"

    @property
    def element(self) -> TType:
        return self.elements[0]

    @property
    def precision(self) -> int:
        if self.is_decimal:
            return self.params[0]
        if self.is_integer:
            return _INTEGER_DECIMAL_PRECISION[self.base]
        return self.params[0] if self.params else 3

    @property
    def scale(self) -> int:
        return self.params[1] if self.is_decimal else 0

    @property
    def length(self) -> int | None:
        """A varchar's or char's declared length (None: unbounded varchar)."""
        return self.params[0] if self.params and self.is_string else None

    def with_zone(self, zone: str | None) -> TType:
        return TType(self.base, self.params, self.elements, self.fields, zone)


def decimal(precision: int, scale: int = 0) -> TType:
    return TType("decimal", (precision, scale))


def varchar(length: int | None = None) -> TType:
    return TType("varchar", (length,) if length is not None else ())


def timestamp(precision: int = 3) -> TType:
    return TType("timestamp", (precision,))


def timestamp_tz(precision: int = 3, zone: str | None = None) -> TType:
    return TType("timestamp with time zone", (precision,), zone=zone)


def time(precision: int = 3) -> TType:
    return TType("time", (precision,))


def array(element: TType) -> TType:
    return TType("array", elements=(element,))


def map_of(key: TType, value: TType) -> TType:
    return TType("map", elements=(key, value))


def row(elements: list[TType] | tuple[TType, ...], fields: list[str | None] | tuple[str | None, ...] | None = None) -> TType:
    elements = tuple(elements)
    return TType("row", elements=elements, fields=tuple(fields) if fields is not None else (None,) * len(elements))


BOOLEAN = TType("boolean")
TINYINT = TType("tinyint")
SMALLINT = TType("smallint")
INTEGER = TType("integer")
BIGINT = TType("bigint")
REAL = TType("real")
DOUBLE = TType("double")
VARCHAR = varchar()
VARBINARY = TType("varbinary")
DATE = TType("date")
JSON = TType("json")
UNKNOWN = TType("unknown")
INTERVAL_DAY_SECOND = TType("interval day to second")
INTERVAL_YEAR_MONTH = TType("interval year to month")


# ---------------------------------------------------------------------------------------
def parse_type(text: str) -> TType:
    """A Trino (or Hive/Athena DDL) type name: ``bigint``, ``string``, ``decimal(10,2)``,
    ``array<string>``, ``map(varchar, bigint)``, ``struct<a:int>``, ``row(a integer)``.

    >>> parse_type("struct<a:int,b:array<string>>").name()
    'row("a" integer,"b" array(varchar))'
    >>> parse_type("timestamp").name(), parse_type("TIMESTAMP(6) WITH TIME ZONE").name()
    ('timestamp(3)', 'timestamp(6) with time zone')
    """
    parser = _Parser(text)
    result = parser.type()
    parser.end()
    return result


_ALIASES = {
    "string": "varchar", "int": "integer", "float": "real", "binary": "varbinary",
    "bool": "boolean", "int8": "bigint", "long": "bigint", "short": "smallint", "byte": "tinyint",
}


class _Parser:
    _TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*|\d+|\"(?:[^\"]|\"\")*\"|[(),<>:])")

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = [m.group(1) for m in self._TOKEN.finditer(text)]
        if "".join(t for t in self.tokens).replace('"', "") == "" and text.strip():
            raise ValueError(f"not a type: {text!r}")
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i].lower() if self.i < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        if self.i >= len(self.tokens):
            raise ValueError(f"unexpected end of type {self.text!r}")
        token = self.tokens[self.i]
        if expected is not None and token.lower() != expected:
            raise ValueError(f"expected {expected!r} in type {self.text!r}, got {token!r}")
        self.i += 1
        return token

    def end(self) -> None:
        if self.i != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.i]!r} in type {self.text!r}")

    def numbers(self) -> tuple[int, ...]:
        values = []
        self.take("(")
        while True:
            values.append(int(self.take()))
            if self.peek() == ",":
                self.take()
                continue
            self.take(")")
            return tuple(values)

    def type(self) -> TType:
        word = self.take().lower()
        word = _ALIASES.get(word, word)
        if word == "double" and self.peek() == "precision":
            self.take()
        if word in ("varchar", "char"):
            params = self.numbers() if self.peek() == "(" else ((1,) if word == "char" else ())
            return TType(word, params)
        if word == "decimal":
            params = self.numbers() if self.peek() == "(" else (38, 0)
            return decimal(params[0], params[1] if len(params) > 1 else 0)
        if word in ("timestamp", "time"):
            precision = self.numbers()[0] if self.peek() == "(" else 3
            if self.peek() == "with":
                self.take()
                self.take("time")
                self.take("zone")
                return TType(f"{word} with time zone", (precision,))
            if self.peek() == "without":
                self.take()
                self.take("time")
                self.take("zone")
            return TType(word, (precision,))
        if word == "interval":
            first = self.take().lower()
            self.take("to")
            second = self.take().lower()
            return TType(f"interval {first} to {second}")
        if word == "array":
            close = self._open()
            element = self.type()
            self.take(close)
            return array(element)
        if word == "map":
            close = self._open()
            key = self.type()
            self.take(",")
            value = self.type()
            self.take(close)
            return map_of(key, value)
        if word in ("row", "struct"):
            close = self._open()
            names: list[str | None] = []
            elements: list[TType] = []
            while True:
                names.append(self._field_name())
                elements.append(self.type())
                if self.peek() == ",":
                    self.take()
                    continue
                self.take(close)
                return row(elements, names)
        if word in ("boolean", "tinyint", "smallint", "integer", "bigint", "real", "double", "varbinary",
                    "date", "json", "unknown", "uuid", "ipaddress", "hyperloglog", "geometry"):
            return TType(word)
        raise ValueError(f"unknown type {word!r} in {self.text!r}")

    def _open(self) -> str:
        token = self.take()
        if token == "(":
            return ")"
        if token == "<":
            return ">"
        raise ValueError(f"expected ( or < in type {self.text!r}")

    def _field_name(self) -> str | None:
        """A row field's name, when one is written (``a integer``, ``a:int``, ``"a" int``)."""
        if self.i + 1 >= len(self.tokens):
            return None
        token, following = self.tokens[self.i], self.tokens[self.i + 1]
        if following == ":":
            self.i += 2
            return token.strip('"').replace('""', '"').lower()
        if token.startswith('"') or following not in (",", ")", ">", "("):
            self.i += 1
            return token.strip('"').replace('""', '"').lower()
        return None


# ---------------------------------------------------------------------------------------
def _integer_as_decimal(t: TType) -> TType:
    return decimal(_INTEGER_DECIMAL_PRECISION[t.base], 0) if t.is_integer else t


def super_type(a: TType, b: TType) -> TType | None:
    """Trino's common super type of ``a`` and ``b`` (None: they do not coerce).

    >>> super_type(BIGINT, decimal(5, 2)).name(), super_type(DATE, timestamp(0)).name()
    ('decimal(21,2)', 'timestamp(0)')
    >>> super_type(VARCHAR, INTEGER) is None
    True
    """
    if a == b:
        return a if a.zone == b.zone else a.with_zone(None)
    if a.is_unknown:
        return b
    if b.is_unknown:
        return a
    if a.is_integer and b.is_integer:
        return a if _INTEGER_RANK.index(a.base) >= _INTEGER_RANK.index(b.base) else b
    if a.is_numeric and b.is_numeric:
        if a.base == "double" or b.base == "double":
            return DOUBLE
        if a.base == "real" or b.base == "real":
            return REAL
        x, y = _integer_as_decimal(a), _integer_as_decimal(b)
        scale = max(x.scale, y.scale)
        return decimal(min(38, scale + max(x.precision - x.scale, y.precision - y.scale)), scale)
    if a.is_string and b.is_string:
        if a.base == "char" and b.base == "char":
            return TType("char", (max(a.params[0], b.params[0]),))
        if a.length is None or b.length is None:
            return VARCHAR
        return varchar(max(a.length, b.length))
    if {a.base, b.base} <= {"date", "timestamp"}:
        return timestamp(max(a.precision if a.base == "timestamp" else 0, b.precision if b.base == "timestamp" else 0))
    if {a.base, b.base} <= {"date", "timestamp", "timestamp with time zone"}:
        precision = max(t.precision for t in (a, b) if t.base != "date")
        return timestamp_tz(precision)
    if a.base == b.base == "timestamp":
        return timestamp(max(a.precision, b.precision))
    if a.base == b.base == "time":
        return time(max(a.precision, b.precision))
    if a.is_array and b.is_array:
        element = super_type(a.element, b.element)
        return array(element) if element is not None else None
    if a.is_map and b.is_map:
        key, value = super_type(a.elements[0], b.elements[0]), super_type(a.elements[1], b.elements[1])
        return map_of(key, value) if key is not None and value is not None else None
    if a.is_row and b.is_row and len(a.elements) == len(b.elements):
        elements = [super_type(x, y) for x, y in zip(a.elements, b.elements)]
        if any(e is None for e in elements):
            return None
        fields = a.fields if a.fields == b.fields else tuple(x if x == y else None for x, y in zip(a.fields, b.fields))
        return row(elements, fields)
    return None


def comparable(a: TType, b: TType) -> bool:
    """Whether Trino compares ``a`` and ``b`` (``=``, ``<``, ``IN``, ``BETWEEN``).

    >>> comparable(VARCHAR, INTEGER), comparable(DATE, timestamp(3)), comparable(JSON, JSON)
    (False, True, False)
    """
    if a.base == "json" or b.base == "json":
        return False
    if a.is_interval and b.is_interval:
        return a.base == b.base
    return super_type(a, b) is not None


# ---------------------------------------------------------------------------------------
def duckdb_type(t: TType) -> str:
    """The DuckDB type that holds Trino type ``t`` in the local engine.

    >>> duckdb_type(parse_type("map(varchar, array(decimal(5,2)))"))
    'MAP(VARCHAR, DECIMAL(5,2)[])'
    """
    base = t.base
    simple = {
        "boolean": "BOOLEAN", "tinyint": "TINYINT", "smallint": "SMALLINT", "integer": "INTEGER",
        "bigint": "BIGINT", "real": "FLOAT", "double": "DOUBLE", "varchar": "VARCHAR", "char": "VARCHAR",
        "varbinary": "BLOB", "date": "DATE", "json": "JSON", "unknown": "INTEGER",
        "interval day to second": "INTERVAL", "interval year to month": "INTERVAL", "uuid": "UUID",
    }
    if base in simple:
        return simple[base]
    if base == "decimal":
        return f"DECIMAL({t.params[0]},{t.params[1]})"
    if base == "timestamp":
        return "TIMESTAMP"
    if base == "timestamp with time zone":
        return "TIMESTAMPTZ"
    if base == "time":
        return "TIME"
    if base == "array":
        return duckdb_type(t.element) + "[]"
    if base == "map":
        return f"MAP({duckdb_type(t.elements[0])}, {duckdb_type(t.elements[1])})"
    if base == "row":
        return "STRUCT(" + ", ".join(
            f'"{name or f"field{i}"}" {duckdb_type(e)}' for i, (name, e) in enumerate(zip(t.fields, t.elements))
        ) + ")"
    raise ValueError(f"no DuckDB type for Trino type {t.name()}")
