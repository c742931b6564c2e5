"""lakekit: a serverless data-lake toolkit for the S3 + Glue + Athena stack, with an
embedded default (local folder + SQLite catalog + DuckDB) that needs no AWS account.

>>> import lakekit
>>> callable(lakekit.ingest), callable(lakekit.query)
(True, True)

The public names are imported when first used (PEP 562): ``import lakekit`` and the
``lakekit`` command then start without pyarrow, sqlglot, DuckDB or boto3, and each
command loads only what it needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> the module that defines it
_EXPORTS = {
    "IngestResult": "lakekit.ingestion.run",
    "Lake": "lakekit.lake",
    "LintResult": "lakekit.lint.result",
    "QueryResult": "lakekit.engines.base",
    "CompactResult": "lakekit.ingestion.compact",
    "Settings": "lakekit.config",
    "compact": "lakekit.lake",
    "crawl": "lakekit.lake",
    "estimate": "lakekit.lake",
    "ingest": "lakekit.lake",
    "ingest_stream": "lakekit.lake",
    "lint_layout": "lakekit.lake",
    "lint_query": "lakekit.lake",
    "open_catalog": "lakekit.catalog",
    "open_lake": "lakekit.lake",
    "query": "lakekit.lake",
    "resolve_settings": "lakekit.config",
    "run_query": "lakekit.lake",
    "sync": "lakekit.lake",
}

__all__ = sorted([*_EXPORTS, "__version__", "errors"])

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from lakekit import errors  # noqa: F401
    from lakekit.catalog import open_catalog  # noqa: F401
    from lakekit.config import Settings, resolve_settings  # noqa: F401
    from lakekit.engines.base import QueryResult  # noqa: F401
    from lakekit.ingestion.compact import CompactResult  # noqa: F401
    from lakekit.ingestion.run import IngestResult  # noqa: F401
    from lakekit.lake import (  # noqa: F401
        Lake,
        compact,
        crawl,
        estimate,
        ingest,
        ingest_stream,
        lint_layout,
        lint_query,
        open_lake,
        query,
        run_query,
        sync,
    )
    from lakekit.lint.result import LintResult  # noqa: F401


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        if name == "errors":
            return importlib.import_module("lakekit.errors")
        raise AttributeError(f"module 'lakekit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
