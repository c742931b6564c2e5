"""Racing writers, read-only use, and the catalog's own safety (issue 10's findings).

Expected rows come from the source records; what readers see is read by DuckDB over
the SQLite catalog's locations, or by Glue + an S3 listing as Athena resolves them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter

import pytest

import lakekit
from tests.helpers import LAKEKIT, write_jsonl
from tests.readers import flatten, rows_seen


def _source(tmp_path, name, start, n=40, days=(1, 2, 3)):
    records = [{"id": start + i, "ts": f"2024-05-{days[i % len(days)]:02d}T08:00:00Z", "v": i} for i in range(n)]
    return write_jsonl(tmp_path / name, records), [r["id"] for r in records]


def _run_all(commands, env=None):
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, **(env or {})}) for c in commands]
    return [(p.wait(300), p.stdout.read(), p.stderr.read()) for p in procs]


def _ingest_cmd(backend_lake, src):
    return [LAKEKIT, "ingest", src, "--table", "c.t", "--timestamp-column", "ts", "--json",
            "--warehouse", backend_lake.warehouse, "--catalog", backend_lake.catalog]


def test_eight_concurrent_appends_lose_and_double_nothing(backend_lake, tmp_path):
    sources = [_source(tmp_path, f"s{i}.jsonl", start=1000 * i) for i in range(8)]
    outcomes = _run_all([_ingest_cmd(backend_lake, src) for src, _ in sources])
    assert [code for code, _, _ in outcomes] == [0] * 8, [err for _, _, err in outcomes]
    expected = Counter(i for _, ids in sources for i in ids)
    assert flatten(rows_seen(backend_lake, "c", "t")) == expected  # every row once, none twice
    assert sum(lakekit.query("SELECT count(*) AS n FROM c.t", warehouse=backend_lake.warehouse,
                             catalog=backend_lake.catalog).column("n").to_pylist()) == len(expected)


def test_one_source_raced_by_four_runs_commits_once(backend_lake, tmp_path):
    src, ids = _source(tmp_path, "same.jsonl", start=0)
    outcomes = _run_all([_ingest_cmd(backend_lake, src) for _ in range(4)])
    assert [code for code, _, _ in outcomes] == [0] * 4, [err for _, _, err in outcomes]
    written = [json.loads(out)["records_written"] for _, out, _ in outcomes]
    assert sorted(written) == [0, 0, 0, len(ids)]  # one committed it; the others report it skipped
    assert flatten(rows_seen(backend_lake, "c", "t")) == Counter(ids)


def _snapshot(folder):
    return sorted((os.path.relpath(os.path.join(d, f), folder), os.path.getsize(os.path.join(d, f)))
                  for d, _, names in os.walk(folder) for f in names)


def _read_only_copy(warehouse, tmp_path):
    """A read-only view of a copy of ``warehouse``: a read-only bind mount where this
    process may mount (root ignores chmod), else a chmod-ed copy."""
    copy = tmp_path / "copy"
    shutil.copytree(warehouse, copy)
    if os.geteuid() != 0:
        subprocess.run(["chmod", "-R", "a-w", str(copy)], check=True)
        return str(copy), []
    if shutil.which("unshare") is None:
        pytest.skip("running as root without unshare: no way to make the warehouse read-only")
    view = tmp_path / "ro"
    view.mkdir()
    # a private mount namespace: the mount lives only as long as the one command
    prefix = ["unshare", "-m", "sh", "-c",
              f'mount --bind "{copy}" "{view}" && mount -o remount,ro,bind "{view}" && exec "$@"', "sh"]
    probe = subprocess.run([*prefix, "touch", str(view / "x")], capture_output=True)
    if probe.returncode == 0 or b"Read-only" not in probe.stderr:
        pytest.skip(f"cannot make a read-only bind mount here: {probe.stderr.decode().strip()}")
    return str(view), prefix


def test_read_only_commands_work_on_a_read_only_warehouse_and_create_nothing(tmp_path, warehouse):
    src, ids = _source(tmp_path, "e.jsonl", start=0)
    lakekit.ingest(src, "c.t", timestamp_column="ts", warehouse=warehouse)
    view, prefix = _read_only_copy(warehouse, tmp_path)
    before = _snapshot(str(tmp_path / "copy"))
    runs = {
        "tables": ["tables", "--json"],
        "describe": ["describe", "c.t", "--json"],
        "query": ["query", "SELECT count(*) AS n FROM c.t", "--format", "json"],
        "lint": ["lint", "query", "SELECT id FROM c.t WHERE year = '2024'"],
    }
    for name, args in runs.items():
        done = subprocess.run([*prefix, LAKEKIT, *args, "--warehouse", view], capture_output=True, text=True,
                              cwd=tmp_path)
        assert done.returncode in (0, 1), f"{name}: {done.stderr}"
        assert "unable to open" not in done.stderr and "Traceback" not in done.stderr
    query = subprocess.run([*prefix, LAKEKIT, "query", "SELECT count(*) AS n FROM c.t", "--format", "json",
                            "--warehouse", view], capture_output=True, text=True)
    assert json.loads(query.stdout) == [{"n": len(ids)}]
    assert _snapshot(str(tmp_path / "copy")) == before


def test_read_only_commands_create_no_catalog_where_they_run(tmp_path):
    for args in (["tables"], ["describe", "c.t"], ["query", "SELECT 1 AS one"], ["lint", "query", "SELECT 1"]):
        subprocess.run([LAKEKIT, *args], capture_output=True, cwd=tmp_path)
    assert os.listdir(tmp_path) == []  # no ./lake/_lakekit/catalog.db appeared


def test_a_copied_warehouse_is_a_lake_of_its_own(tmp_path, warehouse):
    first, ids = _source(tmp_path, "a.jsonl", start=0)
    lakekit.ingest(first, "c.t", timestamp_column="ts", warehouse=warehouse)
    before = _snapshot(warehouse)
    copy = str(tmp_path / "lake2")
    shutil.copytree(warehouse, copy)
    second, more = _source(tmp_path, "b.jsonl", start=500)
    lakekit.ingest(second, "c.t", timestamp_column="ts", warehouse=copy)
    assert _snapshot(warehouse) == before  # the original lake is untouched
    from tests.readers import duckdb_rows
    assert flatten(duckdb_rows(copy, "c", "t")) == Counter(ids + more)
    assert flatten(duckdb_rows(warehouse, "c", "t")) == Counter(ids)


def test_a_lost_catalog_is_an_error_naming_it_never_a_fresh_table(tmp_path, warehouse):
    src, _ = _source(tmp_path, "a.jsonl", start=0)
    lakekit.ingest(src, "c.t", timestamp_column="ts", warehouse=warehouse)
    catalog = os.path.join(warehouse, "_lakekit", "catalog.db")
    open(catalog, "w").close()  # a full disk, a bad copy: 0 bytes
    other, _ = _source(tmp_path, "b.jsonl", start=500)
    done = subprocess.run(_ingest_cmd(type("L", (), {"warehouse": warehouse, "catalog": "local"}), other),
                          capture_output=True, text=True)
    assert done.returncode == 4 and "catalog.db is empty (0 bytes)" in done.stderr
    assert os.path.getsize(catalog) == 0
    os.remove(catalog)  # gone altogether: the folder's data is not taken over silently
    done = subprocess.run(_ingest_cmd(type("L", (), {"warehouse": warehouse, "catalog": "local"}), other),
                          capture_output=True, text=True)
    assert done.returncode == 2 and "already holds data files" in done.stderr and "catalog crawl" in done.stderr


@pytest.mark.parametrize("table", ["_lakekit.staging", "db._t", "_x.t"])
def test_names_starting_with_an_underscore_are_refused_with_a_valid_spelling(tmp_path, warehouse, table):
    src, _ = _source(tmp_path, "a.jsonl", start=0)
    done = subprocess.run([LAKEKIT, "ingest", src, "--table", table, "--timestamp-column", "ts",
                           "--warehouse", warehouse], capture_output=True, text=True)
    assert done.returncode == 2 and "use --table" in done.stderr
    crawl = subprocess.run([LAKEKIT, "catalog", "crawl", str(tmp_path), "--table", table, "--warehouse", warehouse],
                           capture_output=True, text=True)
    assert crawl.returncode == 2 and "not starting with '_'" in crawl.stderr


def test_crawl_onto_an_existing_table_needs_replace(tmp_path, warehouse):
    import pyarrow as pa
    import pyarrow.parquet as pq

    src, ids = _source(tmp_path, "a.jsonl", start=0)
    lakekit.ingest(src, "c.t", timestamp_column="ts", warehouse=warehouse)
    raw = tmp_path / "raw"
    pq.write_to_dataset(pa.table({"dt": ["2012"] * 3, "x": [1, 2, 3]}), str(raw), partition_cols=["dt"])
    refused = subprocess.run([LAKEKIT, "catalog", "crawl", str(raw), "--table", "c.t", "--warehouse", warehouse],
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "--replace" in refused.stderr
    assert flatten(rows_seen(type("L", (), {"kind": "local", "warehouse": warehouse}), "c", "t")) == Counter(ids)
    replaced = subprocess.run([LAKEKIT, "catalog", "crawl", str(raw), "--table", "c.t", "--replace", "--json",
                               "--warehouse", warehouse], capture_output=True, text=True)
    assert replaced.returncode == 0, replaced.stderr
    out = json.loads(replaced.stdout)
    assert out["partition_keys"] == ["dt"] and out["partitions_removed"] == []
    table = lakekit.open_lake(warehouse=warehouse).catalog.get_table("c", "t")
    assert "lakekit.timestamp_column" not in table.parameters  # no stale parameters of the old table
