"""The local engine: DuckDB over the catalog's files, local and on S3 (moto)."""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakekit import run_query
from lakekit.catalog import Column, Partition, Table
from lakekit.catalog.local import LocalCatalog
from lakekit.config import resolve_settings
from lakekit.engines.local import LocalEngine
from lakekit.errors import QueryTimeout, UsageError
from tests.helpers import catalog_at, plain_folder_table, s3_table_by_year


def test_athena_shaped_results(clicks_lake):
    table = run_query("SELECT sum(quantity), count(*) FROM lake.clicks WHERE day = '01'", settings=clicks_lake.settings).table
    assert table.column_names == ["_col0", "_col1"]
    assert table.schema.field("_col0").type == pa.int64()


def test_pruned_to_nothing_still_has_the_columns(clicks_lake):
    table = run_query("SELECT * FROM lake.clicks WHERE year = '1999'", settings=clicks_lake.settings).table
    assert table.num_rows == 0
    assert table.column_names == ["event_id", "ts", "user_id", "event_type", "country", "amount", "quantity",
                                  "year", "month", "day"]


def test_ddl_is_refused_with_the_way_out(clicks_lake):
    with pytest.raises(UsageError, match="use --engine athena"):
        run_query("INSERT INTO lake.users SELECT user_id, name, country FROM lake.users", settings=clicks_lake.settings)


def test_timeout_interrupts_duckdb(clicks_lake):
    # 28,800 x 28,800 rows through a condition no statistic can settle
    slow = ("SELECT count(*) FROM lake.clicks a, lake.clicks b "
            "WHERE a.amount * b.quantity = b.amount + a.quantity * 1.5")
    with pytest.raises(QueryTimeout, match="did not finish within 0.5 s"):
        run_query(slow, settings=clicks_lake.settings, timeout=0.5)


def test_partitions_outside_key_value_folders(tmp_path):
    """A crawled table whose partitions live in plain folders: values come from the catalog."""
    settings, _ = plain_folder_table(tmp_path, {"2019-11-24": [0, 1, 2], "2019-11-25": [10, 11, 12]})
    rows = run_query("SELECT dt, sum(n) AS total FROM raw.logs GROUP BY dt ORDER BY dt", settings=settings).table
    assert rows.to_pylist() == [{"dt": "2019-11-24", "total": 3}, {"dt": "2019-11-25", "total": 33}]
    one = run_query("SELECT n FROM raw.logs WHERE dt = '2019-11-25'", settings=settings)
    assert sorted(one.table.column("n").to_pylist()) == [10, 11, 12]
    assert one.estimate.tables[0].partitions_scanned == 1


def test_s3_warehouse_reads_through_pyarrow_and_reports_no_byte_count(aws, tmp_path):
    settings, _ = s3_table_by_year(tmp_path, "lake", {"2023": 1000, "2024": 1000}, success_markers=True)
    result = run_query("SELECT year, sum(x) AS total FROM db.t WHERE year = '2024' GROUP BY year", settings=settings)
    assert result.table.to_pylist() == [{"year": "2024", "total": 499500}]
    assert result.estimate.tables[0].files_scanned == 1
    # pyarrow's native S3 reads are counted by nobody: no figure rather than a wrong one
    assert result.actual.bytes_scanned is None
    # a query only reads: the footers it read are not written into the catalog
    catalog = catalog_at(settings.catalog_path)
    assert catalog.list_files("db", "t") == []
    catalog.close()


def test_column_added_later_reads_as_null_in_older_partitions(tmp_path):
    """Schema evolution: a column only newer files hold is NULL for older partitions."""
    from lakekit.parquet import read_file_stats
    from lakekit.storage import Storage

    warehouse = str(tmp_path / "wh")
    settings = resolve_settings(warehouse=warehouse, env={}, cwd=str(tmp_path))
    catalog = LocalCatalog(settings.local_catalog_path())
    location = os.path.join(warehouse, "db", "t")
    catalog.create_or_update_table(Table("db", "t", location, [Column("n", "bigint"), Column("extra", "string")],
                                         [Column("day", "string")]))
    files = []
    for day, table in (("01", pa.table({"n": pa.array([1, 2], pa.int64())})),
                       ("02", pa.table({"n": pa.array([3], pa.int64()), "extra": ["new"]}))):
        folder = os.path.join(location, f"day={day}")
        os.makedirs(folder)
        pq.write_table(table, os.path.join(folder, "f.parquet"))
        files.append(read_file_stats(Storage(warehouse), os.path.join(folder, "f.parquet"), (day,)))
    catalog.add_partitions("db", "t", [Partition((d,), os.path.join(location, f"day={d}")) for d in ("01", "02")])
    catalog.put_files("db", "t", files)
    catalog.close()
    old = run_query("SELECT n, extra FROM db.t WHERE day = '01' ORDER BY n", settings=settings).table
    assert old.to_pylist() == [{"n": 1, "extra": None}, {"n": 2, "extra": None}]
    both = run_query("SELECT n, extra FROM db.t ORDER BY n", settings=settings).table
    assert both.column("extra").to_pylist() == [None, None, "new"]


def test_execute_leaves_the_plan_as_it_was(clicks_lake):
    """An engine takes a plan and never changes it: the same plan runs twice alike."""
    import copy

    from lakekit import open_lake
    from lakekit.plan import QueryPlan

    sql = ("SELECT c.country, count(*) AS n FROM lake.clicks c JOIN lake.users u ON c.user_id = u.user_id "
           "WHERE c.day = '01' GROUP BY c.country ORDER BY c.country")
    with open_lake(settings=clicks_lake.settings) as opened:
        plan = opened.plan(sql)
    assert isinstance(plan, QueryPlan)
    before_sql = plan.statement.sql(dialect="athena")
    before_nodes = [p.scan.node.sql(dialect="athena") for p in plan.plans]
    before_files = copy.deepcopy([[f.uri for f in p.files] for p in plan.plans])
    engine = LocalEngine(clicks_lake.settings)
    try:
        first = engine.execute(plan).table
        assert plan.statement.sql(dialect="athena") == before_sql
        assert "lakekit_scan" not in before_sql
        assert [p.scan.node.sql(dialect="athena") for p in plan.plans] == before_nodes
        assert [[f.uri for f in p.files] for p in plan.plans] == before_files
        assert all(p.scan.node.root() is plan.statement for p in plan.plans)
        second = engine.execute(plan).table
    finally:
        engine.close()
    assert first.to_pylist() == second.to_pylist() and first.num_rows > 0
