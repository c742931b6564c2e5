"""`--transform MODULE:FUNCTION` (Lambda-style results, failures are rejects) and
`--backup URI` (the raw input, gzip, beside the table)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import lakekit
from tests.helpers import LAKEKIT, write_jsonl
from tests.ingestion.stream_helpers import StreamProcess, record, table_column

TRANSFORMS = textwrap.dedent('''
    from lakekit.ingestion.transform import Ok, ProcessingFailed

    def enrich(records):
        out = []
        for r in records:
            if r.get("n") == 3:
                out.append(ProcessingFailed("three is not allowed"))
            elif r.get("n") == 5:
                out.append(Ok({**r, "tag": "five"}))
            else:
                out.append({**r, "tag": "t%d" % r["n"]})
        return out

    def picky(records):
        # raises on a whole batch that holds n == 4: lakekit narrows it down to that record
        if any(r.get("n") == 4 for r in records):
            raise ValueError("cannot handle four")
        return [{**r, "ok": True} for r in records]

    def wrong_length(records):
        return records[:-1]

    def bad_time(records):
        return [{**r, "ts": "never"} if r["n"] == 2 else r for r in records]
''')


@pytest.fixture
def transforms(tmp_path, monkeypatch):
    (tmp_path / "mytransforms.py").write_text(TRANSFORMS)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("mytransforms", None)
    return tmp_path


def _source(tmp_path, n=6):
    return write_jsonl(tmp_path / "in.jsonl", [{"n": i, "ts": "2024-05-01T00:00:00Z"} for i in range(1, n + 1)])


def _rejects(result):
    with open(result.rejects_uri) as f:
        return [json.loads(line) for line in f]


def test_ok_failed_and_plain_dict_results(tmp_path, warehouse, transforms):
    src = _source(tmp_path)
    result = lakekit.ingest(src, "s.t", timestamp_column="ts", warehouse=warehouse, transform="mytransforms:enrich")
    assert (result.records_read, result.records_written, result.records_rejected) == (6, 5, 1)
    rows = lakekit.query("SELECT n, tag FROM s.t ORDER BY n", warehouse=warehouse).to_pylist()
    assert rows == [{"n": 1, "tag": "t1"}, {"n": 2, "tag": "t2"}, {"n": 4, "tag": "t4"}, {"n": 5, "tag": "five"},
                    {"n": 6, "tag": "t6"}]
    raw_line_3 = Path(src).read_text().splitlines()[2]
    assert _rejects(result) == [{"source": src, "line": 3, "error": "transform: three is not allowed", "raw": raw_line_3}]
    assert result.reject_errors == [{"error": "transform", "count": 1}]


def test_a_raising_function_rejects_only_the_records_it_fails_on(tmp_path, warehouse, transforms):
    result = lakekit.ingest(_source(tmp_path), "s.t", timestamp_column="ts", warehouse=warehouse,
                            transform="mytransforms:picky")
    assert (result.records_written, result.records_rejected) == (5, 1)
    assert [(r["line"], r["error"]) for r in _rejects(result)] == [(4, "transform: ValueError: cannot handle four")]
    assert sorted(table_column(warehouse, "n")) == [1, 2, 3, 5, 6]


def test_a_result_list_of_the_wrong_length_rejects_every_record_it_covers(tmp_path, warehouse, transforms):
    with pytest.raises(lakekit.errors.NothingWritten):
        lakekit.ingest(_source(tmp_path), "s.t", timestamp_column="ts", warehouse=warehouse,
                       transform="mytransforms:wrong_length")


def test_a_transformed_record_refused_later_keeps_its_raw_text(tmp_path, warehouse, transforms):
    src = _source(tmp_path, 3)
    result = lakekit.ingest(src, "s.t", timestamp_column="ts", warehouse=warehouse, transform="mytransforms:bad_time")
    assert (result.records_written, result.records_rejected) == (2, 1)
    [reject] = _rejects(result)
    assert reject["line"] == 2 and reject["raw"] == Path(src).read_text().splitlines()[1]


def test_transform_flag_errors(tmp_path, warehouse, transforms):
    csv = tmp_path / "a.csv"
    csv.write_text("n,ts\n1,2024-05-01T00:00:00Z\n")
    base = [LAKEKIT, "ingest", "--table", "s.t", "--timestamp-column", "ts", "--warehouse", warehouse]
    env = {**os.environ, "PYTHONPATH": str(transforms)}
    for args, message in [
        ([str(csv), "--transform", "mytransforms:enrich"], "--transform works on JSON Lines records"),
        ([_source(tmp_path), "--transform", "mytransforms"], "write it as MODULE:FUNCTION"),
        ([_source(tmp_path), "--transform", "nosuchmodule:f"], "cannot import nosuchmodule"),
        ([_source(tmp_path), "--transform", "mytransforms:nope"], "has no function nope"),
    ]:
        out = subprocess.run(base + args, capture_output=True, text=True, env=env)
        assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_stream_with_transform_and_backup(tmp_path, warehouse, transforms):
    backup = tmp_path / "backup"
    env = {"PYTHONPATH": str(transforms)}
    stream = StreamProcess(warehouse, "--buffer-interval", "0.3s", "--transform", "mytransforms:enrich",
                           "--backup", str(backup), env=env)
    sent = []
    for wave in range(2):
        data = b"".join(record(n) for n in range(wave * 3 + 1, wave * 3 + 4))
        sent.append(data)
        stream.write(data)
        stream.next_doc()
    stream.close_input()
    assert stream.finish()[0] == 0
    assert sorted(table_column(warehouse, "n")) == [1, 2, 4, 5, 6]
    assert sorted(table_column(warehouse, "tag")) == sorted(["t1", "t2", "t4", "five", "t6"])
    backups = sorted(os.path.join(d, f) for d, _, fs in os.walk(backup) for f in fs)
    assert all(b.endswith(".jsonl.gz") and os.sep + os.path.join("s", "t") + os.sep in b for b in backups)
    # The raw input, before the transform, every byte of it once.
    assert b"".join(gzip.decompress(Path(b).read_bytes()) for b in backups) == b"".join(sent)


def test_file_backup_is_the_source_compressed(tmp_path, warehouse):
    src = _source(tmp_path)
    backup = tmp_path / "backup"
    lakekit.ingest(src, "s.t", timestamp_column="ts", warehouse=warehouse, backup=str(backup))
    [copy] = [os.path.join(d, f) for d, _, fs in os.walk(backup) for f in fs]
    assert copy.endswith("-in.jsonl.gz") and gzip.decompress(Path(copy).read_bytes()) == Path(src).read_bytes()


def test_backup_to_s3(tmp_path, warehouse, aws):
    import boto3

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="backups")
    src = _source(tmp_path)
    lakekit.ingest(src, "s.t", timestamp_column="ts", warehouse=warehouse, backup="s3://backups/raw-backup")
    [obj] = s3.list_objects_v2(Bucket="backups")["Contents"]
    assert obj["Key"].startswith("raw-backup/s/t/sources/")
    body = s3.get_object(Bucket="backups", Key=obj["Key"])["Body"].read()
    assert gzip.decompress(body) == Path(src).read_bytes()
