"""The command loads only what it needs: start-up time is imports, and an ingest has
no use for the SQL planner, DuckDB, boto3 or pandas (pandas alone costs about 0.3 s,
and pyarrow loads it on the quiet when asked for a ``to_numpy`` or a timestamp
statistic)."""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow.parquet as pq

HEAVY = ("pyarrow", "numpy", "duckdb", "boto3", "botocore", "sqlglot", "pandas", "rich", "yaml")
NOT_FOR_INGEST = ("duckdb", "boto3", "botocore", "sqlglot", "pandas", "yaml", "rich", "pyarrow.dataset", "lakekit.plan",
                  "lakekit.engines", "lakekit.lint", "lakekit.sql")


def _modules_after(argv: list[str], cwd) -> tuple[int, set[str], str]:
    """Run ``lakekit ARGV`` in a fresh interpreter; the modules it had loaded at exit."""
    script = (
        "import json, sys\n"
        "from lakekit.cli import main\n"
        "code = 0\n"
        f"try:\n    main({argv!r}, prog_name='lakekit')\n"
        "except SystemExit as ex:\n    code = ex.code or 0\n"
        "sys.stdout.flush()\n"
        "print('\\nMODULES=' + json.dumps(sorted(sys.modules)))\n"
        "sys.exit(code)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=cwd, timeout=120)
    out, _, modules = proc.stdout.rpartition("\nMODULES=")
    return proc.returncode, set(json.loads(modules)), out + proc.stderr


def _loaded(modules: set[str], names) -> list[str]:
    return sorted(n for n in names if n in modules or any(m.startswith(n + ".") for m in modules))


def test_help_and_sample_load_no_heavy_module(tmp_path):
    for argv in (["--help"], ["ingest", "--help"], ["query", "--help"], ["sample", "events", "--rows", "3"]):
        code, modules, out = _modules_after(argv, tmp_path)
        assert code == 0, out
        assert _loaded(modules, HEAVY) == [], argv


def test_ingest_loads_neither_the_query_stack_nor_pandas(tmp_path):
    source = tmp_path / "events.jsonl"
    lines = [json.dumps({"id": i, "ts": f"2024-03-{1 + i % 3:02d}T10:00:00Z", "v": i * 0.5}) for i in range(300)]
    source.write_text("\n".join(lines) + "\n")
    code, modules, out = _modules_after(
        ["ingest", str(source), "--table", "demo.events", "--timestamp-column", "ts",
         "--warehouse", str(tmp_path / "lake"), "--json"], tmp_path)
    assert code == 0, out
    assert json.loads(out)["records_written"] == 300
    assert _loaded(modules, NOT_FOR_INGEST) == []
    files = sorted((tmp_path / "lake" / "demo" / "events").rglob("*.parquet"))
    assert sum(pq.read_metadata(f).num_rows for f in files) == 300


def test_skipping_the_pandas_probe_leaves_pandas_usable():
    script = (
        "import sys\n"
        "from lakekit.cli.ingest import _skip_pandas_probe\n"
        "import pyarrow as pa\n"
        "_skip_pandas_probe()\n"
        "pa.array([1.5, None]).to_numpy(zero_copy_only=False)\n"
        "assert 'pandas' not in sys.modules\n"
        "df = pa.table({'a': [1, 2]}).to_pandas()\n"
        "import pandas as pd\n"
        "assert isinstance(df, pd.DataFrame) and df['a'].tolist() == [1, 2]\n"
        "assert pa.array(pd.Series([3, 4])).to_pylist() == [3, 4]\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
