"""Streaming ingest and the S3-event handler, measured.

1. A producer writes numbered records at a fixed rate into `lakekit ingest -` for
   `--duration` seconds; a poller queries the table every 0.5 s (DuckDB over the files
   the catalog lists) and notes when each record became visible. Reports records/s
   sustained, end-to-end latency p50/p99 (record written -> visible) against
   --buffer-interval, the ingest process's peak RSS, and files per partition before
   and after `lakekit compact` (when that command exists).
2. The handler converting one 64 MiB raw JSON Lines object on the moto server:
   seconds and peak RSS (what sets the template's MemorySize).

    python benchmarks/stream.py --duration 120 --rate 2000 --buffer-interval 10s
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import psutil

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from tests.helpers import catalog_of

LAKEKIT = os.path.join(os.path.dirname(sys.executable), "lakekit")


def _record(n: int, written: float) -> bytes:
    return (json.dumps({"n": n, "written": written, "ts": "2024-06-01T12:00:00Z", "user": f"u{n % 997}",
                        "amount": n * 0.01}) + "\n").encode()


def _visible_max(warehouse: str) -> int:
    import duckdb

    cat = catalog_of(warehouse)
    try:
        files = [f.uri for f in cat.list_files("bench", "stream")] if cat.get_table("bench", "stream") else []
    finally:
        cat.close()
    if not files:
        return 0
    listed = ", ".join("'" + f + "'" for f in files)
    return duckdb.connect().execute(f"SELECT max(n) FROM read_parquet([{listed}])").fetchone()[0] or 0


def _files_per_partition(warehouse: str) -> float:
    cat = catalog_of(warehouse)
    try:
        files = cat.list_files("bench", "stream")
    finally:
        cat.close()
    parts = {tuple(f.partition_values) for f in files}
    return len(files) / max(1, len(parts))


def stream_benchmark(duration: float, rate: float, interval: str) -> dict:
    warehouse = tempfile.mkdtemp(prefix="lakekit-stream-bench-")
    proc = subprocess.Popen([LAKEKIT, "ingest", "-", "--table", "bench.stream", "--timestamp-column", "ts",
                             "--warehouse", warehouse, "--buffer-interval", interval, "--json"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ps = psutil.Process(proc.pid)
    peak = [0]
    written_at: dict[int, float] = {}
    visible_at: dict[int, float] = {}
    done = threading.Event()

    def poll_rss():
        while not done.is_set():
            try:
                peak[0] = max(peak[0], ps.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.2)

    def poll_visible():
        last = 0
        while not done.is_set():
            top = _visible_max(warehouse)
            now = time.monotonic()
            for n in range(last + 1, top + 1):
                visible_at[n] = now
            last = max(last, top)
            time.sleep(0.5)

    threads = [threading.Thread(target=poll_rss, daemon=True), threading.Thread(target=poll_visible, daemon=True)]
    for t in threads:
        t.start()
    start = time.monotonic()
    n = 0
    tick = 0.05
    while time.monotonic() - start < duration:
        due = int((time.monotonic() - start) * rate)
        chunk = []
        now = time.monotonic()
        while n < due:
            n += 1
            written_at[n] = now
            chunk.append(_record(n, now))
        if chunk:
            proc.stdin.write(b"".join(chunk))
            proc.stdin.flush()
        time.sleep(tick)
    proc.stdin.close()
    proc.stdin = None  # communicate() would flush it
    out, err = proc.communicate(timeout=600)
    end = time.monotonic()
    time.sleep(1.0)
    done.set()
    final_top = _visible_max(warehouse)
    for k in range(1, final_top + 1):
        visible_at.setdefault(k, end)
    lat = sorted(visible_at[k] - written_at[k] for k in written_at if k in visible_at)
    batches = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    before = _files_per_partition(warehouse)
    after = None
    compact = subprocess.run([LAKEKIT, "compact", "bench.stream", "--warehouse", warehouse, "--retain", "0s"],
                             capture_output=True, text=True)
    if compact.returncode == 0:
        after = _files_per_partition(warehouse)
    return {
        "records_written": n, "records_visible": final_top, "seconds": round(end - start, 1),
        "records_per_second": round(n / (end - start), 1), "batches": len(batches),
        "buffer_interval": interval,
        "latency_p50_s": round(lat[len(lat) // 2], 2) if lat else None,
        "latency_p99_s": round(lat[int(len(lat) * 0.99)], 2) if lat else None,
        "peak_rss_mib": round(peak[0] / 2**20, 1),
        "files_per_partition_before_compact": round(before, 1),
        "files_per_partition_after_compact": None if after is None else round(after, 1),
        "compact": "ok" if after is not None else f"not run: {compact.stderr.strip()[:120]}",
        "exit_code": proc.returncode, "stderr_tail": err.decode()[-300:] if proc.returncode else "",
    }


_HANDLER = r"""
import json, resource, sys, time
from lakekit.serverless import handler
t = time.monotonic()
out = handler({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                            "s3": {"bucket": {"name": "raw-bench"}, "object": {"key": "big.jsonl"}}}]})
print(json.dumps({"seconds": round(time.monotonic() - t, 2),
                  "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "records_written": out["records_written"]}), file=sys.stderr)
"""


def handler_benchmark(size_mib: int) -> dict:
    import boto3

    from tests.moto_server import MotoServer

    with MotoServer() as server:
        env = {**os.environ, **server.env(), "LAKEKIT_TABLE": "bench.events", "LAKEKIT_TIMESTAMP_COLUMN": "ts",
               "LAKEKIT_WAREHOUSE": "s3://lake-bench/warehouse", "LAKEKIT_CATALOG": "glue"}
        s3 = boto3.client("s3", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
        s3.create_bucket(Bucket="raw-bench")
        s3.create_bucket(Bucket="lake-bench")
        from lakekit.sample import events_jsonl

        body, rows = bytearray(), 0
        while len(body) < size_mib << 20:
            body += "".join(events_jsonl(20000, days=30, seed=rows)).encode()
            rows += 20000
        s3.put_object(Bucket="raw-bench", Key="big.jsonl", Body=bytes(body))
        out = subprocess.run([sys.executable, "-c", _HANDLER], env=env, capture_output=True, text=True)
        if out.returncode:
            return {"error": out.stderr[-500:]}
        result = json.loads(out.stderr.strip().splitlines()[-1])
        result["object_mib"] = round(len(body) / 2**20, 1)
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds the producer writes")
    parser.add_argument("--rate", type=float, default=2000.0, help="records per second")
    parser.add_argument("--buffer-interval", default="10s")
    parser.add_argument("--handler-mib", type=int, default=64, help="size of the raw object for the handler")
    parser.add_argument("--skip-handler", action="store_true")
    args = parser.parse_args()
    report = {"machine": {"cpus": os.cpu_count(), "load_1m_at_start": round(os.getloadavg()[0], 1)},
              "stream": stream_benchmark(args.duration, args.rate, args.buffer_interval)}
    if not args.skip_handler:
        report["handler"] = handler_benchmark(args.handler_mib)
    report["machine"]["load_1m_at_end"] = round(os.getloadavg()[0], 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
