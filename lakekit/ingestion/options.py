"""What an ingest was asked to do: flags and layout file merged, then checked against
the table when it already exists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lakekit.catalog.base import Table
from lakekit.errors import UsageError
from lakekit.ingestion.schema import check_declared_columns
from lakekit.layout import COMPRESSIONS, Layout, load_layout, parse_partition_by, parse_size
from lakekit.names import parse_table_name

DEFAULT_TARGET_FILE_SIZE = 128 << 20
MODES = ("append", "overwrite-partitions")
INPUT_FORMATS = ("auto", "jsonl", "csv")


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
) -> IngestOptions:
    """Merge the flags with the layout file (a flag wins) and check them."""
    lay = _layout_of(layout)
    table = table or (lay.table if lay else None)
    if not table:
        raise UsageError("no table given; pass --table DB.TABLE or --layout FILE")
    database, name = parse_table_name(table)
    ts = timestamp_column or (lay.timestamp_column if lay else None)
    grains = _grains(partition_by, lay, ts)
    compression = (compression or (lay.compression if lay else "zstd")).lower()
    _check_choices(compression=compression, mode=mode, input_format=input_format, max_rejects=max_rejects)
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
        declared_columns=check_declared_columns(lay.columns) if lay else {},
        projection=bool(projection if projection is not None else (lay.projection if lay else False)),
    )


def _layout_of(layout: str | Layout | None) -> Layout | None:
    if layout is None:
        return None
    lay = layout if isinstance(layout, Layout) else load_layout(str(layout))
    if lay.format != "parquet":
        raise UsageError(f"{lay.path}: lakekit writes Parquet; set format: parquet")
    return lay


def _grains(partition_by: str | Sequence[str] | None, lay: Layout | None, ts: str | None) -> tuple[str, ...]:
    """The partition grains: the flag, else the layout's, else year/month/day; none
    without a timestamp column."""
    if partition_by is not None:
        grains = parse_partition_by(partition_by)
    else:
        grains = lay.partition_by if lay is not None else ("year", "month", "day")
    if not ts:
        if partition_by is not None:
            raise UsageError("--partition-by needs --timestamp-column: partition values come from the record's timestamp")
        return ()
    return grains


def _check_choices(*, compression: str, mode: str, input_format: str, max_rejects: int | None) -> None:
    if compression not in COMPRESSIONS:
        raise UsageError(f"compression {compression!r} is not supported; use one of {', '.join(COMPRESSIONS)}")
    if mode not in MODES:
        raise UsageError(f"mode {mode!r} is unknown; use append or overwrite-partitions")
    if input_format not in INPUT_FORMATS:
        raise UsageError(f"input format {input_format!r} is unknown; use auto, jsonl or csv")
    if max_rejects is not None and max_rejects < 0:
        raise UsageError("--max-rejects must be 0 or more")


def reconcile_with_existing(existing: Table, opts: IngestOptions) -> IngestOptions:
    keys = tuple(c.name for c in existing.partition_keys)
    ts = opts.timestamp_column or existing.timestamp_column
    if opts.timestamp_column and existing.timestamp_column and opts.timestamp_column != existing.timestamp_column:
        raise UsageError(f"table {existing.qualified_name} is partitioned by column {existing.timestamp_column!r}, "
                         f"not {opts.timestamp_column!r}; use --timestamp-column {existing.timestamp_column}")
    grains = opts.partition_by if opts.timestamp_column else keys
    if keys != grains:
        raise UsageError(f"table {existing.qualified_name} is partitioned by {','.join(keys) or 'nothing'}, "
                         f"not {','.join(grains) or 'nothing'}; pass --partition-by {','.join(keys) or '...'} "
                         "or ingest into a new table")
    opts.timestamp_column = ts
    opts.partition_by = keys
    return opts
