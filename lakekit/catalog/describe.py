"""What ``lakekit tables`` and ``lakekit describe`` report, as plain data."""

from __future__ import annotations

from collections import defaultdict

from lakekit.catalog.base import Catalog, require_table
from lakekit.names import parse_table_name
from lakekit.paths import partition_path


def list_tables(catalog: Catalog, database: str | None = None) -> list[dict]:
    """One summary dict per table: name, location, partitions, files, rows, bytes."""
    out = []
    for t in catalog.list_tables(database):
        files = catalog.list_files(t.database, t.name)
        out.append({
            "table": t.qualified_name,
            "location": t.location,
            "partitions": len(catalog.list_partitions(t.database, t.name)) if t.partition_keys else 0,
            "files": len(files),
            "rows": sum(f.rows for f in files),
            "bytes": sum(f.size for f in files),
        })
    return out


def describe_table(catalog: Catalog, qualified: str) -> dict:
    """Columns, partition keys, parameters, and per-partition files, rows and bytes."""
    db, name = parse_table_name(qualified)
    table = require_table(catalog, db, name)
    files = catalog.list_files(db, name)
    per_partition: dict[tuple, list] = defaultdict(lambda: [0, 0, 0])
    for f in files:
        agg = per_partition[tuple(f.partition_values)]
        agg[0] += 1
        agg[1] += f.rows
        agg[2] += f.size
    keys = [c.name for c in table.partition_keys]
    partitions = []
    for p in catalog.list_partitions(db, name) if keys else []:
        nfiles, rows, size = per_partition.get(tuple(p.values), (0, 0, 0))
        partitions.append({
            "name": partition_path(keys, p.values),
            "values": list(p.values),
            "location": p.location,
            "files": nfiles,
            "rows": rows,
            "bytes": size,
        })
    return {
        "table": table.qualified_name,
        "location": table.location,
        "columns": [{"name": c.name, "type": c.type} for c in table.columns],
        "partition_keys": [{"name": c.name, "type": c.type} for c in table.partition_keys],
        "parameters": table.parameters,
        "partition_count": len(partitions),
        "partitions": partitions,
        "files": len(files),
        "rows": sum(f.rows for f in files),
        "bytes": sum(f.size for f in files),
    }
