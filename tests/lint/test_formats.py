"""Output formats: ruff-shaped text, SPEC's JSON keys, GitHub annotations, valid SARIF."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from lakekit import lint_layout, lint_query
from lakekit.lint.formatters import format_github, format_json, format_text, sarif_document
from lakekit.lint.violation import Violation
from tests.helpers import ROOT, cli

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
SQL = "SELECT *\nFROM analytics.events\nORDER BY ts\n"


@pytest.fixture
def sql_file(tmp_path):
    path = tmp_path / "q.sql"
    path.write_text(SQL)
    return path


def test_text_lines_are_path_line_col_code_name_message(sql_file, no_catalog):
    result = lint_query([str(sql_file)], settings=no_catalog)
    lines = format_text(result.violations).splitlines()
    assert lines == [
        f"{sql_file}:1:8: Q001 select-star SELECT * reads every column of analytics.events",
        f"{sql_file}:2:6: Q002 missing-partition-filter analytics.events is read with no predicate on a "
        "partition key (assumed: year, month, day, dt, date): every partition is scanned",
        f"{sql_file}:3:1: Q004 order-by-without-limit ORDER BY without LIMIT: one worker sorts the whole result",
        "Found 3 problems (Q001: 1, Q002: 1, Q004: 1).",
    ]
    assert format_text([]) == "All checks passed!"


def test_json_has_spec_keys(sql_file, no_catalog):
    result = lint_query([str(sql_file)], settings=no_catalog)
    data = json.loads(format_json(result.violations))
    assert [set(d) for d in data] == [{"code", "name", "path", "line", "column", "message", "fix"}] * 3
    assert data[0]["fix"] == "name only the columns the query needs"
    assert (data[2]["code"], data[2]["line"], data[2]["column"]) == ("Q004", 3, 1)


def test_github_annotations_escape_their_properties():
    v = Violation("L006", "small-files", "lake/a,b:c", 1, 1, "100% small\nfiles", None)
    assert format_github([v]) == (
        "::error file=lake/a%2Cb%3Ac,line=1,col=1,title=L006 small-files::100%25 small%0Afiles"
    )


def test_sarif_is_valid_for_queries_and_layouts(sql_file, no_catalog, tmp_path):
    layout = tmp_path / "bad layout.yaml"
    layout.write_text("table: a.t\nformat: csv\ncompression: gzip\n")
    queries = lint_query([str(sql_file)], settings=no_catalog)
    layouts = lint_layout([str(layout)], settings=no_catalog)
    for result in (queries, layouts):
        doc = sarif_document(result.violations, result.rules, "1.0")
        jsonschema.Draft4Validator(SCHEMA).validate(doc)
        run = doc["runs"][0]
        rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
        for res in run["results"]:
            assert rule_ids[res["ruleIndex"]] == res["ruleId"]
    first = sarif_document(queries.violations, queries.rules)["runs"][0]["results"][0]
    assert first["locations"][0]["physicalLocation"]["region"] == {"startLine": 1, "startColumn": 8}
    assert "%20" in sarif_document(layouts.violations, layouts.rules)["runs"][0]["results"][0]["locations"][0][
        "physicalLocation"]["artifactLocation"]["uri"]


def test_sarif_of_a_clean_run_is_valid(no_catalog):
    result = lint_query(["SELECT 1"], settings=no_catalog)
    doc = sarif_document(result.violations, result.rules)
    jsonschema.Draft4Validator(SCHEMA).validate(doc)
    assert doc["runs"][0]["results"] == []


def test_schema_rejects_a_broken_log():
    """The shipped schema really validates: a result without a message fails."""
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "Q001"}]}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SCHEMA).validate(bad)


def test_cli_sarif_output_validates(sql_file, warehouse):
    result = cli("lint", "query", str(sql_file), "--format", "sarif", "--warehouse", warehouse)
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    jsonschema.Draft4Validator(SCHEMA).validate(doc)
    assert [r["ruleId"] for r in doc["runs"][0]["results"]] == ["Q001", "Q002", "Q004"]


def test_the_cost_gate_in_sarif_github_and_json_carries_savings(priced_lake, tmp_path):
    """A pull request that makes a query dearer fails its check in every CI format."""
    path = tmp_path / "daily.sql"
    path.write_text("SELECT amount FROM lake.clicks WHERE day = '01'\n")
    baseline = tmp_path / "baseline.json"
    run = cli("lint", "query", str(path), "--write-baseline", str(baseline),
                                    "--warehouse", priced_lake.warehouse)
    assert run.exit_code == 0, run.output
    recorded = json.loads(baseline.read_text())
    assert list(recorded) == [str(path)]
    import lakekit

    assert recorded[str(path)] == lakekit.estimate(path.read_text(), settings=priced_lake.settings).bytes_scanned
    path.write_text("SELECT *\nFROM lake.clicks\n")  # the change: every day, every column
    args = ["lint", "query", str(path), "--baseline", str(baseline), "--max-cost", "0.00001",
            "--warehouse", priced_lake.warehouse]
    sarif = cli(*args, "--format", "sarif")
    assert sarif.exit_code == 1
    doc = json.loads(sarif.stdout)
    jsonschema.Draft4Validator(SCHEMA).validate(doc)
    results = {r["ruleId"]: r for r in doc["runs"][0]["results"]}
    assert {"Q011", "Q012", "Q001", "Q002"} <= set(results)
    described = {r["id"]: r for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert described["Q012"]["name"] == "cost-increase" and "Use instead" in described["Q012"]["fullDescription"]["text"]
    assert results["Q001"]["properties"]["savings"]["bytes"] > 0  # the columns only * reads
    github = cli(*args, "--format", "github").stdout
    assert f"::error file={path},line=1,col=1,title=Q012 cost-increase::" in github
    assert "title=Q011 over-budget::" in github
    findings = json.loads(cli(*args, "--format", "json").stdout)
    star = next(f for f in findings if f["code"] == "Q001")
    assert set(star) == {"code", "name", "path", "line", "column", "message", "fix", "savings"}
    # within a file the dearest findings come first
    saved = [f.get("savings", {}).get("usd", 0.0) for f in findings]
    assert saved == sorted(saved, reverse=True)


def test_the_pre_commit_hooks_name_the_commands():
    import yaml

    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["lakekit-cost-gate"]["entry"] == "lakekit lint query --select Q011,Q012"
    assert {"lakekit-lint-query", "lakekit-lint-layout"} <= set(hooks)
