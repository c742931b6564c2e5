"""The table's schema as an ingest sees it, and conforming parsed blocks to it.

Conforming is where a record can still fail after parsing: a value that cannot keep
its meaning in its column (the value rules of :mod:`lakekit.ingestion.values`), a
missing or unparseable timestamp. Such rows become rejects; the rest of the block
goes on. Columns whose values are all null so far carry no type
and are left out until a typed value arrives (Athena has no "null" column type).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from lakekit.catalog.base import Column
from lakekit.errors import InputError, UsageError
from lakekit.ingestion.arrays import bool_array, bool_mask, int64_values
from lakekit.ingestion.values import Converted, convert_parsed, convert_text, infer_parsed_type, infer_text_type
from lakekit.types import TIMESTAMP, arrow_type, athena_type


def normalize_type(t: pa.DataType) -> pa.DataType:
    """The type lakekit stores for an inferred type (one per Athena type)."""
    if pat.is_integer(t):
        return pa.int64()
    if pat.is_floating(t):
        return pa.float64()
    if pat.is_large_string(t) or pat.is_string_view(t):
        return pa.string()
    if pat.is_timestamp(t):
        return TIMESTAMP
    if pat.is_list(t) or pat.is_large_list(t):
        return pa.list_(normalize_type(t.value_type))
    if pat.is_struct(t):
        return pa.struct([pa.field(t.field(i).name, normalize_type(t.field(i).type)) for i in range(t.num_fields)])
    return t


def _has_null_leaf(t: pa.DataType) -> bool:
    if pat.is_null(t):
        return True
    if pat.is_list(t) or pat.is_large_list(t):
        return _has_null_leaf(t.value_type)
    if pat.is_struct(t):
        return any(_has_null_leaf(t.field(i).type) for i in range(t.num_fields))
    return False


@dataclass
class TableSchema:
    """Columns in catalog order, plus how each is read from the source."""

    columns: dict[str, pa.DataType] = field(default_factory=dict)
    timestamp_column: str | None = None
    partition_by: tuple[str, ...] = ()
    #: columns stored as timestamp; parsed from the source as text (or epoch numbers)
    #: and converted here, so one code path handles every timestamp format
    raw_timestamp_types: dict[str, pa.DataType] = field(default_factory=dict)

    @classmethod
    def from_columns(cls, columns: list[Column], timestamp_column, partition_by) -> TableSchema:
        s = cls(timestamp_column=timestamp_column, partition_by=tuple(partition_by))
        for col in columns:
            s.columns[col.name] = arrow_type(col.type)
        return s

    def catalog_columns(self) -> list[Column]:
        return [Column(n, athena_type(t)) for n, t in self.columns.items()]

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([(n, t) for n, t in self.columns.items()])

    def parse_schema(self) -> pa.Schema | None:
        """Explicit schema for the JSON reader: known columns, timestamps and dates as
        text (or epoch numbers), which the value rules convert."""
        if not self.columns:
            return None
        return pa.schema([(n, self.raw_timestamp_types.get(n, pa.string()) if pat.is_timestamp(t) or pat.is_date(t)
                           else t) for n, t in self.columns.items()])

    def check_no_clash(self, names, source_names: dict[str, str] | None = None) -> None:
        keys = {k.lower(): k for k in self.partition_by}
        for name in names:
            key = keys.get(name.lower())
            if key is None:
                continue
            name = (source_names or {}).get(name, name)
            coarser = self.partition_by[: self.partition_by.index(key)]
            way_out = "rename the field in the source"
            if coarser:
                way_out += f", or partition by {','.join(coarser)} (--partition-by {','.join(coarser)})"
            raise InputError(
                f"source field {name!r} clashes with partition key {key!r}: a table cannot hold two "
                f"columns named {key!r}; {way_out}"
            )


def _fits(source: pa.DataType, target: pa.DataType) -> bool:
    """Casts that never change a value's meaning."""
    if source == target or pat.is_null(source):
        return True
    if pat.is_integer(source) and (pat.is_integer(target) or pat.is_floating(target)):
        return True
    if pat.is_floating(source) and pat.is_floating(target):
        return True
    return bool((pat.is_large_string(source) or pat.is_string_view(source)) and pat.is_string(target))


@dataclass
class Conformed:
    table: pa.Table  # in the table schema's column order, bad rows removed
    keys: pa.Array | None  # int partition key per row (yyyymmdd), None when unpartitioned
    bad: list[tuple[int, str, str]]  # (row index in the input piece, error, error kind)


@dataclass
class ReadRules:
    """How the values of one source are read: as text (CSV) or as parsed JSON."""

    text: bool = False
    timestamp_format: str | None = None
    #: row index -> the record's raw text, for the rare values a parsed double cannot
    #: tell exactly (integers beyond 2^53); None when not available
    record_raw: object = None
    #: column name -> the source field name it came from (before renaming)
    source_names: dict[str, str] = field(default_factory=dict)


class _Marks:
    """Rows set aside while conforming, with their first error."""

    def __init__(self, n: int):
        self.mask = np.zeros(n, dtype=bool)
        self.errors: dict[int, tuple[str, str]] = {}

    def add(self, mask: np.ndarray, message, kind: str | None = None) -> None:
        for i in np.flatnonzero(mask & ~self.mask):
            text = message(int(i)) if callable(message) else message
            self.errors[int(i)] = (text, kind or text)
        self.mask |= mask

    def add_converted(self, converted: Converted) -> None:
        for i, (text, kind) in converted.errors().items():
            if not self.mask[i]:
                self.errors[i] = (text, kind)
                self.mask[i] = True


def _literal_reader(rules: ReadRules, field_name: str):
    """row -> the number in ``field_name`` as written in the record's text."""
    if rules.record_raw is None:
        return None

    def literal(i: int) -> str | None:
        raw = rules.record_raw(i)
        if raw is None:
            return None
        try:
            doc = json.loads(raw, parse_float=_Literal, parse_int=_Literal)
        except (ValueError, RecursionError):
            return None
        value = doc.get(field_name) if isinstance(doc, dict) else None
        return str(value) if isinstance(value, _Literal) else None

    return literal


class _Literal(str):
    """A JSON number kept as the text it was written as."""


def _has_integer_literal(col: pa.Array, literal) -> bool:
    """Whether any value of the column was written as an integer (``3``, not ``3.0``)."""
    if literal is None:
        return False
    for i in np.flatnonzero(bool_mask(col.is_valid()))[:1000]:
        text = literal(int(i))
        if text is not None and text.lstrip("+-").isdigit():
            return True
    return False


def _new_column_type(name: str, col: pa.Array, schema: TableSchema, rules: ReadRules, literal) -> pa.DataType | None:
    """The type a column not yet in the table gets, or None while all its values are null."""
    if name == schema.timestamp_column:
        if not rules.text and (pat.is_integer(col.type) or pat.is_floating(col.type)):
            schema.raw_timestamp_types[name] = normalize_type(col.type)
        else:
            schema.raw_timestamp_types[name] = pa.string()
        return TIMESTAMP
    if rules.text:
        return infer_text_type(col)
    inferred = infer_parsed_type(col, lambda: _has_integer_literal(col, literal))
    if inferred is None and not pat.is_null(col.type):
        inferred = normalize_type(col.type)
    if inferred is not None and (pat.is_timestamp(inferred) or pat.is_date(inferred)) and pat.is_string(col.type):
        schema.raw_timestamp_types[name] = pa.string()
    return inferred


def _convert(name: str, col: pa.Array, target: pa.DataType, schema: TableSchema, rules: ReadRules,
             literal) -> Converted | None:
    is_ts = name == schema.timestamp_column
    fmt = rules.timestamp_format if is_ts else None
    if rules.text and pat.is_string(col.type):
        return convert_text(col, target, name, is_timestamp_column=is_ts, timestamp_format=fmt)
    converted = convert_parsed(col, target, name, is_timestamp_column=is_ts, timestamp_format=fmt, literal=literal)
    if converted is not None:
        return converted
    if _fits(col.type, target):
        return Converted(col.cast(target) if col.type != target else col, col)
    if pat.is_nested(col.type) and pat.is_nested(target):
        try:
            return Converted(col.cast(target), col)  # e.g. a struct with a subset of the fields
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            pass
    return None


def conform(piece: pa.Table, schema: TableSchema, rules: ReadRules | None = None) -> Conformed:
    """Cast one parsed piece to the table schema, growing it with new columns.

    Column names are already the table's (sanitized); each value goes through the
    value rules (:mod:`lakekit.ingestion.values`), and a value that cannot keep its
    meaning in its column sets its row aside as a reject.
    """
    rules = rules or ReadRules()
    n = piece.num_rows
    marks = _Marks(n)
    schema.check_no_clash(piece.column_names, rules.source_names)
    arrays: dict[str, pa.Array] = {}
    for name in piece.column_names:
        col = piece.column(name).combine_chunks()
        target = schema.columns.get(name)
        literal = None if rules.text else _literal_reader(rules, rules.source_names.get(name, name))
        if target is None:
            if _has_null_leaf(col.type) and not pat.is_null(col.type):
                marks.add(bool_mask(col.is_valid()),
                          f"field {name!r} holds only nulls inside a nested value; its type cannot be inferred")
                continue
            target = _new_column_type(name, col, schema, rules, literal)
            if target is None:
                continue  # all null so far: no type to give it yet
            schema.columns[name] = target
        converted = _convert(name, col, target, schema, rules, literal)
        if converted is None:
            kind = f"value of type {athena_type(normalize_type(col.type))} does not fit column {name!r} of type " \
                   f"{athena_type(target)}"
            marks.add(bool_mask(col.is_valid()), kind)
            arrays[name] = pa.nulls(n, target)
            continue
        marks.add_converted(converted)
        arrays[name] = converted.array

    keys = None
    if schema.timestamp_column:
        ts = arrays.get(schema.timestamp_column)
        if ts is None:
            marks.add(np.ones(n, dtype=bool), f"timestamp column {schema.timestamp_column!r} is missing")
        else:
            marks.add(bool_mask(ts.is_null()), f"timestamp column {schema.timestamp_column!r} is null")
            if schema.partition_by:
                keys = partition_keys(ts, schema.partition_by)

    # nulls only for the columns this piece lacks: building them costs a few ms a block
    columns = [arrays[name] if name in arrays else pa.nulls(n, t) for name, t in schema.columns.items()]
    table = pa.Table.from_arrays(columns, schema=schema.arrow_schema()) if columns else pa.table({})
    if marks.mask.any():
        keep = bool_array(~marks.mask)
        table = table.filter(keep)
        if keys is not None:
            keys = keys.filter(keep)
    return Conformed(table, keys, sorted((i, text, kind) for i, (text, kind) in marks.errors.items()))


_MICROS_PER_DAY = 86_400_000_000
#: Widest span of days keyed through a lookup table (about 270 years); a wider one is
#: rare enough to take Arrow's calendar kernels.
_LOOKUP_DAYS = 100_000


def partition_keys(ts: pa.Array, partition_by: tuple[str, ...]) -> pa.Array:
    """An int per row, ``yyyymmdd`` with the unused parts zero, from UTC timestamps.

    Rows are bucketed by UTC day with integer arithmetic and each day's key is looked
    up once: Arrow's year/month/day kernels go through the calendar for every row,
    which cost more than sorting the block. Null timestamps (rows being rejected) get 0.

    >>> import datetime as dt
    >>> day = dt.datetime(2024, 3, 7, 23, 59, tzinfo=dt.UTC)
    >>> partition_keys(pa.array([day], TIMESTAMP), ("year", "month", "day")).to_pylist()
    [20240307]
    """
    as_int = ts.cast(pa.int64())
    if as_int.null_count == len(as_int):
        return pc.fill_null(pa.nulls(len(ts), pa.int64()), 0)
    micros = int64_values(pc.fill_null(as_int, pc.min(as_int)))
    days = np.floor_divide(micros, _MICROS_PER_DAY)
    first, last = int(days.min()), int(days.max())
    if last - first >= _LOOKUP_DAYS:
        return _calendar_keys(ts, partition_by)
    span = np.arange(first, last + 1, dtype=np.int64).astype("datetime64[D]")
    months_since_epoch = span.astype("datetime64[M]")
    lookup = (span.astype("datetime64[Y]").astype(np.int64) + 1970) * 10000
    if "month" in partition_by:
        lookup += (months_since_epoch.astype(np.int64) % 12 + 1) * 100
    if "day" in partition_by:
        lookup += (span - months_since_epoch).astype(np.int64) + 1
    keys = lookup[days - first]
    if ts.null_count:
        keys[bool_mask(ts.is_null())] = 0
    return pa.Array.from_buffers(pa.int64(), len(keys), [None, pa.py_buffer(keys)])


def _calendar_keys(ts: pa.Array, partition_by: tuple[str, ...]) -> pa.Array:
    """:func:`partition_keys` through Arrow's calendar kernels (any span of days)."""
    key = pc.multiply(pc.year(ts), 10000)
    if "month" in partition_by:
        key = pc.add(key, pc.multiply(pc.month(ts), 100))
    if "day" in partition_by:
        key = pc.add(key, pc.day(ts))
    return pc.fill_null(key.cast(pa.int64()), 0)


def partition_values(key: int, partition_by: tuple[str, ...]) -> tuple[str, ...]:
    """``20240307`` -> ('2024', '03', '07') for the grains in ``partition_by``.

    >>> partition_values(20240307, ("year", "month"))
    ('2024', '03')
    """
    parts = {"year": f"{key // 10000:04d}", "month": f"{key // 100 % 100:02d}", "day": f"{key % 100:02d}"}
    return tuple(parts[p] for p in partition_by)


def check_declared_columns(declared: dict[str, str]) -> dict[str, pa.DataType]:
    out = {}
    for name, type_name in declared.items():
        try:
            out[name] = normalize_type(arrow_type(type_name))
        except UsageError as ex:
            raise UsageError(f"column {name!r}: {ex}") from ex
    return out
