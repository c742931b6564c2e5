"""The same ingest scenarios on a local folder + SQLite and on s3:// + Glue (moto),
and faults injected into the S3 calls of a commit."""

from __future__ import annotations

import json
import os
import subprocess

import boto3
import pyarrow.parquet as pq
import pytest

from lakekit import ingest, sync
from lakekit.errors import LakekitError
from tests.backends import BUCKET, error_response
from tests.helpers import LAKEKIT, cli, write_events


def _table_rows(backend_lake, table: str = "analytics.events") -> dict[tuple, int]:
    """Rows per partition as a reader of the table's files sees them; also checks the
    catalog's files are exactly the data files under the locations the catalog lists
    (what Athena, or DuckDB over those locations, reads)."""
    cat = backend_lake.open_catalog()
    try:
        db, name = table.split(".")
        files = cat.list_files(db, name)
        partitions = cat.list_partitions(db, name)
        parts = {p.values for p in partitions}
    finally:
        cat.close()
    st = backend_lake.storage()
    locations = {p.location for p in partitions} if partitions else {cat.get_table(db, name).location}
    in_storage = {e.uri for loc in locations for e in st.list_files(loc) if "/_" not in e.uri[len(loc):]}
    assert {f.uri for f in files} == in_storage
    rows: dict[tuple, int] = {}
    for f in files:
        with st.open_random_access(f.uri) as fh:
            n = pq.read_metadata(fh).num_rows
        assert n == f.rows
        rows[f.partition_values] = rows.get(f.partition_values, 0) + n
    assert set(rows) == parts
    return rows


def test_ingest_registers_every_record_once(backend_lake, tmp_path):
    src = write_events(tmp_path / "ev.jsonl", 3000, seed=1, days=5)
    result = ingest(src, "analytics.events", timestamp_column="ts", warehouse=backend_lake.warehouse,
                    catalog=backend_lake.catalog)
    assert result.records_written == 3000 and result.records_rejected == 0
    rows = _table_rows(backend_lake)
    assert sum(rows.values()) == 3000 and len(rows) == result.partitions_written == 5
    again = ingest(src, "analytics.events", timestamp_column="ts", warehouse=backend_lake.warehouse, catalog=backend_lake.catalog)
    assert again.skipped_sources == [src] and again.records_written == 0
    assert sum(_table_rows(backend_lake).values()) == 3000
    assert not sync("analytics.events", warehouse=backend_lake.warehouse, catalog=backend_lake.catalog).changed


def test_overwrite_partitions_replaces_exactly_the_touched_partitions(backend_lake, tmp_path):
    first = write_events(tmp_path / "a.jsonl", 2000, seed=1, days=4)
    ingest(first, "analytics.events", timestamp_column="ts", warehouse=backend_lake.warehouse, catalog=backend_lake.catalog)
    before = _table_rows(backend_lake)
    second = write_events(tmp_path / "b.jsonl", 500, seed=2, days=2)
    result = ingest(second, "analytics.events", timestamp_column="ts", mode="overwrite-partitions",
                    warehouse=backend_lake.warehouse, catalog=backend_lake.catalog)
    after = _table_rows(backend_lake)
    assert set(after) == set(before)  # the second input's days lie within the first's
    touched = [p for p in after if p in before and after[p] != before[p]]
    assert len(touched) == result.partitions_written
    assert sum(after[p] for p in touched) == 500
    assert all(after[p] == before[p] for p in before if p not in touched)


def test_rejects_land_in_the_warehouse(backend_lake, tmp_path):
    src = write_events(tmp_path / "bad.jsonl", 1000, seed=3, bad_fraction=0.05, days=5)
    result = ingest(src, "analytics.events", timestamp_column="ts", warehouse=backend_lake.warehouse,
                    catalog=backend_lake.catalog)
    assert result.records_rejected > 0 and result.rejects_uri.startswith(backend_lake.warehouse)
    lines = backend_lake.storage().read_bytes(result.rejects_uri).decode().splitlines()
    assert len(lines) == result.records_rejected
    assert set(json.loads(lines[0])) == {"source", "line", "error", "raw"}
    assert sum(_table_rows(backend_lake).values()) == result.records_written


def test_s3_sources_ingest_into_s3_and_glue(s3_lake, tmp_path):
    src = write_events(tmp_path / "ev.jsonl", 1500, seed=4, days=5)
    boto3.client("s3").upload_file(src, BUCKET, "exports/ev.jsonl")
    result = ingest("s3://lake/exports/ev.jsonl", "analytics.events", timestamp_column="ts",
                    warehouse=s3_lake.warehouse, catalog="glue")
    assert result.records_written == 1500
    glue = boto3.client("glue")
    parts = glue.get_partitions(DatabaseName="analytics", TableName="events")["Partitions"]
    assert len(parts) == 5
    folder = f"s3://lake/warehouse/analytics/events/{result.ingest_id}/year="  # the commit's own folder
    assert all(p["StorageDescriptor"]["Location"].startswith(folder) for p in parts)
    again = ingest("s3://lake/exports/ev.jsonl", "analytics.events", timestamp_column="ts",
                   warehouse=s3_lake.warehouse, catalog="glue")
    assert again.skipped_sources == ["s3://lake/exports/ev.jsonl"]


def _faulty_session(operation: str, key_part: str, times: int = 1):
    """A boto3 session whose ``operation`` on keys containing ``key_part`` fails (403,
    not retried) ``times`` times."""
    session = boto3.Session()
    state = {"left": times, "hit": 0}

    def fault(request, **_):
        target = request.url + " " + request.headers.get("x-amz-copy-source", b"").__str__()
        if key_part in target and state["left"] > 0:
            state["left"] -= 1
            state["hit"] += 1
            return error_response(403, "AccessDenied", "injected fault")
        return None

    session.events.register(f"before-send.s3.{operation}", fault)
    return session, state


def _objects(prefix: str) -> list[str]:
    resp = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return [o["Key"] for o in resp.get("Contents", [])]


def test_failed_commit_point_leaves_no_table_and_the_retry_commits_once(s3_lake, tmp_path):
    src = write_events(tmp_path / "ev.jsonl", 2000, seed=5, days=5)
    session, state = _faulty_session("PutObject", "_lakekit/log/")
    with pytest.raises(LakekitError):
        ingest(src, "analytics.events", timestamp_column="ts", warehouse=s3_lake.warehouse, catalog="glue",
               boto3_session=session)
    assert state["hit"] == 1
    glue = boto3.client("glue")
    assert glue.get_databases()["DatabaseList"] == []
    assert _objects("warehouse/analytics/") == []  # its folder, lease and log entry: all gone
    assert _objects("warehouse/_lakekit/pending/") == []

    result = ingest(src, "analytics.events", timestamp_column="ts", warehouse=s3_lake.warehouse, catalog="glue")
    assert result.records_written == 2000 and result.skipped_sources == []
    assert sum(_table_rows(s3_lake).values()) == 2000
    log = [json.loads(boto3.client("s3").get_object(Bucket=BUCKET, Key=k)["Body"].read())
           for k in _objects("warehouse/analytics/events/_lakekit/log/")]
    assert [e["commit_id"] for e in log if e.get("kind") == "commit"] == [result.ingest_id]


def test_failed_commit_on_an_existing_table_leaves_it_as_it_was(s3_lake, tmp_path):
    first = write_events(tmp_path / "a.jsonl", 1000, seed=6, days=3)
    ingest(first, "analytics.events", timestamp_column="ts", warehouse=s3_lake.warehouse, catalog="glue")
    before = _table_rows(s3_lake)
    glue_before = boto3.client("glue").get_partitions(DatabaseName="analytics", TableName="events")["Partitions"]
    second = write_events(tmp_path / "b.jsonl", 1000, seed=7, days=8)
    session, _ = _faulty_session("PutObject", "_lakekit/log/")
    with pytest.raises(LakekitError):
        ingest(second, "analytics.events", timestamp_column="ts", warehouse=s3_lake.warehouse, catalog="glue",
               boto3_session=session)
    assert _table_rows(s3_lake) == before
    glue_after = boto3.client("glue").get_partitions(DatabaseName="analytics", TableName="events")["Partitions"]
    assert sorted(p["Values"] for p in glue_after) == sorted(p["Values"] for p in glue_before)
    ingest(second, "analytics.events", timestamp_column="ts", warehouse=s3_lake.warehouse, catalog="glue")
    assert sum(_table_rows(s3_lake).values()) == 2000


def test_glue_refusing_the_new_locations_after_the_commit_point_is_finished_by_the_next_writer(s3_lake, tmp_path):
    """Past the commit point nothing may fail the ingest (a retry would double it): Glue
    refusing the partitions is a warning; Athena keeps reading the table as it was
    until the next writer publishes them."""
    from tests.readers import athena_rows, flatten

    src = write_events(tmp_path / "ev.jsonl", 1000, seed=8, days=5)
    session = boto3.Session()
    refused = {"n": 0}

    def deny(**_):
        refused["n"] += 1
        return error_response(403, "AccessDeniedException", "injected fault")

    session.events.register("before-send.glue.BatchCreatePartition", deny)
    result = ingest(src, "analytics.events", timestamp_column="ts", warehouse=s3_lake.warehouse, catalog="glue",
                    boto3_session=session)
    assert refused["n"] >= 1 and result.records_written == 1000
    assert result.warnings and "Glue did not take the new locations" in result.warnings[0]
    assert sum(flatten(athena_rows("analytics", "events", "event_id")).values()) == 0  # as it was: empty
    other = write_events(tmp_path / "other.jsonl", 10, seed=9, days=1)
    ingest(other, "analytics.events", timestamp_column="ts", warehouse=s3_lake.warehouse, catalog="glue")
    seen = flatten(athena_rows("analytics", "events", "event_id"))
    assert sum(seen.values()) == 1010 and set(seen.values()) == {1}
    assert sum(_table_rows(s3_lake).values()) == 1010
    again = ingest(src, "analytics.events", timestamp_column="ts", warehouse=s3_lake.warehouse, catalog="glue")
    assert again.skipped_sources == [src]


def test_cli_ingest_and_sync_on_s3_and_glue(s3_lake, tmp_path, aws):
    src = write_events(tmp_path / "ev.jsonl", 500, seed=10, days=5)
    env = {**os.environ, **aws.env()}
    where = ["--warehouse", s3_lake.warehouse, "--catalog", "glue", "--json"]
    run = subprocess.run([LAKEKIT, "ingest", src, "--table", "analytics.events", "--timestamp-column", "ts", *where],
                         capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["records_written"] == 500
    boto3.client("s3").delete_objects(Bucket=BUCKET, Delete={"Objects": [
        {"Key": k} for k in _objects("warehouse/analytics/events/") if "day=" in k and "/_lakekit/" not in k][:1]})
    run = subprocess.run([LAKEKIT, "catalog", "sync", "analytics.events", "--dry-run", *where],
                         capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["dry_run"] is True and len(out["partitions_removed"]) == 1 and out["partitions_added"] == []


def test_projected_table_on_glue_has_parameters_and_no_partitions(s3_lake, tmp_path):
    src = write_events(tmp_path / "ev.jsonl", 800, seed=11, days=3)
    ingest(src, "analytics.events", timestamp_column="ts", projection=True,
           warehouse=s3_lake.warehouse, catalog="glue")
    glue = boto3.client("glue")
    params = glue.get_table(DatabaseName="analytics", Name="events")["Table"]["Parameters"]
    assert params["projection.enabled"] == "true" and params["projection.year.digits"] == "4"
    assert params["storage.location.template"] == (
        "s3://lake/warehouse/analytics/events/year=${year}/month=${month}/day=${day}")
    assert glue.get_partitions(DatabaseName="analytics", TableName="events")["Partitions"] == []
    assert sum(_table_rows(s3_lake).values()) == 800  # partitions known to lakekit from its manifest
    assert not sync("analytics.events", warehouse=s3_lake.warehouse, catalog="glue").changed


def test_tables_and_describe_read_either_catalog(backend_lake, tmp_path):
    src = write_events(tmp_path / "ev.jsonl", 700, seed=12, days=2)
    ingest(src, "analytics.events", timestamp_column="ts", warehouse=backend_lake.warehouse, catalog=backend_lake.catalog)
    where = ["--warehouse", backend_lake.warehouse, "--catalog", backend_lake.catalog, "--json"]
    res = cli("tables", *where)
    assert res.exit_code == 0, res.output
    [row] = json.loads(res.stdout)
    assert row["table"] == "analytics.events" and row["partitions"] == 2 and row["rows"] == 700
    res = cli("describe", "analytics.events", *where)
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    assert info["location"] == f"{backend_lake.warehouse}/analytics/events"
    assert "ts" in json.dumps(info["columns"]) and info["rows"] == 700
