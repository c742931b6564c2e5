"""Crawl: register a Parquet ``key=value`` layout that lakekit did not write.

Like a Glue crawler, but exact and footer-only: every file under the location is
listed once, its folder names give the partition values, and its Parquet footer (the
file's tail, never its data pages) gives the schema and the statistics the cost
estimate needs. Files whose path has a component starting with ``_`` or ``.`` are
skipped, as Athena skips them. Files that disagree on a column's type are reported,
never silently merged.

>>> scan = scan_paths("/lake/t", ["/lake/t/year=2024/month=03/part-0.parquet",
...                               "/lake/t/_SUCCESS"])
>>> scan.partition_keys, [f.partition_values for f in scan.files]
(('year', 'month'), [('2024', '03')])
"""

from __future__ import annotations

import os
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from lakekit.catalog.base import Catalog, Column, DataFile, Partition, Table
from lakekit.errors import InputError, LakekitError, StorageError, UsageError, first_line
from lakekit.names import check_partition_value, parse_table_name
from lakekit.parquet import read_footer as read_parquet_footer
from lakekit.paths import has_hidden_part, is_commit_id, is_s3, join, partition_path, relative_parts, split_hive_folder
from lakekit.storage import Storage

#: concurrent footer reads (each one ranged GET on S3, two for a footer over
#: :data:`lakekit.parquet.FOOTER_GUESS`)
FOOTER_READERS = 16


@dataclass(frozen=True)
class FoundFile:
    uri: str
    size: int
    partition_values: tuple[str, ...]
    partition_location: str
    #: the commit whose folder (``<home>/<commit-id>/k=v/...``) holds the file, if any
    commit_id: str | None = None


@dataclass
class LayoutScan:
    """What a listing of a table location shows: data files and their partitions."""

    location: str
    partition_keys: tuple[str, ...] | None
    files: list[FoundFile] = field(default_factory=list)
    #: paths that are not part of the layout (wrong depth, not key=value), with why
    ignored: list[dict[str, str]] = field(default_factory=list)

    def partitions(self) -> dict[tuple[str, ...], str]:
        return {f.partition_values: f.partition_location for f in self.files}

    def versions(self) -> dict[tuple[str, ...], dict[str, str | None]]:
        """Every folder holding each partition's files: ``{values: {location: commit id}}``.
        A lakekit table keeps, besides each partition's current folder, the folders
        commits superseded (until their retention passes) and those of commits in flight."""
        out: dict[tuple[str, ...], dict[str, str | None]] = {}
        for f in self.files:
            out.setdefault(f.partition_values, {})[f.partition_location] = f.commit_id
        return out

    def keep_versions(self, chosen: dict[tuple[str, ...], str]) -> None:
        """Keep only the files of the chosen folder of each partition."""
        self.files = [f for f in self.files if chosen.get(f.partition_values) == f.partition_location]


def newest_versions(scan: LayoutScan, current: dict[tuple[str, ...], str],
                    committed: Callable[[str], bool]) -> tuple[dict[tuple[str, ...], str], list[dict[str, str]]]:
    """Each partition's folder to register: the ``current`` one while it holds files,
    else the newest folder of a ``committed`` commit (commit ids sort by time), else a
    plain ``key=value`` folder. Folders of commits that never committed are reported."""
    chosen: dict[tuple[str, ...], str] = {}
    ignored: list[dict[str, str]] = []
    for values, folders in scan.versions().items():
        now = current.get(values)
        if now is not None and any(loc.rstrip("/") == now.rstrip("/") for loc in folders):
            chosen[values] = next(loc for loc in folders if loc.rstrip("/") == now.rstrip("/"))
            continue
        ranked = sorted(((cid or "", loc) for loc, cid in folders.items() if cid is None or committed(cid)),
                        reverse=True)
        if ranked:
            chosen[values] = ranked[0][1]
        for loc, cid in folders.items():
            if cid is not None and not committed(cid):
                ignored.append({"uri": loc, "reason": f"folder of commit {cid}, which did not commit"})
    return chosen, ignored


def scan_paths(
    location: str,
    uris: Iterable[str | tuple[str, int]],
    partition_keys: Sequence[str] | None = None,
) -> LayoutScan:
    """Sort listed files into partitions by their ``key=value`` folders.

    ``partition_keys`` fixes the expected keys (a registered table); without it the
    keys of the first file found are the layout's and every other file must agree.
    """
    location = location.rstrip("/")
    scan = LayoutScan(location, tuple(partition_keys) if partition_keys is not None else None)
    for item in sorted(uris, key=lambda u: u if isinstance(u, str) else u[0]):
        uri, size = (item, 0) if isinstance(item, str) else item
        parts = relative_parts(location, uri)
        if has_hidden_part(parts):
            continue
        folders = parts[:-1]
        commit_id = folders[0] if folders and is_commit_id(folders[0]) else None
        if commit_id is not None:  # a lakekit commit's folder: <home>/<commit-id>/k=v/...
            folders = folders[1:]
        keys, values = [], []
        problem = None
        for folder in folders:
            pair = split_hive_folder(folder)
            if pair is None:
                problem = f"folder {folder!r} is not key=value"
                break
            key, value = pair[0], urllib.parse.unquote(pair[1])  # Hive escapes special characters as %XX
            try:
                check_partition_value(key, value)
            except LakekitError as ex:
                problem = str(ex)
                break
            keys.append(key.lower())
            values.append(value)
        if problem is None:
            if scan.partition_keys is None:
                scan.partition_keys = tuple(keys)
            elif tuple(keys) != scan.partition_keys:
                expected = "/".join(f"{k}=..." for k in scan.partition_keys) or "no partition folders"
                problem = f"partition folders {'/'.join(folders) or '(none)'} do not match {expected}"
        if problem is not None:
            scan.ignored.append({"uri": uri, "reason": problem})
            continue
        base = join(location, commit_id) if commit_id else location
        folder_uri = join(base, *folders) if folders else base
        scan.files.append(FoundFile(uri, size, tuple(values), folder_uri, commit_id))
    if scan.partition_keys is None:
        scan.partition_keys = ()
    return scan


def scan_location(storage: Storage, location: str, partition_keys: Sequence[str] | None = None) -> LayoutScan:
    """List ``location`` once (recursively) and sort its files into partitions."""
    entries = [(e.uri, e.size) for e in storage.list_files(location)]
    return scan_paths(location, entries, partition_keys)


@dataclass(frozen=True)
class SchemaConflict:
    """One column whose type differs between files."""

    column: str
    #: Athena type -> how many files have it, and an example file
    types: dict[str, dict[str, Any]]
    chosen: str

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "types": self.types, "chosen": self.chosen}

    def describe(self) -> str:
        seen = ", ".join(f"{t} in {v['files']} file(s) (e.g. {v['example']})" for t, v in self.types.items())
        return f"column {self.column}: {seen}; registered as {self.chosen}"


@dataclass
class FileFooter:
    stats: DataFile
    schema: list[tuple[str, str]]  # (column, Athena type) in file order
    compression: str
    #: leaf columns stored as INT64 nanosecond timestamps, which Athena cannot read
    nanosecond_columns: tuple[str, ...] = ()


def read_footer(storage: Storage, found: FoundFile) -> FileFooter:
    """One file's footer (:func:`lakekit.parquet.read_footer`): statistics, schema
    (Athena types) and compression codec."""
    footer = read_parquet_footer(storage, found.uri)
    return FileFooter(footer.data_file(found.partition_values), footer.athena_columns(), footer.codec(),
                      footer.nanosecond_columns())


def read_footers(storage: Storage, files: Sequence[FoundFile]) -> tuple[list[FileFooter], list[dict[str, str]]]:
    """Footers of many files, read concurrently; unreadable files come back as skipped."""

    def one(found: FoundFile):
        try:
            return read_footer(storage, found)
        except (StorageError, InputError, OSError, ValueError, UsageError) as ex:
            return {"uri": found.uri, "reason": f"not a readable Parquet file: {first_line(ex)}"}
        except Exception as ex:  # noqa: BLE001 - pyarrow raises many kinds on garbage input
            return {"uri": found.uri, "reason": f"not a readable Parquet file: {type(ex).__name__}: {ex}"}

    if len(files) > 1:
        with ThreadPoolExecutor(max_workers=min(FOOTER_READERS, len(files))) as pool:
            results = list(pool.map(one, files))
    else:
        results = [one(f) for f in files]
    footers = [r for r in results if isinstance(r, FileFooter)]
    skipped = [r for r in results if isinstance(r, dict)]
    return footers, skipped


def merge_schemas(footers: Sequence[FileFooter]) -> tuple[list[Column], list[SchemaConflict], dict[str, int]]:
    """Union of the files' columns, in first-seen order.

    Returns the columns, the conflicts (a column with more than one type: the type
    most files have is registered), and the columns some files lack (name -> files
    without it; Athena reads those as NULL there).
    """
    order: list[str] = []
    types: dict[str, Counter] = {}
    examples: dict[tuple[str, str], str] = {}
    for ft in footers:
        for name, typ in ft.schema:
            if name not in types:
                order.append(name)
                types[name] = Counter()
            types[name][typ] += 1
            examples.setdefault((name, typ), ft.stats.uri)
    columns, conflicts = [], []
    for name in order:
        counts = types[name]
        chosen = max(counts, key=lambda t: (counts[t], -list(counts).index(t)))
        columns.append(Column(name, chosen))
        if len(counts) > 1:
            conflicts.append(
                SchemaConflict(name, {t: {"files": n, "example": examples[(name, t)]} for t, n in counts.items()}, chosen)
            )
    missing = {name: len(footers) - sum(types[name].values()) for name in order}
    return columns, conflicts, {k: v for k, v in missing.items() if v}


@dataclass
class CrawlResult:
    table: str
    location: str
    columns: list[Column]
    partition_keys: list[str]
    partitions: int
    partitions_added: list[tuple[str, ...]]
    partitions_removed: list[tuple[str, ...]]
    files: int
    bytes: int
    schema_conflicts: list[SchemaConflict]
    #: column -> number of files without it
    missing_columns: dict[str, int]
    #: files left out, each {"uri", "reason"}
    skipped: list[dict[str, str]]
    seconds: float
    #: columns stored as nanosecond timestamps, each {"column", "files", "example"}
    nanosecond_timestamps: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        keys = self.partition_keys
        return {
            "table": self.table,
            "location": self.location,
            "columns": [{"name": c.name, "type": c.type} for c in self.columns],
            "partition_keys": keys,
            "partitions": self.partitions,
            "partitions_added": [partition_name(keys, v) for v in self.partitions_added],
            "partitions_removed": [partition_name(keys, v) for v in self.partitions_removed],
            "files": self.files,
            "bytes": self.bytes,
            "schema_conflicts": [c.to_dict() for c in self.schema_conflicts],
            "missing_columns": self.missing_columns,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
            "nanosecond_timestamps": self.nanosecond_timestamps,
        }


def nanosecond_report(footers: Sequence[FileFooter]) -> list[dict[str, Any]]:
    """Each nanosecond-timestamp column with how many files store it so and one of them."""
    files: Counter = Counter()
    example: dict[str, str] = {}
    for footer in footers:
        for column in footer.nanosecond_columns:
            files[column] += 1
            example.setdefault(column, footer.stats.uri)
    return [{"column": c, "files": files[c], "example": example[c]} for c in sorted(files)]


def partition_name(keys: Sequence[str], values: Sequence[str]) -> str:
    """``year=2024/month=03``, the way partitions are named in folders and messages.

    >>> partition_name(["year", "month"], ("2024", "03"))
    'year=2024/month=03'
    """
    return partition_path(keys, values)


def _normalise_location(location: str) -> str:
    if is_s3(location):
        if not location[len("s3://"):].split("/")[0]:
            raise UsageError(f"location {location!r} names no bucket; write it like s3://bucket/prefix")
        return location.rstrip("/")
    if "://" in location:
        raise UsageError(f"location {location!r}: only local folders and s3:// URIs can be crawled")
    return os.path.abspath(location)


def crawl_table(*, catalog: Catalog, storage: Storage, location: str, table: str, replace: bool = False) -> CrawlResult:
    """Register the Parquet layout under ``location`` as table ``DB.TABLE``.

    Partition keys come from the ``key=value`` folders (registered as strings, as
    lakekit writes them), columns from the union of the files' schemas. Crawling again
    updates the table: new partitions and files are added, partitions and files whose
    data is gone are removed, and file statistics are refreshed.

    Args:
        location: a local folder or ``s3://bucket/prefix``.
        table: ``DB.TABLE`` to register.
        replace: register it even when a table of that name exists that is not this
            location's earlier crawl (an ingested table, or one at another location):
            the old entry goes, with its partitions, statistics and parameters; its data stays.
        catalog: the catalog to register it in.
        storage: the warehouse's storage (it reads ``s3://`` and local URIs alike).

    Returns:
        A :class:`CrawlResult`; ``schema_conflicts`` lists columns whose type differs
        between files.

    Raises:
        InputError: nothing crawlable under the location, or partition folders disagree.
        UsageError: the table exists and is not this location's crawl, without ``replace``.
    """
    started = time.monotonic()
    database, name = parse_table_name(table)
    location = _normalise_location(location)
    if not is_s3(location) and not os.path.isdir(location):
        raise InputError(f"location {location} is not a folder; crawl a folder or an s3:// prefix")
    existing = catalog.get_table(database, name)
    if existing is not None and not _is_recrawl(existing, location):
        if not replace:
            raise UsageError(
                f"table {database}.{name} exists already ({_what(existing)} at {existing.home}); crawling {location} "
                f"would re-point it: pass --replace to register {location} in its place, or crawl into another name")
        catalog.drop_table(database, name)
    scan = _scan_for_crawl(storage, location)
    chosen, _ = newest_versions(scan, {}, lambda _cid: True)  # no catalog to ask: the newest version of each
    scan.keep_versions(chosen)
    footers, skipped = read_footers(storage, scan.files)
    if not footers:
        raise InputError(f"no readable Parquet files under {location}: {skipped[0]['reason']}")
    columns, conflicts, missing = merge_schemas(footers)
    keys = list(scan.partition_keys or ())
    clashes = [c.name for c in columns if c.name in keys]
    if clashes:
        skipped.append({"uri": location,
                        "reason": f"column(s) {', '.join(clashes)} are also partition keys; the folder value is used"})
        columns = [c for c in columns if c.name not in keys]
    existing = catalog.get_table(database, name)
    parameters = dict(existing.parameters) if existing else {}
    codecs = Counter(f.compression for f in footers)
    parameters.update({"classification": "parquet", "compression": codecs.most_common(1)[0][0]})
    catalog.create_or_update_table(
        Table(database, name, location, columns, [Column(k, "string") for k in keys], parameters))

    readable = {f.stats.uri for f in footers}
    found = {f.partition_values: f.partition_location for f in scan.files if f.uri in readable}
    added, removed = _update_partitions(catalog, database, name, keys, found, existed=existing is not None)
    _update_files(catalog, database, name, footers, existed=existing is not None)
    return CrawlResult(
        table=f"{database}.{name}",
        location=location,
        columns=columns,
        partition_keys=keys,
        partitions=len(found) if keys else 0,
        partitions_added=added,
        partitions_removed=removed,
        files=len(footers),
        bytes=sum(f.stats.size for f in footers),
        schema_conflicts=conflicts,
        missing_columns=missing,
        skipped=skipped,
        seconds=time.monotonic() - started,
        nanosecond_timestamps=nanosecond_report(footers),
    )


def _is_recrawl(existing: Table, location: str) -> bool:
    """A table this location's earlier crawl registered (crawling it again updates it)."""
    return existing.parameters.get("lakekit.writer") != "lakekit" and existing.home.rstrip("/") == location.rstrip("/")


def _what(table: Table) -> str:
    return "written by lakekit ingest" if table.parameters.get("lakekit.writer") == "lakekit" else "crawled"


def _scan_for_crawl(storage: Storage, location: str) -> LayoutScan:
    """The location's files, refused when there are none or they mix layouts."""
    scan = scan_location(storage, location)
    if not scan.files:
        why = ""
        if scan.ignored:
            why = f" ({len(scan.ignored)} file(s) outside a key=value layout, e.g. {scan.ignored[0]['reason']})"
        raise InputError(f"no data files found under {location}{why}; is it the table's folder?")
    if scan.ignored:
        first = scan.ignored[0]
        raise InputError(
            f"{location} mixes layouts: {first['uri']}: {first['reason']} "
            f"({len(scan.ignored)} such file(s)); crawl a folder whose files all sit under the same key=value folders"
        )
    return scan


def _update_partitions(
    catalog: Catalog, database: str, name: str, keys: list[str], found: dict[tuple[str, ...], str], *, existed: bool
) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """Register the partitions found (new or moved), remove those whose data is gone.
    Returns the values added and removed."""
    if not keys:
        return [], []
    before = {p.values: p for p in catalog.list_partitions(database, name)} if existed else {}
    removed = sorted(set(before) - set(found))
    added = sorted(set(found) - set(before))
    if removed:
        catalog.delete_partitions(database, name, removed)
    changed = [Partition(v, loc) for v, loc in sorted(found.items())
               if v not in before or before[v].location.rstrip("/") != loc.rstrip("/")]
    catalog.add_partitions(database, name, changed)
    return added, removed


def _update_files(catalog: Catalog, database: str, name: str, footers: Sequence[FileFooter], *, existed: bool) -> None:
    """Record the footers' statistics, drop those of files no longer there."""
    readable = {f.stats.uri for f in footers}
    stale = {f.uri for f in catalog.list_files(database, name)} - readable if existed else set()
    if stale:
        catalog.delete_files(database, name, sorted(stale))
    catalog.put_files(database, name, [f.stats for f in footers])
