"""lakekit: a serverless data-lake toolkit for the S3 + Glue + Athena stack, with an
embedded default (local folder + SQLite catalog + DuckDB) that needs no AWS account.

>>> import lakekit
>>> callable(lakekit.ingest), callable(lakekit.query)
(True, True)
"""

from __future__ import annotations

__version__ = "0.1.0"

from lakekit import errors
from lakekit.catalog import open_catalog
from lakekit.config import Settings, resolve_settings
from lakekit.engines import QueryResult
from lakekit.ingestion.run import IngestResult
from lakekit.lake import (
    Lake,
    crawl,
    estimate,
    ingest,
    lint_layout,
    lint_query,
    open_lake,
    query,
    run_query,
    sync,
)
from lakekit.lint import LintResult

__all__ = [
    "IngestResult",
    "Lake",
    "LintResult",
    "QueryResult",
    "Settings",
    "__version__",
    "crawl",
    "errors",
    "estimate",
    "ingest",
    "lint_layout",
    "lint_query",
    "open_catalog",
    "open_lake",
    "query",
    "resolve_settings",
    "run_query",
    "sync",
]
