"""Readers that are not lakekit: what DuckDB, Athena or Spark would read of a table.

They use no lakekit code, only what those engines use: the catalog's records (SQLite
read with ``sqlite3``; Glue through boto3) and a listing of each location the catalog
holds, skipping files under a ``_`` or ``.`` component below the location (Athena and
Spark skip those), recursing into folders (as Athena does).
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
from collections import Counter

import boto3
import duckdb
import pyarrow.parquet as pq


def _visible(rel_parts: list[str]) -> bool:
    return not any(p.startswith(("_", ".")) for p in rel_parts)


# -- a local lake: the SQLite catalog's locations, read by DuckDB ---------------------------
def local_locations(warehouse: str, db: str, table: str) -> dict[tuple, str] | None:
    """``{partition values: absolute location}`` the local catalog lists (``()`` for an
    unpartitioned table); None when the table is not there."""
    path = os.path.join(warehouse, "_lakekit", "catalog.db")
    if not os.path.exists(path):
        return None
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT location, partition_keys FROM tables WHERE database = ? AND name = ?",
                          (db, table)).fetchone()
        if row is None:
            return None
        location, keys = row
        if not json.loads(keys):
            found = {(): location}
        else:
            found = {tuple(json.loads(v)): loc for v, loc in con.execute(
                "SELECT partition_values, location FROM partitions WHERE database = ? AND table_name = ?",
                (db, table))}
    finally:
        con.close()
    return {v: loc if os.path.isabs(loc) else os.path.join(warehouse, *loc.split("/")) for v, loc in found.items()}


def local_files(location: str) -> list[str]:
    out = []
    for folder, _, names in os.walk(location):
        for name in names:
            rel = os.path.relpath(os.path.join(folder, name), location).split(os.sep)
            if _visible(rel):
                out.append(os.path.join(folder, name))
    return sorted(out)


def duckdb_rows(warehouse: str, db: str, table: str, column: str = "id") -> dict[tuple, Counter]:
    """Per partition, a count of each ``column`` value DuckDB reads from the files under
    the locations the catalog lists: duplicates show as counts above 1."""
    locations = local_locations(warehouse, db, table) or {}
    out: dict[tuple, Counter] = {}
    con = duckdb.connect()
    try:
        for values, location in locations.items():
            files = local_files(location)
            if not files:
                out[values] = Counter()
                continue
            listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
            rows = con.execute(f"SELECT {column} FROM read_parquet([{listed}], union_by_name=true)").fetchall()
            out[values] = Counter(r[0] for r in rows)
    finally:
        con.close()
    return out


# -- S3 + Glue: what Athena resolves ---------------------------------------------------------
def _s3_keys(location: str) -> list[tuple[str, str]]:
    bucket, _, prefix = location[len("s3://"):].partition("/")
    prefix = prefix.rstrip("/") + "/"
    s3 = boto3.client("s3")
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if _visible(obj["Key"][len(prefix):].split("/")):
                keys.append((bucket, obj["Key"]))
    return sorted(keys)


def athena_locations(db: str, table: str) -> dict[tuple, str] | None:
    """``{partition values: location}`` as Athena resolves them from Glue."""
    glue = boto3.client("glue")
    try:
        raw = glue.get_table(DatabaseName=db, Name=table)["Table"]
    except glue.exceptions.EntityNotFoundException:
        return None
    if not raw.get("PartitionKeys"):
        return {(): raw["StorageDescriptor"]["Location"]}
    pages = glue.get_paginator("get_partitions").paginate(DatabaseName=db, TableName=table)
    return {tuple(p["Values"]): p["StorageDescriptor"]["Location"] for page in pages for p in page["Partitions"]}


def athena_rows(db: str, table: str, column: str = "id") -> dict[tuple, Counter]:
    """Per partition, a count of each ``column`` value in the objects Athena would read."""
    s3 = boto3.client("s3")
    out: dict[tuple, Counter] = {}
    for values, location in (athena_locations(db, table) or {}).items():
        counts: Counter = Counter()
        for bucket, key in _s3_keys(location):
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            counts.update(pq.read_table(io.BytesIO(body), columns=[column]).column(column).to_pylist())
        out[values] = counts
    return out


def rows_seen(lake, db: str, table: str, column: str = "id") -> dict[tuple, Counter]:
    """What an outside reader of ``lake`` (a tests.backends.BackendLake) sees of the table."""
    if lake.kind == "aws":
        return athena_rows(db, table, column)
    return duckdb_rows(lake.warehouse, db, table, column)


def flatten(seen: dict[tuple, Counter]) -> Counter:
    total: Counter = Counter()
    for counts in seen.values():
        total.update(counts)
    return total
