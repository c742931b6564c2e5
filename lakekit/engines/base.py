"""The Engine protocol: run one planned query, return Arrow rows and what was read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa

from lakekit.plan import Estimate, QueryPlan


@dataclass(frozen=True)
class EngineResult:
    """What an engine returns for one query."""

    table: pa.Table
    #: bytes the engine really read (Athena: ``DataScannedInBytes``; DuckDB: its I/O
    #: counter); None when the engine cannot tell
    bytes_scanned: int | None
    #: wall-clock seconds from submission to the last row fetched
    seconds: float
    #: the engine's own execution time, when it reports one (Athena's EngineExecutionTimeInMillis)
    engine_seconds: float | None = None
    #: the engine's id for the query (Athena's QueryExecutionId)
    query_id: str | None = None


@runtime_checkable
class Engine(Protocol):
    """Runs one planned statement (:class:`lakekit.plan.QueryPlan`): the local engine
    reads exactly the files each scan kept; Athena takes the SQL text and prunes by
    itself. An engine never changes the plan it is given."""

    name: str

    def execute(self, plan: QueryPlan, *, timeout: float | None = None) -> EngineResult: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ActualScan:
    """What the engine reported after running the query."""

    bytes_scanned: int | None
    seconds: float
    rows: int
    engine_seconds: float | None = None
    query_id: str | None = None

    @classmethod
    def of(cls, result: EngineResult, wall_seconds: float) -> ActualScan:
        return cls(
            bytes_scanned=result.bytes_scanned,
            seconds=result.seconds if result.seconds else wall_seconds,
            rows=result.table.num_rows,
            engine_seconds=result.engine_seconds,
            query_id=result.query_id,
        )

    def to_dict(self) -> dict[str, Any]:
        return {"bytes_scanned": self.bytes_scanned, "seconds": round(self.seconds, 3), "rows": self.rows}


@dataclass
class QueryResult:
    """A query's rows with the estimate made before it ran and what it really read."""

    table: pa.Table
    estimate: Estimate
    actual: ActualScan
    engine: str

    def to_dict(self, rows: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"estimate": self.estimate.to_dict(), "actual": self.actual.to_dict()}
        if rows:
            out["rows"] = self.table.to_pylist()
        return out
