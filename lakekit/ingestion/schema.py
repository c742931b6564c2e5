"""The table's schema as an ingest sees it, and conforming parsed blocks to it.

Conforming is where a record can still fail after parsing: a value whose type does
not fit its column, a missing or unparseable timestamp. Such rows become rejects; the
rest of the block goes on. Columns whose values are all null so far carry no type
and are left out until a typed value arrives (Athena has no "null" column type).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from lakekit.catalog.base import Column
from lakekit.errors import InputError, UsageError
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
        """Explicit schema for the JSON reader: known columns, timestamps as text."""
        if not self.columns:
            return None
        return pa.schema([(n, self.raw_timestamp_types.get(n, pa.string()) if pat.is_timestamp(t) else t)
                          for n, t in self.columns.items()])

    def csv_types(self) -> dict[str, pa.DataType]:
        return {f.name: f.type for f in (self.parse_schema() or [])}

    def check_no_clash(self, names) -> None:
        keys = {k.lower(): k for k in self.partition_by}
        for name in names:
            key = keys.get(name.lower())
            if key is None:
                continue
            coarser = self.partition_by[: self.partition_by.index(key)]
            way_out = "rename the field in the source"
            if coarser:
                way_out += f", or partition by {','.join(coarser)} (--partition-by {','.join(coarser)})"
            raise InputError(
                f"source field {name!r} clashes with partition key {key!r}: a table cannot hold two "
                f"columns named {key!r}; {way_out}"
            )


_FRACTION = re.compile(r"(\.\d{6})\d+")


def _parse_one(value) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(_FRACTION.sub(r"\1", str(value).strip()))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def to_timestamp(arr: pa.Array) -> tuple[pa.Array, np.ndarray | None]:
    """Convert text, epoch numbers or timestamps to UTC microseconds.

    Returns the converted array and a mask of values that could not be converted
    (``None`` when all converted). Text without a zone offset is taken as UTC.
    """
    t = arr.type
    if pat.is_timestamp(t):
        if t.tz is None:
            return arr.cast(pa.timestamp("us")).cast(TIMESTAMP), None
        return arr.cast(TIMESTAMP), None
    if pat.is_date(t):
        return arr.cast(pa.timestamp("us")).cast(TIMESTAMP), None
    if pat.is_null(t):
        return pa.nulls(len(arr), TIMESTAMP), None
    if pat.is_integer(t) or pat.is_floating(t):
        # Epoch numbers: the magnitude tells the unit (seconds, milliseconds, microseconds).
        values = arr.cast(pa.float64())
        biggest = pc.max(pc.abs(values)).as_py() or 0
        scale = 1e6 if biggest < 1e11 else 1e3 if biggest < 1e14 else 1.0
        micros = pc.round(pc.multiply(values, scale))
        ok = pc.and_(pc.greater_equal(micros, -62135596800e6), pc.less(micros, 253402300800e6))
        bad = pc.and_(pc.is_valid(values), pc.invert(pc.fill_null(ok, False)))
        micros = pc.if_else(bad, None, micros)
        out = micros.cast(pa.int64()).cast(TIMESTAMP)
        mask = bad.to_numpy(zero_copy_only=False)
        return out, mask if mask.any() else None
    if pat.is_string(t) or pat.is_large_string(t):
        for target in (TIMESTAMP, pa.timestamp("us")):
            try:
                return arr.cast(target).cast(TIMESTAMP), None
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
        parsed = [_parse_one(v) for v in arr.to_pylist()]
        mask = np.array([p is None and v is not None for p, v in zip(parsed, arr.to_pylist())], dtype=bool)
        return pa.array(parsed, type=TIMESTAMP), mask if mask.any() else None
    return pa.nulls(len(arr), TIMESTAMP), arr.is_valid().to_numpy(zero_copy_only=False)


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
    bad: list[tuple[int, str]]  # (row index in the input piece, error)


class _Rejections:
    """The rows of one piece that failed, each with its first error."""

    def __init__(self, rows: int) -> None:
        self.mask = np.zeros(rows, dtype=bool)
        self.errors: dict[int, str] = {}

    def mark(self, mask: np.ndarray, message: str | Callable[[int], str]) -> None:
        """Reject the rows of ``mask`` not rejected yet (their first error is the one kept)."""
        for i in np.flatnonzero(mask & ~self.mask):
            self.errors[int(i)] = message(int(i)) if callable(message) else message
        self.mask |= mask


def conform(piece: pa.Table, schema: TableSchema) -> Conformed:
    """Cast one parsed piece to the table schema, growing it with new columns."""
    n = piece.num_rows
    rejections = _Rejections(n)
    schema.check_no_clash(piece.column_names)
    arrays: dict[str, pa.Array] = {}
    for name in piece.column_names:
        converted = _conform_column(name, piece.column(name).combine_chunks(), schema, rejections)
        if converted is not None:
            arrays[name] = converted
    keys = _partition_keys_of(arrays, schema, rejections)
    columns = [arrays.get(name, pa.nulls(n, t)) for name, t in schema.columns.items()]
    table = pa.Table.from_arrays(columns, schema=schema.arrow_schema()) if columns else pa.table({})
    if rejections.mask.any():
        keep = pa.array(~rejections.mask)
        table = table.filter(keep)
        if keys is not None:
            keys = keys.filter(keep)
    return Conformed(table, keys, sorted(rejections.errors.items()))


def _conform_column(name: str, col: pa.Array, schema: TableSchema, rejections: _Rejections) -> pa.Array | None:
    """One column in its table type (a new column is added to ``schema``); None when it
    has no type yet."""
    target = schema.columns.get(name)
    is_ts = name == schema.timestamp_column or (target is not None and pat.is_timestamp(target))
    if target is None and not is_ts and _has_null_leaf(col.type):
        if not pat.is_null(col.type):
            rejections.mark(col.is_valid().to_numpy(zero_copy_only=False),
                            f"field {name!r} holds only nulls inside a nested value; its type cannot be inferred")
        return None  # all null so far: no type to give it yet
    if is_ts:
        return _conform_timestamp(name, col, schema, rejections)
    if target is None:
        target = schema.columns[name] = normalize_type(col.type)
    return _conform_value(name, col, target, rejections)


def _conform_timestamp(name: str, col: pa.Array, schema: TableSchema, rejections: _Rejections) -> pa.Array:
    """A timestamp column as UTC microseconds; unparseable values rejected."""
    if name not in schema.columns:
        numeric = pat.is_integer(col.type) or pat.is_floating(col.type)
        schema.raw_timestamp_types[name] = normalize_type(col.type) if numeric else pa.string()
        schema.columns[name] = TIMESTAMP
    converted, mask = to_timestamp(col)
    if mask is not None:
        rejections.mark(mask, lambda i: f"cannot parse timestamp {col[i].as_py()!r} in column {name!r}")
    return converted


def _conform_value(name: str, col: pa.Array, target: pa.DataType, rejections: _Rejections) -> pa.Array:
    """A column cast to ``target`` when no value changes meaning; else its rows rejected."""
    if _fits(col.type, target):
        return col.cast(target) if col.type != target else col
    if pat.is_nested(col.type) and pat.is_nested(target):
        try:
            return col.cast(target)  # e.g. a struct with a subset of the fields
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            pass  # does not fit: rejected below
    rejections.mark(col.is_valid().to_numpy(zero_copy_only=False),
                    f"value of type {athena_type(normalize_type(col.type))} does not fit column {name!r} "
                    f"of type {athena_type(target)}")
    return pa.nulls(len(col), target)


def _partition_keys_of(arrays: dict[str, pa.Array], schema: TableSchema, rejections: _Rejections) -> pa.Array | None:
    """Each row's partition key; rows without a timestamp rejected."""
    if not schema.timestamp_column:
        return None
    ts = arrays.get(schema.timestamp_column)
    if ts is None:
        rejections.mark(np.ones(len(rejections.mask), dtype=bool),
                        f"timestamp column {schema.timestamp_column!r} is missing")
        return None
    rejections.mark(ts.is_null().to_numpy(zero_copy_only=False), f"timestamp column {schema.timestamp_column!r} is null")
    return partition_keys(ts, schema.partition_by) if schema.partition_by else None


def partition_keys(ts: pa.Array, partition_by: tuple[str, ...]) -> pa.Array:
    """An int per row, ``yyyymmdd`` with the unused parts zero, from UTC timestamps."""
    key = pc.multiply(pc.year(ts), 10000)
    if "month" in partition_by:
        key = pc.add(key, pc.multiply(pc.month(ts), 100))
    if "day" in partition_by:
        key = pc.add(key, pc.day(ts))
    return key


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
