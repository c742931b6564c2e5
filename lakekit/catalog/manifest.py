"""A Glue table's lakekit state: a log of immutable objects beside its data, and the
lease a writer holds while it commits.

Glue cannot hold lakekit's load history (which sources a table already holds), the
per-file Parquet statistics that make cost estimates exact, or the files a commit
superseded (deleted once no query can still be reading them). Those live in a log
under the table's home, which Athena never reads (it skips ``_``-prefixed paths):

    <home>/_lakekit/log/00000000000000000007.json         one entry per change
    <home>/_lakekit/log/00000000000000000100.checkpoint.json   the fold of 1..100

Entry ``n + 1`` is created with a conditional PUT (``If-None-Match: *``): of writers
racing for the same number exactly one succeeds; the others fold the new entry and
try again. So the check "is this source loaded already?" and the commit that records
it are one atomic step, however many writers race (:meth:`Log.append`).

A writer also holds the table's *lease* (``<home>/_lakekit/lock.json``, created the
same conditional way) from its read of the log until Glue shows its commit, so two
commits never publish partition locations out of order. A lease whose owner died
(on this host: its process is gone; elsewhere: it expired) is broken with a
conditional delete, so two breakers cannot both take it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import random
import socket
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from lakekit.catalog.base import Column, Load, Table, decode_load, encode_load
from lakekit.errors import CatalogError, StorageError
from lakekit.paths import lock_uri, log_uri
from lakekit.storage import Storage

#: a checkpoint folds the log every this many entries
CHECKPOINT_EVERY = 100
#: concurrent reads of log objects.
READ_CONCURRENCY = 16
#: a lease older than this is taken as abandoned (its owner stalled or died elsewhere)
LEASE_SECONDS = 600.0
#: how long a writer waits for a lease before it gives up
LEASE_WAIT_SECONDS = 900.0

_CHECKPOINT_SUFFIX = ".checkpoint.json"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def encode_table(table: Table) -> dict[str, Any]:
    return {"database": table.database, "name": table.name, "location": table.location,
            "columns": [[c.name, c.type] for c in table.columns],
            "partition_keys": [[c.name, c.type] for c in table.partition_keys],
            "parameters": dict(table.parameters)}


def decode_table(doc: dict[str, Any]) -> Table:
    return Table(doc["database"], doc["name"], doc["location"], [Column(n, t) for n, t in doc["columns"]],
                 [Column(n, t) for n, t in doc["partition_keys"]], dict(doc["parameters"]))


@dataclass
class LogState:
    """A table's lakekit state, folded from its log."""

    #: the number of the last entry folded (0: an empty log)
    seq: int = 0
    #: the table's definition as last committed
    table: dict[str, Any] | None = None
    partitions: dict[tuple[str, ...], str] = field(default_factory=dict)
    #: uri -> the file's encoded statistics: the partitions' files, and files a commit
    #: superseded until they are collected (their statistics serve readers of old locations)
    files: dict[str, list] = field(default_factory=dict)
    loads: list[Load] = field(default_factory=list)
    commit_ids: set[str] = field(default_factory=set)
    #: superseded file -> unix time after which it may be deleted
    garbage: dict[str, float] = field(default_factory=dict)
    #: projected tables: file -> the commit-folder file it is copied from after the
    #: commit point (Athena reads the fixed template folders); gone once copied
    unpublished: dict[str, str] = field(default_factory=dict)

    def apply(self, entry: dict[str, Any]) -> None:
        if entry.get("kind") == "checkpoint":
            self.__init__()  # type: ignore[misc]
            self.table = entry.get("table")
            self.commit_ids = set(entry.get("commit_ids", []))
        if entry.get("table") is not None:
            self.table = entry["table"]
        for values in entry.get("removed_partitions", []):
            key = tuple(values)
            self.partitions.pop(key, None)
            for uri in [u for u, item in self.files.items() if tuple(item[4]) == key]:
                del self.files[uri]
        for uri in entry.get("deleted_uris", []):
            self.files.pop(uri, None)
        for values, location in entry.get("partitions", []):
            self.partitions[tuple(values)] = location
        for item in entry.get("files", []):
            self.files[item[0]] = item
        for ld in entry.get("loads", []):
            self.loads.append(decode_load(ld))
        for uri, after in entry.get("garbage", []):
            self.garbage[uri] = after
        for src, dst in entry.get("copies", []):
            self.unpublished[dst] = src
        for dst in entry.get("published", []):
            self.unpublished.pop(dst, None)
        for uri in entry.get("collected", []):
            self.garbage.pop(uri, None)
            self.files.pop(uri, None)
        if entry.get("commit_id"):
            self.commit_ids.add(entry["commit_id"])

    def checkpoint(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "partitions": [[list(v), loc] for v, loc in sorted(self.partitions.items())],
            "files": list(self.files.values()),
            "loads": [encode_load(ld) for ld in self.loads],
            "commit_ids": sorted(self.commit_ids),
            "garbage": sorted([u, t] for u, t in self.garbage.items()),
            "copies": sorted([src, dst] for dst, src in self.unpublished.items()),
        }

    @property
    def hashes(self) -> set[str]:
        return {ld.source_hash for ld in self.loads if ld.source_hash}

    def location_of(self, values: tuple[str, ...]) -> str | None:
        if not values:
            return self.table["location"] if self.table else None
        return self.partitions.get(values)


def _seq_of(uri: str) -> tuple[int, bool] | None:
    name = uri.rsplit("/", 1)[-1]
    checkpoint = name.endswith(_CHECKPOINT_SUFFIX)
    stem = name[: -len(_CHECKPOINT_SUFFIX)] if checkpoint else name[: -len(".json")] if name.endswith(".json") else ""
    return (int(stem), checkpoint) if stem.isdigit() else None


class Log:
    """The logs of the tables in one storage; objects are read once each and cached
    (an object, once written, never changes)."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._cache: dict[str, dict[str, Any]] = {}

    def entry_uri(self, home: str, seq: int, checkpoint: bool = False) -> str:
        return log_uri(home, f"{seq:020d}{_CHECKPOINT_SUFFIX if checkpoint else '.json'}")

    def _listing(self, home: str) -> list[tuple[int, bool, str]]:
        found = []
        for entry in self._storage.list_files(log_uri(home), recursive=False):
            parsed = _seq_of(entry.uri)
            if parsed is not None:
                found.append((parsed[0], parsed[1], entry.uri))
        return sorted(found)

    def _read(self, uri: str) -> dict[str, Any]:
        cached = self._cache.get(uri)
        if cached is None:
            try:
                cached = json.loads(self._storage.read_bytes(uri))
            except ValueError as ex:
                raise CatalogError(f"log object {uri} is not valid JSON ({ex}); restore it from a backup") from ex
            self._cache[uri] = cached
        return cached

    def exists(self, home: str) -> bool:
        return bool(self._listing(home))

    def state(self, home: str, attempts: int = 3) -> LogState:
        """Fold the log: the newest checkpoint, then every entry after it, in order."""
        listing = self._listing(home)
        start = max((i for i, (_, checkpoint, _) in enumerate(listing) if checkpoint), default=0)
        chosen = listing[start:]
        uris = [uri for _, _, uri in chosen]
        missing = [u for u in uris if u not in self._cache]
        try:
            if len(missing) > 1:
                with ThreadPoolExecutor(max_workers=min(READ_CONCURRENCY, len(missing))) as pool:
                    list(pool.map(self._read, missing))
            entries = [self._read(uri) for uri in uris]
        except StorageError:
            if attempts <= 1:
                raise
            # a checkpoint was written and older objects deleted between our listing
            # and our reads: list again
            return self.state(home, attempts - 1)
        state = LogState()
        for (seq, checkpoint, _), entry in zip(chosen, entries, strict=True):
            state.apply({**entry, "kind": "checkpoint"} if checkpoint else entry)
            state.seq = max(state.seq, seq)
        return state

    def append(self, home: str, seq: int, body: dict[str, Any]) -> bool:
        """Create entry ``seq``; False when another writer created it first."""
        doc = {"version": 2, "seq": seq, "written_at": _now(), **body}
        uri = self.entry_uri(home, seq)
        if not self._storage.create_exclusive(uri, json.dumps(doc, separators=(",", ":")).encode()):
            return False
        self._cache[uri] = doc
        if seq % CHECKPOINT_EVERY == 0:
            with contextlib.suppress(StorageError, CatalogError):  # an optimisation: the entry is written
                self._checkpoint(home, seq)
        return True

    def append_next(self, home: str, body: dict[str, Any], attempts: int = 50) -> LogState:
        """Append ``body`` as the next entry, whatever others append meanwhile; returns
        the state folded just before it."""
        for _ in range(attempts):
            state = self.state(home)
            if self.append(home, state.seq + 1, body):
                return state
            time.sleep(random.uniform(0.005, 0.05))
        raise CatalogError(f"cannot write the log of {home}: other writers kept taking the next entry")

    def _checkpoint(self, home: str, seq: int) -> None:
        """Fold entries up to ``seq`` into one object; delete what the previous
        checkpoint already folded (readers that listed before this one still have it)."""
        listing = self._listing(home)
        state = LogState()
        folded = [(s, c, u) for s, c, u in listing if s <= seq]
        start = max((i for i, (_, checkpoint, _) in enumerate(folded) if checkpoint), default=0)
        for _, checkpoint, uri in folded[start:]:
            entry = self._read(uri)
            state.apply({**entry, "kind": "checkpoint"} if checkpoint else entry)
        doc = {"version": 2, "kind": "checkpoint", "seq": seq, "written_at": _now(), **state.checkpoint()}
        uri = self.entry_uri(home, seq, checkpoint=True)
        self._storage.write_bytes(uri, json.dumps(doc, separators=(",", ":")).encode())
        self._cache[uri] = doc
        previous = max((s for s, c, _ in listing if c and s < seq), default=None)
        if previous is not None:
            self._storage.delete_many([u for s, c, u in listing if s < previous or (s == previous and not c)])

    def delete(self, home: str) -> None:
        self._storage.delete_dir(log_uri(home))

    # -- the lease ---------------------------------------------------------------------
    @contextlib.contextmanager
    def lease(self, home: str, table: str) -> Iterator[None]:
        """Hold ``home``'s lease for the block (see the module docstring)."""
        uri = lock_uri(home)
        token = uuid.uuid4().hex
        record = json.dumps({"token": token, "pid": os.getpid(), "host": socket.gethostname(),
                             "table": table, "taken": time.time()}).encode()
        deadline = time.monotonic() + LEASE_WAIT_SECONDS
        pause = 0.02
        while not self._storage.create_exclusive(uri, record):
            held = self._storage.read_tagged(uri)
            if held is not None and _abandoned(held[0]):
                self._storage.delete_if_unchanged(uri, held[1])
                continue
            if time.monotonic() > deadline:
                owner = json.loads(held[0]) if held else {}
                raise CatalogError(
                    f"{table} is being committed to by process {owner.get('pid')} on {owner.get('host')}; "
                    f"waited {LEASE_WAIT_SECONDS:.0f}s. If that process is gone, delete {uri} and run again"
                )
            time.sleep(random.uniform(pause / 2, pause))
            pause = min(pause * 1.5, 0.5)
        try:
            yield
        finally:
            mine = self._storage.read_tagged(uri)
            if mine is not None and json.loads(mine[0]).get("token") == token:
                with contextlib.suppress(StorageError):
                    self._storage.delete_if_unchanged(uri, mine[1])


def _abandoned(raw: bytes) -> bool:
    try:
        owner = json.loads(raw)
    except ValueError:
        return True
    if time.time() - float(owner.get("taken", 0)) > LEASE_SECONDS:
        return True
    if owner.get("host") == socket.gethostname():
        try:
            os.kill(int(owner.get("pid", 0)), 0)
        except ProcessLookupError:
            return True
        except (PermissionError, ValueError):
            return False
    return False
