"""The local engine running translated SQL: Trino's semantics on DuckDB."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Sequence

import pyarrow as pa
from sqlglot import exp

from lakekit.engines.base import EngineResult
from lakekit.engines.local import LocalEngine, _bytes_read, _first_line, _literal, _quote
from lakekit.errors import QueryCancelled, QueryFailed, QueryTimeout, UsageError
from lakekit.trino import NotSupportedLocally, translate
from lakekit.trino.arrow import shape_result

if TYPE_CHECKING:  # pragma: no cover
    from lakekit.cost import ScanPlan

__all__ = ["TrinoLocalEngine"]

#: text DuckDB's error() messages carry when the local engine refuses at run time
REFUSAL_MARK = "is not supported by the local engine"


class TrinoLocalEngine(LocalEngine):
    """DuckDB in-process, with each query translated to Trino's semantics first."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._macros: set[str] = set()

    def close(self) -> None:
        super().close()
        self._macros = set()

    def execute(
        self,
        sql: str,
        statement: exp.Expression,
        plans: Sequence["ScanPlan"],
        *,
        timeout: float | None = None,
    ) -> EngineResult:
        if not isinstance(statement, (exp.Query, exp.Values)):
            kind = str(statement.this) if isinstance(statement, exp.Command) else statement.key
            raise UsageError(
                f"the local engine runs queries (SELECT, WITH, VALUES), not {kind.upper()}; "
                "use --engine athena for DDL and INSERT"
            )
        con = self._connection()
        counters: list = []
        views = []
        tables: dict[str, dict[str, str]] = {}
        for i, plan in enumerate(plans):
            view = f"lakekit_scan_{i}"
            self._create_view(con, view, plan, counters)
            views.append(view)
            tables[view] = {c.name: c.type for c in (*plan.table.columns, *plan.table.partition_keys)}
            sample = plan.scan.node.args.get("sample")
            replacement = exp.Table(this=exp.to_identifier(view, quoted=True),
                                    alias=exp.TableAlias(this=exp.to_identifier(plan.scan.alias, quoted=True)))
            if sample is not None:
                replacement.set("sample", sample)
            plan.scan.node.replace(replacement)
        try:
            translation = translate(statement, tables, sql)
            from lakekit.trino.macros import install

            install(con, translation.macros, self._macros)
        except BaseException:
            self._drop_views(con, views)
            raise
        timer = None
        timed_out = threading.Event()
        if timeout is not None and timeout > 0:

            def _stop() -> None:
                timed_out.set()
                con.interrupt()

            timer = threading.Timer(timeout, _stop)
            timer.daemon = True
        started = time.perf_counter()
        try:
            con.execute("PRAGMA enable_profiling='json'")
            con.execute(f"SET profiling_output={_literal(self._profile_path())}")
            if timer is not None:
                timer.start()
            table = con.sql(translation.sql).to_arrow_table()
            profile = con.get_profiling_information(format="json")
        except KeyboardInterrupt:
            con.interrupt()
            raise QueryCancelled("query cancelled (interrupted); nothing more was read") from None
        except Exception as ex:  # noqa: BLE001 - DuckDB raises many kinds; one line each
            if timed_out.is_set():
                raise QueryTimeout(f"query did not finish within {timeout:g} s and was cancelled") from ex
            message = _first_line(ex)
            if REFUSAL_MARK in message:
                raise NotSupportedLocally(message.split(": ", 1)[-1].split(REFUSAL_MARK)[0].strip() or "this query") from ex
            raise QueryFailed(f"local engine (DuckDB): {message}") from ex
        finally:
            if timer is not None:
                timer.cancel()
            try:
                con.execute("PRAGMA disable_profiling")
            except Exception:  # noqa: BLE001 - cleanup after an interrupt must not mask it
                pass
            self._drop_views(con, views)
        seconds = time.perf_counter() - started
        bytes_read = _bytes_read(profile) + sum(c.bytes_read for c in counters)
        return EngineResult(
            table=shape_result(table, translation.columns),
            bytes_scanned=bytes_read,
            seconds=seconds,
            engine_seconds=seconds,
        )

    @staticmethod
    def _drop_views(con, views) -> None:
        for view in views:
            try:
                con.execute(f"DROP VIEW IF EXISTS {_quote(view)}")
                con.execute(f"DROP VIEW IF EXISTS {_quote(view + '_arrow')}")
            except Exception:  # noqa: BLE001
                pass


_ = pa
