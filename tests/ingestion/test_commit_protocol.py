"""The commit protocol under SIGKILL at every step, seen by readers that are not lakekit.

After each kill an outside reader (DuckDB over the locations the SQLite catalog lists;
Glue's partitions plus an S3 listing as Athena resolves them) must see the table as it
was before the ingest or as it is after it: per partition on Glue, as a whole locally;
never a partial partition, never a doubled one. The next writer then finishes or
removes the killed commit, and the killed ingest's source is skipped exactly when it
had committed. Expected rows come from the source records (json), not from lakekit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter

import pytest

import lakekit
from tests.helpers import LAKEKIT, write_jsonl
from tests.readers import rows_seen

#: where a kill leaves the ingest committed (True) or not (False), per backend
POINTS = {
    "local": {"parsed": False, "staged": False, "commit-locked": False, "carried": False,
              "commit-applied": False, "committed": True},
    "aws": {"parsed": False, "staged": False, "commit-locked": False, "carried": False,
            "logged": True, "published-partly": True, "published": True, "committed": True},
}
CASES = [(kind, point) for kind, points in POINTS.items() for point in points]
#: what an outside reader sees right after the kill: Glue shows a commit once it is
#: published; between two requests of a publication some partitions show it already
SEEN_AFTER_KILL = {"logged": "before", "published-partly": "per partition", "published": "after", "committed": "after"}


def _records(days, per_day, start):
    out, i = [], start
    for d in days:
        for _ in range(per_day):
            month, day = divmod(d - 1, 28)
            out.append({"id": i, "ts": f"2024-{month + 1:02d}-{day + 1:02d}T12:00:00Z", "v": float(i)})
            i += 1
    return out


def _expected(*record_sets) -> dict[tuple, Counter]:
    """Rows per partition computed from the source records alone."""
    out: dict[tuple, Counter] = {}
    for records in record_sets:
        for r in records:
            y, m, d = r["ts"][:4], r["ts"][5:7], r["ts"][8:10]
            out.setdefault((y, m, d), Counter())[r["id"]] += 1
    return out


def _kill_at(backend_lake, src, point, tmp_path, mode="append"):
    marker = tmp_path / f"paused-{point}"
    env = {**os.environ, "LAKEKIT_TEST_PAUSE_AT": point, "LAKEKIT_TEST_PAUSE_FILE": str(marker)}
    proc = subprocess.Popen([LAKEKIT, "ingest", src, "--table", "c.t", "--timestamp-column", "ts", "--mode", mode,
                             "--warehouse", backend_lake.warehouse, "--catalog", backend_lake.catalog],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not marker.exists():
        if proc.poll() is not None:
            pytest.fail(f"the ingest ended (exit {proc.returncode}) before {point}: {proc.stderr.read().decode()}")
        assert time.monotonic() < deadline, f"the ingest never reached {point}"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)


def _ingest(backend_lake, src, **kw):
    return lakekit.ingest(src, "c.t", timestamp_column="ts", warehouse=backend_lake.warehouse, catalog=backend_lake.catalog, **kw)


@pytest.mark.parametrize("backend_lake,point", CASES, indirect=["backend_lake"], ids=[f"{k}-{p}" for k, p in CASES])
def test_a_kill_at_any_step_shows_readers_the_table_before_or_after(backend_lake, point, tmp_path):
    first = _records(days=(1, 2, 3), per_day=20, start=0)
    lakekit.ingest(write_jsonl(tmp_path / "first.jsonl", first), "c.t", timestamp_column="ts",
                   warehouse=backend_lake.warehouse, catalog=backend_lake.catalog)
    before = _expected(first)
    assert rows_seen(backend_lake, "c", "t") == before
    # appends into day 2 (a partition with files: on Glue it moves with one request) and
    # adds days 4 and 5 (created with another)
    second = _records(days=(2, 4, 5), per_day=2, start=1000)
    src = write_jsonl(tmp_path / "second.jsonl", second)
    after = _expected(first, second)

    _kill_at(backend_lake, src, point, tmp_path)
    seen = rows_seen(backend_lake, "c", "t")
    for values in set(seen) | set(before) | set(after):
        now = seen.get(values, Counter())
        assert now in (before.get(values, Counter()), after.get(values, Counter())), \
            f"partition {values} is neither as before nor as after the ingest"
    committed = POINTS[backend_lake.kind][point]
    whole = SEEN_AFTER_KILL.get(point, "before") if backend_lake.kind == "aws" else ("after" if committed else "before")
    if whole != "per partition":
        assert seen == (after if whole == "after" else before)
    else:
        assert seen not in (before, after)  # the kill did fall between the two requests

    # the next writer finishes or removes the killed commit
    third = _records(days=(1,), per_day=3, start=5000)
    _ingest(backend_lake, write_jsonl(tmp_path / "third.jsonl", third))
    assert rows_seen(backend_lake, "c", "t") == (_expected(first, second, third) if committed else _expected(first, third))
    again = _ingest(backend_lake, src)
    assert (again.skipped_sources == [src]) == committed
    assert rows_seen(backend_lake, "c", "t") == _expected(first, second, third)
    assert list(backend_lake.storage().list_files(backend_lake.storage().uri("_lakekit", "pending"))) == []


@pytest.mark.parametrize("backend_lake,point", [("local", "carried"), ("local", "committed"), ("aws", "carried"),
                                        ("aws", "logged"), ("aws", "committed")], indirect=["backend_lake"])
def test_a_killed_overwrite_never_shows_old_and_new_rows_together(backend_lake, point, tmp_path):
    first = _records(days=(1, 2, 3), per_day=20, start=0)
    _ingest(backend_lake, write_jsonl(tmp_path / "first.jsonl", first))
    redo = _records(days=(2,), per_day=7, start=9000)
    src = write_jsonl(tmp_path / "redo.jsonl", redo)
    _kill_at(backend_lake, src, point, tmp_path, mode="overwrite-partitions")
    day2 = rows_seen(backend_lake, "c", "t")[("2024", "01", "02")]
    old, new = _expected(first)[("2024", "01", "02")], _expected(redo)[("2024", "01", "02")]
    assert day2 in (old, new)
    _ingest(backend_lake, write_jsonl(tmp_path / "other.jsonl", _records(days=(9,), per_day=1, start=7000)))
    assert rows_seen(backend_lake, "c", "t")[("2024", "01", "02")] == (new if POINTS[backend_lake.kind][point] else old)
