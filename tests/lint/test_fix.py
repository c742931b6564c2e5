"""`lakekit lint query --fix`: the advised partition predicate is inserted as text, the
file keeps its formatting and comments, lints clean after, and estimates what the
advice said; the rows do not change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import lakekit
from tests.helpers import ROOT, cli, write_events


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> str:
    """analytics.events as `make demo` ingests it (March 2024, from layouts/events.yaml)."""
    tmp_path = tmp_path_factory.mktemp("fixlake")
    source = write_events(tmp_path / "events.jsonl", 3000, days=30, seed=11)
    warehouse = str(tmp_path / "lake")
    lakekit.ingest([source], layout=str(ROOT / "layouts" / "events.yaml"), warehouse=warehouse)
    return warehouse


def _rows(sql: str, warehouse: str) -> list[str]:
    return sorted(map(str, lakekit.query(sql, warehouse=warehouse).to_pylist()))


def test_fix_round_trips_every_fixable_bad_query(tmp_path, warehouse):
    folder = tmp_path / "queries"
    shutil.copytree(ROOT / "queries" / "bad", folder)
    paths = sorted(str(p) for p in folder.glob("*.sql"))
    before_text = {p: Path(p).read_text() for p in paths}
    before = lakekit.lint_query(paths, warehouse=warehouse)
    fixable = {v.path for v in before.violations if v.edits}
    assert str(folder / "timestamp_range_only.sql") in fixable
    advised = {}
    for path in fixable:
        (advice,) = lakekit.estimate(before_text[path], warehouse=warehouse).advice
        advised[path] = advice

    result = lakekit.lint_query(paths, warehouse=warehouse, fix=True)
    assert {v.path for v in result.fixed} == fixable
    for path in paths:
        after = Path(path).read_text()
        if path not in fixable:
            assert after == before_text[path]  # nothing without a safe fix is touched
            continue
        advice = advised[path]
        # the one change is the predicate, inserted: formatting and comments are the file's own
        assert after.replace(f" AND {advice.predicate}", "", 1) == before_text[path]
        assert lakekit.lint_query([path], warehouse=warehouse).violations == []
        fixed_estimate = lakekit.estimate(after, warehouse=warehouse)
        assert fixed_estimate.bytes_scanned == advice.bytes_scanned_with
        assert fixed_estimate.advice == ()
        assert _rows(after, warehouse) == _rows(before_text[path], warehouse)


def test_fix_on_the_command_line_says_what_it_changed(tmp_path, warehouse):
    path = tmp_path / "q.sql"
    path.write_text(
        "-- two days\nSELECT count(*) AS n FROM analytics.events e\n"
        "WHERE e.device = 'ios' OR e.ts BETWEEN TIMESTAMP '2024-03-02 00:00:00' AND TIMESTAMP '2024-03-02 10:00:00'\n"
        "  -- trailing comment\n;\n"
        "SELECT user_id FROM analytics.events WHERE date(ts) = DATE '2024-03-05' LIMIT 5;\n"
    )
    result = cli("lint", "query", str(path), "--fix", "--warehouse", warehouse)
    text = path.read_text()
    # the first statement's OR does not bound ts: no advice, nothing changed there
    assert text.startswith("-- two days\nSELECT count(*) AS n FROM analytics.events e\nWHERE e.device = 'ios' OR")
    assert "WHERE date(ts) = DATE '2024-03-05' AND year = '2024' AND month = '03' AND day = '05' LIMIT 5;" in text
    assert f"{path}:6:21: Q002 fixed: add AND year = '2024' AND month = '03' AND day = '05'" in result.stderr
    assert "Fixed 1 problem in 1 file." in result.stderr
    # what is left is the first statement's Q002, which has no safe fix
    assert result.exit_code == 1
    assert [line.split(": ")[1].split()[0] for line in result.stdout.splitlines()[:-1]] == ["Q002"]


def test_fix_appends_after_a_parenthesised_or_and_leaves_an_or_of_ranges_alone(tmp_path, warehouse):
    path = tmp_path / "or.sql"
    sql = ("SELECT count(*) AS n FROM analytics.events\n"
           "WHERE ts >= TIMESTAMP '2024-03-10 00:00:00' AND ts < TIMESTAMP '2024-03-11 00:00:00' AND device = 'ios'\n"
           "   OR ts >= TIMESTAMP '2024-03-10 12:00:00' AND ts < TIMESTAMP '2024-03-10 13:00:00'\n")
    path.write_text(sql)
    est = lakekit.estimate(sql, warehouse=warehouse)
    assert est.advice == ()  # an OR of ranges: the conjuncts do not bound ts, so no advice
    both = ("SELECT count(*) AS n FROM analytics.events\n"
            "WHERE (device = 'ios' OR device = 'web') AND ts >= TIMESTAMP '2024-03-10 00:00:00'\n"
            "  AND ts < TIMESTAMP '2024-03-11 00:00:00'\n")
    path.write_text(both)
    lakekit.lint_query([str(path)], warehouse=warehouse, fix=True)
    fixed = path.read_text()
    assert fixed == both.rstrip("\n") + " AND year = '2024' AND month = '03' AND day = '10'\n"
    assert _rows(fixed, warehouse) == _rows(both, warehouse)
