"""S3 storage against the moto server: the methods the ingest uses, multipart
uploads, retries on throttling, the completed-size check, copy-based moves."""

from __future__ import annotations

import os

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lakekit.storage.s3 as s3_module
import lakekit.storage.s3_upload as upload_module
from lakekit.errors import StorageError
from lakekit.storage import S3Upload, Storage
from tests.backends import BUCKET, error_response


def test_round_trip_of_the_methods_the_ingest_uses(s3_lake):
    st = Storage(s3_lake.warehouse)
    a = st.uri("db", "t", "a.bin")
    st.write_bytes(a, b"hello")
    assert st.exists(a) and st.read_bytes(a) == b"hello" and st.size(a) == 5
    with st.open_output(st.uri("db", "t", "b.bin")) as f:
        f.write(b"x" * 1000)
    assert sorted((e.uri, e.size) for e in st.list_files(st.uri("db"))) == [(a, 5), (st.uri("db", "t", "b.bin"), 1000)]
    assert st.list_dirs(st.uri("db")) == [st.uri("db", "t")]
    st.move(a, st.uri("db", "u", "a.bin"))
    assert not st.exists(a) and st.read_bytes(st.uri("db", "u", "a.bin")) == b"hello"
    st.delete_dir(st.uri("db"))
    assert list(st.list_files(st.uri("db"))) == []
    st.delete(a)  # missing is fine
    with pytest.raises(StorageError, match="does not exist"):
        st.delete(a, missing_ok=False)


def test_parquet_written_through_open_output_reads_back(s3_lake):
    st = Storage(s3_lake.warehouse)
    table = pa.table({"x": list(range(10_000)), "s": [str(i) for i in range(10_000)]})
    sink = st.open_output(st.uri("t.parquet"))
    writer = pq.ParquetWriter(sink, table.schema, compression="zstd")
    writer.write_table(table)
    writer.close()
    sink.close()
    with st.open_random_access(st.uri("t.parquet")) as f:
        assert pq.read_table(f).equals(table)


def test_big_file_goes_up_in_parts_and_keeps_every_byte(s3_lake, monkeypatch):
    monkeypatch.setattr(upload_module, "UPLOAD_PART_SIZE", 5 << 20)  # S3's smallest part
    st = Storage(s3_lake.warehouse)
    uri = st.uri("big.bin")
    chunk = os.urandom(1 << 20)
    with st.open_output(uri) as f:
        for _ in range(24):
            f.write(chunk)
    head = boto3.client("s3").head_object(Bucket=BUCKET, Key="warehouse/big.bin")
    assert head["ContentLength"] == 24 << 20
    assert head["ETag"].endswith('-5"')  # a multipart upload's ETag is "<md5>-<parts>"
    st.move(uri, st.uri("moved", "big.bin"))
    assert st.size(st.uri("moved", "big.bin")) == 24 << 20 and not st.exists(uri)


def test_truncated_upload_is_an_error_not_a_file(s3_lake):
    st = Storage(s3_lake.warehouse)
    client = st.s3_client()

    def lose_the_tail(request, **_):
        # the network loses the end of the object: S3 stores fewer bytes than were sent
        body = request.body.getvalue() if hasattr(request.body, "getvalue") else request.body
        if body and len(body) > 150:
            request.body = body[:100]
            request.headers["Content-Length"] = "100"
            for name in [h for h in request.headers if h.lower().startswith("x-amz-checksum") or h.lower() == "content-md5"]:
                del request.headers[name]

    client.meta.events.register("before-send.s3.PutObject", lose_the_tail)
    try:
        out = S3Upload(client, st.uri("short.bin"))
        out.write(b"a" * 100)
        out.write(b"b" * 100)
        with pytest.raises(StorageError, match=r"incomplete: wrote 200 bytes, S3 holds 100 bytes"):
            out.close()
    finally:
        client.meta.events.unregister("before-send.s3.PutObject", lose_the_tail)


def test_failed_writer_leaves_no_object_and_no_parts(s3_lake, monkeypatch):
    monkeypatch.setattr(upload_module, "UPLOAD_PART_SIZE", 5 << 20)
    st = Storage(s3_lake.warehouse)
    with pytest.raises(RuntimeError), st.open_output(st.uri("half.bin")) as f:
        f.write(os.urandom(6 << 20))  # one part has gone up
        raise RuntimeError("writer died")
    assert not st.exists(st.uri("half.bin"))
    assert boto3.client("s3").list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_throttled_requests_are_retried_with_backoff(s3_lake, monkeypatch):
    session = boto3.Session()
    st = Storage(s3_lake.warehouse, session)
    st.write_bytes(st.uri("a.bin"), b"data")
    calls = {"n": 0}

    def slow_down(request, **_):
        if "x-amz-copy-source" in request.headers and calls["n"] < 2:
            calls["n"] += 1
            return error_response(503, "SlowDown", "Please reduce your request rate.")
        return None

    st.s3_client().meta.events.register("before-send.s3.CopyObject", slow_down)
    st.move(st.uri("a.bin"), st.uri("b.bin"))
    assert calls["n"] == 2
    assert st.read_bytes(st.uri("b.bin")) == b"data" and not st.exists(st.uri("a.bin"))


def test_errors_are_one_line_storage_errors(s3_lake):
    st = Storage("s3://no-such-bucket/lake")
    with pytest.raises(StorageError) as info:
        st.write_bytes(st.uri("x"), b"1")
    assert "NoSuchBucket" in str(info.value) and "\n" not in str(info.value)


def test_local_storage_reads_s3_sources_and_s3_storage_reads_local_ones(s3_lake, tmp_path):
    s3 = Storage(s3_lake.warehouse)
    s3.write_bytes(s3.uri("src.jsonl"), b'{"a": 1}\n')
    local = Storage(str(tmp_path))
    assert local.read_bytes(s3.uri("src.jsonl")) == b'{"a": 1}\n'
    (tmp_path / "f.txt").write_bytes(b"local")
    assert s3.read_bytes(str(tmp_path / "f.txt")) == b"local"
    assert s3.etag(s3.uri("src.jsonl")) and local.etag(str(tmp_path / "f.txt")) is None


def test_objects_over_the_copy_limit_are_copied_in_parts(s3_lake, monkeypatch):
    monkeypatch.setattr(s3_module, "MULTIPART_COPY_PART", 5 << 20)
    st = Storage(s3_lake.warehouse)
    data = os.urandom(12 << 20)
    st.write_bytes(st.uri("huge.bin"), data)
    refused = {"n": 0}

    def over_the_limit(request, **_):
        # S3 refuses CopyObject for sources over 5 GiB; pretend this one is
        if refused["n"] == 0 and "x-amz-copy-source-range" not in request.headers:
            refused["n"] += 1
            return error_response(400, "InvalidRequest", "The specified copy source is larger than the maximum "
                                                         "allowable size for a copy source: 5368709120")
        return None

    st.s3_client().meta.events.register("before-send.s3.CopyObject", over_the_limit)
    try:
        st.move(st.uri("huge.bin"), st.uri("moved", "huge.bin"))
    finally:
        st.s3_client().meta.events.unregister("before-send.s3.CopyObject", over_the_limit)
    assert refused["n"] == 1
    head = boto3.client("s3").head_object(Bucket=BUCKET, Key="warehouse/moved/huge.bin")
    assert head["ETag"].endswith('-3"')  # three UploadPartCopy parts
    assert st.read_bytes(st.uri("moved", "huge.bin")) == data and not st.exists(st.uri("huge.bin"))
