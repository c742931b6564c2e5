"""The one way lakekit opens DuckDB: in memory, offline, in UTC, and sandboxed.

Every lakekit connection is closed to the host before any user SQL reaches it:

* ``enable_external_access = false``: no file, network or extension access, so
  ``read_csv('/etc/passwd')``, ``COPY ... TO``, ``ATTACH``, ``INSTALL``/``LOAD`` and
  Python replacement scans all fail inside DuckDB itself;
* ``allowed_paths``: the only exception, the exact files a query's plan reads (the
  lake's table files), never a folder or a glob;
* the spill folder: DuckDB always allows its ``temp_directory`` (``.tmp`` in the working
  directory by default, where a query could read or write whatever is there), so it
  is a fresh folder of its own under the system temp folder, named at random, made
  by DuckDB only when a query spills and removed when the connection closes;
* ``lock_configuration = true``: set last, so no statement can turn any of this back
  on (``SET enable_external_access = true`` and ``PRAGMA`` settings are refused).

DuckDB accepts ``allowed_paths`` only while external access is still on, and nothing
at all once the configuration is locked, hence the fixed order of :func:`duckdb_connect`.
Settings that must differ per use (profiling) are therefore chosen at connect time.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterable
from typing import Any

#: Applied to every connection before it is locked, in this order.
_SETUP = (
    # Never fetch code from the network: everything lakekit needs is built in.
    "SET autoinstall_known_extensions = false",
    "SET autoload_known_extensions = false",
    # A name in FROM must never resolve to a Python variable of the calling process.
    "SET python_enable_replacements = false",
    # Athena works in UTC; so must the local engine, whatever the laptop's zone.
    "SET TimeZone = 'UTC'",
)


def duckdb_connect(*, allowed_paths: Iterable[str] = (), profiling: bool = False) -> Any:
    """An in-memory DuckDB connection set up the way lakekit always uses DuckDB.

    Args:
        allowed_paths: the files the connection may read (local paths); nothing else
            on the host is reachable.
        profiling: keep DuckDB's query profile (read with ``get_profiling_information``)
            for the bytes-read counter; written to no file.

    >>> con = duckdb_connect()
    >>> con.execute("SELECT current_setting('TimeZone'), current_setting('enable_external_access')").fetchone()
    ('UTC', False)
    >>> try:
    ...     con.execute("SELECT * FROM read_text('/etc/hostname')")
    ... except Exception as ex:
    ...     print(str(ex).splitlines()[0])
    Permission Error: Cannot access file "/etc/hostname" - file system operations are disabled by configuration
    """
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        for statement in _SETUP:
            con.execute(statement)
        spill = os.path.join(tempfile.gettempdir(), f"lakekit-spill-{secrets.token_hex(8)}")
        con.execute("SET temp_directory = $spill", {"spill": spill})
        paths = sorted(set(allowed_paths))
        if paths:
            # a bound list: a literal of thousands of paths costs DuckDB's parser more
            con.execute("SET allowed_paths = $paths", {"paths": paths})
        if profiling:
            con.execute("SET enable_profiling = 'no_output'")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con
