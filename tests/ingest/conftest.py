"""Helpers for ingest tests: writing sources and reading tables back independently."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import duckdb
import pyarrow.dataset as ds
import pytest

from lakekit.catalog.local import LocalCatalog
from tests.aws.backends import lake  # noqa: F401 - fixture: a lake on either backend

LAKEKIT = os.path.join(os.path.dirname(sys.executable), "lakekit")


def write_jsonl(path, records) -> str:
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write((r if isinstance(r, str) else json.dumps(r)) + "\n")
    return str(path)


def read_back_pyarrow(table_dir: str):
    """The table as pyarrow's dataset reader sees it (hive partitions as strings)."""
    import pyarrow as pa

    part = ds.partitioning(pa.schema([("year", pa.string()), ("month", pa.string()), ("day", pa.string())]), flavor="hive")
    dataset = ds.dataset(table_dir, format="parquet", partitioning=part, ignore_prefixes=["_", "."])
    # Files written before a column was added lack it: read with the union of schemas.
    schema = pa.unify_schemas([f.physical_schema for f in dataset.get_fragments()] + [dataset.partitioning.schema])
    return ds.dataset(table_dir, schema=schema, format="parquet", partitioning=part, ignore_prefixes=["_", "."]).to_table()


def read_back_duckdb(table_dir: str, order_by: str):
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    return con.execute(
        f"SELECT * FROM read_parquet('{table_dir}/**/*.parquet', hive_partitioning=true, union_by_name=true) ORDER BY {order_by}"
    ).fetchall(), [d[0] for d in con.description]


def catalog_of(warehouse: str) -> LocalCatalog:
    return LocalCatalog(os.path.join(warehouse, "_lakekit", "catalog.db"))


def visible_data_files(warehouse: str, db: str, table: str) -> list[str]:
    root = os.path.join(warehouse, db, table)
    out = []
    for dirpath, _, files in os.walk(root):
        out.extend(os.path.join(dirpath, f) for f in files if not f.startswith(("_", ".")))
    return sorted(out)


def run_cli(*args, env=None, input=None, timeout=120):
    return subprocess.run([LAKEKIT, *args], capture_output=True, text=input is None or isinstance(input, str),
                          env={**os.environ, **(env or {})}, input=input, timeout=timeout)


@pytest.fixture
def events_file(tmp_path):
    from lakekit.sample import events_jsonl

    path = tmp_path / "events.jsonl"
    path.write_text("".join(events_jsonl(3000, days=10, seed=7)))
    return str(path)
