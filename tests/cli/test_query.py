"""``lakekit query`` as a user runs it: exact output, exit codes, one real subprocess."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from lakekit.plan import MIN_BILLED_BYTES
from tests.clicks_lake import build_lake
from tests.helpers import cli, run_lakekit

SQL = "SELECT day, count(*) AS n FROM lake.clicks WHERE month = '03' AND day <= '02' GROUP BY day ORDER BY day"


@pytest.fixture(scope="module")
def cli_lake(tmp_path_factory):
    return build_lake(str(tmp_path_factory.mktemp("clilake")))


def test_csv_rows_on_stdout_and_readout_on_stderr(cli_lake):
    result = cli("query", SQL, "--warehouse", cli_lake.warehouse, "--format", "csv", "--estimate-cost")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == '"day","n"\n"01",2400\n"02",2400\n'
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Estimate: ") and "10.00 MiB billed, $0.000048 at $5.00/TB" in lines[0]
    assert lines[1].startswith("  lake.clicks: 2/12 partitions, 4 files, 12 row groups, ")
    assert lines[1].endswith("; columns: no columns (footers only)")
    # The local engine's I/O is not a bill: no "Data scanned" or cost of its own, the estimate's beside it.
    assert lines[-1].startswith("Run time: ") and ", read " in lines[-1]
    assert "(local engine, 2 rows); Athena would scan what the estimate counts: estimated " in lines[-1]
    assert "Data scanned" not in lines[-1] and "cost $" not in lines[-1]


def test_dry_run_json_is_the_estimate_exactly(cli_lake):
    result = cli("query", SQL, "--warehouse", cli_lake.warehouse, "--dry-run", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert set(doc) == {"bytes_scanned", "bytes_billed", "cost_usd", "price_per_tb_usd", "tables", "advice"}
    assert set(doc["tables"][0]) == {"table", "partitions_total", "partitions_scanned", "files_scanned",
                                     "row_groups_scanned", "columns", "bytes_scanned"}
    assert doc["bytes_billed"] == MIN_BILLED_BYTES
    assert doc["price_per_tb_usd"] == 5.0
    assert doc["tables"][0]["partitions_scanned"] == 2


def test_json_run_has_estimate_actual_and_rows(cli_lake):
    result = cli("query", SQL, "--warehouse", cli_lake.warehouse, "--json")
    doc = json.loads(result.stdout)
    assert doc["rows"] == [{"day": "01", "n": 2400}, {"day": "02", "n": 2400}]
    assert doc["actual"]["rows"] == 2 and doc["actual"]["bytes_scanned"] > 0
    assert doc["estimate"]["tables"][0]["files_scanned"] == 4


def test_max_cost_refuses_with_exit_3(cli_lake):
    result = cli("query", "SELECT * FROM lake.clicks", "--warehouse", cli_lake.warehouse, "--max-cost", "0.00001")
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr == (
        "error: estimated cost $0.000048 (10.00 MiB billed) is over --max-cost $0.000010; the query was not run\n"
    )


def test_price_per_tb_changes_the_cost(cli_lake):
    result = cli("query", SQL, "--warehouse", cli_lake.warehouse, "--dry-run", "--json", "--price-per-tb", "6.25")
    doc = json.loads(result.stdout)
    assert doc["cost_usd"] == pytest.approx(MIN_BILLED_BYTES * 6.25 / 2**40)


def test_output_parquet_file(cli_lake, tmp_path):
    out = tmp_path / "rows.parquet"
    result = cli("query", SQL, "--warehouse", cli_lake.warehouse, "--format", "parquet", "--output", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert pq.read_table(out).to_pylist() == [{"day": "01", "n": 2400}, {"day": "02", "n": 2400}]


@pytest.mark.parametrize(
    "args, message",
    [
        (["SELECT FROM WHERE"], "error: SQL syntax error at line 1, column 13 near 'WHERE'"),
        (["SELECT * FROM lake.clickz"],
         "error: table lake.clickz not found in catalog local ({warehouse}); did you mean lake.clicks?"),
        ([], "error: give the SQL as an argument or with -f FILE (one of the two)"),
        (["SELECT 1; SELECT 2"], "error: one statement at a time, got 2; run them one by one"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli_lake, args, message):
    result = cli("query", *args, "--warehouse", cli_lake.warehouse)
    assert result.exit_code == 2
    assert result.stderr.startswith(message.format(warehouse=cli_lake.warehouse))
    assert result.stderr.count("\n") == 1


def test_engine_failure_is_exit_4(cli_lake):
    # Athena fails this at run time too (Division by zero); it is no refusal.
    result = cli("query", "SELECT sum(quantity / (quantity - quantity)) FROM lake.clicks", "--warehouse", cli_lake.warehouse)
    assert result.exit_code == 4
    assert result.stderr.startswith("error: local engine (DuckDB): ")
    assert "Division by zero" in result.stderr


def test_function_the_local_engine_lacks_is_refused_exit_2(cli_lake):
    result = cli("query", "SELECT no_such_function(day) FROM lake.clicks", "--warehouse", cli_lake.warehouse)
    assert result.exit_code == 2
    assert result.stderr == (
        "error: function no_such_function() is not supported by the local engine; run it with --engine athena\n"
    )


def test_file_argument_and_help_example(cli_lake, tmp_path):
    path = tmp_path / "q.sql"
    path.write_text("-- two days\n" + SQL + ";\n")
    result = cli("query", "-f", str(path), "--warehouse", cli_lake.warehouse, "--format", "json")
    assert json.loads(result.stdout) == [{"day": "01", "n": 2400}, {"day": "02", "n": 2400}]
    assert "Example:" in cli("query", "--help").stdout


def test_installed_command_end_to_end(cli_lake):
    proc = run_lakekit("query", SQL, "--warehouse", cli_lake.warehouse, "--estimate-cost", "--format", "csv",
                       env={"COLUMNS": "200"}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == '"day","n"\n"01",2400\n"02",2400\n'
    assert "Run time:" in proc.stderr and "Estimate:" in proc.stderr


@pytest.mark.parametrize("price", ["nan", "inf", "-1", "-inf"])
@pytest.mark.parametrize("mode", ["--dry-run", "--estimate-cost"])
def test_a_price_that_is_not_a_price_is_refused(cli_lake, price, mode):
    """With a NaN price every comparison is false and --max-cost could never refuse."""
    result = cli("query", SQL, "--warehouse", cli_lake.warehouse, mode, "--max-cost", "0.000001", "--price-per-tb", price)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: --price-per-tb {float(price)} is not a price")
    assert result.stderr.count("\n") == 1


def test_a_budget_that_is_not_a_number_is_refused(cli_lake):
    for mode in ("--dry-run", "--estimate-cost"):
        result = cli("query", SQL, "--warehouse", cli_lake.warehouse, mode, "--max-cost", "nan")
        assert result.exit_code == 2 and result.stderr.startswith("error: --max-cost nan is not a budget")


def test_price_per_tb_in_lakekit_toml_is_checked_too(cli_lake, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lakekit.toml").write_text("price_per_tb = nan\n")
    result = cli("query", SQL, "--warehouse", cli_lake.warehouse, "--dry-run")
    assert result.exit_code == 2 and result.stderr.startswith("error: price_per_tb nan is not a price")
