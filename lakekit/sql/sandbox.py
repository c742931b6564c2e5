"""The SQL half of the local engine's sandbox: a query reads the lake's tables, nothing else.

Athena SQL reads tables through the catalog; it has no function that opens a file
by name. The DuckDB the local engine runs on has many (``read_csv``, ``read_text``,
``glob``, ``parquet_metadata`` ...). This check refuses, before anything runs:

* any table function in a FROM, JOIN or LATERAL position other than ``UNNEST``:
  Trino calls none that way, and every DuckDB one either reads files, lists the host
  or shows DuckDB's own state;
* any function, anywhere (a scalar position, a subquery, a CTE), whose name is one
  of DuckDB's file readers (:data:`FILE_FUNCTIONS`).

The connection itself is closed to the host too (:mod:`lakekit.duckdb_connection`),
so either half alone stops such a query; this one says why in words.
"""

from __future__ import annotations

from sqlglot import exp

from lakekit.errors import UsageError
from lakekit.sql.parse import DIALECT

#: DuckDB functions that read, list or probe files or other databases. The names are
#: refused wherever they appear, whatever the position.
FILE_FUNCTIONS = frozenset({
    "read_csv", "read_csv_auto", "read_single_csv_file", "sniff_csv",
    "read_json", "read_json_auto", "read_json_objects", "read_json_objects_auto",
    "read_ndjson", "read_ndjson_auto", "read_ndjson_objects", "read_single_json_file",
    "read_parquet", "parquet_scan", "read_single_parquet_file", "parquet_metadata", "parquet_schema",
    "parquet_file_metadata", "parquet_full_metadata", "parquet_kv_metadata", "parquet_page_index",
    "parquet_bloom_probe", "read_text", "read_blob", "glob", "read_duckdb", "query_table",
    "delta_scan", "iceberg_scan", "iceberg_metadata", "iceberg_snapshots", "read_xlsx", "st_read",
    "sqlite_scan", "sqlite_attach", "postgres_scan", "postgres_attach", "mysql_scan",
    "read_avro", "read_vortex", "ducklake_snapshots", "json_execute_serialized_sql",
})

_WAY_OUT = "the local engine reads only the lake's tables (FROM db.table)"


class OutsideRead(UsageError):
    """A query that would read files or state outside the lake's tables."""


def function_name(node: exp.Expression) -> str:
    """A function node's name as written, lowercased (``read_csv``, ``glob``).

    >>> import sqlglot
    >>> function_name(sqlglot.parse_one("SELECT read_csv('x')", read="athena").expressions[0])
    'read_csv'
    """
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return type(node).__name__.lower()


def refuse_outside_reads(statement: exp.Expression) -> None:
    """Raise :class:`OutsideRead` when ``statement`` reads anything but the lake's tables.

    >>> import sqlglot
    >>> sql = "SELECT * FROM (VALUES 1) v(x) CROSS JOIN LATERAL read_csv('/etc/passwd')"
    >>> try:
    ...     refuse_outside_reads(sqlglot.parse_one(sql, read="athena"))
    ... except OutsideRead as error:
    ...     print(error)
    read_csv(...) reads files outside the lake; the local engine reads only the lake's tables (FROM db.table)
    >>> refuse_outside_reads(sqlglot.parse_one("SELECT x FROM t CROSS JOIN UNNEST(a) AS u(x)", read="athena"))
    """
    for node in statement.walk():
        if isinstance(node, (exp.Table, exp.Lateral)) and _is_call(node.this):
            fn = node.this
            if isinstance(fn, exp.Unnest):
                continue
            _refuse(fn, in_from=True)
        elif isinstance(node, exp.Func) and function_name(node) in FILE_FUNCTIONS:
            _refuse(node, in_from=False)


def refuse_file_functions_in_text(sql: str) -> None:
    """Raise :class:`OutsideRead` when ``sql`` calls one of :data:`FILE_FUNCTIONS`, by its tokens.

    Run before parsing: some of these names are not functions to sqlglot's Athena
    parser (``glob('/etc/*')`` is a syntax error about the GLOB operator there), and the
    refusal should say what the query tried, not how it failed to parse.

    >>> try:
    ...     refuse_file_functions_in_text("SELECT * FROM glob('/etc/*')")
    ... except OutsideRead as error:
    ...     print(error)
    glob(...) reads files outside the lake; the local engine reads only the lake's tables (FROM db.table)
    """
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.errors import TokenError
    from sqlglot.tokens import TokenType

    try:
        tokens = Dialect.get_or_raise(DIALECT).tokenize(sql)
    except TokenError:
        return  # the parser reports it
    for token, following in zip(tokens, tokens[1:]):
        if (following.token_type == TokenType.L_PAREN and token.token_type != TokenType.STRING
                and token.text.lower() in FILE_FUNCTIONS):
            raise OutsideRead(f"{token.text.lower()}(...) reads files outside the lake; {_WAY_OUT}")


def _is_call(node: exp.Expression | None) -> bool:
    # sqlglot reads some DuckDB names as typed nodes that are not functions to it
    # (``glob(a, b)`` is the GLOB operator): anything in a FROM that is not a name is a call.
    return isinstance(node, exp.Expression) and not isinstance(node, (exp.Identifier, exp.Subquery, exp.Query))


def _refuse(fn: exp.Expression, *, in_from: bool) -> None:
    name = function_name(fn)
    if isinstance(fn, exp.Anonymous) and name == "table" and fn.expressions:
        inner = fn.expressions[0]  # TABLE(f(...)): name the function inside
        name = function_name(inner) if isinstance(inner, exp.Func) else name
    if name in FILE_FUNCTIONS:
        raise OutsideRead(f"{name}(...) reads files outside the lake; {_WAY_OUT}")
    if in_from:
        raise OutsideRead(f"table function {name}(...) is not Athena SQL (Athena's FROM takes tables, "
                          f"subqueries and UNNEST); {_WAY_OUT}")
