"""SQL analysis with sqlglot, in Athena's dialect (Trino): one pass a module.

:mod:`~lakekit.sql.parse` parses, :mod:`~lakekit.sql.qualify` qualifies against the
catalog's :mod:`~lakekit.sql.schema`, :mod:`~lakekit.sql.scans` finds each table
read with the columns it needs, and :mod:`~lakekit.sql.pushdown` the predicates that
bound it. :func:`analyze` returns the qualified statement with its scans.
"""

from __future__ import annotations

from lakekit.sql.parse import DIALECT, parse_statements
from lakekit.sql.pushdown import conjuncts
from lakekit.sql.qualify import qualify_statement
from lakekit.sql.scans import Analysis, TableScan, analyze, table_scans
from lakekit.sql.schema import Schema, catalog_schema, tables_schema

__all__ = [
    "DIALECT",
    "Analysis",
    "Schema",
    "TableScan",
    "analyze",
    "catalog_schema",
    "conjuncts",
    "parse_statements",
    "qualify_statement",
    "table_scans",
    "tables_schema",
]
