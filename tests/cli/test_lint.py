"""`lakekit lint query|layout`: exact output, exit codes, selection, config, noqa, stdin."""

from __future__ import annotations

import json
import os
import subprocess

from tests.helpers import LAKEKIT, ROOT, cli


def test_clean_query_exits_0(warehouse):
    result = cli("lint", "query", "SELECT event_id FROM analytics.events WHERE year = '2024'", "--warehouse", warehouse)
    assert result.exit_code == 0
    assert result.stdout == "All checks passed!\n"
    assert "note: no catalog at" in result.stderr


def test_findings_exit_1_with_ruff_shaped_lines(warehouse):
    result = cli("lint", "query", "SELECT a FROM analytics.events WHERE year = '2024' ORDER BY a",
                  "--warehouse", warehouse)
    assert result.exit_code == 1
    assert result.stdout == (
        "<sql>:1:52: Q004 order-by-without-limit ORDER BY without LIMIT: one worker sorts the whole result\n"
        "Found 1 problem (Q004: 1).\n"
    )


def test_syntax_error_exits_2_naming_the_file(tmp_path, warehouse):
    bad = tmp_path / "broken.sql"
    bad.write_text("SELECT a FROM WHERE")
    result = cli("lint", "query", str(bad), "--warehouse", warehouse)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {bad}: SQL syntax error at line 1")
    assert "Traceback" not in result.output


def test_missing_sql_file_and_unknown_codes_exit_2(warehouse):
    assert cli("lint", "query", "nope.sql", "--warehouse", warehouse).exit_code == 2
    result = cli("lint", "query", "SELECT 1", "--select", "X9", "--warehouse", warehouse)
    assert result.exit_code == 2
    assert "--select X9: no rule code starts with it" in result.stderr
    layout = cli("lint", "layout", "no/such/dir", "--warehouse", warehouse)
    assert layout.exit_code == 2


def test_select_and_ignore(warehouse):
    sql = "SELECT * FROM analytics.events ORDER BY ts"
    only = cli("lint", "query", sql, "--select", "Q001,Q004", "--ignore", "Q004", "--json", "--warehouse", warehouse)
    assert [v["code"] for v in json.loads(only.stdout)] == ["Q001"]
    prefix = cli("lint", "query", sql, "--select", "Q00", "--select", "L", "--ignore", "Q001", "--format", "json",
                  "--warehouse", warehouse)
    assert [v["code"] for v in json.loads(prefix.stdout)] == ["Q002", "Q004"]


def test_lint_config_in_lakekit_toml(tmp_path, monkeypatch):
    (tmp_path / "lakekit.toml").write_text(
        '[lint]\nignore = ["Q004"]\npartition_keys = ["dt"]\nsmall_file_size = "1KiB"\n'
    )
    monkeypatch.chdir(tmp_path)
    result = cli("lint", "query", "SELECT a FROM logs.requests WHERE year = '2024' ORDER BY a")
    assert result.exit_code == 1
    assert [line.split()[1] for line in result.stdout.splitlines()[:-1]] == ["Q002"]
    assert "(assumed: dt)" in result.stdout
    assert "partition keys from [lint] partition_keys (dt)" in result.stderr
    # a flag replaces the file's list
    flagged = cli("lint", "query", "SELECT a FROM t WHERE dt = 'x' ORDER BY a", "--ignore", "Q002")
    assert "Q004" in flagged.stdout


def test_bad_lint_config_is_a_usage_error(tmp_path, monkeypatch):
    (tmp_path / "lakekit.toml").write_text('[lint]\nsmal_file_size = "1KiB"\n')
    monkeypatch.chdir(tmp_path)
    result = cli("lint", "layout", str(ROOT / "layouts" / "events.yaml"))
    assert result.exit_code == 2
    assert "unknown setting(s) smal_file_size" in result.stderr


def test_noqa_silences_one_line(tmp_path, warehouse):
    path = tmp_path / "q.sql"
    path.write_text(
        "SELECT *  -- noqa: Q001\n"
        "FROM analytics.events  -- noqa\n"
        "ORDER BY ts\n"
    )
    result = cli("lint", "query", str(path), "--json", "--warehouse", warehouse)
    assert [(v["code"], v["line"]) for v in json.loads(result.stdout)] == [("Q004", 3)]


def test_sql_from_stdin(warehouse):
    result = cli("lint", "query", "-", "--warehouse", warehouse, input="SELECT count(DISTINCT a) FROM t WHERE dt = '1'")
    assert result.exit_code == 1
    assert result.stdout.startswith("<stdin>:1:8: Q006 exact-count-distinct")


def test_table_stats_needs_a_catalog(warehouse):
    result = cli("lint", "query", "SELECT 1", "--table-stats", "--warehouse", warehouse)
    assert result.exit_code == 2
    assert "--table-stats needs a catalog" in result.stderr


def test_layout_github_format(tmp_path, warehouse):
    layout = tmp_path / "l.yaml"
    layout.write_text("table: a.t\ncompression: none\n")
    result = cli("lint", "layout", str(layout), "--format", "github", "--warehouse", warehouse)
    assert result.exit_code == 1
    assert result.stdout == (
        f"::error file={layout},line=2,col=1,title=L004 uncompressed::compression none: every query scans "
        "(and pays for) the uncompressed bytes (fix: compression: zstd)\n"
    )


def test_help_has_examples():
    for args in (["lint", "--help"], ["lint", "query", "--help"], ["lint", "layout", "--help"], ["rules", "--help"]):
        assert "Example:" in cli(*args).stdout


def test_installed_command_end_to_end(tmp_path):
    """The real `lakekit` executable, as CI and pre-commit run it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEKIT_")}
    good = subprocess.run(
        [LAKEKIT, "lint", "query", *map(str, sorted((ROOT / "queries" / "good").glob("*.sql"))),
         "--warehouse", str(tmp_path / "lake")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )
    assert good.returncode == 0, good.stdout + good.stderr
    bad = subprocess.run(
        [LAKEKIT, "lint", "layout", str(ROOT / "layouts" / "bad" / "csv_gzip.yaml"), "--warehouse", str(tmp_path / "lake")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )
    assert bad.returncode == 1
    assert bad.stdout.splitlines()[-1] == "Found 2 problems (L003: 1, L005: 1)."


def test_a_folder_of_layout_files_lints_each_as_a_layout_and_a_bad_one_is_a_finding(tmp_path, warehouse):
    import shutil

    folder = tmp_path / "layouts"
    shutil.copytree(ROOT / "layouts", folder)
    broken = folder / "bad" / "zz_broken.yaml"
    broken.write_text("table: analytics.events\npartition_by: [year, hour]\n")
    each = []
    for path in sorted(folder.rglob("*.yaml")):
        if path != broken:
            one = cli("lint", "layout", str(path), "--format", "json", "--warehouse", warehouse)
            each += json.loads(one.stdout)
    result = cli("lint", "layout", str(folder), "--format", "json", "--warehouse", warehouse)
    assert result.exit_code == 1
    found = json.loads(result.stdout)
    # the folder's findings are exactly the files' own, plus the one for the file that does not load
    by_place = sorted(each, key=lambda f: (f["path"], f["line"], f["column"], f["code"], f["message"]))
    assert [f for f in found if f["path"] != str(broken)] == by_place
    (invalid,) = [f for f in found if f["path"] == str(broken)]
    assert (invalid["code"], invalid["line"], invalid["column"]) == ("L000", 2, 1)
    assert "no data files found" not in result.stderr
    # a bad file named on its own is a finding too, not an aborted run (exit 2)
    alone = cli("lint", "layout", str(broken), str(folder / "events.yaml"), "--warehouse", warehouse)
    assert alone.exit_code == 1
    assert f"{broken}:2:1: L000 invalid-layout layout file does not load:" in alone.stdout
