"""The Engine protocol: run one planned query, return Arrow rows and what was read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, Sequence, runtime_checkable

import pyarrow as pa

if TYPE_CHECKING:  # pragma: no cover
    from sqlglot import exp

    from lakekit.cost import ScanPlan


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
    """Runs one statement. The statement arrives parsed and qualified, with its scans
    pruned (:class:`lakekit.cost.ScanPlan`): the local engine reads exactly the kept
    files; Athena takes the SQL text and prunes by itself."""

    name: str

    def execute(
        self,
        sql: str,
        statement: "exp.Expression",
        plans: Sequence["ScanPlan"],
        *,
        timeout: float | None = None,
    ) -> EngineResult: ...

    def close(self) -> None: ...
