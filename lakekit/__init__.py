"""lakekit: a serverless data-lake toolkit for the S3 + Glue + Athena stack, with an
embedded default (local folder + SQLite catalog + DuckDB) that needs no AWS account.

>>> import lakekit
>>> callable(lakekit.ingest), callable(lakekit.query)
(True, True)
"""

from __future__ import annotations

__version__ = "0.1.0"

# The API functions share names with the modules that define them (lakekit.ingest is
# a package and a function), so they are bound here eagerly: importing a submodule
# later cannot then shadow the function with the module.
from lakekit import errors
from lakekit.catalog import open_catalog
from lakekit.config import Settings, resolve_settings
from lakekit.ingest import IngestResult, ingest
from lakekit.lint import LintResult, lint_layout, lint_query
from lakekit.query import QueryResult, estimate, query

__all__ = [
    "IngestResult",
    "LintResult",
    "QueryResult",
    "Settings",
    "errors",
    "estimate",
    "ingest",
    "lint_layout",
    "lint_query",
    "open_catalog",
    "query",
    "resolve_settings",
    "__version__",
]
