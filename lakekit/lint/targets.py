"""What a layout target holds, gathered once for every layout rule to look at.

A target is a layout file (``layouts/*.yaml``: checked before any data exists), a
local folder or ``s3://`` prefix (listed, and Parquet footers read: never whole
files), or a catalog table ``DB.TABLE`` (its location is listed and compared with
the catalog's partitions). Storage is split into tables by folder: everything
before the first partition folder (``key=value``, or ``2024``/``2024-03-07`` style)
belongs to one table.

>>> split_partition_path(["analytics", "events", "year=2024", "month=03"])
(('analytics', 'events'), ('year=2024', 'month=03'))
>>> split_partition_path(["raw", "2019", "11", "25"])
(('raw',), ('2019', '11', '25'))
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pyarrow as pa

from lakekit.catalog.base import Partition, Table
from lakekit.errors import LakekitError, UsageError, first_line
from lakekit.layout import Layout, load_layout
from lakekit.parquet import read_footer as read_parquet_footer
from lakekit.paths import has_hidden_part, is_commit_id, is_s3, split_hive_folder
from lakekit.storage import Storage

#: compression suffixes of text files (and the codec they mean)
COMPRESSION_SUFFIXES = {
    ".gz": "gzip", ".gzip": "gzip", ".zip": "zip", ".bz2": "bzip2", ".zst": "zstd", ".zstd": "zstd",
    ".snappy": "snappy", ".lz4": "lz4", ".deflate": "deflate", ".lzo": "lzo",
}
FORMAT_SUFFIXES = {
    ".parquet": "parquet", ".pq": "parquet", ".parq": "parquet", ".orc": "orc", ".avro": "avro",
    ".csv": "csv", ".tsv": "csv", ".json": "json", ".jsonl": "json", ".ndjson": "json",
    ".txt": "text", ".log": "text",
}
ROW_FORMATS = ("csv", "json", "text")

_HIVE = re.compile(r"^[^=/]+=[^/]*$")
_DATE_LIKE = re.compile(r"^[0-9]{1,4}(?:-[0-9]{1,2}){0,2}$")


def is_partition_folder(name: str) -> bool:
    """``year=2024`` (Hive style) or ``2024`` / ``03`` / ``2024-03-07`` (date folders).

    >>> [is_partition_folder(n) for n in ("year=2024", "2024-03-07", "07", "events")]
    [True, True, True, False]
    """
    return bool(_HIVE.match(name) or _DATE_LIKE.match(name))


def split_partition_path(parts: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Folder parts -> (table folders, partition folders)."""
    for i, part in enumerate(parts):
        if is_partition_folder(part):
            return tuple(parts[:i]), tuple(parts[i:])
    return tuple(parts), ()


def file_kind(name: str) -> tuple[str, str]:
    """(format, compression) from a file name; format ``unknown`` when it cannot tell.

    >>> file_kind("part-0.csv.gz"), file_kind("x.snappy.parquet"), file_kind("events.jsonl")
    (('csv', 'gzip'), ('parquet', 'none'), ('json', 'none'))
    """
    base, ext = os.path.splitext(name.lower())
    compression = "none"
    if ext in COMPRESSION_SUFFIXES:
        compression = COMPRESSION_SUFFIXES[ext]
        base, ext = os.path.splitext(base)
    fmt = FORMAT_SUFFIXES.get(ext, "unknown")
    if fmt in ("parquet", "orc", "avro"):
        compression = "none"  # compression lives inside columnar files; read from the footer
    return fmt, compression


@dataclass(frozen=True)
class ParquetFooter:
    """The facts layout rules need from one Parquet footer."""

    row_groups: int
    rows: int
    codecs: frozenset[str]
    #: (column path, physical type, logical type) of every leaf column, in order
    schema: tuple[tuple[str, str, str], ...]
    #: (column name, Athena type) of every top-level column, in order
    columns: tuple[tuple[str, str], ...]
    #: leaf columns with values but without min/max statistics
    columns_without_stats: tuple[str, ...]


@dataclass(frozen=True)
class DataFileFacts:
    uri: str
    size: int
    format: str
    compression: str
    #: partition folders between the table folder and the file (``('year=2024', ...)``)
    partition: tuple[str, ...]
    footer: ParquetFooter | None = None
    footer_error: str | None = None


@dataclass
class TableFacts:
    """One table's worth of a target: its files, and what the catalog says (if asked)."""

    path: str
    files: list[DataFileFacts] = field(default_factory=list)
    #: the catalog's table and partitions, for a ``DB.TABLE`` target
    table: Table | None = None
    catalog_partitions: list[Partition] | None = None

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)

    def partitions(self) -> dict[tuple[str, ...], list[DataFileFacts]]:
        groups: dict[tuple[str, ...], list[DataFileFacts]] = {}
        for f in self.files:
            groups.setdefault(f.partition, []).append(f)
        return groups


@dataclass
class LayoutFileFacts:
    """A layout file, with the line and column of each top-level key."""

    path: str
    layout: Layout
    positions: dict[str, tuple[int, int]]

    def position(self, key: str) -> tuple[int, int]:
        return self.positions.get(key, (1, 1))


# -- gathering -------------------------------------------------------------------------
def layout_files_under(folder: str, suffixes: tuple[str, ...]) -> list[str]:
    """Layout files in a local folder (recursively), skipping hidden and ``_`` names."""
    found = []
    for directory, subdirs, files in os.walk(folder):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith(("_", ".")))
        found += [os.path.join(directory, f) for f in files
                  if f.lower().endswith(suffixes) and not f.startswith(("_", "."))]
    return sorted(found)


def layout_error_position(path: str, message: str) -> tuple[int, int]:
    """Where in a layout file the problem a loading error names sits (1, 1 when unknown)."""
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            node = yaml.compose(f)
    except yaml.MarkedYAMLError as ex:
        mark = ex.problem_mark or ex.context_mark
        return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    except (yaml.YAMLError, OSError, UnicodeDecodeError):
        return 1, 1
    named = message.split("; known:")[0]  # the list of known settings names them all
    if isinstance(node, yaml.MappingNode):
        for key, _ in node.value:
            spellings = {str(key.value), str(key.value).replace("_", "-")}  # partition_by, --partition-by
            if any(re.search(rf"\b{re.escape(word)}\b", named) for word in spellings):
                return key.start_mark.line + 1, key.start_mark.column + 1
    return 1, 1


def read_layout_file(path: str) -> LayoutFileFacts:
    import yaml

    layout = load_layout(path)
    positions: dict[str, tuple[int, int]] = {}
    with open(path, encoding="utf-8") as f:
        node = yaml.compose(f)
    if isinstance(node, yaml.MappingNode):
        for key, _ in node.value:
            positions[str(key.value)] = (key.start_mark.line + 1, key.start_mark.column + 1)
    return LayoutFileFacts(path, layout, positions)


def read_footer(storage: Storage, uri: str) -> ParquetFooter:
    """Read only the footer (:func:`lakekit.parquet.read_footer`) and keep what rules need."""
    meta = read_parquet_footer(storage, uri).metadata
    codecs: set[str] = set()
    without_stats: list[str] = []
    schema = tuple(
        (col.path, col.physical_type, str(col.logical_type))
        for col in (meta.schema.column(i) for i in range(meta.num_columns))
    )
    for i in range(meta.num_row_groups):
        rg = meta.row_group(i)
        for j in range(rg.num_columns):
            chunk = rg.column(j)
            codecs.add(chunk.compression)
            stats = chunk.statistics
            has_values = stats is None or stats.num_values > 0
            lacks_range = has_values and (stats is None or not stats.has_min_max) and chunk.num_values > 0
            if lacks_range and chunk.path_in_schema not in without_stats:
                without_stats.append(chunk.path_in_schema)
    columns = tuple((field.name.lower(), _athena_type_name(field.type)) for field in meta.schema.to_arrow_schema())
    return ParquetFooter(
        meta.num_row_groups, meta.num_rows, frozenset(codecs), schema, columns, tuple(without_stats)
    )


def _athena_type_name(arrow_type: pa.DataType) -> str:
    """The type as Athena shows it (``bigint``, ``timestamp``), or Arrow's name when it has none."""
    from lakekit.types import athena_type

    try:
        return athena_type(arrow_type)
    except UsageError:
        return str(arrow_type)


def _display(root_display: str, parts: tuple[str, ...], sep: str) -> str:
    return sep.join((root_display.rstrip(sep), *parts)) if parts else root_display


def scan_storage(
    storage: Storage, root: str, display: str, *, single_table: bool = False, workers: int = 16,
    exclude_suffixes: tuple[str, ...] = (),
) -> list[TableFacts]:
    """List ``root`` and read Parquet footers, grouped into tables by folder.

    ``single_table`` keeps everything under ``root`` as one table (a catalog table's
    location); otherwise each folder before the first partition folder is a table.
    Files and folders named ``_*`` or ``.*`` are skipped, as Athena skips them, and so
    are files ending in one of ``exclude_suffixes`` (layout files in a local folder).
    """
    sep = "/" if is_s3(root) else os.sep
    base = root.rstrip("/") if is_s3(root) else os.path.abspath(root)
    if not storage.exists(base):
        raise UsageError(f"{display}: no such folder or prefix; check the path")
    tables: dict[tuple[str, ...], TableFacts] = {}
    entries = []
    for entry in storage.list_files(base):
        rel = entry.uri[len(base):].lstrip("/\\")
        parts = re.split(r"[/\\]", rel)
        if has_hidden_part(parts):
            continue
        if exclude_suffixes and parts[-1].lower().endswith(exclude_suffixes):
            continue
        # a commit's own folder (<commit-id>/year=.../) is not part of the layout
        folders = [p for p in parts[:-1] if not is_commit_id(p)]
        if single_table:
            table_parts = ()
            partition = tuple(p for p in folders)
        else:
            table_parts, partition = split_partition_path(folders)
        fmt, compression = file_kind(parts[-1])
        entries.append((entry, table_parts, partition, fmt, compression))

    def footer_of(item) -> tuple[ParquetFooter | None, str | None]:
        entry, _, _, fmt, _ = item
        if fmt not in ("parquet", "unknown"):
            return None, None
        try:
            return read_footer(storage, entry.uri), None
        except (LakekitError, OSError, ValueError, pa.ArrowException) as ex:
            # ArrowInvalid (a ValueError) is what a file that is not Parquet raises
            if fmt == "unknown":
                return None, None  # not Parquet after all: some other file
            return None, first_line(ex)

    if len(entries) > 64 and workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            footers = list(pool.map(footer_of, entries))
    else:
        footers = [footer_of(e) for e in entries]
    for (entry, table_parts, partition, fmt, compression), (footer, error) in zip(entries, footers):
        if fmt == "unknown" and footer is not None:
            fmt = "parquet"
        facts = tables.get(table_parts)
        if facts is None:
            facts = tables[table_parts] = TableFacts(_display(display, table_parts, sep))
        facts.files.append(DataFileFacts(entry.uri, entry.size, fmt, compression, partition, footer, error))
    for facts in tables.values():
        facts.files.sort(key=lambda f: f.uri)
    return [tables[k] for k in sorted(tables)]


def hive_values(partition: tuple[str, ...], keys: list[str]) -> tuple[str, ...] | None:
    """The partition values of Hive folders in key order, ``None`` when they do not match.

    >>> hive_values(("year=2024", "month=03"), ["year", "month"])
    ('2024', '03')
    >>> hive_values(("2024", "03"), ["year", "month"]) is None
    True
    """
    values: dict[str, str] = {}
    for part in partition:
        pair = split_hive_folder(part)
        if pair is None:
            return None
        values[pair[0].lower()] = pair[1]
    if [k.lower() for k in keys] != list(values):
        return None
    return tuple(values[k.lower()] for k in keys)
