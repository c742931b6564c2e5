"""Record framing agrees with the parsers, and a bad record costs only itself."""

from __future__ import annotations

import csv
import io
import json

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
from hypothesis import given, settings
from hypothesis import strategies as st

from lakekit.ingestion.framing import MAX_NESTING, CsvGrammar, JsonValuesReader, nesting_depth, refrain_damaged


def _arrow_rows(data: bytes, width: int):
    """pyarrow's reading of ``data``: valid rows' fields, and the text of rows whose
    field count differs (pyarrow reports those through its invalid-row handler)."""
    invalid = []

    def handler(row):
        invalid.append(row.text)
        return "skip"

    names = [f"c{i}" for i in range(width)]
    table = pacsv.read_csv(
        pa.BufferReader(data),
        read_options=pacsv.ReadOptions(column_names=names, use_threads=False),
        parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=handler),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False,
                                             quoted_strings_can_be_null=False))
    return [list(r.values()) for r in table.to_pylist()], invalid


csv_text = st.text(alphabet='ab",\n\r ', max_size=60).map(lambda s: s.encode())


@settings(max_examples=400, deadline=None)
@given(csv_text)
def test_csv_records_are_the_rows_pyarrow_reads(data):
    grammar = CsvGrammar(",")
    records, damaged = grammar.records(data, 1)
    if damaged or not records:
        return  # an unclosed quote: pyarrow reads to the end, lakekit rejects one line
    width = grammar.field_count(records[0][1])
    rows, invalid = _arrow_rows(data, width)
    ours_valid = [raw for _, raw in records if grammar.field_count(raw) == width]
    ours_invalid = [raw.decode() for _, raw in records if grammar.field_count(raw) != width]
    assert len(ours_valid) == len(rows)
    assert ours_invalid == invalid
    # Each record read alone gives the same fields pyarrow read from the whole.
    for raw, row in zip(ours_valid, rows):
        alone, _ = _arrow_rows(raw + b"\n", width)
        assert alone == [row]


@settings(max_examples=200, deadline=None)
@given(csv_text)
def test_csv_cut_is_a_record_boundary(data):
    grammar = CsvGrammar(",")
    cut = grammar.cut(data)
    head, _ = grammar.records(data[:cut], 1)
    whole, damaged = grammar.records(data, 1)
    if damaged:
        return
    assert head == whole[: len(head)]


def test_csv_lines_are_exact_after_a_multiline_field():
    data = b'id,note\n1,"two\nlines"\n2,plain\n3,"x""y"\n4,bad,extra\n'
    records, damaged = CsvGrammar(",").records(data, 1)
    assert damaged == []
    assert records == [(1, b"id,note"), (2, b'1,"two\nlines"'), (4, b"2,plain"), (5, b'3,"x""y"'), (6, b"4,bad,extra")]


def test_a_stray_quote_inside_a_field_is_text():
    rows = [f"{i},name{i}" for i in range(50_000)]
    rows[3] = '3,O"Brien'
    data = ("id,name\n" + "\n".join(rows) + "\n").encode()
    grammar = CsvGrammar(",")
    assert grammar.cut(data) == len(data)
    records, damaged = grammar.records(data, 1)
    assert damaged == [] and len(records) == 50_001
    assert records[4] == (5, b'3,O"Brien')


def test_an_unclosed_quote_damages_one_line():
    data = b'id,name\n1,"never closed\n2,b\n3,c\n'
    records, damaged = CsvGrammar(",").records(data, 1)
    assert damaged == [(2, b'1,"never closed')]
    assert records == [(1, b"id,name"), (3, b"2,b"), (4, b"3,c")]


def test_two_stray_quotes_cost_only_their_own_lines():
    # Each stray quote is "closed" by a quote followed by text: no field spanning lines
    # ends so, so each damages its own line only.
    data = b'id,name,v\n1,"a,1\n2,b,2\n3,c,"x\n4,d,4\n'
    records, damaged = CsvGrammar(",").records(data, 1)
    assert damaged == [(2, b'1,"a,1'), (4, b'3,c,"x')]
    assert records == [(1, b"id,name,v"), (3, b"2,b,2"), (5, b"4,d,4")]


def test_a_stray_quote_closed_at_a_line_end_is_re_framed_by_field_count():
    # Here the second quote ends a line, so the grammar reads one record of two fields
    # spanning three lines; its wrong field count gives the stray quote away.
    data = b'id,name,v\n1,"a,1\n2,b,2\n3,"\n4,d,4\n'
    grammar = CsvGrammar(",")
    records, damaged = grammar.records(data, 1)
    assert damaged == [] and records[1] == (2, b'1,"a,1\n2,b,2\n3,"')  # one record as read
    fixed, damaged = refrain_damaged(grammar, records[1:], expected_fields=3)
    assert damaged == [(2, b'1,"a,1'), (4, b'3,"')]
    assert fixed == [(3, b"2,b,2"), (5, b"4,d,4")]


def test_crlf_and_lone_cr_end_records():
    # A lone \r ends a record (pyarrow reads it so); line numbers count \n, as grep -n.
    records, _ = CsvGrammar(";").records(b"a;b\r\n1;2\r3;4\r\n5;6\n", 1)
    assert records == [(1, b"a;b"), (2, b"1;2"), (2, b"3;4"), (3, b"5;6")]


def test_field_count():
    g = CsvGrammar(",")
    assert [g.field_count(r) for r in (b"a", b"a,b", b'"a,b",c', b"a,", b",", b'"x"y,z', b'"open')] == [1, 2, 2, 2, 2, 2, -1]


# -- JSON values ------------------------------------------------------------------------


def _frame(text: str, block_size: int = 1 << 16):
    blocks = list(JsonValuesReader(io.BytesIO(text.encode()), block_size))
    good = [(line, piece) for b in blocks for line, piece in zip(b.lines, b.pieces)]
    bad = [(line, error, raw.decode()) for b in blocks for line, error, raw in b.rejects]
    return blocks, good, bad


def test_a_pretty_printed_array_frames_each_object_with_its_line():
    records = [{"id": i, "tags": ["a", "b"], "o": {"k": [{"x": "},{"}, {"x": "]"}]}} for i in range(5)]
    text = json.dumps(records, indent=2)
    blocks, good, bad = _frame(text)
    assert bad == []
    assert [json.loads(p) for _, p in good] == records
    expected_lines = [i + 1 for i, line in enumerate(text.splitlines()) if line == "  {"]
    assert [line for line, _ in good] == expected_lines
    table = pajson.read_json(pa.BufferReader(blocks[0].data),
                             parse_options=pajson.ParseOptions(newlines_in_values=True))
    assert table.num_rows == 5


@settings(max_examples=100, deadline=None)
@given(st.lists(st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=8), st.none()), max_size=4),
                max_size=20),
       st.sampled_from([None, 0, 2]), st.sampled_from(["array", "concat", "concat-nl"]), st.integers(16, 256))
def test_framed_values_are_the_records(records, indent, layout, block_size):
    if layout == "array":
        text = json.dumps(records, indent=indent)
    else:
        sep = "" if layout == "concat" else "\n"
        text = sep.join(json.dumps(r, indent=indent) for r in records)
    _, good, bad = _frame(text, block_size)
    assert bad == []
    assert [json.loads(p) for _, p in good] == records
    for line, piece in good:  # the line is where the record's text starts
        assert piece.splitlines()[0] in text.splitlines()[line - 1]


def test_a_malformed_object_in_an_array_costs_only_itself():
    text = '[\n{"id": 1},\n{"id": 2, "x": tru},\n{"id": 3}\n]\n'
    _, good, bad = _frame(text)
    assert [json.loads(p)["id"] for _, p in good] == [1, 3]
    assert bad == [(3, "malformed JSON: Expecting value", '{"id": 2, "x": tru}')]


def test_a_truncated_array_rejects_the_cut_record():
    _, good, bad = _frame('[{"id": 1}, {"id": 2}, {"id": 3, "na')
    assert [json.loads(p)["id"] for _, p in good] == [1, 2]
    assert len(bad) == 1 and bad[0][2] == '{"id": 3, "na'


def test_values_that_are_not_objects_are_rejects():
    _, good, bad = _frame('[{"a": 1}, 2, "x", [3]]')
    assert len(good) == 1 and [b[2] for b in bad] == ["2", '"x"', "[3]"]


def test_concatenated_objects_without_separators():
    _, good, _ = _frame('{"a":1}{"a":2}{"a":3}')
    assert [p for _, p in good] == ['{"a":1}', '{"a":2}', '{"a":3}']


def test_a_huge_single_line_array_is_read_in_blocks():
    text = "[" + ",".join(json.dumps({"id": i, "name": "x" * 20}) for i in range(20_000)) + "]"
    blocks, good, bad = _frame(text, block_size=64 << 10)
    assert bad == [] and len(good) == 20_000 and len(blocks) > 5
    assert max(len(b.data) for b in blocks) < 80 << 10


def test_deep_records_are_rejects_not_crashes():
    deep = '{"a": ' + "[" * 5000 + "]" * 5000 + "}"
    medium = '{"a": ' + '{"b": ' * (MAX_NESTING + 5) + "1" + "}" * (MAX_NESTING + 5) + "}"
    _, good, bad = _frame('[{"ok": 1}, ' + deep + ", " + medium + ', {"ok": 2}]')
    assert [json.loads(p) for _, p in good] == [{"ok": 1}, {"ok": 2}]
    assert [b[1] for b in bad] == [f"record nested deeper than {MAX_NESTING} levels"] * 2


def test_nesting_depth_skips_strings():
    assert nesting_depth('{"a": "[[[[{{{{"}') == 1
    assert nesting_depth('[[1], [[2]]]') == 3


def test_python_csv_agrees_on_quoted_fields():
    # The header parse uses Python's csv module; it must split as pyarrow does.
    raw = b'"a,b","c""d",e'
    assert next(csv.reader([raw.decode()])) == ["a,b", 'c"d', "e"]


csv_lines = st.lists(st.one_of(st.sampled_from(["1,ab,c", "2,,x", "", '3,"q,1",z', '4,"two\nlines",y', '5,O"Brien,w',
                                                '6,"x""y",v', '7,"open', 'close",u', "8,a\rb,t", '9,"",s']),
                               st.text(alphabet='ab",\n\r ', max_size=12)), max_size=30)


@settings(max_examples=500, deadline=None)
@given(csv_lines, st.sampled_from(["\n", "\r\n", "\r"]), st.sampled_from([None, 3]), st.integers(0, 4))
def test_csv_cut_jumping_between_quoted_lines_is_the_grammars_cut(lines, newline, width, drop):
    """The cut that jumps over lines without a quote ends where the whole-buffer match
    of the grammar ends, on any text, whole or cut off anywhere."""
    data = newline.join(lines).encode()
    data = data[: max(0, len(data) - drop)]
    grammar = CsvGrammar(",", width)
    assert grammar.cut_between_quotes(data) == grammar.cut_by_grammar(data) == grammar.cut(data)


@settings(max_examples=300, deadline=None)
@given(csv_text, st.sampled_from([None, 2, 3]))
def test_csv_cut_on_any_text_is_the_grammars_cut(data, width):
    grammar = CsvGrammar(",", width)
    assert grammar.cut_between_quotes(data) == grammar.cut_by_grammar(data) == grammar.cut(data)
