"""Issue 11's Errors and Output findings, each as the user meets it: exit codes, messages,
names and what lands where. Expected values come from the data the tests write, never
from lakekit's own output."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakekit import run_query
from lakekit.catalog import Column, Table
from lakekit.catalog.local import LocalCatalog
from lakekit.config import resolve_settings
from lakekit.errors import UsageError
from lakekit.parquet import read_file_stats
from lakekit.storage import Storage
from tests.helpers import cli

SEATTLE = pa.table({
    "city": ["seattle"] * 4,
    "weather": ["rain", "sun", "rain", "fog"],
    "ts": pa.array([dt.datetime(2024, 3, 1, 23, 30, tzinfo=dt.UTC), dt.datetime(2024, 3, 2, 0, 15, tzinfo=dt.UTC),
                    dt.datetime(2024, 3, 2, 12, 0, tzinfo=dt.UTC), dt.datetime(2024, 3, 3, 6, 45, 30, tzinfo=dt.UTC)],
                   pa.timestamp("us", tz="UTC")),
})
BIG_ROWS = 688_214


def invoke(*args: str):
    return cli("query", *args)


@pytest.fixture(scope="module")
def wh(tmp_path_factory) -> str:
    """lake.seattle (4 rows) and lake.big (688,214 rows), unpartitioned, registered by hand."""
    warehouse = str(tmp_path_factory.mktemp("errors"))
    settings = resolve_settings(warehouse=warehouse, env={}, cwd=warehouse)
    catalog = LocalCatalog(settings.local_catalog_path())
    storage = Storage(warehouse)
    for name, table, columns in (
        ("seattle", SEATTLE, [Column("city", "string"), Column("weather", "string"), Column("ts", "timestamp")]),
        ("big", pa.table({"n": pa.array(range(BIG_ROWS), pa.int64()),
                          "label": pa.array([f"row {i}" for i in range(BIG_ROWS)])}),
         [Column("n", "bigint"), Column("label", "string")]),
    ):
        folder = os.path.join(warehouse, "lake", name)
        os.makedirs(folder)
        path = os.path.join(folder, "part-0.parquet")
        pq.write_table(table, path)
        catalog.create_or_update_table(Table("lake", name, folder, columns, [], {"classification": "parquet"}))
        catalog.put_files("lake", name, [read_file_stats(storage, path)])
    catalog.close()
    return warehouse


# -- Errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("extra", [[], ["--dry-run"], ["--dry-run", "--json"]])
def test_a_column_typo_is_exit_2_with_a_suggestion_in_a_run_and_a_dry_run(wh, extra):
    result = invoke("SELECT weathr FROM lake.seattle", "--warehouse", wh, *extra)
    assert result.exit_code == 2, result.output
    assert result.stderr == "error: column 'weathr' cannot be resolved in seattle; did you mean weather?\n"


def test_a_column_typo_in_a_qualified_reference_and_a_values_list(wh):
    for sql, message in (
        ("SELECT s.weathr FROM lake.seattle s", "column 'weathr' cannot be resolved in seattle; did you mean weather?"),
        ("SELECT weathr FROM (VALUES ('rain')) AS seattle(weather)",
         "column 'weathr' cannot be resolved in seattle; did you mean weather?"),
        ("SELECT city FROM lake.seattle WHERE wether = 'rain'",
         "column 'wether' cannot be resolved in seattle; did you mean weather?"),
    ):
        with pytest.raises(UsageError) as caught:
            run_query(sql, warehouse=wh)
        assert str(caught.value) == message


def test_columns_that_exist_are_not_refused(wh):
    rows = run_query("SELECT weather AS w, count(*) AS n FROM lake.seattle s GROUP BY 1 ORDER BY w", warehouse=wh)
    assert rows.table.to_pylist() == [{"w": "fog", "n": 1}, {"w": "rain", "n": 2}, {"w": "sun", "n": 1}]


def test_constant_queries_are_headed_as_athena_heads_them(wh):
    table = run_query("SELECT 5 / 2, 1, 'x' AS named, 2 + 2", warehouse=wh).table
    assert table.column_names == ["_col0", "_col1", "named", "_col3"]
    mixed = run_query("SELECT weather, upper(weather), 1 FROM lake.seattle LIMIT 1", warehouse=wh).table
    assert mixed.column_names == ["weather", "_col1", "_col2"]
    union = run_query("SELECT 1 UNION ALL SELECT 2", warehouse=wh).table
    assert union.column_names == ["_col0"]


def test_debug_shows_a_traceback_and_keeps_the_exit_code(wh):
    plain = cli("query", "SELECT weathr FROM lake.seattle", "--warehouse", wh)
    debug = cli("--debug", "query", "SELECT weathr FROM lake.seattle", "--warehouse", wh)
    assert plain.exit_code == debug.exit_code == 2
    assert "Traceback (most recent call last)" in debug.stderr and "Traceback" not in plain.stderr
    assert debug.stderr.rstrip().endswith("error: column 'weathr' cannot be resolved in seattle; did you mean weather?")
    failing = cli("--debug", "query", "SELECT CAST(weather AS bigint) FROM lake.seattle",
                                        "--warehouse", wh)
    assert failing.exit_code == 4


# -- Output ---------------------------------------------------------------------------------------
def test_the_table_format_shows_max_rows_and_says_how_many_it_left_out(wh):
    started = time.perf_counter()
    result = invoke("SELECT n, label FROM lake.big", "--warehouse", wh)
    seconds = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2 + 1000 + 1
    assert lines[2].split() == ["0", "row", "0"] and lines[1001].split() == ["999", "row", "999"]
    assert lines[-1].startswith(f"({BIG_ROWS:,} rows; showing the first 1,000, {BIG_ROWS - 1000:,} left out")
    assert seconds < 20, seconds  # was 3 min 8 s; the engine, not rendering, is most of what is left


def test_ten_thousand_rows_render_in_under_a_second(wh):
    from lakekit.cli.rows import render_table

    table = run_query("SELECT n, label FROM lake.big WHERE n < 10000", warehouse=wh).table
    started = time.perf_counter()
    text = render_table(table, max_rows=10_000)
    assert time.perf_counter() - started < 1.0
    assert len(text.splitlines()) == 2 + 10_000


def test_max_rows_is_for_the_table_format_only(wh, tmp_path):
    result = invoke("SELECT n FROM lake.big WHERE n < 30", "--warehouse", wh, "--format", "csv", "--max-rows", "5")
    assert result.stdout.splitlines() == ['"n"', *[str(i) for i in range(30)]]
    shown = invoke("SELECT n FROM lake.big WHERE n < 30 ORDER BY n", "--warehouse", wh, "--max-rows", "5")
    assert [line.strip() for line in shown.stdout.splitlines()[2:7]] == ["0", "1", "2", "3", "4"]
    assert "(30 rows; showing the first 5, 25 left out" in shown.stdout


@pytest.mark.parametrize("extension, read", [
    (".parquet", lambda p: pq.read_table(p).to_pylist()),
    (".csv", lambda p: [{"weather": w} for w in Path(p).read_text().split()[1:]]),
    (".json", lambda p: json.loads(Path(p).read_text())),
])
def test_output_infers_the_format_from_its_extension(wh, tmp_path, extension, read):
    out = tmp_path / f"rows{extension}"
    result = invoke("SELECT weather FROM lake.seattle ORDER BY weather", "--warehouse", wh, "--output", str(out))
    assert result.exit_code == 0, result.output
    rows = read(str(out))
    expected = sorted(SEATTLE.column("weather").to_pylist())
    if extension == ".csv":
        assert [r["weather"].strip('"') for r in rows] == expected
    else:
        assert [r["weather"] for r in rows] == expected


def test_a_format_that_contradicts_the_extension_is_refused(wh, tmp_path):
    result = invoke("SELECT 1", "--warehouse", wh, "--format", "csv", "--output", str(tmp_path / "x.parquet"))
    assert result.exit_code == 2
    assert "does not match --output" in result.stderr
    assert not (tmp_path / "x.parquet").exists()


@pytest.mark.parametrize("where, message", [
    ("missing/out.csv", "does not exist; create the folder first"),
    ("", "is a folder; give a file name inside it"),
])
def test_output_is_checked_before_the_query_runs(wh, tmp_path, monkeypatch, where, message):
    ran = []
    import lakekit.lake

    monkeypatch.setattr(lakekit.lake.Lake, "run_query", lambda *a, **k: ran.append(1))
    result = invoke("SELECT weather FROM lake.seattle", "--warehouse", wh, "--output", str(tmp_path / where))
    assert result.exit_code == 2 and message in result.stderr
    assert ran == []


def test_output_into_a_read_only_folder_is_refused_before_running(wh, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes anywhere")
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    result = invoke("SELECT 1", "--warehouse", wh, "--output", str(folder / "x.csv"))
    assert result.exit_code == 2 and "permission denied" in result.stderr


def test_json_refused_by_max_cost_prints_the_estimate_and_the_error(wh):
    result = invoke("SELECT * FROM lake.big", "--warehouse", wh, "--json", "--max-cost", "0.000001")
    assert result.exit_code == 3
    doc = json.loads(result.stdout)
    assert doc["error"]["exit_code"] == 3 and "is over --max-cost" in doc["error"]["message"]
    assert doc["estimate"]["tables"][0]["table"] == "lake.big"
    assert doc["estimate"]["bytes_billed"] >= 10 * 2**20
    dry = invoke("SELECT * FROM lake.big", "--warehouse", wh, "--json", "--dry-run", "--max-cost", "0.000001")
    assert dry.exit_code == 3
    assert json.loads(dry.stdout)["estimate"] == doc["estimate"]


def test_json_failure_is_one_document_with_the_estimate(wh):
    result = invoke("SELECT CAST(weather AS bigint) FROM lake.seattle", "--warehouse", wh, "--json")
    assert result.exit_code == 4
    doc = json.loads(result.stdout)
    assert doc["error"]["exit_code"] == 4 and doc["error"]["message"].startswith("local engine (DuckDB): ")
    assert doc["estimate"]["tables"][0]["table"] == "lake.seattle"
    usage = invoke("SELECT weathr FROM lake.seattle", "--warehouse", wh, "--json")
    assert json.loads(usage.stdout) == {"error": {
        "exit_code": 2, "message": "column 'weathr' cannot be resolved in seattle; did you mean weather?"}}


def test_timestamps_come_back_without_a_zone_as_utc_wall_time(wh):
    table = run_query("SELECT ts FROM lake.seattle ORDER BY ts", warehouse=wh).table
    assert table.schema.field("ts").type == pa.timestamp("us")
    expected = [t.astimezone(dt.UTC).replace(tzinfo=None) for t in SEATTLE.column("ts").to_pylist()]
    assert table.column("ts").to_pylist() == sorted(expected)
    csv = invoke("SELECT ts FROM lake.seattle ORDER BY ts", "--warehouse", wh, "--format", "csv")
    assert csv.stdout.splitlines()[1] == "2024-03-01 23:30:00.000000"
