"""Every example in queries/*.sql runs on a demo lake, and its estimate prunes as its comment says."""

from __future__ import annotations

import glob
import os

import pytest

import lakekit
from lakekit import run_query
from lakekit.config import resolve_settings
from tests.helpers import ROOT, write_events

EXAMPLES = sorted(glob.glob(os.path.join(ROOT, "queries", "*.sql")))

# example -> partitions each scan keeps out of the 30 days of March 2024
EXPECTED_PARTITIONS = {
    "daily_revenue.sql": [14],
    "last_week_by_country.sql": [7],
    "device_funnel.sql": [1, 1],
    "first_purchase.sql": [3],
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    source = folder / "events.jsonl"
    write_events(source, 20_000, days=30, seed=42)
    warehouse = str(folder / "lake")
    lakekit.ingest([str(source)], layout=os.path.join(ROOT, "layouts", "events.yaml"), warehouse=warehouse)
    return resolve_settings(warehouse=warehouse, env={}, cwd=str(folder))


def test_every_example_is_covered():
    assert sorted(os.path.basename(p) for p in EXAMPLES) == sorted(EXPECTED_PARTITIONS)


@pytest.mark.parametrize("path", EXAMPLES, ids=[os.path.basename(p) for p in EXAMPLES])
def test_example_runs_and_prunes(demo, path):
    with open(path) as f:
        sql = f.read()
    result = run_query(sql, settings=demo)
    assert result.table.num_rows > 0
    assert [t.partitions_total for t in result.estimate.tables] == [30] * len(result.estimate.tables)
    assert [t.partitions_scanned for t in result.estimate.tables] == EXPECTED_PARTITIONS[os.path.basename(path)]
