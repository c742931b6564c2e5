"""What an ingest was asked to do: flags and layout file merged, then checked against
the table when it already exists."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lakekit.catalog.base import Table
from lakekit.errors import UsageError
from lakekit.ingestion.column_names import sanitize_name
from lakekit.ingestion.formats import INPUT_FORMATS
from lakekit.ingestion.schema import check_declared_columns
from lakekit.ingestion.values import NULL_MARKERS
from lakekit.layout import COMPRESSIONS, Layout, load_layout, parse_partition_by, parse_size
from lakekit.names import parse_table_name

DEFAULT_TARGET_FILE_SIZE = 128 << 20
MODES = ("append", "overwrite-partitions")
DEFAULT_GRAINS = ("year", "month", "day")


@dataclass
class IngestOptions:
    database: str
    name: str
    timestamp_column: str | None
    partition_by: tuple[str, ...]
    input_format: str
    compression: str
    target_file_size: int
    mode: str
    max_rejects: int | None
    declared_columns: dict
    projection: bool
    delimiter: str | None = None
    null_values: tuple[str, ...] = NULL_MARKERS
    timestamp_format: str | None = None
    #: whether --partition-by or a layout chose the grains; else a table's own stand
    partition_by_given: bool = True
    #: whether --partition-by itself was given (it needs a timestamp column)
    partition_by_flag: bool = False


def resolve_options(
    *,
    table: str | None,
    layout: str | Layout | None,
    timestamp_column: str | None,
    partition_by: str | Sequence[str] | None,
    input_format: str,
    compression: str | None,
    target_file_size: str | int | None,
    mode: str,
    max_rejects: int | None,
    projection: bool | None,
    delimiter: str | None = None,
    null_values: Sequence[str] | None = None,
    timestamp_format: str | None = None,
) -> IngestOptions:
    """Merge the flags with the layout file (a flag wins) and check them."""
    lay = _layout_of(layout)
    table = table or (lay.table if lay else None)
    if not table:
        raise UsageError("no table given; pass --table DB.TABLE or --layout FILE")
    database, name = parse_table_name(_valid_table_name(table))
    ts = timestamp_column or (lay.timestamp_column if lay else None)
    # The column is named as the table names it: "Order Date" and order_date alike.
    ts = sanitize_name(ts) if ts else None
    grains = _grains(partition_by, lay)
    compression = (compression or (lay.compression if lay else "zstd")).lower()
    _check_choices(compression=compression, mode=mode, input_format=input_format, max_rejects=max_rejects)
    _check_reading(delimiter=delimiter, timestamp_format=timestamp_format, ts=ts)
    if target_file_size is not None:
        size = parse_size(target_file_size, "--target-file-size")
    else:
        size = lay.target_file_size if lay else DEFAULT_TARGET_FILE_SIZE
    return IngestOptions(
        database=database,
        name=name,
        timestamp_column=ts,
        partition_by=grains,
        input_format=input_format,
        compression=compression,
        target_file_size=size,
        mode=mode,
        max_rejects=max_rejects,
        declared_columns={sanitize_name(k): v for k, v in check_declared_columns(lay.columns).items()} if lay else {},
        projection=bool(projection if projection is not None else (lay.projection if lay else False)),
        delimiter=delimiter,
        null_values=tuple(null_values) if null_values else NULL_MARKERS,
        timestamp_format=timestamp_format,
        partition_by_given=partition_by is not None or lay is not None,
        partition_by_flag=partition_by is not None,
    )


_TABLE_NAME = re.compile(r"[a-z0-9][a-z0-9_]*")


def _valid_table_name(table: str) -> str:
    """``DB.TABLE`` as given, when both parts are already names Glue and Athena keep as
    they are; else a usage error with the spelling that would be (SPEC: refused, not
    silently renamed, so the name a user types is the name every tool shows)."""
    parts = table.split(".")
    if len(parts) == 2 and all(parts) and not all(_TABLE_NAME.fullmatch(p) for p in parts):
        suggested = ".".join(sanitize_name(p).strip("_") or "t" for p in parts)
        if suggested != table and _TABLE_NAME.fullmatch(suggested.split(".")[0] or "-") \
                and _TABLE_NAME.fullmatch(suggested.split(".")[1] or "-"):
            raise UsageError(f"table name {table!r} is not allowed: database and table names are lower-case letters, "
                             f"digits and '_', not starting with '_'; use --table {suggested}")
    return table


def _layout_of(layout: str | Layout | None) -> Layout | None:
    if layout is None:
        return None
    lay = layout if isinstance(layout, Layout) else load_layout(str(layout))
    if lay.format != "parquet":
        raise UsageError(f"{lay.path}: lakekit writes Parquet; set format: parquet")
    return lay


def _grains(partition_by: str | Sequence[str] | None, lay: Layout | None) -> tuple[str, ...]:
    """The partition grains: the flag, else the layout's, else year/month/day (a new
    table without a timestamp column gets none: :func:`finish_for_new_table`)."""
    if partition_by is not None:
        return parse_partition_by(partition_by)
    return lay.partition_by if lay is not None else DEFAULT_GRAINS


def _check_reading(*, delimiter: str | None, timestamp_format: str | None, ts: str | None) -> None:
    if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
        raise UsageError(f"--delimiter {delimiter!r} must be one character other than a quote or a line break")
    if timestamp_format is not None and not ts:
        raise UsageError("--timestamp-format needs --timestamp-column: it is how that column's values are written")


def finish_for_new_table(opts: IngestOptions) -> IngestOptions:
    """A new table without a timestamp column is not partitioned."""
    if not opts.timestamp_column:
        if opts.partition_by_flag:
            raise UsageError("--partition-by needs --timestamp-column: partition values come from the record's timestamp")
        opts.partition_by = ()
    return opts


def _check_choices(*, compression: str, mode: str, input_format: str, max_rejects: int | None) -> None:
    if compression not in COMPRESSIONS:
        raise UsageError(f"compression {compression!r} is not supported; use one of {', '.join(COMPRESSIONS)}")
    if mode not in MODES:
        raise UsageError(f"mode {mode!r} is unknown; use append or overwrite-partitions")
    if input_format not in INPUT_FORMATS:
        raise UsageError(f"input format {input_format!r} is unknown; use one of {', '.join(INPUT_FORMATS)}")
    if max_rejects is not None and max_rejects < 0:
        raise UsageError("--max-rejects must be 0 or more")


def reconcile_with_existing(existing: Table, opts: IngestOptions) -> IngestOptions:
    """The table's own timestamp column and partitioning stand unless the flags name
    others, which must then agree with them."""
    keys = tuple(c.name for c in existing.partition_keys)
    ts = opts.timestamp_column or existing.timestamp_column
    if opts.timestamp_column and existing.timestamp_column and opts.timestamp_column != existing.timestamp_column:
        raise UsageError(f"table {existing.qualified_name} is partitioned by column {existing.timestamp_column!r}, "
                         f"not {opts.timestamp_column!r}; use --timestamp-column {existing.timestamp_column}")
    grains = opts.partition_by if opts.partition_by_given else keys
    if keys != grains:
        raise UsageError(f"table {existing.qualified_name} is partitioned by {','.join(keys) or 'nothing'}, "
                         f"not {','.join(grains) or 'nothing'}; pass --partition-by {','.join(keys) or '...'} "
                         "or ingest into a new table")
    opts.timestamp_column = ts
    opts.partition_by = keys
    return opts
