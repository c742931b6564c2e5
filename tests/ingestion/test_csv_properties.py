"""Property tests for CSV: what is written reads back equal to what Python's csv
module reads from the source; every record is in the table or in the rejects file
with its own raw text and the line it starts on."""

from __future__ import annotations

import csv
import io
import json
import os
import re

import pyarrow.dataset as ds
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lakekit
from lakekit.errors import NothingWritten
from lakekit.ingestion.values import NULL_MARKERS

# A lone \r ends a record unless quoted, and Python's csv writer leaves it unquoted
# when the line terminator is \n: such a file is another file than the rows say.
_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=12)
_row = st.tuples(st.integers(-(2**63), 2**63 - 1), _text, st.one_of(st.none(), st.floats(allow_nan=False, width=64)))
_bad = st.sampled_from(["only-one-field", "a,b,c,d,e", '1,"never closed'])


# derandomize: the examples are the same on every run, so the suite gives one answer;
# the stray-quote case below that random draws found is pinned as a case of its own.
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_row, min_size=1, max_size=40), bad=st.lists(st.tuples(st.integers(0, 40), _bad), max_size=3),
       delimiter=st.sampled_from([",", ";", "\t"]), crlf=st.booleans(), block_size=st.sampled_from([64, 1 << 20]))
def test_csv_reads_back_equal_and_every_record_is_accounted_for(tmp_path_factory, rows, bad, delimiter, crlf, block_size):
    tmp = tmp_path_factory.mktemp("csvprop")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(["id", "note", "score"])
    for i, note, score in rows:
        # "t" keeps the note a text column whatever hypothesis draws.
        writer.writerow([i, "t" + note, "" if score is None else repr(score)])
    lines = out.getvalue()
    # Bad rows go between records (never inside a quoted field), each on a line of its own.
    records = list(csv.reader(io.StringIO(lines, newline=""), delimiter=delimiter))
    text_records = _split_records(lines, delimiter)
    assert len(text_records) == len(records)
    bad_at = {min(pos, len(text_records) - 1) + 1: raw.replace(",", delimiter) for pos, raw in bad}
    pieces, expected_bad = [], []
    line = 1
    for k, text in enumerate(text_records):
        pieces.append(text)
        line += text.count("\n")
        if k in bad_at:
            pieces.append(bad_at[k] + ("\r\n" if crlf else "\n"))
            expected_bad.append((line, bad_at[k]))
            line += 1
    src = tmp / "in.csv"
    src.write_bytes("".join(pieces).encode("utf-8"))
    warehouse = str(tmp / "lake")
    try:
        result = lakekit.ingest(str(src), "p.c", warehouse=warehouse, block_size=block_size)
    except NothingWritten:
        raise AssertionError("good rows were all rejected") from None
    rejects = []
    if result.rejects_uri:
        with open(result.rejects_uri, encoding="utf-8") as f:
            rejects = [json.loads(x) for x in f]
    assert result.records_read == len(rows) + len(expected_bad) == result.records_written + result.records_rejected
    assert sorted((r["line"], r["raw"]) for r in rejects) == expected_bad
    back = ds.dataset(os.path.join(warehouse, "p", "c"), format="parquet", ignore_prefixes=["_", "."]).to_table()
    got = sorted(zip(back.column("id").to_pylist(), back.column("note").to_pylist()))
    want = sorted((int(r[0]), None if r[1] in NULL_MARKERS else r[1]) for r in records[1:])
    assert got == want
    if "score" in back.column_names:
        scores = sorted(s for s in back.column("score").to_pylist() if s is not None)
        assert scores == sorted(s for _, _, s in rows if s is not None)


def _split_records(text: str, delimiter: str) -> list[str]:
    """The source text of each record, line break included, by Python's csv module."""
    out, pos = [], 0
    lines = [x for x in re.split(r"(?<=\n)", text) if x]  # not splitlines: it splits on \x1e too
    buf = ""
    for line in lines:
        buf += line
        try:
            parsed = list(csv.reader(io.StringIO(buf, newline=""), delimiter=delimiter, strict=True))
        except csv.Error:
            continue
        if len(parsed) == 1:
            out.append(buf)
            buf = ""
    assert not buf and pos == 0
    return out


def test_a_stray_quote_before_a_multi_line_field_costs_only_its_own_line(tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes(b'id,note,score\n0,t,\n1,"never closed\n0,"t\n",\n')
    rows = list(csv.reader(io.StringIO('id,note,score\n0,t,\n0,"t\n",\n', newline="")))
    result = lakekit.ingest(str(src), "p.c", warehouse=str(tmp_path / "lake"), block_size=64)
    assert (result.records_written, result.records_rejected) == (len(rows) - 1, 1)


# Notes of quotes, delimiters and line breaks in any order, a field starting with a line
# break included: the shapes where a stray quote may be "closed" by a real field's quote.
_note = st.text(alphabet='x",\n ;', min_size=1, max_size=8).filter(lambda s: "x" in s)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(notes=st.lists(_note, min_size=1, max_size=30), strays=st.lists(st.integers(0, 30), min_size=1, max_size=3),
       block_size=st.sampled_from([64, 1 << 20]))
def test_stray_quotes_cost_only_their_own_lines(tmp_path_factory, notes, strays, block_size):
    tmp = tmp_path_factory.mktemp("stray")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "note", "score"])
    text_records = ["id,note,score\n"]
    for i, note in enumerate(notes):
        before = out.tell()
        writer.writerow([i, note, i * 2])
        text_records.append(out.getvalue()[before:])
    at = {min(p, len(notes)) + 1 for p in strays}
    pieces, expected_bad, line = [], [], 1
    for k, text in enumerate(text_records):
        if k in at:
            stray = f'{1000 + k},"stray quote'
            pieces.append(stray + "\n")
            expected_bad.append((line, stray))
            line += 1
        pieces.append(text)
        line += text.count("\n")
    src = tmp / "in.csv"
    src.write_text("".join(pieces), encoding="utf-8")
    result = lakekit.ingest(str(src), "p.c", warehouse=str(tmp / "lake"), block_size=block_size)
    rejects = []
    if result.rejects_uri:
        with open(result.rejects_uri, encoding="utf-8") as f:
            rejects = [json.loads(x) for x in f]
    assert sorted((r["line"], r["raw"]) for r in rejects) == expected_bad
    back = ds.dataset(os.path.join(str(tmp / "lake"), "p", "c"), format="parquet", ignore_prefixes=["_", "."]).to_table()
    want = sorted((int(r[0]), r[1]) for r in csv.reader(io.StringIO("".join(text_records[1:]), newline="")))
    assert sorted(zip(back.column("id").to_pylist(), back.column("note").to_pylist())) == want
