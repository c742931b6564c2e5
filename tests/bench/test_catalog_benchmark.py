"""The Glue benchmark still runs and checks its own results (tiny sizes, partitions part;
the ingest part is the ingest tests' territory)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT

# The benchmarks compare lakekit with pandas + awswrangler (the aws extra) and the
# bench extra's tools: without them there is nothing to compare against.
pytest.importorskip("awswrangler", reason="the benchmarks need the aws extra (pip install lakekit[aws])")
pytest.importorskip("psutil", reason="the benchmark harness needs psutil (the dev extra)")



def test_catalog_benchmark_smoke(tmp_path):
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAKEKIT_"))}
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "catalog.py"), "--partitions", "150", "--repeat", "1",
         "--rtt-ms", "5", "--records", "0", "--crawl-files", "40", "--json", str(out)],
        capture_output=True, text=True, timeout=240, cwd=tmp_path, env=env,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "| 150 | 5 ms |" in run.stdout
    figures = json.loads(out.read_text())
    assert [p["partitions"] for p in figures["partitions"]] == [150, 150]
    assert all(p["lakekit_s"] > 0 and p["awswrangler_s"] > 0 for p in figures["partitions"])
    assert figures["crawl"]["files"] == 40 and figures["crawl"]["sync_removed"] == 4
