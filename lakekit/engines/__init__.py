"""Query engines: ``local`` (DuckDB in-process) and ``athena`` (Amazon Athena)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakekit.config import Settings
from lakekit.engines.base import ActualScan, Engine, EngineResult, QueryResult
from lakekit.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    import boto3

__all__ = ["ActualScan", "Engine", "EngineResult", "QueryResult", "open_engine"]


def open_engine(name: str, settings: Settings, boto3_session: boto3.Session | None = None) -> Engine:
    """The engine called ``name``: ``local`` or ``athena`` (each imported when first asked for)."""
    if name == "athena":
        from lakekit.engines.athena import AthenaEngine

        return AthenaEngine(settings, boto3_session=boto3_session)
    if name == "local":
        from lakekit.engines.local import LocalEngine

        return LocalEngine(settings, boto3_session=boto3_session)
    raise UsageError(f"unknown engine {name!r}; use local or athena")
