"""The manifest: lakekit's own state of a Glue table, beside the table's data.

Glue cannot hold lakekit's load history (which sources a table already holds) or the
per-file Parquet statistics that make cost estimates exact. Those live in small
immutable JSON objects under the table's own location,

    <table location>/_lakekit/manifest/<sequence>-<kind>-<id>.json

which Athena never reads (it skips ``_``-prefixed paths). Each object records one
change (an ingest's files, partitions and loads; a crawl's file statistics; removed
files or partitions); the table's state is the fold of its objects in name order.
Objects are written once and never changed, so writers never overwrite each other
and a reader needs no lock; every so often a ``snapshot`` object folds the history
and the objects before it are deleted.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from lakekit.catalog.base import Load, Table, decode_load, encode_load
from lakekit.errors import CatalogError, LakekitError, StorageError
from lakekit.paths import manifest_uri
from lakekit.storage import Storage

#: manifest objects after the last snapshot that trigger a new snapshot.
SNAPSHOT_EVERY = 200
#: concurrent reads of manifest objects.
READ_CONCURRENCY = 16


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass
class ManifestState:
    """A table's lakekit state, folded from its manifest objects."""

    #: uri -> the file's encoded statistics, decoded only when asked for
    files: dict[str, list] = field(default_factory=dict)
    partitions: dict[tuple[str, ...], str] = field(default_factory=dict)
    loads: list[Load] = field(default_factory=list)
    ingest_ids: set[str] = field(default_factory=set)

    def apply(self, entry: dict[str, Any]) -> None:
        if entry.get("kind") == "snapshot":
            self.files.clear()
            self.partitions.clear()
            self.loads.clear()
            self.ingest_ids.clear()
        for values in entry.get("removed_partitions", []):
            key = tuple(values)
            self.partitions.pop(key, None)
            self._drop_files_of(key)
        for values in entry.get("replaced_partitions", []):
            self._drop_files_of(tuple(values))
        for uri in entry.get("deleted_uris", []):
            self.files.pop(uri, None)
        for values, location in entry.get("partitions", []):
            self.partitions[tuple(values)] = location
        for item in entry.get("files", []):
            self.files[item[0]] = item
        for ld in entry.get("loads", []):
            self.loads.append(decode_load(ld))
        self.ingest_ids.update(entry.get("ingest_ids", []))
        if entry.get("kind") == "ingest":
            self.ingest_ids.add(entry["id"])

    def _drop_files_of(self, values: tuple[str, ...]) -> None:
        wanted = list(values)
        for uri in [u for u, item in self.files.items() if item[4] == wanted]:
            del self.files[uri]

    def snapshot(self) -> dict[str, Any]:
        return {
            "partitions": [[list(v), loc] for v, loc in sorted(self.partitions.items())],
            "files": list(self.files.values()),
            "loads": [encode_load(ld) for ld in self.loads],
            "ingest_ids": sorted(self.ingest_ids),
        }


class Manifest:
    """The manifest objects of the tables in one storage, read once each and cached
    (an object, once written, never changes)."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._cache: dict[str, dict[str, Any]] = {}

    def forget(self, uri: str) -> None:
        """Drop a cached object (one whose write was undone)."""
        self._cache.pop(uri, None)

    def prefix(self, table: Table) -> str:
        return manifest_uri(table.location)

    def entry_uris(self, table: Table) -> list[str]:
        uris = sorted(e.uri for e in self._storage.list_files(self.prefix(table)) if e.uri.endswith(".json"))
        # start from the newest snapshot: everything before it is folded into it
        for i in range(len(uris) - 1, -1, -1):
            if uris[i].endswith("-snapshot.json"):
                return uris[i:]
        return uris

    def read_entry(self, uri: str) -> dict[str, Any]:
        cached = self._cache.get(uri)
        if cached is None:
            try:
                cached = json.loads(self._storage.read_bytes(uri))
            except ValueError as ex:
                raise CatalogError(f"manifest object {uri} is not valid JSON ({ex}); remove it or restore it") from ex
            self._cache[uri] = cached
        return cached

    def state(self, table: Table, attempts: int = 3) -> ManifestState:
        uris = self.entry_uris(table)
        missing = [u for u in uris if u not in self._cache]
        try:
            if len(missing) > 1:
                with ThreadPoolExecutor(max_workers=min(READ_CONCURRENCY, len(missing))) as pool:
                    list(pool.map(self.read_entry, missing))
            entries = [self.read_entry(uri) for uri in uris]
        except StorageError:
            if attempts <= 1 or all(self._storage.exists(u) for u in missing):
                raise
            # another process folded these objects into a snapshot and deleted them
            # between our listing and our reads: list again
            return self.state(table, attempts - 1)
        state = ManifestState()
        for entry in entries:
            state.apply(entry)
        return state

    def entry_uri(self, table: Table, kind: str, entry_id: str) -> str:
        seq = f"{time.time_ns():020d}"
        return manifest_uri(table.location, f"{seq}-{kind}-{entry_id}.json")

    def write_entry(self, table: Table, kind: str, body: dict[str, Any], entry_id: str | None = None,
                     uri: str | None = None) -> str:
        entry_id = entry_id or uuid.uuid4().hex[:12]
        uri = uri or self.entry_uri(table, kind, entry_id)
        doc = {"version": 1, "kind": kind, "id": entry_id, "table": table.qualified_name, "written_at": _now(), **body}
        self._storage.write_bytes(uri, json.dumps(doc, separators=(",", ":")).encode())
        self._cache[uri] = doc
        try:
            self.maybe_snapshot(table)
        except LakekitError:
            pass  # folding the history is an optimisation; the entry itself is written
        return uri

    def maybe_snapshot(self, table: Table) -> None:
        """Fold a long history into one object, then delete what it folded."""
        uris = self.entry_uris(table)
        if len(uris) < SNAPSHOT_EVERY:
            return
        state = ManifestState()
        for uri in uris:
            state.apply(self.read_entry(uri))
        last_seq = uris[-1].rsplit("/", 1)[1].split("-", 1)[0]
        # sorts right after the last object it folds, before anything written later
        snap = manifest_uri(table.location, f"{last_seq}-~-snapshot.json")
        doc = {"version": 1, "kind": "snapshot", "id": "snapshot", "table": table.qualified_name,
               "written_at": _now(), **state.snapshot()}
        self._storage.write_bytes(snap, json.dumps(doc, separators=(",", ":")).encode())
        self._cache[snap] = doc
        self._storage.delete_many([u for u in uris if u != snap])
