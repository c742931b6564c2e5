"""Making an ingest visible all at once, and cleaning up after one that died.

The commit protocol, for a local folder and S3 alike:

1. data files are written under ``<warehouse>/_lakekit/staging/<ingest-id>/``;
2. a journal ``<warehouse>/_lakekit/journal/<ingest-id>.json`` lists the moves (staged
   file -> table folder) and the deletes (files replaced by overwrite-partitions);
3. the catalog commit (one transaction) is the commit point;
4. the journal is carried out, then removed.

A process killed before step 3 leaves only staging files and maybe a journal: the next
run finds no committed ingest of that id and removes them (roll back). Killed after
step 3, the next run finds the ingest committed and finishes the journal (roll
forward). Either way no file appears in a table folder unless its ingest committed.
"""

from __future__ import annotations

import json
import os
import socket
import time

from lakekit import paths
from lakekit.catalog.base import Catalog
from lakekit.storage import Storage

# A staging folder on S3 (where no process id can be checked) older than this is
# taken as abandoned.
ABANDONED_AFTER_S = 24 * 3600


def staging_root(storage: Storage, ingest_id: str) -> str:
    return paths.staging_uri(storage.root, ingest_id)


def journal_uri(storage: Storage, ingest_id: str) -> str:
    return paths.journal_uri(storage.root, ingest_id)


def _owner_uri(storage: Storage, ingest_id: str) -> str:
    return paths.staging_uri(storage.root, ingest_id, "_owner.json")


def claim_staging(storage: Storage, ingest_id: str) -> None:
    """Mark the staging folder as owned by this process, so others leave it alone."""
    owner = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
    storage.write_bytes(_owner_uri(storage, ingest_id), json.dumps(owner).encode())


def write_journal(storage: Storage, ingest_id: str, table: str, moves: list[tuple[str, str]], deletes: list[str]) -> None:
    doc = {"ingest_id": ingest_id, "table": table, "moves": moves, "deletes": deletes}
    storage.write_bytes(journal_uri(storage, ingest_id), json.dumps(doc).encode())


def apply_journal(storage: Storage, ingest_id: str, table_location: str | None = None) -> None:
    """Carry out a committed ingest's journal; safe to repeat after a crash."""
    uri = journal_uri(storage, ingest_id)
    doc = json.loads(storage.read_bytes(uri))
    # One listing tells which moves a crash left undone (a HEAD per file would not
    # scale on S3); the moves then run concurrently there.
    staged = {e.uri for e in storage.list_files(staging_root(storage, ingest_id))}
    storage.move_many([(src, dst) for src, dst in doc["moves"] if src in staged])
    storage.delete_many(doc["deletes"])
    if table_location:
        for folder in sorted({os.path.dirname(old) for old in doc["deletes"]}):
            storage.prune_empty_dirs(folder, table_location)
    storage.delete_dir(staging_root(storage, ingest_id))
    storage.delete(uri)


def discard(storage: Storage, ingest_id: str) -> None:
    """Roll back an ingest that did not commit: its staging files and journal go."""
    storage.delete_dir(staging_root(storage, ingest_id))
    storage.delete(journal_uri(storage, ingest_id))


def _owner_alive(storage: Storage, ingest_id: str) -> bool:
    try:
        owner = json.loads(storage.read_bytes(_owner_uri(storage, ingest_id)))
    except Exception:  # noqa: BLE001 - no readable owner: judge by age below
        owner = None
    if owner and not storage.is_remote:
        if owner.get("host") != socket.gethostname():
            return time.time() - owner.get("started", 0) < ABANDONED_AFTER_S
        try:
            os.kill(int(owner["pid"]), 0)
            return True
        except (ProcessLookupError, ValueError, KeyError):
            return False
        except PermissionError:
            return True
    started = owner.get("started", 0) if owner else 0
    return time.time() - started < ABANDONED_AFTER_S


def recover(storage: Storage, catalog: Catalog) -> dict[str, list[str]]:
    """Finish committed ingests and remove abandoned ones. Returns what was done."""
    done: dict[str, list[str]] = {"rolled_forward": [], "rolled_back": []}
    journals = [e.uri for e in storage.list_files(paths.journal_uri(storage.root), recursive=False)
                if e.uri.endswith(".json")]
    for uri in journals:
        ingest_id = os.path.basename(uri)[: -len(".json")]
        if catalog.is_committed(ingest_id):
            doc = json.loads(storage.read_bytes(uri))
            location = None
            if "." in doc.get("table", ""):
                db, name = doc["table"].split(".", 1)
                table = catalog.get_table(db, name)
                location = table.location if table else None
            apply_journal(storage, ingest_id, location)
            done["rolled_forward"].append(ingest_id)
        elif not _owner_alive(storage, ingest_id):
            discard(storage, ingest_id)
            done["rolled_back"].append(ingest_id)
    for folder in storage.list_dirs(paths.lakekit_uri(storage.root, "staging")):
        ingest_id = os.path.basename(folder.rstrip("/"))
        if catalog.is_committed(ingest_id):
            # Committed and journal already carried out: only the folder was left.
            storage.delete_dir(folder)
        elif not _owner_alive(storage, ingest_id):
            discard(storage, ingest_id)
            done["rolled_back"].append(ingest_id)
    return done
