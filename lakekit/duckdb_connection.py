"""The one way lakekit opens DuckDB: in memory, offline, in UTC."""

from __future__ import annotations

from typing import Any


def duckdb_connect() -> Any:
    """An in-memory DuckDB connection set up the way lakekit always uses DuckDB.

    >>> con = duckdb_connect()
    >>> con.execute("SELECT current_setting('TimeZone')").fetchone()
    ('UTC',)
    """
    import duckdb

    con = duckdb.connect(":memory:")
    # Never fetch code from the network: everything lakekit needs is built in.
    con.execute("SET autoinstall_known_extensions=false")
    con.execute("SET autoload_known_extensions=false")
    # Athena works in UTC; so must the local engine, whatever the laptop's zone.
    con.execute("SET TimeZone='UTC'")
    return con
