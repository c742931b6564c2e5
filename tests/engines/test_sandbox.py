"""The local engine reads the lake's tables and nothing else on the host.

Two independent closures, each tested alone: the SQL check refuses file-reading and
table functions wherever they appear (:mod:`lakekit.sql.sandbox`), and the DuckDB
connection has external access off with only the plan's files allowed and its
configuration locked (:mod:`lakekit.duckdb_connection`). Every case asserts a one-line
error and that no byte of the target file reaches the caller.
"""

from __future__ import annotations

import os
import subprocess

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakekit import open_lake, run_query
from lakekit.duckdb_connection import duckdb_connect
from lakekit.engines.local import LocalEngine
from lakekit.errors import LakekitError, TableNotFound, UsageError
from lakekit.plan.evaluator import ConstantEvaluator
from lakekit.sql.sandbox import FILE_FUNCTIONS, OutsideRead
from tests.helpers import LAKEKIT, cli

CANARY = "CANARY-7f3a91-SECRET"


@pytest.fixture(scope="module")
def secrets(tmp_path_factory) -> dict[str, str]:
    """Files outside the lake holding a canary: text, CSV, JSON, Parquet."""
    folder = tmp_path_factory.mktemp("host")
    paths = {
        "text": folder / "secret.txt",
        "csv": folder / "secret.csv",
        "json": folder / "secret.json",
        "parquet": folder / "secret.parquet",
    }
    paths["text"].write_text(f"{CANARY}\n")
    paths["csv"].write_text(f"k,v\nkey,{CANARY}\n")
    paths["json"].write_text(f'{{"k": "{CANARY}"}}\n')
    pq.write_table(pa.table({"k": [CANARY]}), paths["parquet"])
    return {k: str(v) for k, v in paths.items()} | {"dir": str(folder)}


def file_calls(s: dict[str, str]) -> dict[str, str]:
    """Each DuckDB function that touches files, called the way DuckDB accepts it."""
    return {
        "read_csv": f"read_csv('{s['csv']}')",
        "read_csv_auto": f"read_csv_auto('{s['csv']}')",
        "sniff_csv": f"sniff_csv('{s['csv']}')",
        "read_json": f"read_json('{s['json']}')",
        "read_json_auto": f"read_json_auto('{s['json']}')",
        "read_json_objects": f"read_json_objects('{s['json']}')",
        "read_json_objects_auto": f"read_json_objects_auto('{s['json']}')",
        "read_ndjson": f"read_ndjson('{s['json']}')",
        "read_ndjson_auto": f"read_ndjson_auto('{s['json']}')",
        "read_ndjson_objects": f"read_ndjson_objects('{s['json']}')",
        "read_parquet": f"read_parquet('{s['parquet']}')",
        "parquet_scan": f"parquet_scan('{s['parquet']}')",
        "parquet_metadata": f"parquet_metadata('{s['parquet']}')",
        "parquet_schema": f"parquet_schema('{s['parquet']}')",
        "parquet_file_metadata": f"parquet_file_metadata('{s['parquet']}')",
        "parquet_full_metadata": f"parquet_full_metadata('{s['parquet']}')",
        "parquet_kv_metadata": f"parquet_kv_metadata('{s['parquet']}')",
        "parquet_page_index": f"parquet_page_index('{s['parquet']}')",
        "parquet_bloom_probe": f"parquet_bloom_probe('{s['parquet']}', 'k', '{CANARY}')",
        "read_text": f"read_text('{s['text']}')",
        "read_blob": f"read_blob('{s['text']}')",
        "glob": f"glob('{s['dir']}/*')",
        "read_duckdb": f"read_duckdb('{s['dir']}/x.duckdb')",
        "query_table": f"query_table(['{s['parquet']}'])",
    }


def assert_refused_quietly(error: BaseException, *, kind: type[BaseException] = UsageError) -> None:
    assert isinstance(error, kind), f"{type(error).__name__}: {error}"
    message = str(error)
    assert "\n" not in message
    assert CANARY not in message
    assert "root:" not in message


def refusal(sql: str, settings) -> BaseException:
    with pytest.raises(LakekitError) as caught:
        run_query(sql, settings=settings)
    return caught.value


# -- the SQL check ------------------------------------------------------------------------------
DUCKDB_TABLE_FUNCTIONS = sorted({
    name for (name,) in duckdb.connect().execute(
        "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type IN ('table', 'table_macro')"
    ).fetchall()
} - {"unnest"})


def parsable_call(name: str) -> str:
    """``name(...)`` with arguments sqlglot's Athena parser accepts (some names are typed
    functions there that insist on an argument count)."""
    import sqlglot

    for args in ("'/etc/passwd'", "", "1, 2", "'/etc/passwd', 1, 2", "1, 2, 3"):
        call = f"{name}({args})"
        try:
            sqlglot.parse_one(f"SELECT * FROM {call}", read="athena")
        except sqlglot.errors.ParseError:
            continue
        return call
    raise AssertionError(f"no call of {name} parses")


@pytest.mark.parametrize("name", DUCKDB_TABLE_FUNCTIONS)
def test_every_duckdb_table_function_in_from_is_refused(clicks_lake, name):
    """Trino calls no table function as FROM f(...); every DuckDB one is refused by position."""
    error = refusal(f"SELECT * FROM {parsable_call(name)}", clicks_lake.settings)
    assert_refused_quietly(error, kind=OutsideRead)
    assert f"{name}(...)" in str(error)


def test_the_file_function_list_covers_duckdbs_file_readers():
    """Every installed DuckDB table function named like a reader is refused by name anywhere."""
    readers = {n for n in DUCKDB_TABLE_FUNCTIONS
               if n.startswith(("read_", "parquet_", "sniff_", "iceberg_", "delta_")) or n in ("glob", "query_table")}
    assert readers <= FILE_FUNCTIONS


PLACEMENTS = {
    "from": "SELECT * FROM {f}",
    "lateral": "SELECT * FROM (VALUES 1) v(x) CROSS JOIN LATERAL {f}",
    "lateral subquery": "SELECT * FROM lake.users u CROSS JOIN LATERAL (SELECT * FROM {f})",
    "join": "SELECT * FROM lake.users u JOIN {f} ON true",
    "comma join": "SELECT * FROM lake.users u, {f}",
    "subquery in from": "SELECT * FROM (SELECT * FROM {f}) t",
    "scalar subquery": "SELECT (SELECT count(*) FROM {f})",
    "cte": "WITH c AS (SELECT * FROM {f}) SELECT * FROM c",
    "nested cte": "WITH a AS (SELECT 1 AS x), c AS (SELECT * FROM a, {f}) SELECT * FROM c",
    "in subquery": "SELECT name FROM lake.users WHERE name IN (SELECT * FROM {f})",
    "exists": "SELECT name FROM lake.users WHERE EXISTS (SELECT 1 FROM {f})",
    "union branch": "SELECT name FROM lake.users UNION ALL SELECT * FROM {f}",
    "scalar position": "SELECT {f}",
    "in a predicate": "SELECT name FROM lake.users WHERE name = {f}",
    "table()": "SELECT * FROM TABLE({f})",
    "schema-qualified": "SELECT * FROM main.{f}",
}


@pytest.mark.parametrize("placement", sorted(PLACEMENTS))
@pytest.mark.parametrize("function", ["read_csv", "read_text", "read_blob", "read_parquet", "glob", "parquet_metadata"])
def test_file_functions_are_refused_in_every_placement(clicks_lake, secrets, placement, function):
    sql = PLACEMENTS[placement].format(f=file_calls(secrets)[function])
    assert_refused_quietly(refusal(sql, clicks_lake.settings))


@pytest.mark.parametrize("function", sorted(file_calls({"csv": "", "json": "", "parquet": "", "text": "", "dir": ""})))
def test_each_file_function_is_refused_by_the_sql_check(clicks_lake, secrets, function):
    error = refusal(f"SELECT * FROM {file_calls(secrets)[function]}", clicks_lake.settings)
    assert_refused_quietly(error, kind=OutsideRead)
    assert str(error).startswith(f"{function}(...) reads files outside the lake")


def test_the_issue_reproductions_are_refused(clicks_lake):
    for sql in ("SELECT * FROM (VALUES 1) v(x) CROSS JOIN LATERAL read_csv('/etc/passwd', header=false, sep=':')",
                "SELECT * FROM read_text('/etc/shadow')",
                "SELECT * FROM read_blob('/etc/*')"):
        assert_refused_quietly(refusal(sql, clicks_lake.settings), kind=OutsideRead)


@pytest.mark.parametrize("sql", ["SELECT * FROM '/etc/passwd'", 'SELECT * FROM "/etc/passwd"',
                                 "SELECT * FROM '{lake_file}'", "SELECT * FROM \"{secret}\""])
def test_string_paths_are_table_names_the_catalog_lacks(clicks_lake, secrets, sql):
    lake_file = os.path.join(clicks_lake.partition_dir(__import__("datetime").date(2024, 3, 2)), "part-0.parquet")
    error = refusal(sql.format(lake_file=lake_file, secret=secrets["parquet"]), clicks_lake.settings)
    assert_refused_quietly(error, kind=TableNotFound)


@pytest.mark.parametrize("sql", [
    "SET enable_external_access = true",
    "RESET lock_configuration",
    "INSTALL httpfs",
    "LOAD httpfs",
    "ATTACH '{dir}/x.duckdb' AS x",
    "COPY (SELECT 1) TO '{dir}/copied.csv'",
    "EXPORT DATABASE '{dir}/exported'",
    "PRAGMA enable_profiling",
    "CALL pragma_version()",
    "CREATE SECRET (TYPE s3, KEY_ID 'k', SECRET 's')",
])
def test_statements_that_change_the_engine_are_refused(clicks_lake, secrets, sql):
    error = refusal(sql.format(dir=secrets["dir"]), clicks_lake.settings)
    assert_refused_quietly(error)
    assert sorted(os.listdir(secrets["dir"])) == ["secret.csv", "secret.json", "secret.parquet", "secret.txt"]


# -- the engine's closure, with the SQL check switched off ----------------------------------------
@pytest.mark.parametrize("function", sorted(file_calls({"csv": "", "json": "", "parquet": "", "text": "", "dir": ""})))
def test_duckdb_alone_refuses_each_file_function(clicks_lake, secrets, function):
    """The engine's connection, allowed a plan's files, given each call directly."""
    users = [os.path.join(clicks_lake.warehouse, "lake", "users", f"users-{i}.parquet") for i in range(2)]
    con = duckdb_connect(allowed_paths=users, profiling=True)
    try:
        assert con.execute(f"SELECT count(*) FROM read_parquet({users!r})").fetchone() == (1000,)
        with pytest.raises(duckdb.PermissionException) as caught:
            con.execute(f"SELECT * FROM {file_calls(secrets)[function]}").fetchall()
    finally:
        con.close()
    assert CANARY not in str(caught.value)


def test_duckdb_alone_reads_the_plans_files_and_no_other_lake_file(clicks_lake):
    """Files of a partition the plan pruned are the lake's, but not this query's: refused."""
    import datetime as dt

    kept = os.path.join(clicks_lake.partition_dir(dt.date(2024, 3, 1)), "part-0.parquet")
    pruned = os.path.join(clicks_lake.partition_dir(dt.date(2024, 3, 2)), "part-0.parquet")
    with open_lake(settings=clicks_lake.settings) as opened:
        engine = LocalEngine(clicks_lake.settings)
        try:
            result = engine.execute(opened.plan("SELECT count(*) AS n FROM lake.clicks WHERE day = '01'"))
            assert result.table.to_pylist() == [{"n": 2400}]
            con = engine._con
            assert con.execute(f"SELECT count(*) FROM read_parquet('{kept}')").fetchone() == (1200,)
            with pytest.raises(duckdb.PermissionException):
                con.execute(f"SELECT count(*) FROM read_parquet('{pruned}')")
        finally:
            engine.close()


def test_the_connection_is_locked_offline_and_allows_only_the_plans_files(clicks_lake):
    with open_lake(settings=clicks_lake.settings) as opened:
        plan = opened.plan("SELECT count(*) FROM lake.users")
        engine = LocalEngine(clicks_lake.settings)
        try:
            assert engine.execute(plan).table.to_pylist() == [{"_col0": 1000}]
            con = engine._con
            settings = dict(con.execute(
                "SELECT name, value FROM duckdb_settings() WHERE name IN ('autoinstall_known_extensions', "
                "'autoload_known_extensions', 'enable_external_access', 'lock_configuration', 'TimeZone', "
                "'python_enable_replacements', 'allowed_configs')"
            ).fetchall())
            spill = con.execute("SELECT current_setting('temp_directory'), current_setting('allowed_directories')").fetchone()
            allowed = con.execute("SELECT current_setting('allowed_paths')").fetchone()[0]
        finally:
            engine.close()
    assert settings == {
        "autoinstall_known_extensions": "false", "autoload_known_extensions": "false",
        "enable_external_access": "false", "lock_configuration": "true", "TimeZone": "UTC",
        "python_enable_replacements": "false", "allowed_configs": "[]",
    }
    # the only folder DuckDB may use is its own spill folder, private and not yet made
    folder, directories = spill
    assert directories == [folder + "/"]
    assert os.path.basename(folder).startswith("lakekit-spill-") and not os.path.exists(folder)
    expected = sorted(os.path.join(clicks_lake.warehouse, "lake", "users", f"users-{i}.parquet") for i in range(2))
    assert sorted(allowed) == expected


@pytest.mark.parametrize("statement", [
    "SET enable_external_access = true",
    "SET allowed_paths = ['/etc/passwd']",
    "SET allowed_directories = ['/']",
    "SET allowed_configs = ['enable_external_access']",
    "SET lock_configuration = false",
    "RESET lock_configuration",
    "SET autoload_known_extensions = true",
    "SET python_enable_replacements = true",
    "PRAGMA enable_profiling = 'json'",
    "SET profiling_output = '{dir}/profile.json'",
    "SET temp_directory = '{dir}'",
    "INSTALL httpfs",
    "LOAD httpfs",
    "LOAD '{dir}/x.duckdb_extension'",
    "ATTACH '{dir}/x.duckdb' AS x",
    "COPY (SELECT 1) TO '{dir}/copied.csv'",
    "EXPORT DATABASE '{dir}/exported'",
    "CREATE SECRET (TYPE s3, KEY_ID 'k', SECRET 's')",
    "SELECT * FROM enable_logging(storage = 'file', storage_path = '{dir}/logs')",
])
def test_no_statement_reopens_a_locked_connection(secrets, statement):
    con = duckdb_connect(allowed_paths=[secrets["parquet"]])
    try:
        with pytest.raises(duckdb.Error):
            con.execute(statement.format(dir=secrets["dir"]))
        assert con.execute("SELECT current_setting('enable_external_access')").fetchone() == (False,)
        assert con.execute(f"SELECT k FROM read_parquet('{secrets['parquet']}')").fetchone() == (CANARY,)
        with pytest.raises(duckdb.PermissionException):
            con.execute(f"SELECT * FROM read_text('{secrets['text']}')")
    finally:
        con.close()
    assert sorted(os.listdir(secrets["dir"])) == ["secret.csv", "secret.json", "secret.parquet", "secret.txt"]


def test_python_variables_are_not_tables():
    """DuckDB's Python client would otherwise resolve an unknown name to a variable in scope."""
    lakekit_internal_table = pa.table({"k": [CANARY]})  # noqa: F841 - what a replacement scan would find
    con = duckdb_connect()
    try:
        with pytest.raises(duckdb.CatalogException):
            con.execute("SELECT * FROM lakekit_internal_table")
    finally:
        con.close()


def test_the_estimates_evaluator_is_sandboxed_too(secrets):
    """Partition predicates are evaluated on DuckDB before a query runs: no file access there either."""
    evaluator = ConstantEvaluator()
    try:
        con = evaluator._connection()
        with pytest.raises(duckdb.PermissionException):
            con.execute(f"SELECT * FROM read_text('{secrets['text']}')")
    finally:
        evaluator.close()


# -- through the command line ------------------------------------------------------------------------
@pytest.mark.parametrize("function", sorted(file_calls({"csv": "", "json": "", "parquet": "", "text": "", "dir": ""})))
def test_cli_refuses_each_file_function_in_one_line(clicks_lake, secrets, function):
    sql = f"SELECT * FROM lake.users CROSS JOIN LATERAL {file_calls(secrets)[function]}"
    result = cli("query", sql, "--warehouse", clicks_lake.warehouse)
    assert result.exit_code == 2, result.output
    assert CANARY not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {function}(...) reads files outside the lake")


def test_cli_json_refusal_is_one_document(clicks_lake, secrets):
    import json

    sql = f"SELECT * FROM read_text('{secrets['text']}')"
    result = cli("query", sql, "--warehouse", clicks_lake.warehouse, "--json")
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert doc["error"]["exit_code"] == 2 and "read_text(...)" in doc["error"]["message"]
    assert CANARY not in result.output


@pytest.mark.parametrize("sql", [
    "SELECT * FROM (VALUES 1) v(x) CROSS JOIN LATERAL read_csv('/etc/passwd', header=false, sep=':')",
    "SELECT * FROM lake.users WHERE EXISTS (SELECT 1 FROM read_text('{text}'))",
    "WITH c AS (SELECT * FROM read_blob('{dir}/*')) SELECT * FROM c",
])
def test_installed_command_refuses_and_prints_nothing_of_the_file(clicks_lake, secrets, sql):
    done = subprocess.run([LAKEKIT, "query", sql.format(**secrets), "--warehouse", clicks_lake.warehouse],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert CANARY not in done.stderr and "root:" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "reads files outside the lake" in done.stderr
