"""Trino's type checks before anything runs, through the API, the CLI and check_plan.

The lake is lakekit's own: an ingest of a few events partitioned by day (string
partition keys, as SPEC says), so the queries are the ones the issue reports.
"""

from __future__ import annotations

import json

import pytest

import lakekit
from lakekit.errors import NotSupportedLocally, TrinoTypeError
from lakekit.sql.trino import check_plan
from tests.helpers import cli


@pytest.fixture(scope="module")
def events_lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("type-checks")
    source = root / "events.jsonl"
    source.write_text("".join(
        json.dumps({"event_id": f"e{i}", "ts": f"2014-03-0{i + 1}T10:00:00Z", "weather": "rain", "qty": i + 1}) + "\n"
        for i in range(3)
    ))
    warehouse = str(root / "lake")
    lakekit.ingest(str(source), "analytics.events", timestamp_column="ts", warehouse=warehouse)
    return warehouse


@pytest.mark.parametrize(("sql", "message"), [
    ("SELECT count(*) FROM analytics.events WHERE year = 2014", "'=' cannot be applied to varchar, integer"),
    ("SELECT count(*) FROM analytics.events WHERE ts > '2014-01-01'", "'>' cannot be applied to timestamp(3), varchar(10)"),
    ("SELECT 'a' || qty FROM analytics.events", "'||' cannot be applied to varchar(1), bigint"),
    ("SELECT weathr FROM analytics.events", "column 'weathr' cannot be resolved in events; did you mean weather?"),
])
def test_athena_type_errors_stop_the_query(events_lake, sql, message):
    with pytest.raises(TrinoTypeError) as raised:
        lakekit.query(sql, warehouse=events_lake)
    assert message in str(raised.value)
    assert raised.value.exit_code == 2
    # the dry-run check, without running
    with lakekit.open_lake(warehouse=events_lake) as lake, pytest.raises(TrinoTypeError) as checked:
        check_plan(lake.plan(sql))
    assert message in str(checked.value)


def test_check_plan_returns_trino_result_types(events_lake):
    with lakekit.open_lake(warehouse=events_lake) as lake:
        columns = check_plan(lake.plan("SELECT sum(qty) / count(*) AS avg_qty, year FROM analytics.events GROUP BY year"))
    assert [(name, t.name()) for name, t in columns] == [("avg_qty", "bigint"), ("year", "varchar")]


def test_string_partition_key_compared_as_string_runs(events_lake):
    table = lakekit.query("SELECT count(*) AS n FROM analytics.events WHERE year = '2014'", warehouse=events_lake)
    assert table.to_pylist() == [{"n": 3}]


def test_integer_division_on_a_table(events_lake):
    # qty is 1, 2, 3: the sum 6 over the count 3 is 2; 7 / 2 in integers is 3
    table = lakekit.query("SELECT sum(qty) / count(*) AS a, (sum(qty) + 1) / 2 AS b FROM analytics.events", warehouse=events_lake)
    assert table.to_pylist() == [{"a": 2, "b": 3}]
    assert str(table.schema.field("a").type) == "int64"


def test_cli_refusal_is_one_line_exit_2(events_lake):
    result = cli("query", "SELECT format('%x', qty) FROM analytics.events", "--warehouse", events_lake)
    assert result.exit_code == 2
    assert result.stderr == (
        "error: format('%x') is not supported by the local engine (Java format strings beyond %s, %d and %f); "
        "run it with --engine athena\n"
    )


def test_try_turns_runtime_errors_into_null(events_lake):
    table = lakekit.query(
        "SELECT TRY(qty / (qty - qty)) AS q, TRY(ARRAY[1, 2][qty + 5]) AS s, TRY(CAST(7.5 AS DECIMAL(3,1)) / (qty - qty)) AS d "
        "FROM analytics.events WHERE qty = 1", warehouse=events_lake)
    assert table.to_pylist() == [{"q": None, "s": None, "d": None}]


def test_runtime_refusal_is_exit_2(events_lake):
    with pytest.raises(NotSupportedLocally) as raised:
        lakekit.query("SELECT from_utf8(from_hex('61ff')) FROM analytics.events", warehouse=events_lake)
    assert "from_utf8() of invalid UTF-8" in str(raised.value)
    assert raised.value.exit_code == 2
