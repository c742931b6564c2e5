"""Records whose value for a known column has the wrong JSON kind, in blocks that
otherwise parse: each is rejected with its own line, raw text and the error pyarrow's
JSON reader gives for it (computed here by pyarrow directly, on that line alone), and
every other record is written with its values (compared with the source, via json)."""

from __future__ import annotations

import json
import os
import re

import pyarrow as pa
import pyarrow.json as pajson
import pytest

import lakekit
from tests.helpers import read_back_duckdb, write_jsonl

#: the types the first block settles, as pyarrow's reader is given them afterwards (ts as text)
PINNED = pa.schema([("id", pa.int64()), ("ts", pa.string()), ("n", pa.int64()), ("x", pa.float64()),
                    ("s", pa.string()), ("b", pa.bool_()), ("arr", pa.list_(pa.int64())),
                    ("obj", pa.struct([("a", pa.int64())]))])
WRONG = {"n": ['"7"', "true", "[1]", '{"a": 1}'], "x": ['"1.5"', "false", "[]", "{}"],
         "s": ["12", "-3.5", "true", '["a"]', '{"a": "b"}'], "b": ["1", '"yes"', "[true]", "{}"],
         "arr": ["1", '"a"', "true", '{"a": 1}'], "obj": ["1", '"a"', "false", "[1]"]}


def _good(i: int) -> str:
    return json.dumps({"id": i, "ts": f"2024-05-{1 + i % 28:02d}T10:00:00Z", "n": i, "x": i / 2, "s": f"s{i}",
                       "b": i % 2 == 0, "arr": [i, i + 1], "obj": {"a": i}})


def _with(i: int, column: str, text: str, before: str = "") -> str:
    """A good record with ``column``'s value replaced by ``text`` (JSON), fields in order."""
    rec = json.loads(_good(i))
    parts = [f'"{k}": {text if k == column else json.dumps(v)}' for k, v in rec.items()]
    return "{" + before + ", ".join(parts) + "}"


def _pyarrow_error(line: str) -> str | None:
    """pyarrow's own error for this one line under the pinned types, without its row
    number (None: pyarrow reads it)."""
    try:
        pajson.read_json(pa.BufferReader(line.encode() + b"\n"),
                         parse_options=pajson.ParseOptions(explicit_schema=PINNED, unexpected_field_behavior="infer"))
    except pa.ArrowInvalid as err:
        return re.sub(r" in row \d+", "", str(err).splitlines()[0]).strip()
    return None


def _ingest(tmp_path, warehouse, lines):
    src = write_jsonl(tmp_path / "a.jsonl", lines)
    r = lakekit.ingest(src, "s.t", timestamp_column="ts", warehouse=warehouse, block_size=8 << 10)
    if not r.rejects_uri:
        return r, []
    with open(r.rejects_uri) as f:
        return r, [json.loads(x) for x in f]


def test_each_wrong_kind_is_rejected_with_pyarrows_error_and_the_rest_is_kept(tmp_path, warehouse):
    lines = [_good(i) for i in range(200)]  # the first block settles the types
    bad: dict[int, str] = {}
    i = 200
    for column, texts in WRONG.items():
        for text in texts:
            lines += [_good(j) for j in range(i, i + 9)]
            bad[len(lines) + 1] = _with(i + 9, column, text)
            lines.append(bad[len(lines) + 1])
            i += 10
    lines += [_good(j) for j in range(i, i + 300)]
    r, rejects = _ingest(tmp_path, warehouse, lines)
    assert [(x["line"], x["raw"], x["error"]) for x in rejects] == \
        [(n, raw, _pyarrow_error(raw)) for n, raw in sorted(bad.items())]
    assert r.records_written == len(lines) - len(bad)
    rows, names = read_back_duckdb(os.path.join(warehouse, "s", "t"), "id")
    kept = [json.loads(x) for n, x in enumerate(lines, start=1) if n not in bad]
    got = [dict(zip(names, row)) for row in rows]
    assert [(g["id"], g["n"], g["x"], g["s"], g["b"], g["arr"], g["obj"]) for g in got] == \
        [(k["id"], k["n"], k["x"], k["s"], k["b"], k["arr"], k["obj"]) for k in kept]


@pytest.mark.parametrize("line", [
    _with(5000, "n", '"7"', before='"new_field": 1, '),        # an unknown field first: its type is inferred
    _with(5000, "n", '"\\u0037"'),                             # an escape
    _with(5000, "s", "NaN"),                                   # a literal JSON does not have
    _with(5000, "x", '"a"').replace('"id": 5000', '"id": 5000, "id": 5001'),  # a repeated key
    _with(5000, "obj", '{"a": "x"}'),                          # the wrong kind one level down
    _with(5000, "n", "1.5").replace('"s": "s5000"', '"s": 3'),  # a number pyarrow converts later, then a wrong kind
])
def test_records_the_pre_pass_cannot_settle_are_judged_as_pyarrow_judges_them(tmp_path, warehouse, line):
    lines = [_good(i) for i in range(260)] + [line] + [_good(i) for i in range(260, 400)]
    expected = _pyarrow_error(line)
    assert expected is not None, "each case is a record pyarrow refuses"
    r, rejects = _ingest(tmp_path, warehouse, lines)
    assert [(x["line"], x["raw"], x["error"]) for x in rejects] == [(261, line, expected)]
    assert r.records_written == len(lines) - 1
