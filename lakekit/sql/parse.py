"""Parsing Athena's dialect (Trino): statements, with errors that name line and column."""

from __future__ import annotations

import logging
import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError, TokenError

from lakekit.errors import UsageError

#: The SQL dialect lakekit reads: Athena's (Trino).
DIALECT = "athena"


def parse_statements(sql: str) -> list[exp.Expression]:
    """Parse one or more ``;``-separated statements written in Athena's dialect.

    Args:
        sql: the SQL text.

    Returns:
        One sqlglot expression per statement (empty statements are skipped).

    Raises:
        UsageError: the SQL does not parse; the message names line and column.

    >>> [s.sql() for s in parse_statements("SELECT 1; SELECT 2")]
    ['SELECT 1', 'SELECT 2']
    >>> try:
    ...     parse_statements("SELECT a FROM WHERE")
    ... except UsageError as error:
    ...     print(error)
    SQL syntax error at line 1, column 15 near 'WHERE': Expected table name but got WHERE
    """
    if not sql or not sql.strip():
        raise UsageError("no SQL given: pass a statement or -f FILE")
    sqlglot_log = logging.getLogger("sqlglot")
    level = sqlglot_log.level
    # sqlglot logs a warning for statements it keeps as opaque commands (SHOW, EXPLAIN):
    # they parse fine and read no table, so the warning would only be noise on stderr.
    sqlglot_log.setLevel(logging.ERROR)
    try:
        statements = sqlglot.parse(sql, read=DIALECT)
    except ParseError as ex:
        raise UsageError(_parse_error_message(ex)) from ex
    except TokenError as ex:
        raise UsageError(f"SQL syntax error: {_one_line(str(ex))} (check quotes and brackets)") from ex
    except SqlglotError as ex:  # pragma: no cover - other sqlglot failures
        raise UsageError(f"SQL syntax error: {_one_line(str(ex))}") from ex
    finally:
        sqlglot_log.setLevel(level)
    statements = [s for s in statements if s is not None and not isinstance(s, exp.Semicolon)]
    if not statements:
        raise UsageError("no SQL statement found: the text holds only comments or semicolons")
    return statements


def _parse_error_message(ex: ParseError) -> str:
    if ex.errors:
        first = ex.errors[0]
        description = str(first.get("description") or "invalid syntax")
        # sqlglot's descriptions embed token reprs; keep the token's text.
        description = re.sub(r"<Token token_type: [^,]*, text: (.*?), line: .*?>", r"\1", description)
        highlight = first.get("highlight")
        near = f" near {highlight!r}" if highlight else ""
        column = first.get("col")
        if isinstance(column, int) and highlight and "\n" not in highlight:
            column = max(1, column - len(highlight) + 1)  # sqlglot points at the token's end
        return (
            f"SQL syntax error at line {first.get('line')}, column {column}{near}: "
            f"{_one_line(description)}"
        )
    return f"SQL syntax error: {_one_line(str(ex))}"


def _one_line(text: str) -> str:
    return " ".join(text.split())
