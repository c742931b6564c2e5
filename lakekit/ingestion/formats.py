"""Telling input formats apart: JSON Lines, JSON (an array, or values one after
another), and CSV with its delimiter and header, from the name and the first bytes.

``--input-format`` and ``--delimiter`` override what is sniffed here.

>>> detect(b'[\\n  {"a": 1},\\n  {"a": 2}\\n]\\n', "export.json").kind
'json'
>>> detect(b'district;Coderre;Bergeron\\n"Ahuntsic";10;20\\n', "votes.csv").delimiter
';'
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import dataclass

from lakekit.errors import UsageError
from lakekit.ingestion.framing import CsvGrammar

INPUT_FORMATS = ("auto", "jsonl", "json", "csv", "tsv")
DELIMITERS = (",", "\t", ";", "|")
BOM = b"\xef\xbb\xbf"
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".zst", ".zstd")
_JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
_WS = re.compile(rb"[ \t\r\n]*")
_NUMBER = re.compile(r"^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$")


@dataclass(frozen=True)
class Format:
    """How to read one source."""

    kind: str  # "jsonl", "json" (array or concatenated values) or "csv"
    delimiter: str = ","
    header: bool = True

    @property
    def is_csv(self) -> bool:
        return self.kind == "csv"


def extension(name: str) -> str:
    """The format suffix of a file name, past a compression suffix: ``a.csv.gz`` -> ``.csv``."""
    base = name.lower()
    for suffix in COMPRESSED_SUFFIXES:
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return os.path.splitext(base)[1]


def detect(head: bytes, name: str = "", input_format: str = "auto", delimiter: str | None = None) -> Format:
    """The format of a source from its first bytes (decompressed) and its name."""
    if input_format not in INPUT_FORMATS:
        raise UsageError(f"input format {input_format!r} is unknown; use one of {', '.join(INPUT_FORMATS)}")
    if delimiter is not None and (len(delimiter) != 1 or delimiter in "\"\r\n"):
        raise UsageError(f"--delimiter {delimiter!r} must be one character other than a quote or a line break")
    ext = extension(name)
    if input_format == "tsv" or (input_format == "auto" and ext == ".tsv"):
        return _csv(head, delimiter or "\t")
    if input_format == "csv" or (input_format == "auto" and ext == ".csv"):
        return _csv(head, delimiter)
    if input_format == "jsonl":
        return Format("jsonl")
    if input_format == "json":
        return Format("json")
    body = head[len(BOM):] if head.startswith(BOM) else head
    first = body[_WS.match(body).end():][:1]
    if ext in _JSON_SUFFIXES or first in (b"{", b"["):
        return Format(_json_kind(body))
    return _csv(head, delimiter)


def _json_kind(body: bytes) -> str:
    """``jsonl`` when the first line holds exactly one whole JSON value, else ``json``.

    A pretty-printed object spans lines; an array starts with ``[``; a delivery
    stream's output holds objects back to back on one line: all three are ``json``,
    which frames records by their JSON syntax instead of by lines. A first line that
    is not JSON at all says nothing about the layout: JSON Lines, whose bad lines are
    rejects of their own.
    """
    start = _WS.match(body).end()
    first = body[start:start + 1]
    if first == b"[":
        return "json"
    end = body.find(b"\n", start)
    if end < 0:
        if len(body) >= 1 << 16 and first == b"{":
            # No line break in the first block: one huge line is read as JSON values,
            # so memory stays bounded whatever its length.
            return "json"
        end = len(body)
    text = body[start:].decode("utf-8", "replace")
    line_end = len(body[start:end].decode("utf-8", "replace"))
    try:
        _, stop = json.JSONDecoder().raw_decode(text)
    except (json.JSONDecodeError, RecursionError):
        return "jsonl"
    if stop > line_end:
        return "json"  # the first value goes on past its line: pretty-printed
    return "jsonl" if not text[stop:line_end].strip() else "json"


def _csv(head: bytes, delimiter: str | None) -> Format:
    body = head[len(BOM):] if head.startswith(BOM) else head
    chosen = delimiter or sniff_delimiter(body)
    return Format("csv", chosen, sniff_header(body, chosen))


def _sample_records(body: bytes, delimiter: str, limit: int = 50) -> list[list[str]]:
    grammar = CsvGrammar(delimiter)
    cut = grammar.cut(body)
    records, _ = grammar.records(body[:cut] if cut else body, 1, eof=not cut)
    text = "\n".join(raw.decode("utf-8", "replace") for _, raw in records[:limit])
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def sniff_delimiter(body: bytes) -> str:
    """The delimiter among ``,`` tab ``;`` ``|`` that splits most of the first records
    into the header's number of fields (more than one); ``,`` when none does.

    >>> sniff_delimiter(b"a\\tb\\n1\\t2,5\\n")
    '\\t'
    """
    best, best_score = ",", (0, 0)
    for delim in DELIMITERS:
        rows = _sample_records(body, delim)
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        agree = sum(1 for r in rows if len(r) == width) / len(rows)
        if agree <= 0.5:  # most records must agree with the header; a few bad ones may not
            continue
        score = (round(agree, 2), width)
        if score > best_score:
            best, best_score = delim, score
    return best


def sniff_header(body: bytes, delimiter: str) -> bool:
    """Whether the first record names the columns.

    It does unless a column whose other values are all numbers also has a number in
    the first record, and no column has text above numbers (csv.Sniffer's idea,
    restricted to numbers, where it is reliable).
    """
    rows = _sample_records(body, delimiter, limit=20)
    if len(rows) < 2:
        return True
    first, rest = rows[0], rows[1:]
    header_votes = data_votes = 0
    for j, value in enumerate(first):
        column = [r[j] for r in rest if j < len(r) and r[j].strip()]
        if not column or not all(_NUMBER.match(v) for v in column):
            continue
        if _NUMBER.match(value):
            data_votes += 1
        else:
            header_votes += 1
    return not (data_votes and not header_votes)
