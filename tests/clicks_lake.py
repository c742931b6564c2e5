"""A generated lake for the query path's tests (plan, engines, CLI): many partitions,
files and row groups, written with pyarrow and registered directly in a local catalog.

``lake.clicks`` is partitioned by year/month/day over 12 days that cross a month end
(2024-02-25 .. 2024-03-07). Each partition holds two files of three row groups; rows
are sorted by ``ts`` so row-group time ranges do not overlap, file 0 holds users
1..500 and file 1 users 501..1000, and ``amount`` ranges differ by row group
([0, 40), [30, 70), [60, 100)), so statistics can rule row groups out. One partition
also holds ``_ignored.parquet`` (registered in the catalog), which Athena would skip.
``lake.users`` is an unpartitioned table of 1,000 users in two files.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakekit.catalog import Column, Partition, Table
from lakekit.catalog.local import LocalCatalog
from lakekit.config import resolve_settings
from lakekit.parquet import read_file_stats
from lakekit.storage import Storage

FIRST_DAY = dt.date(2024, 2, 25)
DAYS = [FIRST_DAY + dt.timedelta(days=i) for i in range(12)]
ROWS_PER_GROUP = 400
GROUPS_PER_FILE = 3
HIDDEN_DAY = dt.date(2024, 3, 1)

CLICK_SCHEMA = pa.schema([
    ("event_id", pa.string()),
    ("ts", pa.timestamp("us", tz="UTC")),
    ("user_id", pa.int64()),
    ("event_type", pa.string()),
    ("country", pa.string()),
    ("amount", pa.float64()),
    ("quantity", pa.int64()),
])
CLICK_COLUMNS = [f.name for f in CLICK_SCHEMA]
EVENT_TYPES = ["page_view", "search", "add_to_cart", "purchase"]
COUNTRIES = ["US", "DE", "FR", "JP", "BR"]


@dataclass
class ClicksLake:
    warehouse: str
    settings: object

    def partition_dir(self, day: dt.date) -> str:
        return os.path.join(self.warehouse, "lake", "clicks", f"year={day:%Y}", f"month={day:%m}", f"day={day:%d}")


def _click_file(day: dt.date, file_index: int, rnd: random.Random) -> pa.Table:
    n = ROWS_PER_GROUP * GROUPS_PER_FILE
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    seconds = sorted(rnd.randrange(86_400 * 1_000_000) for _ in range(n))
    users = (1, 500) if file_index == 0 else (501, 1000)
    amounts = []
    for i in range(n):
        group = i // ROWS_PER_GROUP
        low = [0, 30, 60][group]
        amounts.append(round(low + rnd.random() * 40 if group < 2 else low + rnd.random() * 39.99, 2))
    return pa.table(
        {
            "event_id": [f"{day:%Y%m%d}-{file_index}-{i:05d}" for i in range(n)],
            "ts": [start + dt.timedelta(microseconds=s) for s in seconds],
            "user_id": [rnd.randint(*users) for _ in range(n)],
            "event_type": [rnd.choice(EVENT_TYPES) for _ in range(n)],
            "country": [None if (file_index == 1 and rnd.random() < 0.2) else rnd.choice(COUNTRIES) for _ in range(n)],
            "amount": amounts,
            "quantity": [rnd.randint(1, 5) for _ in range(n)],
        },
        schema=CLICK_SCHEMA,
    )


def build_lake(warehouse: str, with_stats: bool = True) -> ClicksLake:
    rnd = random.Random(7)
    settings = resolve_settings(warehouse=warehouse, env={}, cwd=warehouse)
    storage = Storage(warehouse)
    catalog = LocalCatalog(settings.local_catalog_path())
    lake = ClicksLake(warehouse, settings)
    keys = [Column("year", "string"), Column("month", "string"), Column("day", "string")]
    clicks = Table(
        "lake", "clicks", os.path.join(warehouse, "lake", "clicks"),
        [Column("event_id", "string"), Column("ts", "timestamp"), Column("user_id", "bigint"),
         Column("event_type", "string"), Column("country", "string"), Column("amount", "double"),
         Column("quantity", "bigint")],
        keys,
        {"classification": "parquet", "compression": "zstd", "lakekit.timestamp_column": "ts"},
    )
    catalog.create_or_update_table(clicks)
    partitions, files = [], []
    for day in DAYS:
        folder = lake.partition_dir(day)
        os.makedirs(folder)
        values = (f"{day:%Y}", f"{day:%m}", f"{day:%d}")
        partitions.append(Partition(values, folder))
        names = ["part-0.parquet", "part-1.parquet"]
        for i, name in enumerate(names):
            pq.write_table(_click_file(day, i, rnd), os.path.join(folder, name),
                           row_group_size=ROWS_PER_GROUP, compression="zstd")
        if day == HIDDEN_DAY:
            pq.write_table(_click_file(day, 0, rnd), os.path.join(folder, "_ignored.parquet"),
                           row_group_size=ROWS_PER_GROUP, compression="zstd")
            names.append("_ignored.parquet")
        files += [read_file_stats(storage, os.path.join(folder, n), values) for n in names]
    catalog.add_partitions("lake", "clicks", partitions)
    if with_stats:
        catalog.put_files("lake", "clicks", files)

    users_dir = os.path.join(warehouse, "lake", "users")
    os.makedirs(users_dir)
    users = Table("lake", "users", users_dir,
                  [Column("user_id", "bigint"), Column("name", "string"), Column("country", "string")],
                  [], {"classification": "parquet"})
    catalog.create_or_update_table(users)
    user_files = []
    for i in range(2):
        ids = list(range(1 + 500 * i, 501 + 500 * i))
        table = pa.table({"user_id": pa.array(ids, pa.int64()), "name": [f"user {n}" for n in ids],
                          "country": [COUNTRIES[n % 5] for n in ids]})
        path = os.path.join(users_dir, f"users-{i}.parquet")
        pq.write_table(table, path, row_group_size=250, compression="zstd")
        user_files.append(read_file_stats(storage, path))
    if with_stats:
        catalog.put_files("lake", "users", user_files)
    catalog.close()
    return lake


@pytest.fixture(scope="module")
def clicks_lake(tmp_path_factory) -> ClicksLake:
    """The generated clicks lake, built once per test module."""
    return build_lake(str(tmp_path_factory.mktemp("querylake")))
