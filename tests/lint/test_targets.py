"""Layout targets beyond fixtures: an s3:// prefix (real moto server), a table written by
the real ingest and checked against its catalog, and footers-only reading."""

from __future__ import annotations

import io
import json
import os

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lakekit
from lakekit import lint_layout, lint_query
from lakekit.config import Settings
from lakekit.errors import UsageError
from tests.helpers import write_events
from tests.lint.conftest import events_table


def test_s3_prefix_is_listed_and_footers_read(aws):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="lake")
    for day in ("07", "08"):
        for i in range(3):  # three small files a partition: L006
            buf = io.BytesIO()
            pq.write_table(events_table(50, seed=i), buf, write_statistics=(day == "07"))
            s3.put_object(Bucket="lake", Key=f"events/year=2024/month=03/day={day}/part-{i}.parquet", Body=buf.getvalue())
    s3.put_object(Bucket="lake", Key="events/_SUCCESS", Body=b"")
    s3.put_object(Bucket="lake", Key="raw/2024/03/07/clicks.csv.gz", Body=b"\x1f\x8b" + b"0" * 100)
    result = lint_layout(["s3://lake/events", "s3://lake/raw"], settings=Settings(warehouse="s3://lake"))
    found = {(v.path, v.code) for v in result.violations}
    assert found == {
        ("s3://lake/events", "L006"),
        ("s3://lake/events", "L009"),
        ("s3://lake/raw", "L002"),
        ("s3://lake/raw", "L003"),
    }
    l009 = next(v for v in result.violations if v.code == "L009")
    assert l009.message.startswith("3 Parquet file(s) lack min/max statistics")
    assert (l009.line, l009.column) == (1, 1)


def _ingest(tmp_path, warehouse: str, rows: int = 2000, days: int = 3) -> None:
    source = tmp_path / "events.jsonl"
    write_events(source, rows, days=days, seed=7)
    lakekit.ingest([str(source)], "analytics.events", timestamp_column="ts", warehouse=warehouse)


def test_ingested_table_is_clean_then_catalog_and_storage_disagree(tmp_path, warehouse):
    _ingest(tmp_path, warehouse)
    settings = Settings(warehouse=warehouse)
    assert lint_layout(["analytics.events"], settings=settings).violations == []
    assert lint_layout([os.path.join(warehouse, "analytics", "events")], settings=settings).violations == []

    # data lands in a folder the catalog never heard of; a registered partition loses its data
    table_dir = os.path.join(warehouse, "analytics", "events")
    stray = os.path.join(table_dir, "year=2031", "month=01", "day=01")
    os.makedirs(stray)
    pq.write_table(events_table(10), os.path.join(stray, "part-x.parquet"))
    first_partition = next(
        root for root, _, files in sorted(os.walk(table_dir)) if files and "year=2031" not in root
    )
    for name in os.listdir(first_partition):
        os.remove(os.path.join(first_partition, name))
    result = lint_layout(["analytics.events"], settings=settings)
    l010 = [v for v in result.violations if v.code == "L010"]
    assert [v.path for v in l010] == ["analytics.events", "analytics.events"]
    messages = " | ".join(v.message for v in l010)
    assert "year=2031/month=01/day=01" in messages
    assert "have no data files" in messages
    assert all(v.fix == "lakekit catalog sync analytics.events" for v in l010)


def test_query_rules_use_the_real_catalog(tmp_path, warehouse):
    _ingest(tmp_path, warehouse, rows=500, days=2)
    settings = Settings(warehouse=warehouse)
    result = lint_query(
        ["SELECT evnt_type FROM analytics.events WHERE month = '03'",
         "SELECT event_type FROM analytics.events WHERE CAST(day AS integer) = quantity",
         "SELECT event_type FROM analytics.events WHERE amount > 1",
         "SELECT event_type FROM analytics.events WHERE CAST(day AS integer) = 7"],
        settings=settings, table_stats=True,
    )
    assert [(v.path, v.code) for v in result.violations] == [
        ("<sql1>", "Q010"), ("<sql2>", "Q003"), ("<sql3>", "Q002"),
    ]
    assert result.notes == []
    assert result.violations[0].fix == "did you mean event_type?"
    # Q003 is silent exactly where the estimate prunes: Athena evaluates the cast per partition
    pruned = lakekit.estimate("SELECT event_type FROM analytics.events WHERE CAST(day AS integer) = 7",
                              settings=settings).tables[0]
    unpruned = lakekit.estimate("SELECT event_type FROM analytics.events WHERE CAST(day AS integer) = quantity",
                                settings=settings).tables[0]
    with lakekit.open_lake(settings=settings) as lake:
        days = [p.values[2] for p in lake.catalog.list_partitions("analytics", "events")]
    assert pruned.partitions_scanned == sum(int(d) == 7 for d in days) < pruned.partitions_total
    assert unpruned.partitions_scanned == unpruned.partitions_total == len(days)


def test_layout_reads_footers_only(tmp_path, no_catalog):
    """Data pages are never read: a file whose pages are garbage still lints."""
    folder = tmp_path / "t" / "year=2024"
    folder.mkdir(parents=True)
    path = folder / "part-0.parquet"
    pq.write_table(events_table(5000), path, compression="none", write_statistics=False)
    data = bytearray(path.read_bytes())
    meta_len = int.from_bytes(data[-8:-4], "little")
    data[4: len(data) - meta_len - 8] = b"\xff" * (len(data) - meta_len - 12)
    path.write_bytes(bytes(data))
    with pytest.raises((pa.ArrowException, OSError)):  # the data pages really are unreadable
        pq.read_table(path)
    result = lint_layout([str(tmp_path / "t")], settings=no_catalog)
    assert {v.code for v in result.violations} == {"L004", "L009"}


def test_unreadable_parquet_is_a_note_not_a_crash(tmp_path, no_catalog):
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "broken.parquet").write_bytes(b"not parquet at all")
    pq.write_table(events_table(10), folder / "ok.parquet")
    result = lint_layout([str(folder)], settings=no_catalog, ignore=["L006"])
    assert result.violations == []
    assert any("broken.parquet" in note for note in result.notes)


def test_warehouse_root_splits_into_tables(tmp_path, no_catalog):
    for table in ("a/events", "b/clicks"):
        d = tmp_path / "lake" / table / "year=2024"
        d.mkdir(parents=True)
        pq.write_table(events_table(10, drift="type" if table == "b/clicks" else None), d / "p.parquet")
    (tmp_path / "lake" / "_lakekit").mkdir()
    (tmp_path / "lake" / "_lakekit" / "catalog.db").write_bytes(b"x")
    result = lint_layout([str(tmp_path / "lake")], settings=no_catalog)
    # different schemas in different tables are not drift
    assert result.violations == []


def test_unknown_targets_are_usage_errors(tmp_path, no_catalog):
    with pytest.raises(UsageError, match="no such layout file, folder"):
        lint_layout([str(tmp_path / "missing")], settings=no_catalog)
    with pytest.raises(UsageError, match="no catalog at"):
        lint_layout(["analytics.events"], settings=no_catalog)
    f = tmp_path / "x.txt"
    f.write_text("hi")
    with pytest.raises(UsageError, match="not a layout file"):
        lint_layout([str(f)], settings=no_catalog)


def test_result_json_round_trip(no_catalog):
    result = lint_query(["SELECT * FROM t WHERE dt = '1'"], settings=no_catalog)
    assert json.loads(json.dumps(result.to_dicts()))[0]["code"] == "Q001"
    assert result.exit_code == 1 and not result.ok


def test_glue_table_on_s3_is_checked_against_its_catalog(aws, tmp_path):
    from lakekit.config import resolve_settings

    boto3.client("s3").create_bucket(Bucket="lake")
    source = tmp_path / "events.jsonl"
    write_events(source, 300, days=2, seed=3)
    settings = resolve_settings(warehouse="s3://lake/wh", catalog="glue")
    lakekit.ingest([str(source)], "analytics.events", timestamp_column="ts", settings=settings)
    assert lint_layout(["analytics.events"], settings=settings).violations == []

    buf = io.BytesIO()
    pq.write_table(events_table(10), buf)
    boto3.client("s3").put_object(
        Bucket="lake", Key="wh/analytics/events/year=2031/month=01/day=01/part-x.parquet", Body=buf.getvalue()
    )
    result = lint_layout(["analytics.events"], settings=settings)
    # the stray file is both unregistered and written with another schema
    assert [(v.code, v.path) for v in result.violations] == [("L008", "analytics.events"), ("L010", "analytics.events")]
    assert "year=2031/month=01/day=01" in result.violations[1].message

    queries = lint_query(["SELECT evnt_type FROM analytics.events WHERE year = '2024'"], settings=settings)
    assert [(v.code, v.fix) for v in queries.violations] == [("Q010", "did you mean event_type?")]


def test_partition_registered_outside_the_table_folder(tmp_path, warehouse):
    from lakekit.catalog.base import Column, Partition, Table
    from lakekit.catalog.local import LocalCatalog

    settings = Settings(warehouse=warehouse)
    location = os.path.join(warehouse, "db", "t")
    os.makedirs(os.path.join(location, "dt=2024-03-08"))
    pq.write_table(events_table(10), os.path.join(location, "dt=2024-03-08", "a.parquet"))
    elsewhere = tmp_path / "archive" / "march7"
    elsewhere.mkdir(parents=True)
    pq.write_table(events_table(10), elsewhere / "a.parquet")
    catalog = LocalCatalog(settings.local_catalog_path())
    catalog.create_or_update_table(Table("db", "t", location, [Column("event_id", "string")], [Column("dt", "string")]))
    catalog.add_partitions("db", "t", [
        Partition(("2024-03-08",), os.path.join(location, "dt=2024-03-08")),
        Partition(("2024-03-07",), str(elsewhere)),
        Partition(("2024-03-06",), str(tmp_path / "archive" / "gone")),
    ])
    catalog.close()
    result = lint_layout(["db.t"], settings=settings, select=["L010"])
    assert [v.message for v in result.violations] == [
        "1 catalog partition(s) have no data files (e.g. dt=2024-03-06)"
    ]


def test_statement_the_analysis_cannot_handle_is_noted(no_catalog):
    # sqlglot's qualifier cannot expand ``ORDER BY 1`` over ``SELECT *`` without a schema
    result = lint_query(["SELECT * FROM analytics.events ORDER BY 1"], settings=no_catalog)
    codes = {v.code for v in result.violations}
    assert {"Q001", "Q004"} <= codes
    # either the analysis handles it (and Q002 fires) or the skipped statement is noted
    assert "Q002" in codes or any("statement not analysed for Q002/Q010" in note for note in result.notes)


def test_additive_schema_evolution_is_not_drift_and_real_drift_names_the_odd_file(tmp_path, warehouse):
    """Ingests that add columns leave older files without them (read as NULL, as meant):
    no L008. A file written outside lakekit with another type, or lacking an earlier
    column while having a later one, is named, with Athena's type names."""
    for i, record in enumerate([
        {"ts": "2024-03-01T00:00:00Z", "a": 1},
        {"ts": "2024-03-02T00:00:00Z", "a": 2, "coupon": "x"},
        {"ts": "2024-03-03T00:00:00Z", "a": 3, "coupon": "y", "discount": 0.5},
    ]):
        source = tmp_path / f"{i}.jsonl"
        source.write_text(json.dumps(record) + "\n")
        lakekit.ingest([str(source)], "db.t", timestamp_column="ts", warehouse=warehouse)
    settings = Settings(warehouse=warehouse)
    table_dir = os.path.join(warehouse, "db", "t")
    assert sorted((pq.read_schema(p).names for p in _parquet_files(table_dir)), key=len) == [
        ["ts", "a"], ["ts", "a", "coupon"], ["ts", "a", "coupon", "discount"],
    ]
    for target in ("db.t", table_dir):
        assert [v.code for v in lint_layout([target], settings=settings, select=["L008"]).violations] == []

    import pyarrow as pa

    odd_dir = os.path.join(table_dir, "year=2024", "month=03", "day=04")
    os.makedirs(odd_dir)
    odd_type = os.path.join(odd_dir, "typed.parquet")
    pq.write_table(pa.table({"ts": pa.array([0], pa.timestamp("us", "UTC")), "a": ["4"]}), odd_type)
    odd_columns = os.path.join(odd_dir, "no-coupon.parquet")
    pq.write_table(pa.table({"ts": pa.array([0], pa.timestamp("us", "UTC")), "a": [5], "discount": [0.1]}), odd_columns)
    (finding,) = lint_layout(["db.t"], settings=settings, select=["L008"]).violations
    assert f"a has types bigint in 4 file(s), string in 1 (e.g. {odd_type})" in finding.message
    assert f"coupon is missing from 1 file(s) (e.g. {odd_columns}, which has discount" in finding.message
    assert "INT64" not in finding.message and "BYTE_ARRAY" not in finding.message
    assert pq.read_schema(odd_columns).names == ["ts", "a", "discount"]  # the named file really lacks it


def _parquet_files(root: str) -> list[str]:
    return [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith(".parquet")]
