"""Framing a failing JSON Lines block splits a line into several records exactly when
Python's JSON decoder finds several values on it; the byte pre-check that skips the
decoder for plain one-object lines must never change the records."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from lakekit.ingestion.framing import split_values
from lakekit.ingestion.sources import Block, Source

SRC = Source("mem.jsonl", None)


def _by_decoder(data: bytes) -> list[tuple[int, bytes]]:
    """The records as Python's decoder alone frames them (every line decoded)."""
    out = []
    for i, raw in enumerate(data.split(b"\n")):
        if not raw.strip():
            continue
        values = split_values(raw.decode("utf-8", "surrogateescape"))
        if values and len(values) > 1:
            out.extend((1 + i, v.encode("utf-8", "surrogateescape")) for _, v in values)
        else:
            out.append((1 + i, raw))
    return out


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet="{}[]:, \"ab\\\t", max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet="{}:ab ", max_size=3), inner, max_size=3),
    max_leaves=6,
)
pieces = st.sampled_from(["{", "}", "[", "]", ":", ",", " ", "\t", '"', "a", "1", "{}", '{"a":1}', "\\"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(
    st.lists(json_values, min_size=1, max_size=3).map(lambda vs: " ".join(json.dumps(v) for v in vs)),
    st.lists(json_values, min_size=1, max_size=3).map(lambda vs: "".join(json.dumps(v, separators=(",", ":")) for v in vs)),
    st.lists(pieces, max_size=12).map("".join),
), max_size=8))
def test_records_match_the_decoder_line_by_line(lines):
    data = "\n".join(lines).encode("utf-8") + b"\n"
    assert Block(data, 1, SRC).records(split_lines=True) == _by_decoder(data)


def test_several_objects_on_a_line_are_several_records():
    data = b'{"a": 1} {"a": 2}\n{"a":3}{"a":4}\n{"b": {"c": 1}}\n{"s": "x} {y"}\n'
    assert Block(data, 1, SRC).records(split_lines=True) == [
        (1, b'{"a": 1}'), (1, b'{"a": 2}'), (2, b'{"a":3}'), (2, b'{"a":4}'), (3, b'{"b": {"c": 1}}'),
        (4, b'{"s": "x} {y"}')]
