"""Column names Glue and Athena accept, and formats told apart by name and content."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from lakekit.errors import InputError
from lakekit.ingestion.column_names import ColumnNamer, sanitize_name
from lakekit.ingestion.formats import detect


def test_sanitize_matches_awswrangler():
    wr = pytest.importorskip("awswrangler")
    for name in ["Culmen Length (mm)", "studyName", "Sample Number", "Año", "a--b", "Delta 15 N (o/oo)", "x.y", "ÉTÉ"]:
        assert sanitize_name(name) == wr.catalog.sanitize_column_name(name)


def test_collisions_name_both_source_fields():
    namer = ColumnNamer()
    namer.column("amount")
    with pytest.raises(InputError, match="'amount' and 'Amount' both become column 'amount'"):
        namer.column("Amount")


def test_empty_name_is_refused():
    with pytest.raises(InputError, match="empty name"):
        ColumnNamer().column("")


def test_nested_names_are_renamed_and_reported():
    table = pa.table({"Outer Field": pa.array([{"Inner Name": 1, "b": [{"Deep X": "y"}]}])})
    namer = ColumnNamer()
    renamed = namer.rename_table(table)
    assert renamed.schema.names == ["outer_field"]
    assert renamed.to_pylist() == [{"outer_field": {"inner_name": 1, "b": [{"deep_x": "y"}]}}]
    assert namer.renamed == {"Outer Field": "outer_field", "Outer Field.Inner Name": "outer_field.inner_name",
                             "Outer Field.b.Deep X": "outer_field.b.deep_x"}


@pytest.mark.parametrize("head,name,kind", [
    (b'{"a": 1}\n{"a": 2}\n', "x.json", "jsonl"),
    (b'{"a": 1}\n', "x.jsonl", "jsonl"),
    (json.dumps([{"a": 1}] * 3, indent=2).encode(), "x.json", "json"),
    (b'[{"a": 1},{"a": 2}]', "x.json", "json"),
    (b'{\n  "a": 1\n}\n{\n  "a": 2\n}\n', "x.json", "json"),
    (b'{"a": 1}{"a": 2}{"a": 3}', "x", "json"),
    (b'{"a": 1} {"a": 2}\n', "x.jsonl", "json"),
    (b"a,b\n1,2\n", "x.csv", "csv"),
    (b"a,b\n1,2\n", "x", "csv"),
    (b'{"a": 1}\n', "x.csv", "csv"),
])
def test_format_by_name_and_content(head, name, kind):
    assert detect(head, name).kind == kind


@pytest.mark.parametrize("head,name,delimiter", [
    (b"\xef\xbb\xbfdistrict;Coderre;Bergeron\n\"Ahuntsic\";10;20\nx;1,5;2\n", "votes.csv", ";"),
    (b"a\tb\tc\n1\t2,5\t3\n", "x.tsv", "\t"),
    (b"a\tb\tc\n1\t2\t3\n", "x.csv", "\t"),
    (b"a|b\n1|2\n", "x.csv", "|"),
    (b'name,text\nx,"a;b;c"\ny,"d;e"\n', "x.csv", ","),
    (b"single\n1\n2\n", "x.csv", ","),
])
def test_delimiter_sniffed(head, name, delimiter):
    assert detect(head, name).delimiter == delimiter


def test_delimiter_flag_wins():
    assert detect(b"a;b\n1;2\n", "x.csv", delimiter=",").delimiter == ","


@pytest.mark.parametrize("head,header", [
    (b"id,score\n1,2.5\n2,3.5\n", True),
    (b"1,2.5\n2,3.5\n3,4.5\n", False),
    (b"name,city\nann,paris\n", True),
])
def test_header_sniffed(head, header):
    assert detect(head, "x.csv").header is header
