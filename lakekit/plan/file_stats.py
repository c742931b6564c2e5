"""The files a scan reads: what each kept partition's location holds now, with footer statistics.

Athena lists a partition's S3 prefix when the query runs and reads every file it
finds there (less names starting with ``_`` or ``.``), whether lakekit wrote it or
not. So the estimate, and the local engine (which reads the files the plan hands
it), take a partition's files from a listing of its location, not from the catalog:

* files the catalog recorded (same URI and size) use its statistics;
* files it does not know (written by another tool, or rewritten) have their footer
  read once and cached: in the catalog when it can be written, else in this
  process's memory (read-only use creates and writes nothing);
* a file the catalog recorded that storage no longer holds is an error naming
  ``lakekit catalog sync``: the catalog and the data disagree, and neither the
  estimate nor the local engine can say which is meant.

A table whose kept partitions are many is listed once from its location (one
recursive listing is far cheaper than one a partition on S3); a few partitions are
listed one by one.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa

from lakekit.catalog.base import Catalog, DataFile, Partition, Table
from lakekit.errors import CatalogError, CatalogOutOfDate, InputError, StorageError
from lakekit.parquet import read_file_stats
from lakekit.paths import has_hidden_part, is_hidden, is_hidden_name, relative_parts
from lakekit.storage import FileEntry, Storage

#: kept partitions above which the table's location is listed once instead of each partition's:
#: on S3 a listing is a request per 1,000 keys, locally a partition's folder is one scandir
LIST_WHOLE_TABLE_ABOVE = {"remote": 16, "local": 1000}
#: kept partitions above which the catalog's statistics are read for the whole table
WHOLE_TABLE_STATISTICS_ABOVE = 500
#: concurrent footer reads of files the catalog does not know
FOOTER_READERS = 16

# Statistics read from footers where the catalog could not keep them, for the rest of
# the process: (uri, size, mtime) -> DataFile. Data files are written once and never
# changed in place; a rewritten file has another size or modification time.
_MEMORY: dict[tuple[str, int, int | None], DataFile] = {}
_MEMORY_LOCK = threading.Lock()
_MEMORY_LIMIT = 200_000


class FileStats:
    """Lists the kept partitions' files and pairs them with footer statistics (see module doc)."""

    def __init__(self, catalog: Catalog, storage: Storage, *, cache_in_catalog: bool | None = None) -> None:
        self._catalog = catalog
        self._storage = storage
        writable = getattr(catalog, "writable", None)
        self._cache_in_catalog = cache_in_catalog if cache_in_catalog is not None else (
            writable() if callable(writable) else True)
        #: files read from footers this plan, by table: the catalog may refuse them
        self.read_from_footers: dict[str, int] = {}
        self._whole: dict[str, list[DataFile]] = {}
        self._by_partition: dict[str, dict[tuple[str, ...], list[DataFile]]] = {}

    def __call__(self, table: Table, partitions: Sequence[Partition]) -> list[DataFile]:
        listed = self._list(table, partitions)
        recorded = self._recorded(table, partitions)
        self._check_recorded_files_exist(table, recorded, listed)
        files: list[DataFile] = []
        unknown: list[tuple[FileEntry, tuple[str, ...]]] = []
        for uri, (entry, values) in listed.items():
            known = recorded.get(uri)
            if known is not None and known.size == entry.size:
                files.append(known)
            else:
                unknown.append((entry, values))
        if unknown:
            fresh = self._read_unknown(table, unknown)
            files += fresh
            for f in fresh:  # a second scan of the table in this plan finds them known
                if table.partition_keys:
                    self._by_partition[table.qualified_name].setdefault(tuple(f.partition_values), []).append(f)
                else:
                    self._whole[table.qualified_name].append(f)
        files.sort(key=lambda f: f.uri)
        return files

    # -- listing --------------------------------------------------------------------------
    def _list(self, table: Table, partitions: Sequence[Partition]) -> dict[str, tuple[FileEntry, tuple[str, ...]]]:
        """uri -> (entry, partition values) of every file Athena would read in ``partitions``."""
        found: dict[str, tuple[FileEntry, tuple[str, ...]]] = {}
        if not table.partition_keys:
            for entry in self._storage.list_files(table.location):
                if not has_hidden_part(relative_parts(table.location, entry.uri)):
                    found[entry.uri] = (entry, ())
            return found
        under, elsewhere = [], []
        for p in partitions:
            inside = p.location and self._storage.is_under(p.location, table.location)
            (under if inside else elsewhere).append(p)
        if len(under) > LIST_WHOLE_TABLE_ABOVE["remote" if self._storage.is_remote else "local"]:
            by_location = {_folder_key(p.location): tuple(p.values) for p in under}
            depth = len(table.partition_keys)
            root = _folder_key(table.location)
            for entry in self._storage.list_files(table.location):
                uri = entry.uri.replace("\\", "/")
                folder, _, name = uri.rpartition("/")
                values = by_location.get(folder)  # the common case: a file right in its partition's folder
                if values is not None:
                    if not is_hidden_name(name):
                        found[entry.uri] = (entry, values)
                    continue
                parts = relative_parts(root, uri)
                if len(parts) <= depth or has_hidden_part(parts):
                    continue
                values = by_location.get("/".join([root, *parts[:depth]]))
                if values is not None:
                    found[entry.uri] = (entry, values)
            # a registered partition whose folder has another shape than key=value/...
            listed_folders = {v for _, v in found.values()}
            elsewhere += [p for p in under if tuple(p.values) not in listed_folders
                          and _folder_key(p.location) not in _standard_folders(table, p)]
        else:
            elsewhere += under
        for p in elsewhere:
            if not p.location:
                continue
            for entry in self._storage.list_files(p.location):
                if not has_hidden_part(relative_parts(p.location, entry.uri)):
                    found[entry.uri] = (entry, tuple(p.values))
        return found

    # -- the catalog's statistics ---------------------------------------------------------------
    def _recorded(self, table: Table, partitions: Sequence[Partition]) -> dict[str, DataFile]:
        """The catalog's statistics of the kept partitions' files (only theirs: decoding every
        file's statistics would dominate an estimate of a large table), each partition's
        fetched once a plan (a self-join reads the table twice)."""
        key = table.qualified_name
        if not table.partition_keys:
            if key not in self._whole:
                self._whole[key] = self._catalog.list_files(table.database, table.name)
            return {f.uri: f for f in self._whole[key]}
        known = self._by_partition.setdefault(key, {})
        values = {tuple(p.values) for p in partitions}
        missing = sorted(values - set(known))
        if missing:
            if len(missing) > WHOLE_TABLE_STATISTICS_ABOVE:
                # one read of the table's statistics beats thousands of look-ups by partition
                wanted = set(missing)
                fetched = [f for f in self._catalog.list_files(table.database, table.name)
                           if tuple(f.partition_values) in wanted]
            else:
                fetched = self._catalog.list_files(table.database, table.name, partitions=missing)
            for v in missing:
                known[v] = []
            for f in fetched:
                known.setdefault(tuple(f.partition_values), []).append(f)
        return {f.uri: f for v in values for f in known.get(v, [])}

    def _check_recorded_files_exist(self, table: Table, recorded: dict[str, DataFile], listed: dict) -> None:
        gone = [uri for uri in recorded if uri not in listed and not is_hidden(uri)]
        if gone:
            raise CatalogOutOfDate.for_files(table.qualified_name, gone)

    # -- footers of files the catalog does not know ------------------------------------------
    def _read_unknown(self, table: Table, unknown: list[tuple[FileEntry, tuple[str, ...]]]) -> list[DataFile]:
        cached: list[DataFile] = []
        to_read: list[tuple[FileEntry, tuple[str, ...]]] = []
        for entry, values in unknown:
            hit = _MEMORY.get((entry.uri, entry.size, entry.mtime_ns))
            if hit is not None:
                cached.append(hit)
            else:
                to_read.append((entry, values))
        fresh = self._read_footers(to_read)
        self.read_from_footers[table.qualified_name] = len(fresh)
        if fresh and not self._store(table, fresh):
            with _MEMORY_LOCK:
                if len(_MEMORY) + len(fresh) > _MEMORY_LIMIT:
                    _MEMORY.clear()
                for (entry, _), stats in zip(to_read, fresh):
                    _MEMORY[(entry.uri, entry.size, entry.mtime_ns)] = stats
        return cached + fresh

    def _store(self, table: Table, files: list[DataFile]) -> bool:
        """Record the statistics in the catalog when it can be written; False when kept in memory."""
        if not self._cache_in_catalog:
            return False
        try:
            self._catalog.put_files(table.database, table.name, files)
        except (CatalogError, StorageError, OSError):
            return False  # a catalog that cannot be written: the statistics stay in memory
        return True

    def _read_footers(self, items: list[tuple[FileEntry, tuple[str, ...]]]) -> list[DataFile]:
        if len(items) > 1 and self._storage.is_remote:
            with ThreadPoolExecutor(max_workers=min(FOOTER_READERS, len(items))) as pool:
                return list(pool.map(lambda item: self._read_footer(*item), items))
        return [self._read_footer(entry, values) for entry, values in items]

    def _read_footer(self, entry: FileEntry, values: tuple[str, ...]) -> DataFile:
        try:
            return read_file_stats(self._storage, entry.uri, values)
        except StorageError:
            raise
        except (InputError, OSError, pa.ArrowException) as ex:
            raise InputError(
                f"cannot read the Parquet footer of {entry.uri}: {ex}; Athena would fail on it too: "
                "move it out of the table's folders (or rename it to start with _)"
            ) from ex


def _folder_key(location: str) -> str:
    return location.replace("\\", "/").rstrip("/")


def _standard_folders(table: Table, partition: Partition) -> set[str]:
    from lakekit.paths import partition_location

    keys = [k.name for k in table.partition_keys]
    return {_folder_key(partition_location(table.location, keys, partition.values))}
