"""Sync: make a table's catalog partitions and file statistics match its storage.

What ``MSCK REPAIR TABLE`` does, but exact and fast: one recursive listing of the
table's location, compared with the catalog's partitions and recorded files.
Partitions with data but no catalog entry are added; catalog partitions whose data
is gone are removed; partitions whose folder moved get their location updated; the
footers of new or changed files are read (footer only) and the statistics of
vanished files dropped, so cost estimates stay exact. ``dry_run`` reports the same
lists and changes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from lakekit.catalog.base import Catalog, Partition, require_table
from lakekit.catalog.crawl import newest_versions, partition_name, read_footers, scan_location
from lakekit.catalog.projection import is_projected, outside_projection
from lakekit.names import parse_table_name
from lakekit.storage import Storage


@dataclass
class SyncResult:
    table: str
    dry_run: bool
    partition_keys: list[str]
    partitions_added: list[tuple[str, ...]]
    partitions_removed: list[tuple[str, ...]]
    partitions_updated: list[tuple[str, ...]]
    files_added: list[str]
    files_removed: list[str]
    #: files not part of the layout or not readable, each {"uri", "reason"}
    skipped: list[dict[str, str]]
    seconds: float
    #: True when Athena projects the table's partitions (nothing to register)
    projection: bool = False
    #: partitions in storage that the projection never yields (Athena reads none of them)
    outside_projection: list[dict[str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any((self.partitions_added, self.partitions_removed, self.partitions_updated,
                    self.files_added, self.files_removed))

    def to_dict(self) -> dict[str, Any]:
        keys = self.partition_keys
        return {
            "table": self.table,
            "dry_run": self.dry_run,
            "partitions_added": [partition_name(keys, v) for v in self.partitions_added],
            "partitions_removed": [partition_name(keys, v) for v in self.partitions_removed],
            "partitions_updated": [partition_name(keys, v) for v in self.partitions_updated],
            "files_added": self.files_added,
            "files_removed": self.files_removed,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
            "projection": self.projection,
            "outside_projection": self.outside_projection,
        }


def sync_table(*, catalog: Catalog, storage: Storage, table: str, dry_run: bool = False) -> SyncResult:
    """Compare ``DB.TABLE``'s storage with its catalog entry and fix the catalog.

    Args:
        table: ``DB.TABLE``, registered already (by ingest or crawl).
        dry_run: list what would change, change nothing.
        catalog: the catalog the table is registered in.
        storage: the warehouse's storage.

    Raises:
        TableNotFound: the catalog has no such table.
    """
    started = time.monotonic()
    database, name = parse_table_name(table)
    cat = catalog
    tbl = require_table(cat, database, name)
    keys = [c.name for c in tbl.partition_keys]
    scan = scan_location(storage, tbl.home if keys else tbl.location, keys)
    in_catalog = {p.values: p.location for p in cat.list_partitions(database, name)} if keys else {}
    # a partition's current folder while it holds files; else the newest committed version
    chosen, uncommitted = newest_versions(scan, in_catalog, lambda cid: cat.is_committed(cid, tbl.home))
    scan.keep_versions(chosen)
    in_storage = scan.partitions()
    projected = bool(keys) and is_projected(tbl)
    if projected:
        # Athena computes the partitions from the projection settings: there is
        # nothing to register or remove, only folders the projection cannot reach.
        added, removed, updated = [], [], []
        beyond = [{"partition": partition_name(keys, v), "reason": why}
                  for v in sorted(in_storage) if (why := outside_projection(tbl, v))]
    else:
        added = sorted(set(in_storage) - set(in_catalog))
        removed = sorted(set(in_catalog) - set(in_storage))
        updated = sorted(v for v in set(in_storage) & set(in_catalog)
                         if in_catalog[v].rstrip("/") != in_storage[v].rstrip("/"))
        beyond = []

    recorded = {f.uri: f for f in cat.list_files(database, name)}
    present = {f.uri: f for f in scan.files}
    removed_set = set(removed)
    new_files = sorted(u for u, f in present.items() if u not in recorded or recorded[u].size != f.size)
    gone_files = sorted(u for u, f in recorded.items() if u not in present)
    skipped = list(scan.ignored) + uncommitted

    if not dry_run:
        if removed:
            cat.delete_partitions(database, name, removed)
        if added or updated:
            cat.add_partitions(database, name, [Partition(v, in_storage[v]) for v in (*added, *updated)])
        # files of removed partitions went with them
        stale = [u for u in gone_files if recorded[u].partition_values not in removed_set]
        if stale:
            cat.delete_files(database, name, stale)
        if new_files:
            footers, unreadable = read_footers(storage, [present[u] for u in new_files])
            skipped.extend(unreadable)
            cat.put_files(database, name, [f.stats for f in footers])
            bad = {s["uri"] for s in unreadable}
            new_files = [u for u in new_files if u not in bad]
    return SyncResult(
        table=f"{database}.{name}",
        dry_run=dry_run,
        partition_keys=keys,
        partitions_added=added,
        partitions_removed=removed,
        partitions_updated=updated,
        files_added=new_files,
        files_removed=gone_files,
        skipped=skipped,
        seconds=time.monotonic() - started,
        projection=projected,
        outside_projection=beyond,
    )
