"""Sources hashed early (while the command starts) hash exactly as sha256 of their bytes."""

from __future__ import annotations

import hashlib
import json

import lakekit
from lakekit.ingestion.hashing import CHUNK, start_hashing


def test_early_hashes_are_the_sha256_of_each_local_file(tmp_path):
    small = tmp_path / "small.jsonl"
    small.write_bytes(b'{"a": 1}\n')
    big = tmp_path / "big.jsonl.gz"
    big.write_bytes(bytes(range(256)) * (CHUNK // 128 + 7))  # spans several chunks, not a whole one
    early = start_hashing([str(small), str(big), str(tmp_path / "missing.jsonl"), "-", "s3://b/k.jsonl",
                           str(tmp_path)])
    for path in (small, big):
        assert early.get(str(path)) == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert early.get(str(tmp_path / "missing.jsonl")) is None  # not a file: hashed (or refused) later
    assert early.get(str(tmp_path)) is None


def test_a_source_hashed_early_is_skipped_the_second_time(tmp_path):
    source = tmp_path / "e.jsonl"
    source.write_text("".join(json.dumps({"id": i, "ts": "2024-03-07T10:00:00Z"}) + "\n" for i in range(50)))
    first = lakekit.ingest(str(source), "demo.events", timestamp_column="ts", warehouse=str(tmp_path / "lake"))
    again = lakekit.ingest(str(source), "demo.events", timestamp_column="ts", warehouse=str(tmp_path / "lake"))
    assert (first.records_written, again.records_written) == (50, 0)
    assert again.skipped_sources == [str(source)]
    with lakekit.open_lake(warehouse=str(tmp_path / "lake")) as lake:
        loads = lake.catalog.loaded_hashes("demo", "events")
    assert loads == {"sha256:" + hashlib.sha256(source.read_bytes()).hexdigest()}
