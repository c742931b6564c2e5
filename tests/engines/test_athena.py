"""The Athena engine against a real moto server process.

moto does not execute SQL: results are seeded through its
``/moto-api/static/athena/query-results`` queue, and query states are stepped with
its state manager (``athena::execution``: QUEUED -> RUNNING -> SUCCEEDED). moto never
fails a query, so the FAILED case rewrites the state in botocore's ``after-call``
event of a real GetQueryExecution response: the HTTP calls still go to the server.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.request

import boto3
import pytest

from lakekit import run_query
from lakekit.config import resolve_settings
from lakekit.engines.athena import POLL_FACTOR, POLL_FIRST, AthenaEngine
from lakekit.errors import BudgetExceeded, QueryCancelled, QueryFailed, QueryTimeout
from lakekit.plan import Estimate, QueryPlan
from lakekit.sql import parse_statements


def _post(url: str, payload: dict) -> None:
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).close()


def seed_results(server, rows: list[list[str | None]], columns: list[tuple[str, str]]) -> None:
    header = [{"Data": [{"VarCharValue": name} for name, _ in columns]}]
    body = header + [{"Data": [{} if v is None else {"VarCharValue": v} for v in r]} for r in rows]
    _post(server.url + "/moto-api/static/athena/query-results", {
        "results": [{"rows": body, "column_info": [{"Name": n, "Type": t} for n, t in columns]}],
    })


@pytest.fixture
def steps(aws):
    """Make an execution take ``n`` status checks per state (QUEUED, RUNNING)."""

    def set_steps(n: int) -> None:
        _post(aws.url + "/moto-api/state-manager/set-transition",
              {"model_name": "athena::execution", "transition": {"progression": "manual", "times": n}})

    yield set_steps
    _post(aws.url + "/moto-api/state-manager/unset-transition", {"model_name": "athena::execution"})


class Recorder:
    """Records the Athena operations a boto3 session makes (observes real calls)."""

    def __init__(self) -> None:
        self.session = boto3.Session(region_name="us-east-1")
        self.calls: list[tuple[str, dict]] = []
        self.session.events.register("provide-client-params.athena.*", self._record)

    def _record(self, params, model, **kwargs):
        self.calls.append((model.name, dict(params)))

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


def settings(tmp_path):
    return resolve_settings(warehouse=str(tmp_path / "lake"), athena_output="s3://results/lakekit/",
                            env={}, cwd=str(tmp_path))


def plan_of(sql: str, database: str | None = None) -> QueryPlan:
    """A plan with no scans: the Athena engine needs only its SQL and database."""
    [statement] = parse_statements(sql)
    return QueryPlan(sql, statement, (), Estimate.from_tables([]), database)


def state_of(query_id: str) -> str:
    client = boto3.client("athena", region_name="us-east-1")
    return client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]["State"]


def test_success_fetches_typed_rows_and_reports_statistics(aws, tmp_path):
    seed_results(aws, [["2024-03-01", "42", "12.5", "true", "2024-03-01 10:00:00.000"],
                       ["2024-03-02", None, "0.0", "false", None]],
                 [("day", "date"), ("n", "bigint"), ("revenue", "double"), ("ok", "boolean"), ("at", "timestamp")])
    recorder = Recorder()
    engine = AthenaEngine(settings(tmp_path), boto3_session=recorder.session)
    plan = plan_of("SELECT day, n, revenue, ok, at FROM analytics.events", database="analytics")
    before = (plan.sql, plan.statement.sql(dialect="athena"), plan.plans, plan.default_database)
    result = engine.execute(plan)
    assert (plan.sql, plan.statement.sql(dialect="athena"), plan.plans, plan.default_database) == before
    assert result.table.to_pylist() == [
        {"day": dt.date(2024, 3, 1), "n": 42, "revenue": 12.5, "ok": True, "at": dt.datetime(2024, 3, 1, 10)},
        {"day": dt.date(2024, 3, 2), "n": None, "revenue": 0.0, "ok": False, "at": None},
    ]
    assert result.bytes_scanned == 0 and result.engine_seconds == 0  # what moto reports
    assert recorder.names[0] == "StartQueryExecution"
    assert recorder.names[-1] == "GetQueryResults"
    assert set(recorder.names[1:-1]) == {"GetQueryExecution"}
    start = recorder.calls[0][1]
    assert start["WorkGroup"] == "primary"
    assert start["ResultConfiguration"] == {"OutputLocation": "s3://results/lakekit/"}
    assert start["QueryExecutionContext"] == {"Database": "analytics"}
    assert state_of(result.query_id) == "SUCCEEDED"


def test_polls_with_growing_pauses_until_done(aws, tmp_path, steps):
    steps(3)
    pauses: list[float] = []
    engine = AthenaEngine(settings(tmp_path), sleep=pauses.append)
    engine.execute(plan_of("SELECT 1"))
    assert len(pauses) >= 4
    assert pauses[:3] == pytest.approx([POLL_FIRST, POLL_FIRST * POLL_FACTOR, POLL_FIRST * POLL_FACTOR**2])
    assert all(b >= a for a, b in zip(pauses, pauses[1:]))


def test_failed_query_reports_athenas_reason(aws, tmp_path):
    session = boto3.Session(region_name="us-east-1")

    def fail(http_response, parsed, model, **kwargs):
        parsed["QueryExecution"]["Status"]["State"] = "FAILED"
        parsed["QueryExecution"]["Status"]["StateChangeReason"] = "COLUMN_NOT_FOUND: line 1:8: Column 'x' cannot be resolved"

    session.events.register("after-call.athena.GetQueryExecution", fail)
    engine = AthenaEngine(settings(tmp_path), boto3_session=session)
    with pytest.raises(QueryFailed, match="failed: COLUMN_NOT_FOUND: line 1:8: Column 'x' cannot be resolved"):
        engine.execute(plan_of("SELECT x FROM analytics.events"))


def test_query_cancelled_elsewhere_is_reported(aws, tmp_path, steps):
    steps(1000)
    recorder = Recorder()
    other = boto3.client("athena", region_name="us-east-1")

    def someone_cancels(_seconds):
        query_id = recorder.calls[0][1].get("QueryExecutionId") or _latest_id(other)
        other.stop_query_execution(QueryExecutionId=query_id)

    engine = AthenaEngine(settings(tmp_path), boto3_session=recorder.session, sleep=someone_cancels)
    with pytest.raises(QueryCancelled, match="was cancelled"):
        engine.execute(plan_of("SELECT 1"))


def _latest_id(client) -> str:
    return client.list_query_executions()["QueryExecutionIds"][-1]


def test_timeout_stops_the_query(aws, tmp_path, steps):
    steps(1000)
    engine = AthenaEngine(settings(tmp_path), sleep=lambda s: __import__("time").sleep(min(s, 0.05)))
    with pytest.raises(QueryTimeout, match="did not finish within 0.3 s and was stopped") as info:
        engine.execute(plan_of("SELECT 1"), timeout=0.3)
    query_id = str(info.value).split()[2]
    assert state_of(query_id) == "CANCELLED"


def test_ctrl_c_stops_the_query(aws, tmp_path, steps):
    steps(1000)

    def ctrl_c(_seconds):
        raise KeyboardInterrupt

    engine = AthenaEngine(settings(tmp_path), sleep=ctrl_c)
    with pytest.raises(QueryCancelled, match="interrupted") as info:
        engine.execute(plan_of("SELECT 1"))
    query_id = str(info.value).split()[1]
    assert state_of(query_id) == "CANCELLED"


def test_run_query_estimates_before_athena_runs(aws, tmp_path):
    from tests.clicks_lake import build_lake

    lake = build_lake(str(tmp_path / "wh"))
    seed_results(aws, [["2400"]], [("n", "bigint")])
    recorder = Recorder()
    order: list[str] = []
    recorder.session.events.register("before-call.athena.StartQueryExecution", lambda **kw: order.append("athena"))
    s = resolve_settings(warehouse=lake.warehouse, engine="athena", athena_output="s3://results/x/",
                         env={}, cwd=lake.warehouse)
    result = run_query("SELECT count(*) AS n FROM lake.clicks WHERE day = '01'", settings=s,
                       boto3_session=recorder.session, on_estimate=lambda est: order.append("estimate"))
    assert order == ["estimate", "athena"]
    assert result.engine == "athena"
    assert result.table.to_pylist() == [{"n": 2400}]
    assert result.estimate.tables[0].partitions_scanned == 1
    assert result.actual.query_id is not None


def test_budget_guard_never_reaches_athena(aws, tmp_path):
    from tests.clicks_lake import build_lake

    lake = build_lake(str(tmp_path / "wh"))
    recorder = Recorder()
    s = resolve_settings(warehouse=lake.warehouse, engine="athena", athena_output="s3://results/x/",
                         env={}, cwd=lake.warehouse)
    with pytest.raises(BudgetExceeded, match="over --max-cost"):
        run_query("SELECT * FROM lake.clicks", settings=s, max_cost=0.00001, boto3_session=recorder.session)
    assert recorder.calls == []
