"""Query engines: ``local`` (DuckDB in-process) and ``athena`` (Amazon Athena)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakekit.engines.base import Engine, EngineResult

if TYPE_CHECKING:  # pragma: no cover
    import boto3

    from lakekit.config import Settings

__all__ = ["Engine", "EngineResult", "open_engine"]


def open_engine(name: str, settings: "Settings", boto3_session: "boto3.Session | None" = None) -> Engine:
    """The engine called ``name``: ``local`` or ``athena``."""
    if name == "athena":
        from lakekit.engines.athena import AthenaEngine

        return AthenaEngine(settings, boto3_session=boto3_session)
    if name == "local":
        from lakekit.engines.local import LocalEngine

        return LocalEngine(settings, boto3_session=boto3_session)
    from lakekit.errors import UsageError

    raise UsageError(f"unknown engine {name!r}; use local or athena")
