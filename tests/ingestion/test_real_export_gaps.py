"""Issue 9's findings that had no test of their own: each fails on the code before its fix.

Facts come from the json and csv modules reading the source; the table is read back
by DuckDB from the files under the locations the catalog lists.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import resource

import duckdb

import lakekit
from tests.readers import local_files, local_locations

UTC = dt.UTC


def rows_of(warehouse: str, columns: str, db: str = "r", name: str = "t") -> list[tuple]:
    files = [f for loc in (local_locations(warehouse, db, name) or {}).values() for f in local_files(loc)]
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    return con.execute(f"SELECT {columns} FROM read_parquet([{listed}], union_by_name=true) ORDER BY 1").fetchall()


def types_of(warehouse: str, db: str = "r", name: str = "t") -> dict[str, str]:
    files = [f for loc in (local_locations(warehouse, db, name) or {}).values() for f in local_files(loc)]
    con = duckdb.connect()
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet([{listed}], union_by_name=true)").fetchall()}


def test_json_timestamp_and_date_fields_without_a_timestamp_column(tmp_path, warehouse):
    # "The same for any date column when there is no --timestamp-column, in JSON".
    records = [{"id": 1, "created_at": "2024-02-28T09:00:00+02:00", "born": "2012/01/01"},
               {"id": 2, "created_at": "2024-02-28 23:30:00-0500", "born": "1999-12-31"}]
    src = tmp_path / "people.json"
    src.write_text(json.dumps(records, indent=2))
    r = lakekit.ingest(str(src), "r.t", warehouse=warehouse)
    source = json.loads(src.read_text())
    assert (r.records_written, r.records_rejected) == (len(source), 0)
    types = types_of(warehouse)
    assert types["created_at"].startswith("TIMESTAMP") and types["born"] == "DATE"
    want = [(x["id"], dt.datetime.fromisoformat(x["created_at"]).astimezone(UTC),
             dt.datetime.strptime(x["born"].replace("/", "-"), "%Y-%m-%d").date()) for x in source]
    got = [(i, c.replace(tzinfo=UTC) if c.tzinfo is None else c, b) for i, c, b in rows_of(warehouse, "id, created_at, born")]
    assert got == want


def test_a_json_string_na_stays_the_string_and_a_csv_na_is_null(tmp_path, warehouse):
    jsonl = tmp_path / "s.jsonl"
    jsonl.write_text('{"id": 1, "sex": "NA"}\n{"id": 2, "sex": null}\n{"id": 3, "sex": "F"}\n')
    lakekit.ingest(str(jsonl), "r.t", warehouse=warehouse)
    want = [(x["id"], x["sex"]) for x in map(json.loads, jsonl.read_text().splitlines())]
    assert rows_of(warehouse, "id, sex") == want
    text = "id,sex\n1,NA\n2,\n3,F\n4,N/A\n"
    src = tmp_path / "s.csv"
    src.write_text(text)
    lakekit.ingest(str(src), "r.t2", warehouse=warehouse)
    pandas_nulls = {"NA", "N/A", ""}  # among pandas' default markers
    want = [(int(i), None if s in pandas_nulls else s) for i, s in list(csv.reader(io.StringIO(text)))[1:]]
    assert rows_of(warehouse, "id, sex", name="t2") == want
    assert rows_of(warehouse, "count(*) FILTER (WHERE sex IS NULL)", name="t2") == [(3,)]


def _cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def test_a_stray_quote_near_the_top_keeps_the_ingest_linear(tmp_path, warehouse):
    # The finding: a stray quote near the top of 200k rows took 245 s (quadratic) where
    # about 1 s was due. CPU seconds, not wall time, so a busy machine does not fail it;
    # 100k rows cost about 1 CPU second here, the quadratic code a minute.
    n = 100_000
    rows = [f"{i},name {i},{i * 2}" for i in range(n)]
    rows[2] = '2,O"Brien,4'          # a quote inside a field: text
    rows[5] = '5,"never closed,10'   # a quote opening a field that never closes
    src = tmp_path / "s.csv"
    src.write_text("id,name,v\n" + "\n".join(rows) + "\n")
    before = _cpu()
    r = lakekit.ingest(str(src), "r.t", warehouse=warehouse)
    spent = _cpu() - before
    assert (r.records_read, r.records_written, r.records_rejected) == (n, n - 1, 1)
    assert spent < 15, f"{spent:.1f} CPU seconds for {n:,} rows"
    assert rows_of(warehouse, "count(*), sum(v)") == [(n - 1, sum(i * 2 for i in range(n)) - 10)]
