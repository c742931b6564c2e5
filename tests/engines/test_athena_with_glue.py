"""The whole loop on AWS services (moto): S3 warehouse, Glue catalog, local and Athena engines."""

from __future__ import annotations

import boto3
import pyarrow.parquet as pq
import pytest

import lakekit
from lakekit.config import resolve_settings
from lakekit.storage import Storage
from tests.engines.test_athena import seed_results
from tests.helpers import cli, write_events

SQL = "SELECT day, count(*) AS n FROM analytics.events WHERE day IN ('02', '03') GROUP BY day ORDER BY day"


@pytest.fixture
def glue_lake(aws, tmp_path):
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="lake")
    source = tmp_path / "events.jsonl"
    write_events(source, 5000, days=5, seed=42)
    settings = resolve_settings(warehouse="s3://lake/wh", catalog="glue", env={}, cwd=str(tmp_path))
    lakekit.ingest([str(source)], "analytics.events", timestamp_column="ts", settings=settings)
    return settings


def test_estimate_from_glue_statistics_matches_the_s3_footers(glue_lake):
    est = lakekit.estimate(SQL, settings=glue_lake)
    [table] = est.tables
    assert (table.partitions_total, table.partitions_scanned) == (5, 2)
    storage = Storage("s3://lake/wh")
    kept = [e.uri for e in storage.list_files("s3://lake/wh/analytics/events")
            if "/day=02/" in e.uri or "/day=03/" in e.uri]
    expected = 0
    for uri in kept:
        with storage.open_random_access(uri) as f:
            expected += pq.read_metadata(f).serialized_size + 8
    assert est.bytes_scanned == expected  # count(*): footers only


def test_local_engine_reads_the_s3_lake(glue_lake):
    result = lakekit.query(SQL, settings=glue_lake)
    days = result.to_pylist()
    assert [d["day"] for d in days] == ["02", "03"]
    assert sum(d["n"] for d in days) > 0


def test_cli_on_athena_prints_estimate_then_athenas_readout(glue_lake, aws, monkeypatch):
    seed_results(aws, [["02", "966"], ["03", "1016"]], [("day", "varchar"), ("n", "bigint")])
    monkeypatch.setenv("LAKEKIT_ATHENA_OUTPUT", "s3://lake/athena-results/")
    result = cli("query", SQL, "--engine", "athena", "--estimate-cost", "--format", "csv",
                 "--warehouse", "s3://lake/wh", "--catalog", "glue")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == '"day","n"\n"02",966\n"03",1016\n'
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Estimate: ")
    assert lines[1].startswith("  analytics.events: 2/5 partitions, 2 files, 2 row groups, ")
    assert lines[-1].startswith("Run time: ")
    assert "Data scanned: 0 B, cost $0.000048 (athena engine, 2 rows); estimated " in lines[-1]
