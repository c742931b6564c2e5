"""The Trino emitter's tables are filled by importing the modules that define functions
and node rules; the package's entry does that, so whichever module a caller imports
first, every function and rule is there, and none is registered twice."""

from __future__ import annotations

import datetime
import subprocess
import sys

import duckdb
import pytest
import sqlglot

from lakekit.sql.trino.registry import Registry
from tests.helpers import ROOT

#: one query each defining module answers (Trino's documented results): a datetime
#: function, format(), upper() (of a varchar(2) is a varchar(2)), CAST (Trino rounds a
#: double 2.5 half away from zero, DuckDB to even) and UNNEST (Trino pads the shorter
#: array with NULLs)
_FRESH_INTERPRETER = """
import duckdb, sqlglot
from lakekit.sql.trino.infer import Typer
from lakekit.sql.trino.emit import Emitter
sql = ("SELECT date_add('day', 1, DATE '2024-02-28'), format('%05d', 42), upper('ab'), "
       "CAST(2.5e0 AS INTEGER), a, b FROM UNNEST(ARRAY[1, 2], ARRAY['x']) AS t(a, b) ORDER BY a")
tree = sqlglot.parse_one(sql, read="athena")
types = [t.name() for _, t in Typer({}).query(tree)]
emitter = Emitter()
duck = emitter.run(tree).sql(dialect="duckdb")
assert not emitter.macros, emitter.macros
print(types)
print(duckdb.sql(duck).fetchall())
"""


def test_a_fresh_interpreter_importing_one_pass_has_every_function_and_rule():
    run = subprocess.run([sys.executable, "-c", _FRESH_INTERPRETER], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    types, rows = run.stdout.splitlines()
    assert types == "['date', 'varchar', 'varchar(2)', 'integer', 'integer', 'varchar(1)']"
    day = datetime.date(2024, 2, 29)
    assert rows == repr([(day, "00042", "AB", 3, 1, "x"), (day, "00042", "AB", 3, 2, None)])
    # the DuckDB spelling is needed: plain DuckDB gives a different CAST
    assert duckdb.sql("SELECT CAST(2.5e0 AS INTEGER)").fetchall() == [(2,)]


def test_a_function_registered_twice_is_refused():
    table = Registry()
    table.add("f", sqlglot.exp.Upper, ret=None)
    with pytest.raises(AssertionError, match="registered twice: f"):
        table.add(("g", "f"), ret=None)
    with pytest.raises(AssertionError, match="registered twice: Upper"):
        table.add("h", sqlglot.exp.Upper, ret=None)
    assert set(table.by_name) == {"f"}
