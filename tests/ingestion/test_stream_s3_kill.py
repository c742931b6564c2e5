"""`lakekit ingest -` into an s3:// warehouse (moto server) killed with SIGKILL, then
restarted: the spool on S3 gives every record written before the kill (but the last
second's) to the table exactly once. The table is read as Athena would read it: the
locations Glue lists, every object under them."""

from __future__ import annotations

import time

import boto3

from tests.ingestion.stream_helpers import Producer, StreamProcess, kill_mid_stream
from tests.readers import athena_rows, flatten

BUCKET = "stream-lake"


def test_kill_9_of_a_stream_into_s3_loses_at_most_the_last_second_and_doubles_nothing(aws, tmp_path):
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    warehouse = f"s3://{BUCKET}/warehouse"
    lake = ("--catalog", "glue")
    guarantees = []
    base = 1
    for pause in (1.5, 3.0):  # two kill points: while a batch fills, and some batches later
        stream = StreamProcess(warehouse, "--buffer-interval", "0.5s", *lake)
        stream.one_page_pipe()  # a returned write was read (a 64 KiB pipe holds 2.7 s of records)
        producer = Producer(stream.proc.stdin, base)
        producer.start()
        # A restarted stream commits the dead one's spool before it reads its own input:
        # wait until a batch of this round's own records is in the table.
        while not any(n >= base for n in flatten(athena_rows("s", "t", column="n"))):
            stream.next_doc(timeout=120)
        time.sleep(pause)
        guarantees.append(kill_mid_stream(stream, producer, base))
        base = producer.next + 1_000_000
    final = StreamProcess(warehouse, "--buffer-interval", "1h", *lake)
    final.close_input()
    code, _, err = final.finish(timeout=120)
    assert code == 0, err
    counts = flatten(athena_rows("s", "t", column="n"))
    assert counts and max(counts.values()) == 1, "a record was committed twice"
    for first, safe, last_written in guarantees:
        got = sorted(n for n in counts if first <= n <= first + 999_999)
        assert safe >= first, "the producer wrote nothing a second before the kill: the test proves nothing"
        assert got == list(range(first, first + len(got))), "what survived is not a prefix of what was written"
        assert safe <= got[-1] <= last_written, (safe, got[-1], last_written)
    spool = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix="warehouse/_lakekit/spool/")
    assert [o["Key"] for o in spool.get("Contents", []) if "/part-" in o["Key"]] == []
