"""A smoke run of benchmarks/ingest.py: every tool runs, and every output is checked."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from tests.helpers import ROOT

# The benchmarks compare lakekit with pandas + awswrangler (the aws extra) and the
# bench extra's tools: without them there is nothing to compare against.
pytest.importorskip("awswrangler", reason="the benchmarks need the aws extra (pip install lakekit[aws])")
pytest.importorskip("psutil", reason="the benchmark harness needs psutil (the dev extra)")



def test_quick_run_reports_every_tool_with_checked_row_counts(tmp_path):
    out = tmp_path / "report.md"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "ingest.py"), "--quick", "--records", "3000",
         "--scaling", "1000,6000", "--skip-wide", "--workdir", str(tmp_path / "work"), "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    report = out.read_text()
    assert report == proc.stdout
    rows = {tuple(cell.strip() for cell in line.split("|")[1:3]): line for line in report.splitlines()
            if line.startswith("| ") and line.count("|") == 11}
    assert "ok: 3,000 rows read back" in rows[("DuckDB COPY", "clean")]
    # DuckDB gets through malformed lines only with ignore_errors, keeping them as NULL rows.
    assert "lossy: 3,000 rows read back" in rows[("DuckDB COPY", "1% bad")]
    assert "ok: 3,000 rows read back from moto S3" in rows[("pandas + awswrangler", "clean")]
    assert "ok: 3,000 rows read back" in rows[("DuckDB COPY", "CSV")]
    assert "ok: 3,000 rows read back" in rows[("DuckDB COPY", "CSV multi-line")]
    if importlib.util.find_spec("dlt") is not None:
        assert "ok: 3,000 rows read back" in rows[("dlt", "clean")]
    else:
        assert ("dlt", "clean") not in rows
    lakekit = rows[("lakekit", "clean")]
    assert "not run" in lakekit or "rows read back" in lakekit
    assert "| lakekit / awswrangler records/s, clean |" in report
    assert "bad lines" in report  # the input description names the bad-record count
    # The input files are kept for the next run; the outputs are removed once checked.
    assert sorted(p.name for p in (tmp_path / "work" / "data").glob("*.jsonl")) == [
        "events-1000.jsonl", "events-3000-bad0.01.jsonl", "events-3000.jsonl", "events-6000.jsonl"]
    assert sorted(p.name for p in (tmp_path / "work" / "data").glob("*.csv")) == [
        "events-3000-multiline.csv", "events-3000.csv"]
    assert not any((tmp_path / "work" / "out").glob("*/*"))
    assert len((tmp_path / "work" / "data" / "events-1000.jsonl").read_text().splitlines()) == 1000
