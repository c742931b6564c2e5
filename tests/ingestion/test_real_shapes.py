"""Real exports load right (issue 9): each finding as a test, facts from the source.

Facts come from pandas or the csv/json modules reading the source files, and the
table is read back with pyarrow or DuckDB, never from lakekit's own report alone.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

import lakekit
from lakekit.errors import InputError, LakekitError, UsageError
from tests.helpers import catalog_of, run_lakekit, visible_data_files
from tests.ingestion import corpus
from tests.readers import local_files, local_locations

pd = pytest.importorskip("pandas")
UTC = dt.UTC


def current_files(warehouse: str, db: str = "r", name: str = "t") -> list[str]:
    """The files under the locations the catalog lists now, as Athena or Spark would read
    them: a listing of the whole table folder also holds superseded commit folders."""
    return [f for loc in (local_locations(warehouse, db, name) or {}).values() for f in local_files(loc)]


def table_of(warehouse: str, db: str = "r", name: str = "t") -> pa.Table:
    files = current_files(warehouse, db, name)
    dataset = ds.dataset(files, format="parquet")
    schema = pa.unify_schemas([f.physical_schema for f in dataset.get_fragments()])
    return ds.dataset(files, schema=schema, format="parquet").to_table()


def sql(warehouse: str, query: str, db: str = "r", name: str = "t"):
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in current_files(warehouse, db, name))
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet([{listed}], hive_partitioning=true, union_by_name=true)")
    return con.execute(query).fetchall()


def rejects_of(result) -> list[dict]:
    if not result.rejects_uri:
        return []
    with open(result.rejects_uri, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def column_types(warehouse: str, db: str = "r", name: str = "t") -> dict[str, str]:
    return {c.name: c.type for c in catalog_of(warehouse).get_table(db, name).columns}


# -- timestamps and dates ----------------------------------------------------------------


def test_a_second_timestamp_field_is_a_timestamp_in_utc(tmp_path, warehouse):
    src = corpus.jsonl(tmp_path / "e.jsonl", [{"ts": "2024-03-01T10:00:00Z", "created_at": "2024-02-28T09:00:00+02:00", "v": 1}])
    r = lakekit.ingest(src, "r.t", timestamp_column="ts", warehouse=warehouse)
    assert (r.records_written, r.records_rejected) == (1, 0)
    assert column_types(warehouse)["created_at"] == "timestamp"
    got = table_of(warehouse).column("created_at").to_pylist()[0]
    assert got == dt.datetime(2024, 2, 28, 7, tzinfo=UTC)


def test_csv_date_columns_with_slashes(tmp_path, warehouse):
    src = corpus.penguins_csv(tmp_path / "penguins.csv")
    r = lakekit.ingest(src, "r.t", warehouse=warehouse)
    source = pd.read_csv(src)
    assert (r.records_written, r.records_rejected) == (len(source), 0)
    assert column_types(warehouse)["date_egg"] == "date"
    expected = sorted(dt.datetime.strptime(v, "%Y/%m/%d").date() for v in source["Date Egg"])
    assert sorted(table_of(warehouse).column("date_egg").to_pylist()) == expected


def test_csv_timestamp_column_with_slashes_partitions_by_its_date(tmp_path, warehouse):
    src = tmp_path / "t.csv"
    src.write_text("when,v\n2012/01/01,1\n2012/01/02 10:30,2\n2012-01-03T23:00:00-02:00,3\n")
    r = lakekit.ingest(str(src), "r.t", timestamp_column="when", warehouse=warehouse)
    assert (r.records_written, r.records_rejected) == (3, 0)
    rows = sql(warehouse, "SELECT v, day, \"when\" FROM t ORDER BY v")
    assert [(v, d) for v, d, _ in rows] == [(1, "01"), (2, "02"), (3, "04")]


def test_web_log_timestamps_with_a_format(tmp_path, warehouse):
    src = tmp_path / "access.csv"
    src.write_text('host,time,status\n1.2.3.4,"10/Oct/2023:13:55:36 -0700",200\n5.6.7.8,"11/Oct/2023:01:00:00 +0000",404\n')
    r = lakekit.ingest(str(src), "r.t", timestamp_column="time", timestamp_format="%d/%b/%Y:%H:%M:%S %z",
                       warehouse=warehouse)
    assert r.records_rejected == 0
    got = sorted(table_of(warehouse).column("time").to_pylist())
    assert got == [dt.datetime(2023, 10, 10, 20, 55, 36, tzinfo=UTC), dt.datetime(2023, 10, 11, 1, tzinfo=UTC)]


def test_epoch_seconds_beside_milliseconds(tmp_path, warehouse):
    base = int(dt.datetime(2024, 3, 1, 12, tzinfo=UTC).timestamp())
    records = [{"id": i, "ts": base + i if i % 2 else (base + i) * 1000} for i in range(1000)] + [{"id": 1000, "ts": 10**30}]
    src = corpus.jsonl(tmp_path / "e.jsonl", records)
    r = lakekit.ingest(src, "r.t", timestamp_column="ts", warehouse=warehouse)
    assert r.records_written == 1000 and r.records_rejected == 1
    got = {row["id"]: row["ts"] for row in table_of(warehouse).select(["id", "ts"]).to_pylist()}
    assert all(got[i] == dt.datetime.fromtimestamp(base + i, UTC) for i in range(1000))


# -- formats ---------------------------------------------------------------------------


@pytest.mark.parametrize("indent", [2, None])
def test_a_json_array_export(tmp_path, warehouse, indent):
    records = corpus.events(406)
    src = corpus.json_array(tmp_path / "export.json", records, indent=indent)
    r = lakekit.ingest(src, "r.t", timestamp_column="ts", warehouse=warehouse)
    with open(src) as f:
        expected = json.load(f)
    assert (r.records_read, r.records_written, r.records_rejected) == (len(expected), len(expected), 0)
    assert sum(row[0] for row in sql(warehouse, "SELECT sum(amount) * 100 FROM t")) == pytest.approx(
        sum(x["amount"] for x in expected) * 100)
    assert sorted(table_of(warehouse).column("zip").to_pylist()) == sorted(x["zip"] for x in expected)


def test_delivery_stream_output_and_two_objects_on_a_line(tmp_path, warehouse):
    records = corpus.events(50)
    a = corpus.concatenated(tmp_path / "firehose-1", records[:25])
    b = tmp_path / "two.jsonl"
    pairs = [json.dumps(records[i]) + " " + json.dumps(records[i + 1]) for i in range(25, 49, 2)]
    b.write_text("\n".join([*pairs, json.dumps(records[49])]) + "\n")
    r = lakekit.ingest([a, str(b)], "r.t", timestamp_column="ts", warehouse=warehouse)
    assert (r.records_written, r.records_rejected) == (50, 0)
    assert sorted(table_of(warehouse).column("id").to_pylist()) == list(range(50))


def test_semicolon_csv_with_a_bom_and_crlf(tmp_path, warehouse):
    src = corpus.penguins_csv(tmp_path / "p.csv", delimiter=";", bom=True, crlf=True)
    r = lakekit.ingest(src, "r.t", warehouse=warehouse)
    source = pd.read_csv(src, sep=";", encoding="utf-8-sig")
    assert (r.records_written, r.records_rejected) == (len(source), 0)
    assert list(column_types(warehouse))[:3] == ["studyname", "sample_number", "species"]
    assert sorted(table_of(warehouse).column("sample_number").to_pylist()) == sorted(source["Sample Number"])


def test_tsv_is_split_on_tabs(tmp_path, warehouse):
    src = tmp_path / "x.tsv"
    src.write_text("name\tnote\n" + "".join(f"n{i}\ta, b, c {i}\n" for i in range(10)))
    r = lakekit.ingest(str(src), "r.t", warehouse=warehouse)
    assert r.records_written == 10 and list(column_types(warehouse)) == ["name", "note"]


def test_delimiter_flag(tmp_path, warehouse):
    src = tmp_path / "x.txt"
    src.write_text("a|b\n1|x;y\n2|z\n")
    r = lakekit.ingest(str(src), "r.t", input_format="csv", delimiter="|", warehouse=warehouse)
    assert r.records_written == 2 and table_of(warehouse).column("b").to_pylist() == ["x;y", "z"]


# -- nulls and values ------------------------------------------------------------------


def test_null_markers_are_null_in_every_column(tmp_path, warehouse):
    src = corpus.penguins_csv(tmp_path / "penguins.csv")
    lakekit.ingest(src, "r.t", warehouse=warehouse)
    source = pd.read_csv(src)
    for name, column in [("Sex", "sex"), ("Culmen Length (mm)", "culmen_length_mm_"), ("Comments", "comments")]:
        (nulls,), = sql(warehouse, f"SELECT count(*) FROM t WHERE {column} IS NULL")
        assert nulls == int(source[name].isna().sum()), name


def test_codes_with_leading_zeros_stay_text(tmp_path, warehouse):
    src = tmp_path / "zips.csv"
    src.write_text("zip,n\n02134,1\n10001,2\n00501,3\n")
    lakekit.ingest(str(src), "r.t", warehouse=warehouse)
    with open(src) as f:
        expected = [row["zip"] for row in csv.DictReader(f)]
    assert column_types(warehouse)["zip"] == "string"
    assert table_of(warehouse).column("zip").to_pylist() == expected


def test_integer_ids_never_become_lossy_doubles(tmp_path, warehouse):
    ids = [9007199254740993, 9007199254740995, 9007199254740997]
    lines = [f'{{"id": {i}}}' for i in ids] + ['{"id": 1.0}', f'{{"id": {2**70}}}']
    src = tmp_path / "ids.jsonl"
    src.write_text("\n".join(lines) + "\n")
    r = lakekit.ingest(str(src), "r.t", warehouse=warehouse)
    assert column_types(warehouse)["id"] == "bigint"
    assert sorted(table_of(warehouse).column("id").to_pylist()) == sorted([1, *ids])
    assert (r.records_written, r.records_rejected) == (4, 1)
    assert rejects_of(r)[0]["line"] == 5 and rejects_of(r)[0]["raw"] == lines[4]


def test_csv_integers_beyond_64_bits_are_rejects(tmp_path, warehouse):
    src = tmp_path / "ids.csv"
    src.write_text(f"id\n9223372036854775807\n{2**70}\n-9223372036854775808\n")
    r = lakekit.ingest(str(src), "r.t", warehouse=warehouse)
    assert sorted(table_of(warehouse).column("id").to_pylist()) == [-(2**63), 2**63 - 1]
    assert [x["line"] for x in rejects_of(r)] == [3]


# -- names -----------------------------------------------------------------------------


def test_names_are_sanitized_and_reported(tmp_path, warehouse):
    src = corpus.penguins_csv(tmp_path / "penguins.csv", rows=10)
    r = lakekit.ingest(src, "r.t", warehouse=warehouse)
    assert r.renamed_columns["Culmen Length (mm)"] == "culmen_length_mm_"
    assert r.renamed_columns["studyName"] == "studyname"
    assert sql(warehouse, "SELECT count(*) FROM t WHERE culmen_length_mm_ > 0")[0][0] > 0


def test_names_that_fold_to_one_column_stop_the_ingest(tmp_path, warehouse):
    src = corpus.jsonl(tmp_path / "e.jsonl", [{"amount": 1, "Amount": 2}])
    with pytest.raises(InputError, match="'amount' and 'Amount' both become column 'amount'"):
        lakekit.ingest(src, "r.t", warehouse=warehouse)
    assert catalog_of(warehouse).get_table("r", "t") is None


def test_an_empty_key_stops_the_ingest(tmp_path, warehouse):
    src = corpus.jsonl(tmp_path / "e.jsonl", [{"": 1, "a": 2}])
    with pytest.raises(InputError, match="empty name"):
        lakekit.ingest(src, "r.t", warehouse=warehouse)


# -- nested ----------------------------------------------------------------------------


def test_arrays_and_objects_in_many_records(tmp_path, warehouse):
    records = corpus.events(1500)
    src = corpus.jsonl(tmp_path / "e.jsonl", records)
    r = lakekit.ingest(src, "r.t", timestamp_column="ts", warehouse=warehouse)
    assert (r.records_written, r.records_rejected) == (1500, 0)
    types = column_types(warehouse)
    assert types["tags"] == "array<string>" and types["geo"] == "struct<lat:double,lon:double>"
    got = {row["id"]: row["tags"] for row in table_of(warehouse).select(["id", "tags"]).to_pylist()}
    assert all(got[x["id"]] == x["tags"] for x in records)


@pytest.mark.parametrize("depth", [200, 10_000])
def test_a_record_too_deep_is_a_reject(tmp_path, warehouse, depth):
    deep = '{"id": 2, "a": ' + "[" * depth + "]" * depth + "}"
    src = tmp_path / "d.jsonl"
    src.write_text('{"id": 1, "a": [[1]]}\n' + deep + '\n{"id": 3, "a": [[3]]}\n')
    r = lakekit.ingest(str(src), "r.t", warehouse=warehouse)
    assert (r.records_written, r.records_rejected) == (2, 1)
    assert rejects_of(r)[0]["line"] == 2 and "nested deeper" in rejects_of(r)[0]["error"]


# -- rejects that tell the truth --------------------------------------------------------


@pytest.mark.parametrize("bad,error", [("3,x,never", "cannot parse timestamp"), ("3,x", "expected 3 fields, found 2")])
def test_a_bad_record_after_a_multiline_field_has_its_own_line_and_raw(tmp_path, warehouse, bad, error):
    text = f'id,note,ts\n1,"first\nsecond",2024-03-01\n2,plain,2024-03-02\n{bad}\n4,y,2024-03-04\n'
    src = tmp_path / "m.csv"
    src.write_text(text)
    r = lakekit.ingest(str(src), "r.t", timestamp_column="ts", warehouse=warehouse)
    assert (r.records_written, r.records_rejected) == (3, 1)
    rej = rejects_of(r)[0]
    assert rej["line"] == 5 and rej["raw"] == bad and error in rej["error"]
    assert sorted(table_of(warehouse).column("id").to_pylist()) == [1, 2, 4]
    assert sorted(table_of(warehouse).column("note").to_pylist()) == ["first\nsecond", "plain", "y"]


def test_a_stray_quote_costs_only_what_it_damages(tmp_path, warehouse):
    rows = [f"{i},name {i},{i * 2}" for i in range(50_000)]
    rows[2] = '2,O"Brien,4'
    rows[40_000] = "40000,short"
    src = tmp_path / "s.csv"
    src.write_text("id,name,v\n" + "\n".join(rows) + "\n")
    r = lakekit.ingest(str(src), "r.t", warehouse=warehouse)
    assert (r.records_read, r.records_written, r.records_rejected) == (50_000, 49_999, 1)
    assert rejects_of(r)[0]["line"] == 40_002 and rejects_of(r)[0]["raw"] == "40000,short"
    assert table_of(warehouse).filter(pa.compute.equal(pa.compute.field("id"), 2)).column("name").to_pylist() == ['O"Brien']


def test_every_record_is_in_the_table_or_the_rejects(tmp_path, warehouse):
    lines = ["id,v", "1,10", '2,"multi', 'line"', "3,x", "4,", "5,50,extra", "6,60"]
    src = tmp_path / "c.csv"
    src.write_text("\n".join(lines) + "\n")
    r = lakekit.ingest(str(src), "r.t", warehouse=warehouse)
    written = sorted(table_of(warehouse).column("id").to_pylist())
    rejected = {x["line"]: x["raw"] for x in rejects_of(r)}
    assert written == [1, 2, 3, 4, 6]  # v is text: "multi\nline" and "x" are values
    assert rejected == {7: "5,50,extra"}
    assert r.records_read == len(written) + len(rejected)


# -- failures that used to trap the user -----------------------------------------------


def test_nothing_written_is_exit_1_and_records_nothing(tmp_path, warehouse):
    src = corpus.jsonl(tmp_path / "e.jsonl", [{"id": 1, "ts": "not a time"}, {"id": 2, "ts": "never"}])
    proc = run_lakekit("ingest", src, "--table", "r.t", "--timestamp-column", "ts", "--warehouse", warehouse)
    assert proc.returncode == 1, proc.stderr
    assert "nothing was committed" in proc.stderr and "cannot parse timestamp" in proc.stderr
    assert catalog_of(warehouse).get_table("r", "t") is None
    fixed = corpus.jsonl(tmp_path / "e.jsonl", [{"id": 1, "ts": "2024-03-01"}, {"id": 2, "ts": "2024-03-02"}])
    r = lakekit.ingest(fixed, "r.t", timestamp_column="ts", warehouse=warehouse)
    assert r.records_written == 2 and r.skipped_sources == []


def test_most_common_reject_errors_with_counts(tmp_path, warehouse):
    records = [{"id": i, "ts": "2024-03-01T00:00:00Z" if i % 3 else "bad"} for i in range(30)] + [{"id": "x", "ts": "2024-03-01"}]
    src = corpus.jsonl(tmp_path / "e.jsonl", records)
    proc = run_lakekit("ingest", src, "--table", "r.t", "--timestamp-column", "ts", "--warehouse", warehouse, "--json")
    doc = json.loads(proc.stdout)
    assert proc.returncode == 0 and doc["records_rejected"] == 11
    assert doc["reject_errors"][0] == {"error": "cannot parse timestamp in column 'ts'", "count": 10}
    assert sum(e["count"] for e in doc["reject_errors"]) == 11
    text = run_lakekit("ingest", src, "--table", "r.t2", "--timestamp-column", "ts", "--warehouse", warehouse)
    assert "10 x cannot parse timestamp in column 'ts'" in text.stderr


def test_a_layout_type_that_changed_asks_for_drop_then_works(tmp_path, warehouse):
    src = corpus.jsonl(tmp_path / "e.jsonl", [{"id": "a1", "ts": "2024-03-01T00:00:00Z"}])
    bad = tmp_path / "bad.yaml"
    bad.write_text("table: r.t\nformat: parquet\ntimestamp_column: ts\ncolumns:\n  id: bigint\n")
    lakekit.ingest(corpus.jsonl(tmp_path / "f.jsonl", [{"id": 5, "ts": "2024-03-01T00:00:00Z"}]), layout=str(bad),
                   warehouse=warehouse)
    good = tmp_path / "good.yaml"
    good.write_text("table: r.t\nformat: parquet\ntimestamp_column: ts\ncolumns:\n  id: string\n")
    with pytest.raises(UsageError, match="lakekit drop r.t"):
        lakekit.ingest(src, layout=str(good), warehouse=warehouse, force=True)
    proc = run_lakekit("drop", "r.t", "--purge", "--warehouse", warehouse)
    assert proc.returncode == 0, proc.stderr
    assert catalog_of(warehouse).get_table("r", "t") is None and visible_data_files(warehouse, "r", "t") == []
    r = lakekit.ingest(src, layout=str(good), warehouse=warehouse)
    assert r.records_written == 1 and column_types(warehouse)["id"] == "string"


def test_drop_without_purge_keeps_data_and_missing_table_is_exit_2(tmp_path, warehouse):
    src = corpus.jsonl(tmp_path / "e.jsonl", [{"id": 1, "ts": "2024-03-01T00:00:00Z"}])
    lakekit.ingest(src, "r.t", timestamp_column="ts", warehouse=warehouse)
    files = visible_data_files(warehouse, "r", "t")
    assert run_lakekit("drop", "r.t", "--warehouse", warehouse).returncode == 0
    assert catalog_of(warehouse).get_table("r", "t") is None and visible_data_files(warehouse, "r", "t") == files
    proc = run_lakekit("drop", "r.t", "--warehouse", warehouse)
    assert proc.returncode == 2 and "not found" in proc.stderr
    # dropped means forgotten: the same source loads again
    assert lakekit.ingest(src, "r.t", timestamp_column="ts", warehouse=warehouse).records_written == 1


def test_later_ingests_reuse_the_stored_timestamp_column_and_partitioning(tmp_path, warehouse):
    first = corpus.jsonl(tmp_path / "a.jsonl", [{"id": 1, "ts": "2024-03-01T00:00:00Z"}])
    second = corpus.jsonl(tmp_path / "b.jsonl", [{"id": 2, "ts": "2024-04-05T00:00:00Z"}])
    third = corpus.jsonl(tmp_path / "c.jsonl", [{"id": 3, "ts": "2024-05-05T00:00:00Z"}])
    lakekit.ingest(first, "r.t", timestamp_column="ts", partition_by="year,month", warehouse=warehouse)
    assert lakekit.ingest(second, "r.t", warehouse=warehouse).partitions_written == 1
    assert lakekit.ingest(third, "r.t", timestamp_column="ts", warehouse=warehouse).partitions_written == 1
    assert sorted(sql(warehouse, "SELECT month, id FROM t")) == [("03", 1), ("04", 2), ("05", 3)]


def test_json_on_max_rejects_abort(tmp_path, warehouse):
    src = corpus.jsonl(tmp_path / "e.jsonl", [{"id": i, "ts": "bad"} for i in range(5)] + [{"id": 9, "ts": "2024-03-01"}])
    proc = run_lakekit("ingest", src, "--table", "r.t", "--timestamp-column", "ts", "--max-rejects", "2", "--json",
                   "--warehouse", warehouse)
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["error"]["exit_code"] == 1 and "max-rejects" in doc["error"]["message"]
    assert doc["records_rejected"] >= 3


def test_warehouse_inside_the_source_folder_is_not_a_source(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    corpus.jsonl(data / "e.jsonl", [{"id": 1, "ts": "2024-03-01T00:00:00Z"}])
    warehouse = str(data / "lake")
    lakekit.ingest(str(data), "r.t", timestamp_column="ts", warehouse=warehouse)
    corpus.jsonl(data / "f.jsonl", [{"id": 2, "ts": "2024-03-02T00:00:00Z"}])
    r = lakekit.ingest(str(data), "r.t", warehouse=warehouse)
    assert (r.records_read, r.records_rejected) == (1, 0)


def test_a_dangling_symlink_is_a_clear_error(tmp_path, warehouse):
    data = tmp_path / "data"
    data.mkdir()
    corpus.jsonl(data / "e.jsonl", [{"id": 1}])
    os.symlink(data / "gone.jsonl", data / "link.jsonl")
    proc = run_lakekit("ingest", str(data), "--table", "r.t", "--warehouse", warehouse)
    assert proc.returncode == 2 and "link.jsonl" in proc.stderr and "broken" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_different_partition_by_is_refused_naming_the_tables(tmp_path, warehouse):
    src = corpus.jsonl(tmp_path / "a.jsonl", [{"id": 1, "ts": "2024-03-01T00:00:00Z"}])
    lakekit.ingest(src, "r.t", timestamp_column="ts", partition_by="year,month", warehouse=warehouse)
    with pytest.raises(LakekitError, match="partitioned by year,month, not year"):
        lakekit.ingest(src, "r.t", timestamp_column="ts", partition_by="year", warehouse=warehouse, force=True)


def test_progress_counts_bytes_as_they_are_read(tmp_path):
    from lakekit.ingestion.sources import CountingReader

    raw = io.BytesIO(b"x" * 1000)
    counter = CountingReader(raw)
    counter.read(300)
    counter.read(2000)
    assert counter.bytes_read == 1000


def test_an_integral_double_in_a_later_block_is_that_integer(tmp_path, warehouse):
    lines = [f'{{"id": {i}, "ts": "2024-03-01T00:00:00Z"}}' for i in range(2000)]
    lines[1500] = '{"id": 1500.0, "ts": "2024-03-01T00:00:00Z"}'
    lines[1600] = '{"id": 1600.5, "ts": "2024-03-01T00:00:00Z"}'
    src = tmp_path / "ids.jsonl"
    src.write_text("\n".join(lines) + "\n")
    r = lakekit.ingest(str(src), "r.t", timestamp_column="ts", warehouse=warehouse, block_size=16 << 10)
    assert column_types(warehouse)["id"] == "bigint"
    assert [x["line"] for x in rejects_of(r)] == [1601]
    assert sorted(table_of(warehouse).column("id").to_pylist()) == [i for i in range(2000) if i != 1600]


def _one_line_array(path, records: int) -> str:
    with open(path, "w") as f:
        f.write("[" + ",".join(json.dumps({"id": i, "ts": "2024-03-01T00:00:00Z", "name": f"user {i}", "v": i * 0.5})
                               for i in range(records)) + "]")
    return str(path)


def _peak_rss_mb(*args) -> float:
    import subprocess

    from tests.helpers import LAKEKIT

    proc = subprocess.Popen([LAKEKIT, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, proc.stderr.read()
    return usage.ru_maxrss / 1024


def test_a_single_line_json_array_is_read_in_bounded_memory(tmp_path):
    small = _one_line_array(tmp_path / "small.json", 50_000)
    large = _one_line_array(tmp_path / "large.json", 500_000)  # about 40 MB on one line
    rss_small = _peak_rss_mb("ingest", small, "--table", "m.s", "--warehouse", str(tmp_path / "w1"))
    rss_large = _peak_rss_mb("ingest", large, "--table", "m.l", "--warehouse", str(tmp_path / "w2"))
    assert os.path.getsize(large) > 38 << 20
    # Memory follows the block size, not the line: 10x the input, about the same peak.
    assert rss_large < rss_small * 1.3 + 40, (rss_small, rss_large)
    assert sql(str(tmp_path / "w2"), "SELECT count(*), sum(id) FROM t", "m", "l") == [(500_000, sum(range(500_000)))]


@pytest.mark.parametrize("table,suggested", [("Analytics.Events", "analytics.events"), ("my-db.t", "my_db.t"),
                                             ("_x.t", "x.t")])
def test_table_names_must_already_be_valid(tmp_path, warehouse, table, suggested):
    src = corpus.jsonl(tmp_path / "e.jsonl", [{"id": 1}])
    proc = run_lakekit("ingest", src, "--table", table, "--warehouse", warehouse)
    assert proc.returncode == 2 and f"use --table {suggested}" in proc.stderr, proc.stderr
    assert catalog_of(warehouse).list_tables() == []


def test_null_value_flag_replaces_the_markers(tmp_path, warehouse):
    src = tmp_path / "n.csv"
    src.write_text("id,code\n1,NA\n2,-\n3,\n4,x\n")
    proc = run_lakekit("ingest", str(src), "--table", "r.t", "--null-value", "-", "--warehouse", warehouse, "--json")
    assert proc.returncode == 0, proc.stderr
    got = {row["id"]: row["code"] for row in table_of(warehouse).to_pylist()}
    assert got == {1: "NA", 2: None, 3: "", 4: "x"}


def test_input_format_flags(tmp_path, warehouse):
    tsv = tmp_path / "data.txt"
    tsv.write_text("a\tb\n1\tx,y\n")
    pretty = tmp_path / "data.log"
    pretty.write_text('{\n  "a": 2,\n  "b": "z"\n}\n{\n  "a": 3,\n  "b": "w"\n}\n')
    r1 = lakekit.ingest(str(tsv), "r.t", input_format="tsv", warehouse=warehouse)
    r2 = lakekit.ingest(str(pretty), "r.t", input_format="json", warehouse=warehouse)
    assert (r1.records_written, r2.records_written, r2.records_rejected) == (1, 2, 0)
    assert sorted(table_of(warehouse).column("b").to_pylist()) == ["w", "x,y", "z"]
