"""lakekit: a serverless data-lake toolkit for the S3 + Glue + Athena stack, with an
embedded default (local folder + SQLite catalog + DuckDB) that needs no AWS account.

>>> import lakekit
>>> {"ingest", "query", "estimate", "lint_query", "lint_layout"} <= set(lakekit.__all__)
True
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# name -> module that defines it; imported on first use so `import lakekit` and the
# CLI's start-up stay fast (pyarrow, duckdb and sqlglot load only when needed).
_LAZY = {
    "ingest": "lakekit.ingest",
    "IngestResult": "lakekit.ingest",
    "query": "lakekit.query",
    "estimate": "lakekit.query",
    "QueryResult": "lakekit.query",
    "lint_query": "lakekit.lint",
    "lint_layout": "lakekit.lint",
    "Settings": "lakekit.config",
    "resolve_settings": "lakekit.config",
    "open_catalog": "lakekit.catalog",
}

__all__ = sorted(_LAZY) + ["errors", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "errors":
        return importlib.import_module("lakekit.errors")
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lakekit' has no attribute {name!r}")
