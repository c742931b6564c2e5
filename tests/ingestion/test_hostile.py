"""Hostile input: every bad record lands in the rejects file, or the command stops
with exit 2 and one line; the counts always reconcile."""

from __future__ import annotations

import json
import os

import pytest

import lakekit
from lakekit.errors import InputError, RejectLimitExceeded, UnsafeNameError, UsageError
from lakekit.names import check_partition_value
from tests.helpers import catalog_of, read_back_pyarrow, run_lakekit, visible_data_files, write_jsonl

GOOD = '{"id": %d, "ts": "2024-03-07T10:00:00Z", "name": "ok"}'


def _rejects(result) -> list[dict]:
    if not result.rejects_uri:
        return []
    return [json.loads(line) for line in open(result.rejects_uri, encoding="utf-8")]


def _ingest_bytes(tmp_path, warehouse, data: bytes, **kwargs):
    path = tmp_path / kwargs.pop("name", "in.jsonl")
    path.write_bytes(data)
    kwargs.setdefault("timestamp_column", "ts")
    result = lakekit.ingest(str(path), "h.t", warehouse=warehouse, **kwargs)
    assert result.records_read == result.records_written + result.records_rejected
    return result, _rejects(result)


def _lines(*lines: str | bytes) -> bytes:
    return b"".join((line if isinstance(line, bytes) else line.encode()) + b"\n" for line in lines)


CASES = {
    "malformed json": (b'{"id": 3, "ts": "2024-03-07T10:00:00Z"', "truncated"),
    "malformed inside": (b'{"id": 3, "ts": "2024-03-07T10:00:00Z" "x": 1}', "Missing a comma"),
    "not an object": (b"[1, 2, 3]", "does not start with"),
    "array of objects": (b"[{}]", "does not start with"),
    "invalid utf-8": (b'{"id": 3, "ts": "2024-03-07T10:00:00Z", "name": "\xff\xfe"}', "invalid UTF-8"),
    "wrong type": (b'{"id": "three", "ts": "2024-03-07T10:00:00Z"}', "changed from number to string"),
    "missing timestamp": (b'{"id": 3, "name": "no ts"}', "timestamp column 'ts' is null"),
    "unparseable timestamp": (b'{"id": 3, "ts": "yesterday"}', "cannot parse timestamp in column 'ts': 'yesterday'"),
    "null timestamp": (b'{"id": 3, "ts": null}', "timestamp column 'ts' is null"),
    "duplicate key": (b'{"id": 3, "id": 4, "ts": "2024-03-07T10:00:00Z"}', "specified twice"),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("block_size", [1 << 20, 64])
def test_bad_record_goes_to_rejects_with_line_and_raw(tmp_path, warehouse, case, block_size):
    bad, message = CASES[case]
    data = _lines(*(GOOD % i for i in range(5)), bad, *(GOOD % i for i in range(5, 10)))
    result, rejects = _ingest_bytes(tmp_path, warehouse, data, block_size=block_size)
    assert (result.records_read, result.records_written, result.records_rejected) == (11, 10, 1)
    assert len(rejects) == 1
    rej = rejects[0]
    assert rej["line"] == 6
    assert rej["source"].endswith("in.jsonl")
    assert message in rej["error"]
    assert rej["raw"] == bad.decode("utf-8", "backslashreplace")
    ids = sorted(read_back_pyarrow(os.path.join(warehouse, "h", "t"))["id"].to_pylist())
    assert ids == list(range(10))


def test_later_value_that_does_not_fit_the_stored_type_is_a_reject(tmp_path, warehouse):
    _ingest_bytes(tmp_path, warehouse, _lines(GOOD % 1), name="first.jsonl")
    result, rejects = _ingest_bytes(
        tmp_path, warehouse, _lines(GOOD % 2, '{"id": 3.5, "ts": "2024-03-07T10:00:00Z"}', GOOD % 4), name="second.jsonl")
    assert (result.records_written, result.records_rejected) == (2, 1)
    assert rejects[0]["line"] == 2 and "value with a fraction does not fit column 'id' of type bigint: 3.5" in rejects[0]["error"]
    assert catalog_of(warehouse).get_table("h", "t").column("id").type == "bigint"


def test_many_bad_lines_in_one_block_keep_every_good_line(tmp_path, warehouse):
    lines = []
    for i in range(1000):
        lines.append(GOOD % i if i % 7 else f'{{"id": {i}, "ts": "2024-03-07T10:00:00Z"')
    result, rejects = _ingest_bytes(tmp_path, warehouse, _lines(*lines))
    assert result.records_rejected == len([i for i in range(1000) if i % 7 == 0])
    assert [r["line"] for r in rejects] == [i + 1 for i in range(1000) if i % 7 == 0]
    ids = sorted(read_back_pyarrow(os.path.join(warehouse, "h", "t"))["id"].to_pylist())
    assert ids == [i for i in range(1000) if i % 7]


def test_a_10_mb_line(tmp_path, warehouse):
    big_value = "x" * (10 << 20)
    good_big = json.dumps({"id": 100, "ts": "2024-03-07T10:00:00Z", "name": big_value})
    garbage_big = "{" + "y" * (10 << 20)
    data = _lines(GOOD % 1, good_big, garbage_big, GOOD % 2)
    result, rejects = _ingest_bytes(tmp_path, warehouse, data, block_size=1 << 20)
    assert (result.records_read, result.records_written, result.records_rejected) == (4, 3, 1)
    assert rejects[0]["line"] == 3 and len(rejects[0]["raw"]) == len(garbage_big)
    names = {r["id"]: r["name"] for r in read_back_pyarrow(os.path.join(warehouse, "h", "t")).to_pylist()}
    assert len(names[100]) == 10 << 20


def test_blank_lines_are_not_records(tmp_path, warehouse):
    result, _ = _ingest_bytes(tmp_path, warehouse, _lines(GOOD % 1, "", "   ", GOOD % 2))
    assert (result.records_read, result.records_written) == (2, 2)


def test_years_outside_four_digits_are_rejected_not_written(tmp_path, warehouse):
    result, rejects = _ingest_bytes(tmp_path, warehouse, _lines(GOOD % 1, '{"id": 2, "ts": "10000-01-01T00:00:00Z"}'))
    assert result.records_rejected == 1 and rejects[0]["line"] == 2


def test_csv_bad_rows(tmp_path, warehouse):
    # The table's types come from a first file; a later text id does not fit bigint.
    _ingest_bytes(tmp_path, warehouse, b"id,ts,score\n0,2024-03-07T00:00:00Z,0.5\n", name="first.csv")
    data = (b"id,ts,score\n1,2024-03-07T00:00:00Z,1.5\n2,2024-03-07T00:00:00Z\n3,not-a-time,2.5\n"
            b"x,2024-03-07T00:00:00Z,3\n4,2024-03-07T00:00:00Z,4\n")
    result, rejects = _ingest_bytes(tmp_path, warehouse, data, name="in.csv")
    assert (result.records_read, result.records_written, result.records_rejected) == (5, 2, 3)
    assert [r["line"] for r in rejects] == [3, 4, 5]
    assert "expected 3 fields" in rejects[0]["error"]


def test_max_rejects_aborts_and_commits_nothing(tmp_path, warehouse):
    data = _lines(*(GOOD % i for i in range(5)), "{bad", "{bad", "{bad")
    path = tmp_path / "in.jsonl"
    path.write_bytes(data)
    with pytest.raises(RejectLimitExceeded, match="more than 2 records rejected"):
        lakekit.ingest(str(path), "h.t", timestamp_column="ts", warehouse=warehouse, max_rejects=2)
    assert visible_data_files(warehouse, "h", "t") == []
    assert catalog_of(warehouse).get_table("h", "t") is None
    assert os.listdir(os.path.join(warehouse, "_lakekit", "pending")) == []
    assert not os.path.exists(os.path.join(warehouse, "h", "t"))  # its commit folder went with it
    ok = lakekit.ingest(str(path), "h.t", timestamp_column="ts", warehouse=warehouse, max_rejects=3)
    assert ok.records_rejected == 3 and ok.records_written == 5


@pytest.mark.parametrize("table", ["../etc.passwd", "a/b.c", "db.t/../../x", "db..t", "db.t\x00", "db.ta ble", "..", "db.."])
def test_table_names_that_could_escape_are_refused(tmp_path, warehouse, table):
    src = write_jsonl(tmp_path / "e.jsonl", [{"id": 1, "ts": "2024-03-07T00:00:00Z"}])
    with pytest.raises((UnsafeNameError, UsageError)):
        lakekit.ingest(src, table, timestamp_column="ts", warehouse=warehouse)
    assert os.listdir(warehouse) in ([], ["_lakekit"])


@pytest.mark.parametrize("value", ["../x", "a/b", "..", "", "a\\b", "x=y", "a\nb", "."])
def test_partition_values_that_could_escape_are_refused(value):
    with pytest.raises(UnsafeNameError):
        check_partition_value("day", value)


def test_field_named_like_a_partition_key_stops_with_a_clear_error(tmp_path, warehouse):
    src = write_jsonl(tmp_path / "e.jsonl", [{"id": 1, "ts": "2024-03-07T00:00:00Z", "Day": 7}])
    with pytest.raises(InputError, match="source field 'Day' clashes with partition key 'day'.*--partition-by year,month"):
        lakekit.ingest(src, "h.t", timestamp_column="ts", warehouse=warehouse)
    assert catalog_of(warehouse).get_table("h", "t") is None
    assert visible_data_files(warehouse, "h", "t") == []
    # the way out the message names works
    r = lakekit.ingest(src, "h.t2", timestamp_column="ts", partition_by="year,month", warehouse=warehouse)
    assert r.records_written == 1
    # the field is the column day (its name folded, as Athena would), beside year and month
    import pyarrow.parquet as pq

    assert pq.read_table(visible_data_files(warehouse, "h", "t2")[0]).column("day").to_pylist() == [7]


def test_missing_timestamp_column_everywhere_stops_up_front(tmp_path, warehouse):
    src = write_jsonl(tmp_path / "e.jsonl", [{"id": 1, "when": "2024-03-07T00:00:00Z"}])
    with pytest.raises(InputError, match="timestamp column 'ts' is not in"):
        lakekit.ingest(src, "h.t", timestamp_column="ts", warehouse=warehouse)


@pytest.mark.parametrize("args,message", [
    (["nope.jsonl", "--table", "a.b"], "source nope.jsonl not found"),
    (["{src}", "--table", "../x.y"], "must be written DB.TABLE"),
    (["{src}", "--table", "a-b.c"], "is not allowed"),
    (["{src}", "--table", "a.b", "--target-file-size", "big"], "is not a size"),
    (["{src}", "--table", "a.b", "--partition-by", "hour"], "is not a time grain"),
    (["{src}", "--table", "a.b", "--timestamp-column", "ts", "--partition-by", "day"], "is not a time grain"),
    (["{src}", "--table", "a.b", "--layout", "missing.yaml"], "layout file missing.yaml not found"),
])
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, warehouse, args, message):
    src = write_jsonl(tmp_path / "e.jsonl", [{"id": 1, "ts": "2024-03-07T00:00:00Z"}])
    proc = run_lakekit("ingest", *[a.format(src=src) for a in args], "--warehouse", warehouse)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_invalid_utf8_in_a_csv_block_keeps_quoted_line_breaks_whole(tmp_path, warehouse):
    data = (b'id,ts,note\n1,2024-03-07T00:00:00Z,"first line\nsecond line"\n'
            b'2,2024-03-07T00:00:00Z,"bad \xff byte"\n3,2024-03-07T00:00:00Z,plain\n')
    result, rejects = _ingest_bytes(tmp_path, warehouse, data, name="in.csv")
    assert (result.records_read, result.records_written, result.records_rejected) == (3, 2, 1)
    assert rejects[0]["line"] == 4 and "invalid UTF-8" in rejects[0]["error"]
    notes = {r["id"]: r["note"] for r in read_back_pyarrow(os.path.join(warehouse, "h", "t")).to_pylist()}
    assert notes == {1: "first line\nsecond line", 3: "plain"}
