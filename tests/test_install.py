"""A fresh ``pip install .`` without extras imports lakekit and runs an ingest: the
declared dependencies are all the imports (numpy once was not)."""

from __future__ import annotations

import json
import subprocess
import sys
import venv

import pyarrow.dataset as ds
import pytest

from tests.helpers import ROOT, write_jsonl


@pytest.mark.slow
def test_install_without_extras_runs_an_ingest(tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # pip takes the declared dependencies' wheels from its cache when it has them.
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                              "--prefer-binary", str(ROOT)], capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    installed = subprocess.run([str(python), "-m", "pip", "list", "--format", "json"],
                               capture_output=True, text=True, check=True)
    names = {p["name"].lower() for p in json.loads(installed.stdout)}
    assert "lakekit" in names and not names & {"awswrangler", "pytest", "moto", "ruff"}

    source = write_jsonl(tmp_path / "e.jsonl", [{"id": i, "ts": f"2024-03-0{1 + i % 3}T10:00:00Z"} for i in range(30)])
    warehouse = tmp_path / "lake"
    lakekit = env_dir / "bin" / "lakekit"
    run = subprocess.run([str(lakekit), "ingest", source, "--table", "d.t", "--timestamp-column", "ts",
                          "--warehouse", str(warehouse), "--json"],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["records_written"] == 30
    # read back with this interpreter's pyarrow, not the fresh install's lakekit
    table = ds.dataset(str(warehouse / "d" / "t"), format="parquet", partitioning="hive",
                       ignore_prefixes=["_", "."]).to_table()
    assert sorted(table.column("id").to_pylist()) == list(range(30))
    assert sys.executable != str(python)
