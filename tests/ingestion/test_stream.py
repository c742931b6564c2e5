"""`lakekit ingest -` as a stream: batches by size and by time, each visible once its
document is printed, signals, and the spool that a kill -9 cannot empty."""

from __future__ import annotations

import collections
import gzip
import json
import os
import random
import signal
import subprocess
import time

import pytest

import lakekit
from tests.helpers import LAKEKIT
from tests.ingestion.stream_helpers import Producer, StreamProcess, kill_mid_stream, record, table_column

SPEC_KEYS = ["table", "ingest_id", "records_read", "records_written", "records_rejected", "files_written",
             "bytes_written", "partitions_written", "rejects_uri", "skipped_sources", "seconds", "renamed_columns",
             "reject_errors"]


def _spool_segments(warehouse: str, table: str = "s/t") -> list[str]:
    root = os.path.join(warehouse, "_lakekit", "spool", table)
    out = []
    for dirpath, _, files in os.walk(root):
        out.extend(os.path.join(dirpath, f) for f in files if f.startswith("part-"))
    return out


def test_time_cut_batches_are_each_visible_when_their_document_is_printed(warehouse):
    stream = StreamProcess(warehouse, "--buffer-interval", "0.5s")
    committed = 0
    for wave in range(3):
        stream.write(b"".join(record(wave * 100 + i) for i in range(100)))
        doc = stream.next_doc()
        # The process is still running, its input still open: the batch was cut by time.
        assert stream.proc.poll() is None
        assert list(doc) == SPEC_KEYS and doc["skipped_sources"] == []
        committed += doc["records_written"]
        assert sorted(table_column(warehouse, "n")) == list(range(committed))
    assert committed == 300
    stream.close_input()
    code, rest, err = stream.finish()
    assert code == 0 and rest == [], err
    assert _spool_segments(warehouse) == []


def test_a_batch_is_cut_on_time_with_no_further_input(warehouse):
    stream = StreamProcess(warehouse, "--buffer-interval", "1s")
    # A first batch committed shows the process up and its first commit's imports done,
    # so the batch timed below measures the time cut, not start-up on a busy machine.
    stream.write(record(0))
    assert stream.next_doc(timeout=120)["records_written"] == 1
    before_write = time.monotonic()
    stream.write(record(1) + record(2))
    doc = stream.next_doc(timeout=120)
    waited = time.monotonic() - before_write
    # The input is still open and far below --buffer-size: only the clock cut this batch,
    assert doc["records_written"] == 2 and stream.proc.poll() is None
    # not before --buffer-interval had passed since its first record arrived (which no
    # load can make early) and not long after (generous: a busy machine delays the commit).
    assert waited >= 1.0, "the batch was cut before --buffer-interval"
    assert waited < 1 + 20, "the time cut came long after --buffer-interval"
    assert sorted(table_column(warehouse, "n")) == [0, 1, 2]
    stream.close_input()
    assert stream.finish()[0] == 0


def test_size_cut_batches(tmp_path, warehouse):
    records = b"".join(record(i, pad="x" * 200) for i in range(2000))  # ~240 KiB
    out = subprocess.run([LAKEKIT, "ingest", "-", "--table", "s.t", "--timestamp-column", "ts", "--warehouse",
                          warehouse, "--json", "--buffer-size", "64KiB", "--buffer-interval", "1h"],
                         input=records, capture_output=True, check=True)
    docs = [json.loads(line) for line in out.stdout.decode().splitlines()]
    assert len(docs) >= len(records) // (64 << 10) >= 3
    assert sum(d["records_written"] for d in docs) == 2000
    assert len({d["ingest_id"] for d in docs}) == len(docs)
    assert sorted(table_column(warehouse, "n")) == list(range(2000))


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
def test_sigterm_and_a_first_sigint_commit_what_is_buffered(warehouse, sig, code):
    stream = StreamProcess(warehouse, "--buffer-interval", "1h")
    stream.write(b"".join(record(i) for i in range(50)))
    _wait_spooled(warehouse, 50)
    stream.proc.send_signal(sig)
    exit_code, docs, err = stream.finish()
    assert exit_code == code, err
    assert [d["records_written"] for d in docs] == [50]
    assert sorted(table_column(warehouse, "n")) == list(range(50))
    assert _spool_segments(warehouse) == []


def test_a_second_sigint_stops_at_once_and_the_next_run_commits_the_rest(tmp_path, warehouse):
    # The commit is held at a pause point, so the second Ctrl-C lands during it.
    marker = tmp_path / "paused"
    env = {"LAKEKIT_TEST_PAUSE_AT": "staged", "LAKEKIT_TEST_PAUSE_FILE": str(marker),
           "LAKEKIT_TEST_PAUSE_SECONDS": "30"}
    stream = StreamProcess(warehouse, "--buffer-interval", "1h", env=env)
    stream.write(b"".join(record(i) for i in range(40)))
    _wait_spooled(warehouse, 40)
    stream.proc.send_signal(signal.SIGINT)
    _wait_for(marker.exists, "the commit to reach its pause point")
    stream.proc.send_signal(signal.SIGINT)
    code, docs, err = stream.finish(timeout=20)
    assert code == 130 and docs == [] and "interrupted" in err
    assert table_column(warehouse, "n") == []  # nothing committed ...
    assert len(_spool_segments(warehouse)) == 1  # ... and nothing lost
    again = subprocess.run([LAKEKIT, "ingest", "-", "--table", "s.t", "--timestamp-column", "ts", "--warehouse",
                            warehouse, "--json"], input=record(1000), capture_output=True, check=True)
    docs = [json.loads(line) for line in again.stdout.decode().splitlines()]
    assert [d["records_written"] for d in docs] == [40, 1]
    assert sorted(table_column(warehouse, "n")) == list(range(40)) + [1000]


def test_stdin_that_is_one_batch_is_skipped_when_repeated_but_batches_of_equal_records_are_not(warehouse):
    same = b"".join(record(7) for _ in range(10))
    args = [LAKEKIT, "ingest", "-", "--table", "s.t", "--timestamp-column", "ts", "--warehouse", warehouse, "--json"]
    first = subprocess.run(args, input=same, capture_output=True, check=True)
    assert json.loads(first.stdout)["records_written"] == 10
    again = json.loads(subprocess.run(args, input=same, capture_output=True, check=True).stdout)
    assert again["skipped_sources"] == ["<stdin>"] and again["records_written"] == 0
    # A stream whose first batch is that input again skips it too; the identical batches
    # after it are new (a batch's identity chains the ones before it in its stream).
    stream = StreamProcess(warehouse, "--buffer-interval", "0.3s")
    written = []
    for _ in range(3):
        stream.write(same)
        written.append(stream.next_doc()["records_written"])
    stream.close_input()
    assert stream.finish()[0] == 0
    assert written == [0, 10, 10]
    assert len(table_column(warehouse, "n")) == 30


def test_csv_stream_batches_keep_the_header_and_stream_line_numbers(warehouse):
    stream = StreamProcess(warehouse, "--buffer-interval", "0.3s")
    stream.write(b"n,ts\n1,2024-05-01T00:00:00Z\n2,2024-05-01T00:00:01Z\n")
    assert stream.next_doc()["records_written"] == 2
    stream.write(b"3,2024-05-01T00:00:02Z\n4,not a time\n5,2024-05-01T00:00:03Z\n")
    doc = stream.next_doc()
    assert (doc["records_written"], doc["records_rejected"]) == (2, 1)
    stream.close_input()
    assert stream.finish()[0] == 0
    with open(doc["rejects_uri"]) as f:
        rejects = [json.loads(line) for line in f]
    assert [(r["source"], r["line"], r["raw"]) for r in rejects] == [("<stdin>", 5, "4,not a time")]
    assert sorted(table_column(warehouse, "n")) == [1, 2, 3, 5]


def test_gzip_stream_is_decompressed_as_it_arrives(warehouse):
    data = gzip.compress(b"".join(record(i) for i in range(100))) + gzip.compress(record(100))
    stream = StreamProcess(warehouse, "--buffer-interval", "0.3s")
    stream.write(data)
    assert stream.next_doc()["records_written"] == 101
    stream.close_input()
    assert stream.finish()[0] == 0


def test_stdin_cannot_be_mixed_with_files_or_given_file_only_flags(tmp_path, warehouse):
    src = tmp_path / "a.jsonl"
    src.write_bytes(record(1))
    base = [LAKEKIT, "ingest", "--table", "s.t", "--timestamp-column", "ts", "--warehouse", warehouse]
    mixed = subprocess.run(base + ["-", str(src)], input=b"", capture_output=True)
    assert mixed.returncode == 2 and mixed.stderr.decode().startswith("error: stdin (-) is streamed in batches")
    sized = subprocess.run(base + [str(src), "--buffer-size", "1MiB"], capture_output=True)
    assert sized.returncode == 2 and "apply to stdin" in sized.stderr.decode()
    bad = subprocess.run(base + ["-", "--buffer-interval", "soon"], input=b"", capture_output=True)
    assert bad.returncode == 2 and "is not a duration" in bad.stderr.decode()


# -- the spool under kill -9 ----------------------------------------------------------------------
def test_kill_9_at_random_moments_loses_at_most_the_last_second_and_doubles_nothing(warehouse):
    rng = random.Random(int(os.environ.get("LAKEKIT_TEST_SEED", "14")))
    guarantees = []
    base = 1
    for _round in range(4):
        stream = StreamProcess(warehouse, "--buffer-interval", "0.4s")
        stream.one_page_pipe()  # a returned write was read (a 64 KiB pipe holds 2.7 s of records)
        producer = Producer(stream.proc.stdin, base)
        producer.start()
        # A restarted stream commits the dead one's spool before it reads its own input:
        # wait until a batch of this round's own records is in the table.
        while not any(n >= base for n in table_column(warehouse, "n")):
            stream.next_doc(timeout=120)
        # From the first write to here took at least the 0.4 s cut, so even the earliest
        # kill (1.8 s on) leaves records written before the moment its guarantee covers.
        time.sleep(rng.uniform(1.8, 3.0))
        guarantees.append(kill_mid_stream(stream, producer, base))
        base = producer.next + 1_000_000  # the next round's numbers are told apart from this one's
    final = StreamProcess(warehouse, "--buffer-interval", "1h")
    final.close_input()
    code, _, err = final.finish()
    assert code == 0, err
    counts = collections.Counter(table_column(warehouse, "n"))
    assert max(counts.values()) == 1, "a record was committed twice"
    for first, safe, last_written in guarantees:
        got = sorted(n for n in counts if first <= n <= first + 999_999)
        assert safe >= first, "the producer wrote nothing before the guarantee's moment: the test proves nothing"
        # Whole records are spooled in order, so what survived is a prefix of what was written ...
        assert got == list(range(first, first + len(got)))
        # ... holding every record written a second (and the slack) before the kill, and nothing not written.
        assert got[-1] >= safe and got[-1] <= last_written
    assert _spool_segments(warehouse) == []


def _wait_spooled(warehouse: str, records: int, timeout: float = 30) -> None:
    def spooled() -> int:
        return sum(open(p, "rb").read().count(b"\n") for p in _spool_segments(warehouse))
    _wait_for(lambda: spooled() >= records, f"{records} records in the spool", timeout)


def _wait_for(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_the_python_api_streams_from_any_file_descriptor(warehouse):
    r, w = os.pipe()
    os.write(w, record(1) + record(2))
    os.close(w)
    batches = lakekit.ingest_stream(r, "s.t", timestamp_column="ts", warehouse=warehouse)
    os.close(r)
    assert [b.records_written for b in batches] == [2]
    with pytest.raises(lakekit.errors.UsageError, match="ingest_stream"):
        lakekit.ingest("-", "s.t", timestamp_column="ts", warehouse=warehouse)
