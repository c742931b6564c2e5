"""Compare Arrow results with answers written as Trino prints them.

This module knows Trino's type names and value spellings on its own (it shares no code
with lakekit's SQL layer), so a mistake in lakekit's type inference cannot hide here.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.types as pat


@dataclass(frozen=True)
class TrinoType:
    """A parsed Trino type: ``name`` plus parameters and element types."""

    name: str
    params: tuple = ()
    #: element types (array: 1, map: 2, row: one per field)
    elements: tuple[TrinoType, ...] = ()
    #: row field names (None for anonymous fields)
    fields: tuple[str | None, ...] = ()


_SIMPLE = {
    "boolean", "tinyint", "smallint", "integer", "bigint", "real", "double", "varbinary",
    "date", "json", "unknown", "uuid", "ipaddress",
}


def parse_type(text: str) -> TrinoType:
    """Parse a Trino type name (``map(varchar(1), array(integer))``)."""
    parser = _TypeParser(text)
    result = parser.parse()
    if parser.rest().strip():
        raise ValueError(f"trailing text in type {text!r}: {parser.rest()!r}")
    return result


class _TypeParser:
    def __init__(self, text: str) -> None:
        self.text = text.strip().lower()
        self.pos = 0

    def rest(self) -> str:
        return self.text[self.pos:]

    def _skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1

    def _word(self) -> str:
        self._skip()
        m = re.compile(r"[a-z_][a-z0-9_]*").match(self.text, self.pos)
        if not m:
            raise ValueError(f"expected a type name at {self.rest()!r} in {self.text!r}")
        self.pos = m.end()
        return m.group(0)

    def _peek(self, s: str) -> bool:
        self._skip()
        return self.text.startswith(s, self.pos)

    def _eat(self, s: str) -> None:
        if not self._peek(s):
            raise ValueError(f"expected {s!r} at {self.rest()!r} in {self.text!r}")
        self.pos += len(s)

    def _numbers(self) -> tuple[int, ...]:
        self._eat("(")
        values = []
        while True:
            self._skip()
            m = re.compile(r"\d+").match(self.text, self.pos)
            if not m:
                raise ValueError(f"expected a number in {self.text!r}")
            values.append(int(m.group(0)))
            self.pos = m.end()
            if self._peek(","):
                self._eat(",")
                continue
            self._eat(")")
            return tuple(values)

    def parse(self) -> TrinoType:
        name = self._word()
        if name in ("varchar", "char"):
            params = self._numbers() if self._peek("(") else ()
            return TrinoType(name, params)
        if name == "decimal":
            params = self._numbers()
            return TrinoType("decimal", params if len(params) == 2 else (params[0], 0))
        if name in ("timestamp", "time"):
            precision = self._numbers() if self._peek("(") else (3,)
            if self._peek("with time zone"):
                self._eat("with time zone")
                return TrinoType(name + " with time zone", precision)
            return TrinoType(name, precision)
        if name == "interval":
            first = self._word()
            self._eat("to")
            second = self._word()
            return TrinoType(f"interval {first} to {second}")
        if name == "array":
            self._eat("(")
            element = self.parse()
            self._eat(")")
            return TrinoType("array", elements=(element,))
        if name == "map":
            self._eat("(")
            key = self.parse()
            self._eat(",")
            value = self.parse()
            self._eat(")")
            return TrinoType("map", elements=(key, value))
        if name == "row":
            self._eat("(")
            fields: list[str | None] = []
            elements: list[TrinoType] = []
            while True:
                start = self.pos
                word = self._word()
                self._skip()
                # "name type" or a bare type: a field name is followed by a type name
                if self._peek(",") or self._peek(")") or self._peek("("):
                    self.pos = start
                    fields.append(None)
                else:
                    after_word = self.pos
                    try:
                        self._word()
                        self.pos = after_word
                        fields.append(word)
                    except ValueError:
                        self.pos = start
                        fields.append(None)
                elements.append(self.parse())
                if self._peek(","):
                    self._eat(",")
                    continue
                self._eat(")")
                return TrinoType("row", elements=tuple(elements), fields=tuple(fields))
        if name in _SIMPLE:
            return TrinoType(name)
        raise ValueError(f"unknown Trino type {name!r} in {self.text!r}")


# ---------------------------------------------------------------------------------------
def type_mismatch(expected: TrinoType, actual: pa.DataType) -> str | None:
    """Why the Arrow type ``actual`` cannot hold Trino type ``expected`` (None: it can)."""
    name = expected.name
    ok: bool
    if name == "unknown":
        return None
    if name == "boolean":
        ok = pat.is_boolean(actual)
    elif name in ("tinyint", "smallint", "integer", "bigint"):
        ok = actual == {"tinyint": pa.int8(), "smallint": pa.int16(), "integer": pa.int32(), "bigint": pa.int64()}[name]
    elif name == "real":
        ok = pat.is_float32(actual)
    elif name == "double":
        ok = pat.is_float64(actual)
    elif name == "decimal":
        ok = pat.is_decimal(actual) and (actual.precision, actual.scale) == expected.params
    elif name in ("varchar", "char", "json"):
        ok = pat.is_string(actual) or pat.is_large_string(actual) or pat.is_string_view(actual)
    elif name == "varbinary":
        ok = pat.is_binary(actual) or pat.is_large_binary(actual) or pat.is_binary_view(actual)
    elif name == "date":
        ok = pat.is_date32(actual)
    elif name == "time":
        ok = pat.is_time(actual)
    elif name == "timestamp":
        ok = pat.is_timestamp(actual) and actual.tz is None
    elif name == "timestamp with time zone":
        ok = pat.is_timestamp(actual) and actual.tz is not None
    elif name.startswith("interval"):
        ok = pat.is_interval(actual) or pat.is_duration(actual)
    elif name == "array":
        if not (pat.is_list(actual) or pat.is_large_list(actual) or pat.is_list_view(actual)):
            return f"expected {describe(expected)}, got {actual}"
        return type_mismatch(expected.elements[0], actual.value_type)
    elif name == "map":
        if not pat.is_map(actual):
            return f"expected {describe(expected)}, got {actual}"
        return type_mismatch(expected.elements[0], actual.key_type) or type_mismatch(expected.elements[1], actual.item_type)
    elif name == "row":
        if not pat.is_struct(actual) or actual.num_fields != len(expected.elements):
            return f"expected {describe(expected)}, got {actual}"
        for i, (field_name, element) in enumerate(zip(expected.fields, expected.elements)):
            field = actual.field(i)
            if field_name is not None and field.name.lower() != field_name:
                return f"row field {i + 1} is named {field.name!r}, Trino names it {field_name!r}"
            why = type_mismatch(element, field.type)
            if why:
                return why
        return None
    else:
        return f"cannot check Trino type {name}"
    return None if ok else f"expected {describe(expected)}, got Arrow {actual}"


def describe(t: TrinoType) -> str:
    if t.name == "array":
        return f"array({describe(t.elements[0])})"
    if t.name == "map":
        return f"map({describe(t.elements[0])}, {describe(t.elements[1])})"
    if t.name == "row":
        return "row(" + ", ".join((f"{n} " if n else "") + describe(e) for n, e in zip(t.fields, t.elements)) + ")"
    if t.params:
        inner = ",".join(str(p) for p in t.params)
        if t.name.endswith("with time zone"):
            return f"{t.name.split()[0]}({inner}) with time zone"
        return f"{t.name}({inner})"
    return t.name


# ---------------------------------------------------------------------------------------
_TS = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(?: (\S+))?$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.(\d+))?$")
_DAY_SECOND = re.compile(r"^(-)?(\d+) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$")
_YEAR_MONTH = re.compile(r"^(-)?(\d+)-(\d+)$")


def _fraction_us(digits: str | None) -> int:
    if not digits:
        return 0
    return int((digits + "000000")[:6])


def _timestamp(text: str) -> tuple[dt.datetime, str | None]:
    m = _TS.match(text)
    if not m:
        raise ValueError(f"not a Trino timestamp: {text!r}")
    day, clock, fraction, zone = m.groups()
    if clock.count(":") == 1:
        clock += ":00"
    base = dt.datetime.fromisoformat(f"{day} {clock.zfill(8)}").replace(microsecond=_fraction_us(fraction))
    return base, zone


def _zone(name: str) -> dt.tzinfo:
    if re.fullmatch(r"[+-]\d{2}:\d{2}", name):
        sign = 1 if name[0] == "+" else -1
        return dt.timezone(sign * dt.timedelta(hours=int(name[1:3]), minutes=int(name[4:6])))
    return ZoneInfo(name)


@dataclass(frozen=True)
class ZonedTimestamp:
    """A ``timestamp with time zone`` value: the instant and the zone Trino shows."""

    instant: dt.datetime
    zone: str

    def __repr__(self) -> str:
        return f"{self.instant.astimezone(_zone(self.zone)).isoformat()} {self.zone}"


def expected_value(t: TrinoType, value: Any) -> Any:
    """The Python value an answer written as Trino prints it stands for."""
    if value is None:
        return None
    name = t.name
    if name == "decimal":
        return Decimal(str(value))
    if name in ("double", "real"):
        if isinstance(value, str):
            return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[value]
        return float(value)
    if name in ("tinyint", "smallint", "integer", "bigint"):
        return int(value)
    if name == "date":
        return dt.date.fromisoformat(str(value))
    if name == "time":
        m = _TIME.match(str(value))
        if not m:
            raise ValueError(f"not a Trino time: {value!r}")
        h, mi, s, f = m.groups()
        return dt.time(int(h), int(mi), int(s or 0), _fraction_us(f))
    if name == "timestamp":
        stamp, zone = _timestamp(str(value))
        if zone:
            raise ValueError(f"a timestamp without time zone cannot carry {zone!r}")
        return stamp
    if name == "timestamp with time zone":
        stamp, zone = _timestamp(str(value))
        if not zone:
            raise ValueError(f"a timestamp with time zone needs a zone: {value!r}")
        return ZonedTimestamp(stamp.replace(tzinfo=_zone(zone)).astimezone(dt.UTC), zone)
    if name == "interval day to second":
        m = _DAY_SECOND.match(str(value))
        if not m:
            raise ValueError(f"not a day-to-second interval: {value!r}")
        sign, d, h, mi, s, f = m.groups()
        total = dt.timedelta(days=int(d), hours=int(h), minutes=int(mi), seconds=int(s), microseconds=_fraction_us(f))
        return -total if sign else total
    if name == "interval year to month":
        m = _YEAR_MONTH.match(str(value))
        if not m:
            raise ValueError(f"not a year-to-month interval: {value!r}")
        sign, y, mo = m.groups()
        months = int(y) * 12 + int(mo)
        return ("months", -months if sign else months)
    if name == "varbinary":
        return bytes.fromhex(str(value).replace(" ", ""))
    if name == "array":
        return [expected_value(t.elements[0], v) for v in value]
    if name == "map":
        return {_hashable(expected_value(t.elements[0], k)): expected_value(t.elements[1], v) for k, v in dict(value).items()}
    if name == "row":
        values = list(value.values()) if isinstance(value, dict) else list(value)
        return tuple(expected_value(e, v) for e, v in zip(t.elements, values))
    if name == "boolean":
        return bool(value)
    if name == "unknown":
        return value
    return str(value)


def actual_value(t: TrinoType, arrow_type: pa.DataType, value: Any) -> Any:
    """An Arrow value (``as_py()``) in the same shape as :func:`expected_value`."""
    if value is None:
        return None
    name = t.name
    if name == "timestamp with time zone" and isinstance(value, dt.datetime):
        return ZonedTimestamp(value.astimezone(dt.UTC), str(arrow_type.tz))
    if name == "interval day to second":
        if isinstance(value, dt.timedelta):
            return value
        months, days, nanoseconds = value.months, value.days, value.nanoseconds
        if months:
            return ("months", months, days, nanoseconds)
        return dt.timedelta(days=days, microseconds=nanoseconds / 1000)
    if name == "interval year to month":
        if hasattr(value, "months"):
            if value.days or value.nanoseconds:
                return ("months", value.months, value.days, value.nanoseconds)
            return ("months", value.months)
        return value
    if name == "real":
        return float(value)
    if name == "array":
        return [actual_value(t.elements[0], arrow_type.value_type, v) for v in value]
    if name == "map":
        pairs = value.items() if isinstance(value, dict) else value
        return {
            _hashable(actual_value(t.elements[0], arrow_type.key_type, k)): actual_value(t.elements[1], arrow_type.item_type, v)
            for k, v in pairs
        }
    if name == "row":
        return tuple(
            actual_value(e, arrow_type.field(i).type, v) for i, (e, v) in enumerate(zip(t.elements, value.values()))
        )
    if name == "unknown":
        return value
    return value


def _hashable(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _hashable(x)) for k, x in v.items()))
    return v


def same(expected: Any, actual: Any, t: TrinoType) -> bool:
    """Equal as Trino values: NaN equals NaN, a real compares at float32 precision,
    a decimal compares its digits and scale, a map ignores entry order."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if t.name in ("double", "real"):
        if not isinstance(actual, (int, float)):
            return False
        if math.isnan(expected):
            return math.isnan(actual)
        if t.name == "real":
            import struct

            return struct.unpack("f", struct.pack("f", expected))[0] == actual
        return expected == actual
    if t.name == "decimal":
        return isinstance(actual, Decimal) and expected == actual and expected.as_tuple().exponent == actual.as_tuple().exponent
    if t.name == "array":
        return isinstance(actual, list) and len(expected) == len(actual) and all(
            same(e, a, t.elements[0]) for e, a in zip(expected, actual)
        )
    if t.name == "map":
        return isinstance(actual, dict) and expected.keys() == actual.keys() and all(
            same(expected[k], actual[k], t.elements[1]) for k in expected
        )
    if t.name == "row":
        return isinstance(actual, tuple) and len(expected) == len(actual) and all(
            same(e, a, et) for e, a, et in zip(expected, actual, t.elements)
        )
    if t.name in ("tinyint", "smallint", "integer", "bigint"):
        return type(actual) is int and expected == actual
    if t.name == "boolean":
        return type(actual) is bool and expected == actual
    return type(expected) is type(actual) and expected == actual
