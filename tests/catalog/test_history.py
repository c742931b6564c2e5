"""`lakekit history`: every run recorded in the catalog's area with its estimate and what
the engine reported; listed newest first with the estimate's error per engine."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import boto3
import pytest

import lakekit
from lakekit.catalog.history import LocalHistory, QueryRecord, StorageHistory
from lakekit.config import resolve_settings
from tests.clicks_lake import build_lake
from tests.engines.test_athena import Recorder, seed_results
from tests.helpers import cli


@pytest.fixture
def fresh_lake(tmp_path):
    return build_lake(str(tmp_path / "wh"))


def _history(args, warehouse):
    result = cli("history", *args, "--warehouse", warehouse)
    assert result.exit_code == 0, result.output
    return result


def test_local_runs_are_recorded_and_listed_newest_first(fresh_lake):
    first = lakekit.run_query("SELECT count(*) AS n FROM lake.clicks WHERE day = '01'", settings=fresh_lake.settings)
    second = lakekit.run_query("SELECT  amount\nFROM lake.clicks WHERE day = '02'", settings=fresh_lake.settings)
    doc = json.loads(_history(["--json"], fresh_lake.warehouse).stdout)
    newest, older = doc["queries"]
    assert newest["sql"] == "SELECT  amount\nFROM lake.clicks WHERE day = '02'"
    assert newest["sql_hash"] == hashlib.sha256(b"SELECT amount FROM lake.clicks WHERE day = '02'").hexdigest()[:16]
    for record, result in ((newest, second), (older, first)):
        assert record["engine"] == "local"
        assert record["estimate_bytes_scanned"] == result.estimate.bytes_scanned
        assert record["estimate_bytes_billed"] == result.estimate.bytes_billed
        assert record["bytes_scanned"] == result.actual.bytes_scanned > 0  # what DuckDB reported reading
        assert record["cost_usd"] == result.estimate.cost_usd
        assert record["rows"] == result.table.num_rows
        assert record["error"] == pytest.approx(
            (result.estimate.bytes_scanned - result.actual.bytes_scanned) / result.actual.bytes_scanned)
    local = doc["estimate_error"]["local"]
    assert (local["runs"], local["measured"]) == (2, 2)
    assert json.loads(_history(["--json", "--limit", "1"], fresh_lake.warehouse).stdout)["queries"] == [newest]
    text = _history(["--limit", "5"], fresh_lake.warehouse).stdout
    assert "local" in text and "estimate error median" in text


def test_history_reads_without_creating_anything(tmp_path):
    warehouse = tmp_path / "nowhere"
    result = _history(["--json"], str(warehouse))
    assert json.loads(result.stdout) == {"queries": [], "estimate_error": {}}
    assert not warehouse.exists()


def test_a_catalog_that_cannot_be_written_records_nothing_and_the_query_still_runs(fresh_lake, monkeypatch):
    """Recording is a write: where the catalog is read-only the run stands, unrecorded.
    (The suite runs as root, which file modes do not stop, so the permission check is
    answered for the catalog's path only.)"""
    path = fresh_lake.settings.local_catalog_path()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if (mode & os.W_OK and
                        os.path.abspath(p) in (path, os.path.dirname(path))) else real_access(p, mode))
    before = Path(path).read_bytes()
    result = lakekit.run_query("SELECT count(*) AS n FROM lake.clicks", settings=fresh_lake.settings)
    assert result.table.to_pylist() == [{"n": 24 * 1200}]
    assert Path(path).read_bytes() == before
    assert LocalHistory(path).list() == []


def test_athena_runs_record_what_athena_reported(aws, fresh_lake):
    """moto seeds the rows; its GetQueryExecution reports DataScannedInBytes (0), which is
    what the history must hold beside the estimate."""
    seed_results(aws, [["2400"]], [("n", "bigint")])
    recorder = Recorder()
    s = resolve_settings(warehouse=fresh_lake.warehouse, engine="athena", athena_output="s3://results/x/",
                         env={}, cwd=fresh_lake.warehouse)
    result = lakekit.run_query("SELECT count(*) AS n FROM lake.clicks WHERE day = '01'", settings=s,
                               boto3_session=recorder.session)
    reported = boto3.client("athena", region_name="us-east-1").get_query_execution(
        QueryExecutionId=result.actual.query_id)["QueryExecution"]["Statistics"]["DataScannedInBytes"]
    (record,) = LocalHistory(fresh_lake.settings.local_catalog_path()).list()
    assert (record.engine, record.query_id) == ("athena", result.actual.query_id)
    assert record.bytes_scanned == reported
    assert record.estimate_bytes_scanned == result.estimate.bytes_scanned > 0
    doc = json.loads(_history(["--json"], fresh_lake.warehouse).stdout)
    assert doc["estimate_error"]["athena"]["runs"] == 1
    assert doc["queries"][0]["bytes_scanned"] == reported


def test_glue_history_lives_in_the_warehouse(aws):
    boto3.client("s3").create_bucket(Bucket="lake")
    from lakekit.storage import Storage

    store = StorageHistory(Storage("s3://lake/wh"), "s3://lake/wh")
    assert store.list() == []
    for n in range(3):
        assert store.record(QueryRecord.new(f"SELECT {n}", "athena", n, 10 << 20, n * 2, 0.0, 0.5, 1, f"q{n}"))
    listed = store.list(limit=2)
    assert [r.sql for r in listed] == ["SELECT 2", "SELECT 1"]
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket="lake")["Contents"]]
    assert len(keys) == 3 and all(k.startswith("wh/_lakekit/history/") for k in keys)
