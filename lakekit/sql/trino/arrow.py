"""Result columns as Athena returns them: the Arrow type of each column's Trino type.

DuckDB's result types are close to Trino's but not the same (``sum`` of integers is a
128-bit integer, a JSON value is text); each column is cast to the Arrow form of its
Trino type, and a ``timestamp with time zone`` column shows the zone its type carries.
"""

from __future__ import annotations

import pyarrow as pa

from lakekit.sql.trino.types import TType

__all__ = ["arrow_type", "shape_result"]


def arrow_type(t: TType) -> pa.DataType | None:
    """The Arrow type results of Trino type ``t`` take (None: keep DuckDB's)."""
    base = t.base
    simple = {
        "boolean": pa.bool_(), "tinyint": pa.int8(), "smallint": pa.int16(), "integer": pa.int32(),
        "bigint": pa.int64(), "real": pa.float32(), "double": pa.float64(), "varchar": pa.string(),
        "char": pa.string(), "json": pa.string(), "varbinary": pa.binary(), "date": pa.date32(),
    }
    if base in simple:
        return simple[base]
    if base == "decimal":
        return pa.decimal128(t.params[0], t.params[1])
    if base == "timestamp":
        return pa.timestamp("us")
    if base == "timestamp with time zone":
        return pa.timestamp("us", tz=t.zone or "UTC")
    if base == "time":
        return pa.time64("us")
    if base.startswith("interval"):
        return pa.month_day_nano_interval()
    if base == "array":
        element = arrow_type(t.element)
        return pa.list_(element) if element is not None else None
    if base == "map":
        key, value = arrow_type(t.elements[0]), arrow_type(t.elements[1])
        return pa.map_(key, value) if key is not None and value is not None else None
    if base == "row":
        fields = []
        for i, (name, element) in enumerate(zip(t.fields, t.elements)):
            element_type = arrow_type(element)
            if element_type is None:
                return None
            fields.append(pa.field(name or f"field{i}", element_type))
        return pa.struct(fields)
    return None


def _conform(array: pa.Array, target: pa.DataType) -> pa.Array:
    """``array`` as ``target``; struct fields match by position (DuckDB names unnamed
    row fields its own way, and Arrow's cast would match them by name)."""
    source = array.type
    if source == target:
        return array
    if pa.types.is_null(source):
        return pa.nulls(len(array), type=target)
    if pa.types.is_struct(source) and pa.types.is_struct(target) and source.num_fields == target.num_fields:
        children = [_conform(array.field(i), target.field(i).type) for i in range(source.num_fields)]
        return pa.StructArray.from_arrays(children, fields=list(target), mask=array.is_null() if array.null_count else None)
    if pa.types.is_list(source) and pa.types.is_list(target):
        values = _conform(array.values, target.value_type)
        offsets = array.offsets
        return pa.ListArray.from_arrays(offsets, values, type=target, mask=array.is_null() if array.null_count else None)
    if pa.types.is_map(source) and pa.types.is_map(target):
        keys = _conform(array.keys, target.key_type)
        items = _conform(array.items, target.item_type)
        return pa.MapArray.from_arrays(array.offsets, keys, items, type=target, mask=array.is_null() if array.null_count else None)
    return array.cast(target)


def shape_result(table: pa.Table, columns) -> pa.Table:
    """``table`` with Trino's column names and each column in its Trino type's Arrow form."""
    if table.num_columns != len(columns):
        return table
    arrays = []
    names = []
    for i, (name, t) in enumerate(columns):
        column = table.column(i)
        target = arrow_type(t)
        if target is not None and column.type != target:
            try:
                column = pa.chunked_array([_conform(chunk, target) for chunk in column.chunks], type=target)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as ex:
                from lakekit.errors import QueryFailed

                raise QueryFailed(f"column {name}: the value does not fit Athena's type {t}: {ex}") from ex
        arrays.append(column)
        names.append(name)
    return pa.table(arrays, names=names)
