"""Fixtures for lint tests: a real local catalog with known tables and sizes, and
builders that write real Parquet/CSV files for layout rules."""

from __future__ import annotations

import gzip
import os
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakekit.catalog.base import Column, DataFile, Table
from lakekit.catalog.local import LocalCatalog
from lakekit.config import Settings

EVENT_COLUMNS = [
    ("event_id", "string"), ("ts", "timestamp"), ("user_id", "bigint"), ("event_type", "string"),
    ("country", "string"), ("device", "string"), ("amount", "double"), ("quantity", "bigint"),
    ("session_ms", "bigint"),
]
DATE_KEYS = [Column("year", "string"), Column("month", "string"), Column("day", "string")]

#: db.table -> (columns, partition keys, total bytes of data files)
QUERY_TABLES = {
    "analytics.events": (EVENT_COLUMNS, DATE_KEYS, 50 << 30),
    "analytics.users": ([("user_id", "bigint"), ("signup_date", "date"), ("country", "string")], [], 500 << 20),
    "dim.countries": ([("code", "string"), ("name", "string")], [], 10 << 10),
    "logs.requests": ([("path", "string"), ("status", "bigint")], [Column("dt", "string")], 1 << 30),
}


def build_query_catalog(warehouse: str) -> Settings:
    """A local catalog holding :data:`QUERY_TABLES`, with file statistics for sizes."""
    settings = Settings(warehouse=warehouse)
    catalog = LocalCatalog(settings.local_catalog_path())
    try:
        for qualified, (columns, keys, size) in QUERY_TABLES.items():
            db, name = qualified.split(".")
            location = os.path.join(warehouse, db, name)
            catalog.create_or_update_table(
                Table(db, name, location, [Column(n, t) for n, t in columns], list(keys))
            )
            # ten files sharing the size: only sizes matter to query rules
            files = [
                DataFile(os.path.join(location, f"part-{i}.parquet"), size // 10, 1000, 100, ())
                for i in range(10)
            ]
            catalog.put_files(db, name, files)
    finally:
        catalog.close()
    return settings


@pytest.fixture(scope="session")
def query_catalog(tmp_path_factory) -> Settings:
    return build_query_catalog(str(tmp_path_factory.mktemp("querylake")))


@pytest.fixture
def no_catalog(tmp_path) -> Settings:
    return Settings(warehouse=str(tmp_path / "empty-lake"))


def with_lint_config(settings: Settings, config: dict | None) -> Settings:
    return replace(settings, lint=dict(config or {}))


# -- layout data -----------------------------------------------------------------------
def events_table(rows: int, seed: int = 0, drift: str | None = None) -> pa.Table:
    """A small table of events; ``drift`` changes its schema ("type", "column", "other-column", "missing")."""
    import random

    rnd = random.Random(seed)
    data = {
        "event_id": [f"e{seed}-{i}" for i in range(rows)],
        "user_id": [rnd.randrange(1000) for _ in range(rows)],
        "amount": [round(rnd.random() * 100, 2) for _ in range(rows)],
    }
    if drift == "type":
        data["amount"] = [str(v) for v in data["amount"]]
    elif drift == "column":  # a column added later: additive schema evolution
        data["coupon"] = ["x"] * rows
    elif drift == "other-column":  # a column of its own, and none of the later one's
        data["discount"] = [0.5] * rows
    elif drift == "missing":  # has the later column but lacks an earlier one
        del data["amount"]
        data["coupon"] = ["x"] * rows
    return pa.table(data)


def write_file(root: Path, spec: dict) -> Path:
    """Write one real data file described by a fixture ``spec`` under ``root``.

    Parquet: ``rows``, ``compression`` (zstd, snappy, gzip, none), ``statistics``,
    ``row_group_rows``, ``drift``, ``padding`` (random bytes column making files big).
    Text (.csv/.json, optionally .gz/.bz2): ``bytes`` of CSV lines (gzip stored
    uncompressed so the file size is what the spec asks).
    """
    path = root / spec["path"]
    path.parent.mkdir(parents=True, exist_ok=True)
    name = path.name.lower()
    if ".parquet" in name:
        table = events_table(spec.get("rows", 100), seed=spec.get("seed", 0), drift=spec.get("drift"))
        if spec.get("padding"):
            table = table.append_column(
                "blob", pa.array([os.urandom(spec["padding"]) for _ in range(table.num_rows)], pa.binary())
            )
        pq.write_table(
            table, path,
            compression=spec.get("compression", "zstd"),
            write_statistics=spec.get("statistics", True),
            row_group_size=spec.get("row_group_rows", 1_000_000),
        )
        return path
    size = spec.get("bytes", 1000)
    line = b"e1,42,2024-03-07T12:00:00Z,click,DE,ios,9.99\n"
    body = (line * (size // len(line) + 1))[:size]
    if name.endswith(".gz"):
        with gzip.open(path, "wb", compresslevel=0) as f:
            f.write(body)
    elif name.endswith(".bz2"):
        import bz2

        path.write_bytes(bz2.compress(body, 1))
    else:
        path.write_bytes(body)
    return path


@pytest.fixture(scope="session")
def priced_lake(tmp_path_factory):
    """The query tests' lake (``lake.clicks``, ``lake.users``): real files, so lint can price."""
    from tests.clicks_lake import build_lake

    return build_lake(str(tmp_path_factory.mktemp("pricedlake")))
