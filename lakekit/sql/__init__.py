"""SQL analysis with sqlglot, in Athena's dialect (Trino): one pass a module.

:mod:`~lakekit.sql.parse` parses, :mod:`~lakekit.sql.qualify` qualifies against the
catalog's :mod:`~lakekit.sql.schema`, :mod:`~lakekit.sql.scans` finds each table
read with the columns it needs, and :mod:`~lakekit.sql.pushdown` the predicates that
bound it. :func:`analyze` returns the qualified statement with its scans.
:mod:`~lakekit.sql.sandbox` refuses queries that would read outside the lake's tables;
:mod:`~lakekit.sql.columns` finds unknown columns; :mod:`~lakekit.sql.output_names`
names output columns as Athena does.
"""

from __future__ import annotations

from lakekit.sql.columns import ColumnNotFound, check_columns
from lakekit.sql.output_names import name_outputs_as_athena
from lakekit.sql.parse import DIALECT, parse_statements
from lakekit.sql.pushdown import conjuncts
from lakekit.sql.qualify import qualify_statement
from lakekit.sql.sandbox import OutsideRead, refuse_file_functions_in_text, refuse_outside_reads
from lakekit.sql.scans import Analysis, TableScan, analyze, table_scans
from lakekit.sql.schema import PSEUDO_COLUMNS, Schema, catalog_schema, tables_schema

__all__ = [
    "DIALECT",
    "PSEUDO_COLUMNS",
    "Analysis",
    "ColumnNotFound",
    "OutsideRead",
    "Schema",
    "TableScan",
    "analyze",
    "catalog_schema",
    "check_columns",
    "conjuncts",
    "name_outputs_as_athena",
    "parse_statements",
    "qualify_statement",
    "refuse_file_functions_in_text",
    "refuse_outside_reads",
    "table_scans",
    "tables_schema",
]
