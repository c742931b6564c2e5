"""The ingest, tables and describe commands through click, with exact output."""

from __future__ import annotations

import json

from tests.helpers import cli, write_jsonl


def _src(tmp_path):
    return write_jsonl(tmp_path / "e.jsonl", [
        {"id": 1, "ts": "2024-03-07T10:00:00Z", "amount": 1.5},
        {"id": 2, "ts": "2024-03-08T10:00:00Z", "amount": 2.5},
        "{broken",
    ])


def test_ingest_json_output_has_exactly_the_spec_keys(tmp_path, warehouse):
    result = cli("ingest", _src(tmp_path), "--table", "a.t", "--timestamp-column", "ts",
                                       "--warehouse", warehouse, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert list(doc) == ["table", "ingest_id", "records_read", "records_written", "records_rejected",
                         "files_written", "bytes_written", "partitions_written", "rejects_uri",
                         "skipped_sources", "seconds", "renamed_columns", "reject_errors"]
    assert (doc["table"], doc["records_read"], doc["records_written"], doc["records_rejected"]) == ("a.t", 3, 2, 1)
    assert doc["partitions_written"] == 2 and doc["files_written"] == 2
    assert doc["rejects_uri"].startswith(warehouse + "/_lakekit/rejects/a/t/")


def test_ingest_summary_and_reject_limit_exit_code(tmp_path, warehouse):
    ok = cli("ingest", _src(tmp_path), "--table", "a.t", "--timestamp-column", "ts", "--warehouse", warehouse)
    assert ok.exit_code == 0
    assert "a.t: read 3 records, wrote 2 in 2 file(s)" in ok.stderr
    assert "rejected records: " in ok.stderr
    over = cli("ingest", _src(tmp_path), "--table", "a.u", "--timestamp-column", "ts",
                                "--warehouse", warehouse, "--max-rejects", "0")
    assert over.exit_code == 1
    assert over.stderr.startswith("error: more than 0 records rejected (--max-rejects 0): 1 x malformed JSON")
    assert "nothing was committed" in over.stderr and len(over.stderr.strip().splitlines()) == 1


def test_tables_and_describe(tmp_path, warehouse):
    cli("ingest", _src(tmp_path), "--table", "a.t", "--timestamp-column", "ts", "--warehouse", warehouse)
    tables = json.loads(cli("tables", "--warehouse", warehouse, "--json").stdout)
    assert [(t["table"], t["partitions"], t["files"], t["rows"]) for t in tables] == [("a.t", 2, 2, 2)]
    desc = json.loads(cli("describe", "a.t", "--warehouse", warehouse, "--json").stdout)
    assert [c["name"] for c in desc["columns"]] == ["id", "ts", "amount"]
    assert [p["name"] for p in desc["partitions"]] == ["year=2024/month=03/day=07", "year=2024/month=03/day=08"]
    assert desc["rows"] == 2 and desc["bytes"] == sum(t["bytes"] for t in tables)
    text = cli("describe", "a.t", "--warehouse", warehouse).stdout
    assert "year=2024/month=03/day=08" in text and "partition key" in text
    missing = cli("describe", "a.tt", "--warehouse", warehouse)
    assert missing.exit_code == 2
    assert missing.stderr.strip() == f"error: table a.tt not found in catalog local ({warehouse}); did you mean a.t?"
