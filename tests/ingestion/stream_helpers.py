"""Running ``lakekit ingest -`` as a real process fed through a pipe, and reading the
table back independently (DuckDB over the files the catalog lists)."""

from __future__ import annotations

import fcntl
import json
import os
import select
import subprocess
import threading
import time

import duckdb

from tests.helpers import LAKEKIT, catalog_of

#: SPEC promises, after a kill, what was read a second before it; the kill tests allow
#: one more for a machine shared by many processes, where the spooling write and the
#: process itself wait for a CPU
KILL_SLACK_S = 1.0


def record(n: int, ts: str = "2024-05-01T12:00:00Z", **extra) -> bytes:
    return (json.dumps({"n": n, "ts": ts, **extra}) + "\n").encode()


class StreamProcess:
    """``lakekit ingest - --json`` with a pipe to its stdin and its batch documents read
    line by line as they come."""

    def __init__(self, warehouse: str, *args: str, table: str = "s.t", env: dict | None = None):
        self.proc = subprocess.Popen(
            [LAKEKIT, "ingest", "-", "--table", table, "--timestamp-column", "ts", "--warehouse", warehouse,
             "--json", *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )
        self._buf = b""

    def write(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def one_page_pipe(self) -> None:
        """Shrink the pipe into the process to one page, so that a write that returned is
        in lakekit's hands (at most a page behind), not in a 64 KiB pipe buffer (seconds
        of a kill test's records)."""
        fcntl.fcntl(self.proc.stdin.fileno(), fcntl.F_SETPIPE_SZ, 4096)

    def close_input(self) -> None:
        self.proc.stdin.close()
        self.proc.stdin = None  # communicate() would flush it

    def next_doc(self, timeout: float = 30.0) -> dict:
        """The next JSON line on stdout (fails the test after ``timeout``)."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            assert left > 0, f"no batch document within {timeout}s; stderr: {self._stderr_now()}"
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                assert chunk, f"lakekit exited ({self.proc.wait()}); stderr: {self.proc.stderr.read().decode()}"
                self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def _stderr_now(self) -> str:
        if self.proc.poll() is None:
            return "(still running)"
        return self.proc.stderr.read().decode()

    def finish(self, timeout: float = 60.0) -> tuple[int, list[dict], str]:
        """Wait for the exit; (exit code, remaining documents, stderr)."""
        if self.proc.stdin is not None and self.proc.stdin.closed:
            self.proc.stdin = None
        out, err = self.proc.communicate(timeout=timeout)
        rest = self._buf + out
        docs = [json.loads(line) for line in rest.decode().splitlines() if line.strip()]
        return self.proc.returncode, docs, err.decode()


def table_column(warehouse: str, column: str, table: str = "s.t") -> list:
    """Every value of ``column`` in the files the catalog lists, read by DuckDB."""
    db, name = table.split(".")
    cat = catalog_of(warehouse)
    try:
        files = [f.uri for f in cat.list_files(db, name)] if cat.get_table(db, name) else []
    finally:
        cat.close()
    if not files:
        return []
    con = duckdb.connect()
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    return [r[0] for r in con.execute(f"SELECT {column} FROM read_parquet([{listed}], union_by_name=true)").fetchall()]


class Producer(threading.Thread):
    """Writes numbered records into a pipe at a fixed rate, noting when each write returned."""

    def __init__(self, pipe, start: int, rate: float = 400.0):
        super().__init__(daemon=True)
        self.pipe, self.next, self.rate = pipe, start, rate
        self.written: list[tuple[int, float]] = []  # (last number of a write, time it returned)
        self.stopped = threading.Event()

    def run(self) -> None:
        per_tick = max(1, int(self.rate / 50))
        while not self.stopped.is_set():
            first = self.next
            try:
                self.pipe.write(b"".join(record(n) for n in range(first, first + per_tick)))
                self.pipe.flush()
            except (BrokenPipeError, ValueError, OSError):
                return
            self.next += per_tick
            self.written.append((self.next - 1, time.monotonic()))
            time.sleep(1 / 50)

    def written_before(self, moment: float) -> int:
        return max((n for n, t in self.written if t <= moment), default=0)


def kill_mid_stream(stream: StreamProcess, producer: Producer, first: int) -> tuple[int, int, int]:
    """kill -9 the stream now and stop its producer: (the round's first number, the last
    number the kill's guarantee covers, the last number written)."""
    kill_at = time.monotonic()
    stream.proc.kill()
    stream.proc.wait()
    producer.stopped.set()
    producer.join()
    return first, producer.written_before(kill_at - 1.0 - KILL_SLACK_S), producer.next - 1
