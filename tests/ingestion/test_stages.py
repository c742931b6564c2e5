"""Each ingestion stage on its own: read_blocks, parse_block, PartitionedWriter and
commit.recover, checked against facts computed without lakekit (the json and csv
modules, pyarrow's own footer reader, the files on disk)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from lakekit import paths
from lakekit.catalog.base import Column, Commit, PartitionChange, Table
from lakekit.catalog.local import LocalCatalog
from lakekit.ingestion import commit as commits
from lakekit.ingestion.framing import CsvGrammar
from lakekit.ingestion.parse import CsvParser, JsonParser, parse_block
from lakekit.ingestion.schema import TIMESTAMP, partition_keys
from lakekit.ingestion.sources import Block, Source, read_blocks, read_csv_blocks
from lakekit.ingestion.writer import PartitionedWriter, split_by_partition
from lakekit.parquet import read_file_stats
from lakekit.storage import Storage

SOURCE = Source("/data/in.jsonl", None)
CSV_SOURCE = Source("/data/in.csv", None)


# -- read_blocks ------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(lines=st.lists(st.text(alphabet="ab{}:,\" ", min_size=0, max_size=40), max_size=60),
       block_size=st.integers(min_value=1, max_value=200), trailing_newline=st.booleans())
def test_blocks_are_whole_lines_in_order_with_their_line_numbers(lines, block_size, trailing_newline):
    data = "\n".join(lines).encode() + (b"\n" if trailing_newline and lines else b"")
    blocks = list(read_blocks(io.BytesIO(data), SOURCE, block_size))
    assert b"".join(b.data for b in blocks) == data
    expected_first_line = 1
    for block in blocks[:-1]:
        assert block.data.endswith(b"\n")  # a block never ends inside a line
    for block in blocks:
        assert block.first_line == expected_first_line
        expected_first_line += block.data.count(b"\n")


def test_a_line_longer_than_the_block_size_is_one_bigger_block():
    long_line = b'{"x": "' + b"y" * 500 + b'"}\n'
    blocks = list(read_blocks(io.BytesIO(b'{"a": 1}\n' + long_line + b'{"b": 2}\n'), SOURCE, 16))
    assert any(long_line in b.data for b in blocks)
    assert all(b.data.endswith(b"\n") for b in blocks)
    assert b"".join(b.data for b in blocks).count(b"\n") == 3


def test_csv_blocks_never_cut_a_quoted_field_with_a_newline():
    rows = [["id", "note"]] + [[str(i), f"line one\nline two of {i}"] for i in range(50)]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    data = buffer.getvalue().encode()
    blocks = list(read_csv_blocks(io.BytesIO(data), CSV_SOURCE, 40, CsvGrammar(",")))
    assert b"".join(b.data for b in blocks) == data
    for block in blocks:
        assert block.data.count(b'"') % 2 == 0  # every quoted field opens and closes inside it
    parsed_back = [r for b in blocks for r in csv.reader(io.StringIO(b.data.decode()))]
    assert parsed_back == rows


# -- parse_block -------------------------------------------------------------------------
def test_json_block_keeps_good_records_and_rejects_bad_ones_with_their_lines():
    lines = ['{"id": 1, "name": "a"}', '{"id": 2, "name": ', "", '{"id": 3, "name": "c"}', "not json",
             '{"id": 4, "name": "d"}']
    block = Block(("\n".join(lines) + "\n").encode(), 10, SOURCE)
    parsed = parse_block(block, JsonParser(None))
    good = [json.loads(line) for line in lines if line.startswith("{") and line.endswith("}")]
    rows = [r for t in parsed.tables for r in t.to_pylist()]
    assert rows == good
    assert parsed.records == 5  # the blank line is not a record
    assert [(r.line, r.raw) for r in parsed.rejects] == [(11, b'{"id": 2, "name": '), (14, b"not json")]
    assert all(r.source == SOURCE.name and r.error for r in parsed.rejects)


def test_json_block_with_invalid_utf8_rejects_only_that_record():
    block = Block(b'{"id": 1}\n{"id": "\xff"}\n{"id": 3}\n', 1, SOURCE)
    parsed = parse_block(block, JsonParser(None))
    assert [r for t in parsed.tables for r in t.to_pylist()] == [{"id": 1}, {"id": 3}]
    [reject] = parsed.rejects
    assert reject.line == 2 and "UTF-8" in reject.error and reject.raw == b'{"id": "\xff"}'


def test_csv_block_rejects_a_row_with_the_wrong_field_count():
    text = "1,a,0.5\n2,b\n3,c,1.5\n"
    [block] = read_csv_blocks(io.BytesIO(text.encode()), CSV_SOURCE, 1 << 16, CsvGrammar(","))
    parsed = parse_block(block, CsvParser(3, ","), csv=True)
    expected = [dict(zip(["f0", "f1", "f2"], r)) for r in csv.reader(io.StringIO(text)) if len(r) == 3]
    assert [r for t in parsed.tables for r in t.to_pylist()] == expected
    [reject] = parsed.rejects
    assert reject.line == 2 and reject.raw.rstrip(b"\n") == b"2,b" and "fields" in reject.error


# -- PartitionedWriter ----------------------------------------------------------------------
def _events(n: int) -> pa.Table:
    start = dt.datetime(2024, 3, 30, tzinfo=dt.UTC)
    ts = [start + dt.timedelta(hours=7 * i) for i in range(n)]
    return pa.table({"id": pa.array(range(n), pa.int64()), "ts": pa.array(ts, TIMESTAMP)})


def test_writer_stages_one_file_set_per_partition_with_exact_statistics(tmp_path):
    storage = Storage(str(tmp_path / "lake"))
    staging = storage.uri("_lakekit", "staging", "ing-1", "data")
    location = storage.uri("db", "t")
    table = _events(200)
    writer = PartitionedWriter(storage, staging, location, ("year", "month", "day"), "zstd",
                               target_file_size=1 << 20, memory_budget=1 << 20, ingest_id="ing-1")
    for batch in (table.slice(0, 120), table.slice(120)):
        writer.add_split(split_by_partition(batch, partition_keys(batch.column("ts").combine_chunks(),
                                                                  ("year", "month", "day"))))
    staged = writer.close()

    expected: dict[tuple[str, ...], set[int]] = {}
    for row in table.to_pylist():
        day = row["ts"].astimezone(dt.UTC)
        expected.setdefault((f"{day:%Y}", f"{day:%m}", f"{day:%d}"), set()).add(row["id"])
    got: dict[tuple[str, ...], set[int]] = {}
    for f in staged:
        folders = "/".join(f"{k}={v}" for k, v in zip(("year", "month", "day"), f.partition))
        assert f.staging_uri.startswith(os.path.join(staging, folders) + os.sep)
        assert f.final_uri == os.path.join(location, os.path.relpath(f.staging_uri, staging))
        meta = pq.read_metadata(f.staging_uri)  # pyarrow's own reading of the footer
        assert f.stats.rows == meta.num_rows and f.stats.size == os.path.getsize(f.staging_uri)
        assert f.stats.footer_length == meta.serialized_size
        assert meta.row_group(0).column(0).compression == "ZSTD"
        got.setdefault(f.partition, set()).update(pq.read_table(f.staging_uri).column("id").to_pylist())
    assert got == expected


def test_writer_abort_leaves_no_staged_file(tmp_path):
    storage = Storage(str(tmp_path / "lake"))
    staging = storage.uri("_lakekit", "staging", "ing-2", "data")
    writer = PartitionedWriter(storage, staging, storage.uri("db", "t"), (), "none",
                               target_file_size=1 << 20, memory_budget=1 << 30, ingest_id="ing-2")
    writer.add_split(split_by_partition(_events(10), None))
    writer.abort()
    assert writer.staged == []


# -- commit.recover ------------------------------------------------------------------------
def _dead_pid() -> int:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(child.stdout)


def _begin(storage: Storage, *, pid: int) -> tuple[commits.Pending, str]:
    """A commit begun and one file written into its folder, as a writer leaves them
    before its commit point; the pending record names process ``pid``."""
    pending = commits.begin(storage, "db.t", storage.uri("db", "t"))
    record_uri = paths.pending_uri(storage.root, pending.commit_id)
    record = json.loads(storage.read_bytes(record_uri))
    storage.write_bytes(record_uri, json.dumps({**record, "pid": pid}).encode())
    written = os.path.join(pending.location(["year"], ["2024"]), "part-0.parquet")
    os.makedirs(os.path.dirname(written), exist_ok=True)
    pq.write_table(_events(3), written)
    return pending, written


def _catalog(tmp_path) -> LocalCatalog:
    return LocalCatalog(str(tmp_path / "lake" / "_lakekit" / "catalog.db"))


def test_recover_discards_a_commit_whose_writer_died_before_its_commit_point(tmp_path):
    storage = Storage(str(tmp_path / "lake"))
    pending, written = _begin(storage, pid=_dead_pid())
    done = commits.recover(storage, _catalog(tmp_path))
    assert done["discarded"] == [pending.commit_id] and done["finished"] == []
    assert not os.path.exists(written) and not os.path.exists(pending.folder)
    assert not os.path.exists(paths.pending_uri(storage.root, pending.commit_id))


def test_recover_leaves_a_running_commit_alone(tmp_path):
    storage = Storage(str(tmp_path / "lake"))
    pending, written = _begin(storage, pid=os.getpid())
    done = commits.recover(storage, _catalog(tmp_path))
    assert done["discarded"] == [] and done["finished"] == []
    assert os.path.exists(written) and os.path.exists(paths.pending_uri(storage.root, pending.commit_id))


def test_recover_finishes_a_commit_killed_after_its_commit_point(tmp_path):
    """The catalog committed but the writer died before removing its record: recovery
    keeps the commit (its rows stay readable where the catalog points) and tidies up."""
    storage = Storage(str(tmp_path / "lake"))
    catalog = _catalog(tmp_path)
    pending, written = _begin(storage, pid=_dead_pid())
    expected_rows = pq.read_table(written).to_pylist()
    table = Table("db", "t", storage.uri("db", "t"), [Column("id", "bigint"), Column("ts", "timestamp")],
                  [Column("year", "string")])
    change = PartitionChange(("2024",), os.path.dirname(written), (read_file_stats(storage, written, ("2024",)),))
    assert catalog.commit(Commit(table, pending.commit_id, [change]), storage).committed  # and then killed

    done = commits.recover(storage, catalog)
    assert done["finished"] == [pending.commit_id] and done["discarded"] == []
    assert not os.path.exists(paths.pending_uri(storage.root, pending.commit_id))
    [partition] = catalog.list_partitions("db", "t")
    assert partition.location == os.path.dirname(written)
    assert pq.read_table(written).to_pylist() == expected_rows
    again = commits.recover(storage, catalog)  # nothing left to do
    assert again["finished"] == [] and again["discarded"] == []
