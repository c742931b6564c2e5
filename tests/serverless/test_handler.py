"""`lakekit.serverless.handler` against the moto server: S3 events in, one table out,
16 invocations at once, each object's records exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import boto3
import pytest

import lakekit
from lakekit.serverless import handler, objects_of

RAW = "raw-zone"
LAKE = "lake-zone"
OBJECTS = 160
PER_OBJECT = 25

_INVOKE = r"""
import json, sys
from lakekit.serverless import handler
for key, etag in json.loads(sys.argv[1]):
    event = {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                          "eventName": "ObjectCreated:Put",
                          "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": "RAW", "arn": "arn:aws:s3:::RAW"},
                                 "object": {"key": key, "eTag": etag, "size": 1}}}]}
    handler(event, None)
""".replace("RAW", RAW)


def _key(i: int) -> str:
    return f"events/day {i % 3}/part+{i:04d}.jsonl"  # a space and a '+': keys arrive URL-encoded


def _event_key(key: str) -> str:
    from urllib.parse import quote_plus

    return quote_plus(key, safe="/")


@pytest.fixture
def raw_objects(aws, monkeypatch):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=RAW)
    s3.create_bucket(Bucket=LAKE)
    expected = {}
    for i in range(OBJECTS):
        lines = []
        for j in range(PER_OBJECT):
            rid = i * 1000 + j
            expected[rid] = (f"o{i}", float(j))
            lines.append(json.dumps({"id": rid, "src": f"o{i}", "v": float(j), "ts": f"2024-06-0{1 + i % 3}T10:00:00Z"}))
        if i == 7:
            lines.append("{not json")  # one reject, in the table's rejects prefix
        s3.put_object(Bucket=RAW, Key=_key(i), Body=("\n".join(lines) + "\n").encode())
    env = {"LAKEKIT_TABLE": "raw.events", "LAKEKIT_TIMESTAMP_COLUMN": "ts",
           "LAKEKIT_WAREHOUSE": f"s3://{LAKE}/warehouse", "LAKEKIT_CATALOG": "glue"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return expected


def _etags() -> list[tuple[str, str]]:
    s3 = boto3.client("s3")
    out = []
    for i in range(OBJECTS):
        head = s3.head_object(Bucket=RAW, Key=_key(i))
        out.append((_event_key(_key(i)), head["ETag"].strip('"')))
    return out


def _table_rows() -> dict[int, tuple]:
    rows = lakekit.query("SELECT id, src, v FROM raw.events").to_pylist()
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "a record is in the table twice"
    return {r["id"]: (r["src"], r["v"]) for r in rows}


def test_sixteen_concurrent_invocations_over_160_objects(raw_objects):
    keys = _etags()
    procs = [subprocess.Popen([sys.executable, "-c", _INVOKE, json.dumps(keys[n::16])], env=os.environ.copy(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in range(16)]
    logs = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-2000:]
        logs.extend(json.loads(line) for line in out.splitlines())
    # One JSON line per invocation, each naming its object once, ingested.
    assert len(logs) == OBJECTS
    statuses = [o["status"] for log in logs for o in log["objects"]]
    assert statuses == ["ingested"] * OBJECTS
    assert _table_rows() == raw_objects
    assert sum(log["records_rejected"] for log in logs) == 1
    [rejected] = [o for log in logs for o in log["objects"] if o["records_rejected"]]
    assert rejected["rejects_uri"].startswith(f"s3://{LAKE}/warehouse/_lakekit/rejects/raw/events/")
    body = boto3.client("s3").get_object(Bucket=LAKE, Key=rejected["rejects_uri"].split("/", 3)[3])["Body"].read()
    assert json.loads(body)["raw"] == "{not json"


def test_a_retried_or_duplicated_event_commits_once(raw_objects, capsys):
    key, etag = _etags()[3]
    event = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                          "s3": {"bucket": {"name": RAW}, "object": {"key": key, "eTag": etag}}}] * 2}
    first = handler(event, None)
    assert [o["status"] for o in first["objects"]] == ["ingested", "skipped"]
    again = handler(event, None)
    assert [o["status"] for o in again["objects"]] == ["skipped", "skipped"]
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and json.loads(lines[0])["records_written"] == PER_OBJECT
    assert len(_table_rows()) == PER_OBJECT
    # The CLI knows the object by the same ETag.
    cli = lakekit.ingest(f"s3://{RAW}/{_key(3)}", "raw.events")
    assert cli.skipped_sources == [f"s3://{RAW}/{_key(3)}"]


def test_concurrent_duplicates_of_one_event_commit_it_once(raw_objects):
    keys = _etags()[:1] * 4
    procs = [subprocess.Popen([sys.executable, "-c", _INVOKE, json.dumps(keys)], env=os.environ.copy(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
    assert len(_table_rows()) == PER_OBJECT


def test_eventbridge_events_missing_objects_and_bad_settings(raw_objects, monkeypatch):
    s3 = boto3.client("s3")
    s3.put_object(Bucket=RAW, Key="events/eb.jsonl", Body=b'{"id": 1, "ts": "2024-06-01T00:00:00Z"}\n')
    eb = {"detail-type": "Object Created", "source": "aws.s3",
          "detail": {"bucket": {"name": RAW}, "object": {"key": "events/eb.jsonl", "etag": "x"}}}
    assert objects_of(eb)[0].uri == f"s3://{RAW}/events/eb.jsonl"
    assert handler(eb)["records_written"] == 1
    gone = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                         "s3": {"bucket": {"name": RAW}, "object": {"key": "events/deleted.jsonl", "eTag": "y"}}}]}
    assert handler(gone)["objects"][0]["status"] == "missing"
    monkeypatch.delenv("LAKEKIT_TABLE")
    with pytest.raises(lakekit.errors.UsageError, match="LAKEKIT_TABLE is not set"):
        handler(eb)
