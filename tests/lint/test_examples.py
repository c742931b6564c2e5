"""The example queries and layouts: good ones lint clean, bad ones find exactly their
expected codes (declared in an ``-- expect: Q001,Q004`` / ``# expect: L003`` header)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lakekit import lint_layout, lint_query
from tests.helpers import ROOT, write_events

EXPECT = re.compile(r"^\s*(?:--|#)\s*expect:\s*(?P<codes>[A-Z0-9, ]+)$", re.MULTILINE)

GOOD_QUERIES = sorted(ROOT.glob("queries/*.sql")) + sorted(ROOT.glob("queries/good/*.sql"))
BAD_QUERIES = sorted(ROOT.glob("queries/bad/*.sql"))
GOOD_LAYOUTS = sorted(ROOT.glob("layouts/*.yaml")) + sorted(ROOT.glob("layouts/good/*.yaml"))
BAD_LAYOUTS = sorted(ROOT.glob("layouts/bad/*.yaml"))


def expected_codes(path: Path) -> set[str]:
    match = EXPECT.search(path.read_text())
    assert match, f"{path} has no expect: header"
    return {c.strip() for c in match.group("codes").split(",") if c.strip()}


def test_examples_exist():
    assert len(GOOD_QUERIES) >= 4 and len(BAD_QUERIES) >= 10
    assert len(GOOD_LAYOUTS) >= 3 and len(BAD_LAYOUTS) >= 4
    bad_codes = set().union(*(expected_codes(p) for p in BAD_QUERIES))
    assert bad_codes == {f"Q{n:03d}" for n in range(1, 11)}


@pytest.mark.parametrize("path", GOOD_QUERIES, ids=lambda p: p.name)
def test_good_query_is_clean_with_and_without_a_catalog(path, query_catalog, no_catalog):
    for settings in (no_catalog, query_catalog):
        result = lint_query([str(path)], settings=settings)
        assert result.violations == [], [v.to_dict() for v in result.violations]


@pytest.mark.parametrize("path", BAD_QUERIES, ids=lambda p: p.name)
def test_bad_query_finds_exactly_its_codes(path, query_catalog):
    result = lint_query([str(path)], settings=query_catalog)
    assert {v.code for v in result.violations} == expected_codes(path)
    assert all(v.path == str(path) for v in result.violations)


@pytest.mark.parametrize("path", GOOD_LAYOUTS, ids=lambda p: p.name)
def test_good_layout_is_clean(path, no_catalog):
    assert lint_layout([str(path)], settings=no_catalog).violations == []


@pytest.mark.parametrize("path", BAD_LAYOUTS, ids=lambda p: p.name)
def test_bad_layout_finds_exactly_its_codes(path, no_catalog):
    result = lint_layout([str(path)], settings=no_catalog)
    assert {v.code for v in result.violations} == expected_codes(path)


def test_good_queries_are_clean_against_an_ingested_events_table(tmp_path):
    """The demo's path: sample events ingested with layouts/events.yaml, then linted."""
    import lakekit
    from lakekit.config import Settings
    source = tmp_path / "events.jsonl"
    write_events(source, 2000, days=10, seed=5)
    warehouse = str(tmp_path / "lake")
    lakekit.ingest([str(source)], layout=str(ROOT / "layouts" / "events.yaml"), warehouse=warehouse)
    settings = Settings(warehouse=warehouse)
    result = lint_query([str(p) for p in GOOD_QUERIES], settings=settings, table_stats=True)
    assert result.violations == [], [v.to_dict() for v in result.violations]
    assert lint_layout(["analytics.events", str(ROOT / "layouts" / "events.yaml")], settings=settings).violations == []
