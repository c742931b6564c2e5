"""File statistics for the estimate: from the catalog, or read from footers on demand."""

from __future__ import annotations

import inspect
from collections.abc import Sequence

import pyarrow as pa

from lakekit.catalog.base import Catalog, DataFile, Partition, Table
from lakekit.errors import InputError, StorageError
from lakekit.parquet import read_file_stats
from lakekit.paths import is_hidden
from lakekit.storage import Storage


class FileStats:
    """File statistics from the catalog; footers read on demand (and cached there)
    for partitions whose files the catalog does not know, e.g. after a crawl."""

    def __init__(self, catalog: Catalog, storage: Storage) -> None:
        self._catalog = catalog
        self._storage = storage
        self._files: dict[str, list[DataFile]] = {}
        #: partition values whose statistics were fetched, per table (None: all of them)
        self._fetched: dict[str, set[tuple[str, ...]] | None] = {}
        try:
            self._can_filter = "partitions" in inspect.signature(catalog.list_files).parameters
        except (TypeError, ValueError):  # pragma: no cover - callables without a signature
            self._can_filter = False

    def __call__(self, table: Table, partitions: Sequence[Partition]) -> list[DataFile]:
        key = table.qualified_name
        self._fetch(table, partitions)
        files = self._files[key]
        if table.partition_keys:
            known = {tuple(f.partition_values) for f in files}
            missing = [(p.location, tuple(p.values)) for p in partitions if tuple(p.values) not in known]
        else:
            missing = [] if files else [(table.location, ())]
        if missing:
            fresh = [
                self._read_footer(uri, values)
                for location, values in missing
                for uri in self._data_files(location)
            ]
            if fresh:
                self._catalog.put_files(table.database, table.name, fresh)
                self._files[key] = files + fresh
        return self._files[key]

    def _fetch(self, table: Table, partitions: Sequence[Partition]) -> None:
        """Load the catalog's statistics: only the kept partitions' when the catalog can
        filter (decoding every file's statistics dominates estimates of large tables)."""
        key = table.qualified_name
        if key in self._fetched and self._fetched[key] is None:
            return
        if not (self._can_filter and table.partition_keys):
            self._files[key] = self._catalog.list_files(table.database, table.name)
            self._fetched[key] = None
            return
        done = self._fetched.setdefault(key, set())
        wanted = [tuple(p.values) for p in partitions if tuple(p.values) not in done]
        found = self._catalog.list_files(table.database, table.name, partitions=wanted) if wanted else []
        self._files[key] = self._files.get(key, []) + list(found)
        done.update(wanted)

    def _data_files(self, location: str) -> list[str]:
        return sorted(e.uri for e in self._storage.list_files(location) if not is_hidden(e.uri))

    def _read_footer(self, uri: str, values: tuple[str, ...]) -> DataFile:
        try:
            return read_file_stats(self._storage, uri, values)
        except StorageError:
            raise
        except (InputError, OSError, pa.ArrowException) as ex:
            raise InputError(
                f"cannot read the Parquet footer of {uri}: {ex}; lakekit estimates Parquet tables only"
            ) from ex
