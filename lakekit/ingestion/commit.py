"""The commit protocol: every catalog reader sees a commit whole or not at all.

A commit (an ingest, a batch of a stream, a compaction) goes through four steps:

1. :func:`begin` records the commit as *pending* (``<warehouse>/_lakekit/pending/<id>.json``:
   owner, table, folder) and returns the folder ``<home>/<commit-id>/`` it writes into.
   No catalog location contains that folder (partition locations are
   ``<home>/k=v/...`` or ``<home>/<other-id>/k=v/...``), so no reader sees its files.
2. :func:`commit` hands the changes to the catalog, which at **one commit point**
   checks the sources' content hashes against the loads already committed, rebases
   each partition on the files it holds *now* (files a racer added since are carried
   into the new folder; a compaction whose inputs were replaced is dropped), and
   points each partition at its new folder: one SQLite transaction locally, a
   conditional log write plus Glue location switches on AWS.
3. The pending record goes; files the commit superseded stay readable for
   ``retain_seconds`` (queries that listed them before the switch may still open
   them), then :func:`collect_garbage` deletes them.
4. A commit that fails before its commit point is :func:`discard`-ed: its folder and
   record go, and nothing any reader sees changed. After the commit point nothing
   can fail the commit; what a kill leaves there (a Glue switch not yet made, a
   pending record) is finished by the next writer's :func:`recover`.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass

from lakekit import paths
from lakekit.catalog.base import Catalog, Commit, CommitResult, Table
from lakekit.errors import LakekitError, StorageError
from lakekit.pause import pause_point
from lakekit.storage import Storage

#: A pending commit on S3 (where no process id can be checked), or of another host,
#: older than this is taken as abandoned.
ABANDONED_AFTER_S = 24 * 3600
#: how long superseded files stay readable after a commit, unless told otherwise
DEFAULT_RETAIN_S = 3600.0

__all__ = [
    "DEFAULT_RETAIN_S",
    "Pending",
    "begin",
    "collect_garbage",
    "commit",
    "discard",
    "recover",
]


@dataclass(frozen=True)
class Pending:
    """A commit in flight: its id, the table it commits to, and the folder it writes."""

    commit_id: str
    table: str
    home: str

    @property
    def folder(self) -> str:
        return paths.join(self.home, self.commit_id)

    def location(self, keys: Sequence[str] = (), values: Sequence[str] = ()) -> str:
        """The new folder of one partition (of the whole table when unpartitioned)."""
        return paths.commit_location(self.home, self.commit_id, keys, values)


def begin(storage: Storage, table: str, home: str, commit_id: str | None = None) -> Pending:
    """Record a commit as in flight, before any of its files is written.

    The record names this process, so a concurrent writer's recovery leaves the folder
    alone while this process lives, and removes it once it is gone.
    """
    pending = Pending(commit_id or paths.new_commit_id(), table, home)
    record = {"commit_id": pending.commit_id, "table": table, "home": home,
              "pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
    storage.write_bytes(paths.pending_uri(storage.root, pending.commit_id), json.dumps(record).encode())
    return pending


def commit(storage: Storage, catalog: Catalog, request: Commit) -> CommitResult:
    """Commit ``request`` at one commit point (see the module docstring).

    Returns the catalog's :class:`CommitResult`. When ``committed`` is False nothing
    changed for any reader (sources already loaded by a racer, or every change
    dropped) and the commit's folder is discarded here.
    """
    result = catalog.commit(request, storage)
    if not result.committed:
        discard(storage, request.commit_id, paths.join(request.table.home, request.commit_id))
        return result
    pause_point("committed")
    if not result.unfinished:  # else recovery finds the record and finishes the commit
        with contextlib.suppress(LakekitError):  # committed: tidying up never fails the commit
            storage.delete(paths.pending_uri(storage.root, request.commit_id))
    if request.retain_seconds <= 0:
        with contextlib.suppress(LakekitError):
            collect_garbage(storage, catalog, request.table)
    return result


def discard(storage: Storage, commit_id: str, folder: str | None) -> None:
    """Remove a commit that did not commit: its folder (never read by anyone) and record."""
    if folder:
        storage.delete_dir(folder)
    storage.delete(paths.pending_uri(storage.root, commit_id))


def collect_garbage(storage: Storage, catalog: Catalog, table: Table | None = None) -> list[str]:
    """Delete superseded files whose retention has passed; returns their URIs."""
    due = catalog.garbage_due(table)
    if not due:
        return []
    storage.delete_many(due)
    pause_point("collected")
    for folder in sorted({os.path.dirname(u) for u in due}, reverse=True):
        home = _home_of(catalog, folder, table)
        if home:
            storage.prune_empty_dirs(folder, home)
    catalog.forget_garbage(due, table)
    return due


def _home_of(catalog: Catalog, folder: str, table: Table | None) -> str | None:
    if table is not None:
        return table.home
    # commit folders sit right under a table's home: <home>/<commit-id>/k=v/...
    parts = folder.replace("\\", "/").split("/")
    for i in range(len(parts) - 1, 0, -1):
        if paths.is_commit_id(parts[i]):
            return folder[: len("/".join(parts[:i]))]
    return None


def recover(storage: Storage, catalog: Catalog) -> dict[str, list[str]]:
    """Finish commits killed after their commit point, remove those killed before it,
    and delete superseded files whose retention passed. Only writers call this:
    readers never need it (nothing they see changes before a commit point)."""
    done: dict[str, list[str]] = {"finished": [], "discarded": [], "collected": [], "warnings": []}
    for entry in storage.list_files(paths.pending_uri(storage.root), recursive=False):
        if not entry.uri.endswith(".json"):
            continue
        try:
            record = json.loads(storage.read_bytes(entry.uri))
        except (StorageError, OSError, ValueError):  # pyarrow raises OSError when the object goes mid-read
            continue  # gone meanwhile (its owner finished), or being written
        _recover_one(storage, catalog, record, done)
    with contextlib.suppress(LakekitError):
        done["collected"] = collect_garbage(storage, catalog)
    return done


def _recover_one(storage: Storage, catalog: Catalog, record: dict, done: dict[str, list[str]]) -> None:
    commit_id = record.get("commit_id", "")
    home = record.get("home")
    if catalog.is_committed(commit_id, home):
        warnings = catalog.finish(commit_id, record.get("table", ""), home)
        done["warnings"].extend(warnings)
        if not warnings:
            storage.delete(paths.pending_uri(storage.root, commit_id))
            done["finished"].append(commit_id)
    elif not _owner_alive(record):
        discard(storage, commit_id, paths.join(home, commit_id) if home else None)
        done["discarded"].append(commit_id)


def _owner_alive(record: dict) -> bool:
    host, pid = record.get("host"), record.get("pid")
    if host == socket.gethostname() and pid:
        try:
            os.kill(int(pid), 0)
            return True
        except (ProcessLookupError, ValueError):
            return False
        except PermissionError:
            return True
    return time.time() - float(record.get("started", 0)) < ABANDONED_AFTER_S
