"""Schema inference and evolution, memory-bounded writing, and a property test."""

from __future__ import annotations

import datetime as dt
import json
import os
import re

import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lakekit
from lakekit.errors import NothingWritten
from tests.helpers import catalog_of, read_back_pyarrow, visible_data_files, write_jsonl


def test_new_fields_become_new_columns(tmp_path, warehouse):
    write_jsonl(tmp_path / "a.jsonl", [{"id": 1, "ts": "2024-01-01T00:00:00Z"}])
    write_jsonl(tmp_path / "b.jsonl", [{"id": 2, "ts": "2024-01-01T00:00:00Z", "color": "red"}])
    lakekit.ingest(str(tmp_path / "a.jsonl"), "s.t", timestamp_column="ts", warehouse=warehouse)
    lakekit.ingest(str(tmp_path / "b.jsonl"), "s.t", timestamp_column="ts", warehouse=warehouse)
    table = catalog_of(warehouse).get_table("s", "t")
    assert [(c.name, c.type) for c in table.columns] == [("id", "bigint"), ("ts", "timestamp"), ("color", "string")]
    rows = {r["id"]: r["color"] for r in read_back_pyarrow(os.path.join(warehouse, "s", "t")).to_pylist()}
    assert rows == {1: None, 2: "red"}


def test_new_field_mid_file_starts_a_new_file_with_the_wider_schema(tmp_path, warehouse):
    records = [{"id": i, "ts": "2024-01-01T00:00:00Z"} for i in range(200)]
    records += [{"id": i, "ts": "2024-01-01T00:00:00Z", "extra": i * 2} for i in range(200, 400)]
    src = write_jsonl(tmp_path / "a.jsonl", records)
    lakekit.ingest(src, "s.t", timestamp_column="ts", warehouse=warehouse, block_size=1024)
    back = read_back_pyarrow(os.path.join(warehouse, "s", "t")).sort_by("id").to_pylist()
    assert [r["extra"] for r in back] == [None] * 200 + [i * 2 for i in range(200, 400)]


def test_all_null_fields_do_not_crash_inference(tmp_path, warehouse):
    src = write_jsonl(tmp_path / "a.jsonl", [{"id": i, "ts": "2024-01-01T00:00:00Z", "maybe": None} for i in range(50)]
                      + [{"id": 50, "ts": "2024-01-01T00:00:00Z", "maybe": "now typed"}])
    r = lakekit.ingest(src, "s.t", timestamp_column="ts", warehouse=warehouse, block_size=256)
    assert r.records_rejected == 0 and r.records_written == 51
    table = catalog_of(warehouse).get_table("s", "t")
    assert table.column("maybe").type == "string"
    back = {x["id"]: x["maybe"] for x in read_back_pyarrow(os.path.join(warehouse, "s", "t")).to_pylist()}
    assert back[50] == "now typed" and back[0] is None


def test_only_nulls_ever_leaves_the_column_out(tmp_path, warehouse):
    src = write_jsonl(tmp_path / "a.jsonl", [{"id": 1, "ts": "2024-01-01T00:00:00Z", "nothing": None}])
    lakekit.ingest(src, "s.t", timestamp_column="ts", warehouse=warehouse)
    assert catalog_of(warehouse).get_table("s", "t").column("nothing") is None


def test_nested_values_keep_athena_types(tmp_path, warehouse):
    src = write_jsonl(tmp_path / "a.jsonl", [{"id": 1, "ts": "2024-01-01T00:00:00Z", "tags": ["a", "b"],
                                              "geo": {"lat": 1.5, "lon": 2.5}}])
    lakekit.ingest(src, "s.t", timestamp_column="ts", warehouse=warehouse)
    types = {c.name: c.type for c in catalog_of(warehouse).get_table("s", "t").columns}
    assert types["tags"] == "array<string>"
    assert types["geo"] == "struct<lat:double,lon:double>"


def test_many_partitions_under_a_small_memory_budget(tmp_path, warehouse):
    base = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    records = [{"id": i, "ts": (base + dt.timedelta(days=i % 400)).isoformat(), "pad": "x" * 50} for i in range(20000)]
    src = write_jsonl(tmp_path / "a.jsonl", records)
    r = lakekit.ingest(src, "s.t", timestamp_column="ts", warehouse=warehouse, memory_budget=256 << 10, block_size=64 << 10)
    assert r.partitions_written == 400 and r.records_written == 20000
    files = visible_data_files(warehouse, "s", "t")
    # 400 partitions do not fit the budget: their rows were spilled, not written as
    # tiny row groups or many files, so each partition is still one file of one row group
    assert len(files) == 400 and all(pq.read_metadata(f).num_row_groups == 1 for f in files)
    assert sorted(read_back_pyarrow(os.path.join(warehouse, "s", "t"))["id"].to_pylist()) == list(range(20000))


_values = st.one_of(st.none(), st.integers(-(2**53), 2**53), st.text(max_size=20))
_records = st.lists(
    st.one_of(
        st.fixed_dictionaries({
            "id": st.integers(0, 10**9),
            "ts": st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2030, 12, 31),
                               timezones=st.just(dt.UTC)).map(lambda d: d.isoformat()),
            "n": st.one_of(st.none(), st.integers(-(2**40), 2**40)),
            "s": st.one_of(st.none(), st.text(max_size=30)),
        }),
        st.text(max_size=40).map(lambda t: "garbage " + t.replace("\n", " ")),
        st.fixed_dictionaries({"id": st.integers(0, 10), "ts": st.text(max_size=8)}),
        st.fixed_dictionaries({"id": st.integers(0, 10), "ts": st.just("2024-01-01T00:00:00Z"), "n": _values}),
    ),
    max_size=60,
)


def _documented_instant(text: str) -> dt.datetime:
    """The instant docs/ingest.md says a timestamp text means: ISO 8601, or digits as
    epoch seconds / ms / us / ns told apart by magnitude (< 10^11, < 10^14, < 10^17)."""
    if re.fullmatch(r"\s*-?[0-9]+\s*", text):
        number = int(text)
        scale = next(s for limit, s in ((10**11, 1), (10**14, 10**3), (10**17, 10**6)) if abs(number) < limit) \
            if abs(number) < 10**17 else 10**9
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=number * 10**6 // scale)
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=_records, block_size=st.sampled_from([64, 512, 1 << 20]))
def test_property_every_record_is_written_or_rejected_and_reads_back_equal(tmp_path_factory, records, block_size):
    tmp = tmp_path_factory.mktemp("prop")
    warehouse = str(tmp / "lake")
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    src = tmp / "in.jsonl"
    src.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    nonblank = [line for line in lines if line.strip()]
    try:
        r = lakekit.ingest(str(src), "p.t", timestamp_column="ts", warehouse=warehouse, block_size=block_size)
    except NothingWritten as ex:  # every record rejected: exit 1, nothing committed
        r = ex.result
        assert r.records_written == 0 and r.records_rejected == len(nonblank) > 0
        return
    assert r.records_read == len(nonblank)
    assert r.records_read == r.records_written + r.records_rejected
    rejected_lines = set()
    if r.rejects_uri:
        with open(r.rejects_uri, encoding="utf-8") as rejects:
            rejected_lines = {json.loads(x)["line"] for x in rejects}
    assert len(rejected_lines) == r.records_rejected
    if r.records_written == 0:
        return
    back = read_back_pyarrow(os.path.join(warehouse, "p", "t")).to_pylist()
    assert len(back) == r.records_written
    expected = [json.loads(lines[i]) for i in range(len(lines)) if i + 1 not in rejected_lines]
    for want in expected:
        want["ts"] = _documented_instant(want["ts"])
    key = lambda row: (row["id"], row["ts"].timestamp(), str(row.get("n")), str(row.get("s")))  # noqa: E731
    for got, want in zip(sorted(back, key=key), sorted(expected, key=key)):
        assert got["id"] == want["id"]
        assert got["ts"] == want["ts"]
        for k in ("n", "s"):
            if k in got:
                assert got[k] == want.get(k)
