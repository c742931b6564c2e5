"""The Athena engine: submit, poll with backoff, fetch results as Arrow, cancel.

Athena resolves tables through the Glue Data Catalog and prunes by itself, so the
engine sends the plan's SQL as written; the plan's scans are used only to pick the
database context. ``DataScannedInBytes`` is what Athena bills (before its MB rounding and
10 MB minimum); it is reported beside lakekit's estimate.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from lakekit.aws import aws_client, aws_error_message
from lakekit.config import Settings
from lakekit.engines.base import EngineResult
from lakekit.errors import EngineError, QueryCancelled, QueryFailed, QueryTimeout
from lakekit.plan import QueryPlan

if TYPE_CHECKING:  # pragma: no cover
    import boto3

#: first pause between status checks, growth factor, and the longest pause (seconds)
POLL_FIRST, POLL_FACTOR, POLL_MAX = 0.1, 1.5, 2.0

_FINAL_STATES = ("SUCCEEDED", "FAILED", "CANCELLED")


class AthenaEngine:
    """Amazon Athena through boto3 (endpoint and credentials from boto3's chain)."""

    name = "athena"

    def __init__(
        self,
        settings: Settings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        boto3_session: boto3.Session | None = None,
    ) -> None:
        self._settings = settings
        self._session = boto3_session
        self._client = None
        # the pause between polls; tests pass one that simulates Ctrl-C
        self._sleep = sleep

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws_client("athena", self._session)
        return self._client

    def close(self) -> None:
        self._client = None

    # ----------------------------------------------------------------------------------
    def execute(self, plan: QueryPlan, *, timeout: float | None = None) -> EngineResult:
        """Run the plan's SQL on Athena and wait for it.

        The database context is the plan's default database, else the database of
        its first scan.

        Raises:
            QueryFailed: Athena reports FAILED (its reason in the message).
            QueryCancelled: the query was cancelled (by someone, or by Ctrl-C here).
            QueryTimeout: still running after ``timeout`` seconds; it was stopped.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        started = time.perf_counter()
        database = plan.default_database
        if database is None and plan.plans:
            database = plan.plans[0].table.database
        request: dict[str, Any] = {"QueryString": plan.sql, "WorkGroup": self._settings.athena_workgroup}
        if database:
            request["QueryExecutionContext"] = {"Database": database}
        if self._settings.athena_output:
            request["ResultConfiguration"] = {"OutputLocation": self._settings.athena_output}
        try:
            query_id = self.client.start_query_execution(**request)["QueryExecutionId"]
        except (ClientError, BotoCoreError) as ex:
            raise EngineError(f"Athena refused the query: {aws_error_message(ex, 'Athena')}") from ex

        try:
            execution = self._wait(query_id, started, timeout)
        except KeyboardInterrupt:
            self._stop(query_id)
            raise QueryCancelled(f"query {query_id} cancelled (interrupted); Athena was told to stop it") from None
        except (ClientError, BotoCoreError) as ex:
            raise EngineError(f"cannot follow Athena query {query_id}: {aws_error_message(ex, 'Athena')}") from ex

        status = execution.get("Status", {})
        state = status.get("State")
        reason = status.get("StateChangeReason") or status.get("AthenaError", {}).get("ErrorMessage")
        if state == "FAILED":
            raise QueryFailed(f"Athena query {query_id} failed: {reason or 'no reason given'}")
        if state == "CANCELLED":
            raise QueryCancelled(f"Athena query {query_id} was cancelled{': ' + reason if reason else ''}")

        try:
            table = self._results(query_id)
        except (ClientError, BotoCoreError) as ex:
            raise EngineError(f"cannot fetch the results of Athena query {query_id}: {aws_error_message(ex, 'Athena')}") from ex
        stats = execution.get("Statistics", {})
        engine_ms = stats.get("EngineExecutionTimeInMillis")
        return EngineResult(
            table=table,
            bytes_scanned=stats.get("DataScannedInBytes"),
            seconds=time.perf_counter() - started,
            engine_seconds=engine_ms / 1000 if isinstance(engine_ms, (int, float)) else None,
            query_id=query_id,
        )

    def _wait(self, query_id: str, started: float, timeout: float | None) -> dict[str, Any]:
        pause = POLL_FIRST
        while True:
            execution = self.client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
            if execution.get("Status", {}).get("State") in _FINAL_STATES:
                return execution
            if timeout is not None and time.perf_counter() - started >= timeout:
                self._stop(query_id)
                raise QueryTimeout(
                    f"Athena query {query_id} did not finish within {timeout:g} s and was stopped"
                )
            self._sleep(pause)
            pause = min(pause * POLL_FACTOR, POLL_MAX)

    def _stop(self, query_id: str) -> None:
        try:
            self.client.stop_query_execution(QueryExecutionId=query_id)
        except Exception:  # noqa: BLE001 - best effort while already failing
            pass

    def _results(self, query_id: str) -> pa.Table:
        paginator = self.client.get_paginator("get_query_results")
        columns: list[dict[str, Any]] = []
        rows: list[list[str | None]] = []
        first = True
        for page in paginator.paginate(QueryExecutionId=query_id):
            result_set = page.get("ResultSet", {})
            if not columns:
                columns = result_set.get("ResultSetMetadata", {}).get("ColumnInfo", [])
            page_rows = [[d.get("VarCharValue") for d in r.get("Data", [])] for r in result_set.get("Rows", [])]
            if first and page_rows and columns and page_rows[0] == [c.get("Name") for c in columns]:
                page_rows = page_rows[1:]  # a SELECT's first row repeats the column names
            first = False
            rows.extend(page_rows)
        return rows_to_arrow(columns, rows)


def rows_to_arrow(columns: Sequence[dict[str, Any]], rows: Sequence[Sequence[str | None]]) -> pa.Table:
    """Athena's text rows and column types -> a typed Arrow table.

    >>> t = rows_to_arrow([{"Name": "n", "Type": "bigint"}, {"Name": "d", "Type": "date"}],
    ...                   [["1", "2024-03-07"], [None, None]])
    >>> t.to_pylist()
    [{'n': 1, 'd': datetime.date(2024, 3, 7)}, {'n': None, 'd': None}]
    """
    if not columns:
        width = max((len(r) for r in rows), default=0)
        columns = [{"Name": f"_col{i}", "Type": "varchar"} for i in range(width)]
    arrays = {}
    for i, column in enumerate(columns):
        kind = (column.get("Type") or "varchar").lower()
        convert, arrow_type = _CONVERTERS.get(kind.split("(")[0], (str, pa.string()))
        values = []
        for row in rows:
            raw = row[i] if i < len(row) else None
            values.append(None if raw is None else convert(raw))
        arrays[column.get("Name") or f"_col{i}"] = pa.array(values, type=arrow_type)
    return pa.table(arrays)


def _timestamp(text: str) -> dt.datetime:
    text = text.strip().replace("T", " ")
    if " UTC" in text:
        text = text.replace(" UTC", "")
    return dt.datetime.fromisoformat(text)


_CONVERTERS: dict[str, tuple[Callable[[str], Any], pa.DataType]] = {
    "bigint": (int, pa.int64()),
    "integer": (int, pa.int32()),
    "int": (int, pa.int32()),
    "smallint": (int, pa.int16()),
    "tinyint": (int, pa.int8()),
    "double": (float, pa.float64()),
    "float": (float, pa.float32()),
    "real": (float, pa.float32()),
    "boolean": (lambda s: s.lower() == "true", pa.bool_()),
    "date": (dt.date.fromisoformat, pa.date32()),
    "timestamp": (_timestamp, pa.timestamp("ms")),
    "decimal": (str, pa.string()),  # exact text, as Athena returns it
}
