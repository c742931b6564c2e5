"""Issue 14's small files: an hour of one-minute batches streamed through the real
``lakekit ingest -``, then compacted. Query results are compared with what the source
records say (Python over the records, not lakekit's output), and ``lakekit lint
layout``'s L006 small-files fires before the compaction and not after."""

from __future__ import annotations

import json
import subprocess
from collections import Counter

import lakekit
from tests.helpers import LAKEKIT
from tests.ingestion.stream_helpers import StreamProcess

MINUTES = 60


def _lakekit(*args) -> subprocess.CompletedProcess:
    return subprocess.run([LAKEKIT, *args], capture_output=True, text=True, timeout=120)


def _query(warehouse: str, sql: str) -> list[dict]:
    return lakekit.query(sql, warehouse=warehouse).to_pylist()


def _l006(warehouse: str) -> list:
    return [v for v in lakekit.lint_layout(["s.t"], warehouse=warehouse).violations if v.code == "L006"]


def test_an_hour_of_one_minute_batches_compacted_answers_the_same_and_clears_l006(warehouse):
    # one batch a minute of the hour, each cut by --buffer-interval (a tiny one stands
    # for the minute), each its own commit and so its own file
    stream = StreamProcess(warehouse, "--buffer-interval", "20ms")
    records = []
    for minute in range(MINUTES):
        batch = [{"n": minute * 3 + i, "ts": f"2024-05-01T12:{minute:02d}:{i * 10:02d}Z", "amount": minute + i / 4,
                  "kind": "abc"[i]} for i in range(3)]
        stream.write(b"".join((json.dumps(r) + "\n").encode() for r in batch))
        assert stream.next_doc()["records_written"] == 3
        records.extend(batch)
    stream.close_input()
    code, _, err = stream.finish()
    assert code == 0, err

    by_kind = Counter(r["kind"] for r in records)
    sums = {k: sum(r["amount"] for r in records if r["kind"] == k) for k in by_kind}
    queries = {
        "SELECT count(*) AS n, count(DISTINCT n) AS d, min(n) AS lo, max(n) AS hi FROM s.t":
            [{"n": 180, "d": 180, "lo": 0, "hi": 179}],
        "SELECT kind, count(*) AS c, sum(amount) AS s FROM s.t GROUP BY kind ORDER BY kind":
            [{"kind": k, "c": by_kind[k], "s": sums[k]} for k in sorted(by_kind)],
        "SELECT minute(ts) AS m, count(*) AS c FROM s.t GROUP BY 1 ORDER BY 1 LIMIT 3":
            [{"m": m, "c": 3} for m in range(3)],
    }
    for sql, expected in queries.items():
        assert _query(warehouse, sql) == expected, sql

    (before,) = _l006(warehouse)
    assert before.message.startswith(f"1 partition(s) hold {MINUTES} files averaging")
    compacted = _lakekit("compact", "s.t", "--warehouse", warehouse, "--json")
    assert compacted.returncode == 0, compacted.stderr
    doc = json.loads(compacted.stdout)
    assert (doc["files_before"], doc["files_after"]) == (MINUTES, 1)
    for sql, expected in queries.items():
        assert _query(warehouse, sql) == expected, sql
    assert _l006(warehouse) == []
