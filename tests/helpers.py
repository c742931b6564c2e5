"""Helpers shared by the test packages: the installed command, one CLI runner, one event
builder, and readers that look at what lakekit wrote without going through lakekit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from click.testing import CliRunner, Result

from lakekit.paths import is_hidden_name

#: the ``lakekit`` console script of the interpreter running the tests
LAKEKIT = str(Path(sys.executable).with_name("lakekit"))
#: the repository's root (examples, layouts, benchmarks)
ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, input: str | bytes | None = None) -> Result:
    """``lakekit ARGS`` in-process (click's runner): exit code, stdout and stderr apart."""
    from lakekit.cli import main

    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def run_lakekit(*args: str, env: dict[str, str] | None = None, input: str | bytes | None = None,
                timeout: float = 120, cwd: str | os.PathLike | None = None) -> subprocess.CompletedProcess:
    """The installed ``lakekit`` command as a subprocess (text unless ``input`` is bytes)."""
    return subprocess.run([LAKEKIT, *args], capture_output=True, text=not isinstance(input, bytes),
                          env={**os.environ, **(env or {})}, input=input, timeout=timeout, cwd=cwd)


def write_jsonl(path: str | os.PathLike, records: Iterable[dict | str]) -> str:
    """One JSON object (or the given raw line) a line."""
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write((r if isinstance(r, str) else json.dumps(r)) + "\n")
    return str(path)


def write_events(path: str | os.PathLike, rows: int, *, days: int = 10, seed: int = 7,
                 bad_fraction: float = 0.0) -> str:
    """``rows`` sample events (``lakekit.sample``, from 2024-03-01) over ``days`` days as
    JSON Lines; ``bad_fraction`` of them malformed."""
    from lakekit.sample import events_jsonl

    lines = events_jsonl(rows, days=days, seed=seed, bad_fraction=bad_fraction)
    Path(path).write_text("".join(lines), encoding="utf-8")
    return str(path)


def visible_data_files(warehouse: str, db: str, table: str) -> list[str]:
    """The files of a table's folder that Athena would read (none named ``_*``/``.*``)."""
    root = os.path.join(warehouse, db, table)
    out = []
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not is_hidden_name(d)]
        out.extend(os.path.join(dirpath, f) for f in files if not is_hidden_name(f))
    return sorted(out)


def read_back_pyarrow(table_dir: str, keys: Sequence[str] = ("year", "month", "day")):
    """The table as pyarrow's dataset reader sees it (hive partitions as strings)."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    part = ds.partitioning(pa.schema([(k, pa.string()) for k in keys]), flavor="hive")
    dataset = ds.dataset(table_dir, format="parquet", partitioning=part, ignore_prefixes=["_", "."])
    # Files written before a column was added lack it: read with the union of schemas.
    schema = pa.unify_schemas([f.physical_schema for f in dataset.get_fragments()] + [dataset.partitioning.schema])
    return ds.dataset(table_dir, schema=schema, format="parquet", partitioning=part,
                      ignore_prefixes=["_", "."]).to_table()


def read_back_duckdb(table_dir: str, order_by: str):
    """Rows and column names as DuckDB reads the table's files, hive partitions included."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    rows = con.execute(
        f"SELECT * FROM read_parquet('{table_dir}/**/*.parquet', hive_partitioning=true, union_by_name=true) "
        f"ORDER BY {order_by}"
    ).fetchall()
    return rows, [d[0] for d in con.description]


def catalog_of(warehouse: str):
    """The warehouse's local catalog, opened directly."""
    from lakekit.catalog.local import LocalCatalog

    return LocalCatalog(os.path.join(warehouse, "_lakekit", "catalog.db"))
