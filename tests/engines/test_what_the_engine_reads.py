"""What the local engine reads: the plan's files, Athena's hidden columns over them, and a
one-line error pointing at ``lakekit catalog sync`` when storage lost a catalogued file.
Expected values come from the file system (``os.stat``, the folders the test wrote)."""

from __future__ import annotations

import datetime as dt
import os
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakekit import run_query
from lakekit.errors import CatalogOutOfDate
from tests.clicks_lake import build_lake
from tests.helpers import cli, plain_folder_table, s3_table_by_year

DAY = dt.date(2024, 3, 1)


def stat_facts(folder: str) -> dict[str, tuple[int, dt.datetime]]:
    """path -> (size, modification time truncated to ms, UTC), for the visible Parquet files."""
    out = {}
    for name in os.listdir(folder):
        if name.startswith(("_", ".")):
            continue
        path = os.path.join(folder, name)
        st = os.stat(path)
        when = dt.datetime.fromtimestamp(st.st_mtime_ns // 1_000_000 / 1000, dt.UTC)
        out[path] = (st.st_size, when)
    return out


def test_hidden_columns_are_each_rows_file_size_and_time(clicks_lake):
    folder = clicks_lake.partition_dir(DAY)
    table = run_query(
        'SELECT "$path", "$file_size", "$file_modified_time", count(*) AS n FROM lake.clicks '
        "WHERE year = '2024' AND month = '03' AND day = '01' GROUP BY 1, 2, 3 ORDER BY 1",
        settings=clicks_lake.settings,
    ).table
    facts = stat_facts(folder)
    assert [r["$path"] for r in table.to_pylist()] == sorted(facts)  # _ignored.parquet is not read
    for row in table.to_pylist():
        size, when = facts[row["$path"]]
        assert row["$file_size"] == size
        assert row["$file_modified_time"] == when
        assert row["n"] == pq.ParquetFile(row["$path"]).metadata.num_rows
    assert table.schema.field("$path").type == pa.string()
    assert table.schema.field("$file_size").type == pa.int64()
    assert table.schema.field("$file_modified_time").type.tz == "UTC"  # timestamp with time zone


def test_hidden_columns_filter_and_stay_out_of_star(clicks_lake):
    folder = clicks_lake.partition_dir(DAY)
    one = os.path.join(folder, "part-1.parquet")
    rows = run_query(f"SELECT count(*) AS n FROM lake.clicks WHERE day = '01' AND \"$path\" = '{one}'",
                     settings=clicks_lake.settings).table.to_pylist()
    assert rows == [{"n": pq.ParquetFile(one).metadata.num_rows}]
    star = run_query("SELECT * FROM lake.users LIMIT 1", settings=clicks_lake.settings).table
    assert star.column_names == ["user_id", "name", "country"]
    both = run_query('SELECT *, "$path" FROM lake.users ORDER BY user_id LIMIT 1', settings=clicks_lake.settings).table
    assert both.column_names == ["user_id", "name", "country", "$path"]
    assert both.column("$path").to_pylist() == [os.path.join(clicks_lake.warehouse, "lake", "users", "users-0.parquet")]


def test_hidden_columns_of_partitions_outside_key_value_folders(tmp_path):
    settings, files = plain_folder_table(tmp_path, {"2019-11-24": [0, 0], "2019-11-25": [1, 1, 1]})
    expected = {day: (path, os.path.getsize(path), n) for (day, path), n in zip(files.items(), (2, 3))}
    rows = run_query('SELECT dt, "$path", "$file_size", count(*) AS n FROM raw.logs GROUP BY 1, 2, 3 ORDER BY dt',
                     settings=settings).table.to_pylist()
    assert [(r["dt"], r["$path"], r["$file_size"], r["n"]) for r in rows] == [(d, *v) for d, v in expected.items()]


def test_s3_hidden_columns_are_s3_uris(aws, tmp_path):
    import boto3

    counts = {"2023": 3, "2024": 5}
    settings, keys = s3_table_by_year(tmp_path, "hidden", counts)
    s3 = boto3.client("s3", region_name="us-east-1")
    sizes = {}
    for key, count in zip(keys, counts.values()):
        head = s3.head_object(Bucket="hidden", Key=key)
        sizes[f"s3://hidden/{key}"] = (head["ContentLength"], head["LastModified"], count)
    rows = run_query('SELECT "$path", "$file_size", "$file_modified_time", count(*) AS n FROM db.t GROUP BY 1, 2, 3 '
                     "ORDER BY 1", settings=settings).table.to_pylist()
    assert [(r["$path"], r["$file_size"], r["n"]) for r in rows] == [(p, s, n) for p, (s, _, n) in sorted(sizes.items())]
    for r in rows:
        assert abs((r["$file_modified_time"] - sizes[r["$path"]][1]).total_seconds()) < 1


# -- storage that lost what the catalog lists -----------------------------------------------------
@pytest.fixture
def own_lake(tmp_path):
    return build_lake(str(tmp_path / "own"))


def test_a_partition_folder_deleted_outside_lakekit_points_at_catalog_sync(own_lake):
    shutil.rmtree(own_lake.partition_dir(DAY))
    result = cli("query", "SELECT count(*) FROM lake.clicks WHERE day = '01'",
                                       "--warehouse", own_lake.warehouse)
    assert result.exit_code == 4, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "gone from storage" in lines[0] and "run `lakekit catalog sync lake.clicks`" in lines[0]
    assert "IOException" not in lines[0]
    other_day = cli("query", "SELECT count(*) AS n FROM lake.clicks WHERE day = '02'",
                                          "--warehouse", own_lake.warehouse, "--format", "csv")
    assert other_day.exit_code == 0 and other_day.stdout.splitlines()[1] == "2400"


def test_a_catalogued_file_deleted_between_plan_and_run_points_at_catalog_sync(own_lake):
    """The listing sees the file; it is gone by the time DuckDB opens it."""
    from lakekit import open_lake
    from lakekit.engines.local import LocalEngine

    with open_lake(settings=own_lake.settings) as opened:
        plan = opened.plan("SELECT count(*) FROM lake.clicks WHERE day = '01'")
        os.unlink(os.path.join(own_lake.partition_dir(DAY), "part-1.parquet"))
        engine = LocalEngine(own_lake.settings)
        try:
            with pytest.raises(CatalogOutOfDate) as caught:
                engine.execute(plan)
        finally:
            engine.close()
    assert caught.value.exit_code == 4
    assert str(caught.value).startswith("1 file the catalog lists for lake.clicks is gone from storage (")
    assert str(caught.value).endswith("run `lakekit catalog sync lake.clicks` to bring the catalog up to date")
