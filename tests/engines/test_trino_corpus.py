"""Every query of the Trino corpus gives Trino's answer locally, or is refused on purpose.

The corpus (``tests/engines/trino_corpus/*.yaml``, described in its ``__init__``) holds
examples from Trino's documentation with the answers the documentation states. Each
runs through the real local engine (``lakekit.query.run_query``) against a lake of
small tables ingested by lakekit; the answer must match Trino's in value and type, or
the engine must refuse it (exit 2, naming the construct and ``--engine athena``), or,
where Trino fails the query, fail it too. A different answer fails the test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlglot
import yaml

import lakekit
from lakekit.config import resolve_settings
from lakekit.errors import LakekitError, NotSupportedLocally
from tests.engines.trino_values import actual_value, describe, expected_value, parse_type, same, type_mismatch

CORPUS = Path(__file__).parent / "trino_corpus"
FIXTURE_TABLES = {
    # table: (data file, timestamp column)
    "docs.nation": ("nation.jsonl", None),
    "docs.region": ("region.jsonl", None),
    "docs.shipping": ("shipping.jsonl", None),
    "docs.shipping_costs": ("shipping_costs.jsonl", None),
    "docs.events": ("events.jsonl", "ts"),
}


class _CorpusLoader(yaml.SafeLoader):
    """YAML without implicit timestamps: ``2012-08-10`` stays the text Trino prints."""


_CorpusLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_corpus() -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for path in sorted(CORPUS.glob("*.yaml")):
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_CorpusLoader)
        for index, case in enumerate(document["cases"], start=1):
            case = dict(case, source=document["source"])
            cases.append((f"{path.stem}:{index}", case))
    return cases


CASES = load_corpus()


@pytest.fixture(scope="module")
def corpus_lake(tmp_path_factory):
    """A throwaway warehouse holding the corpus's tables, ingested by lakekit."""
    warehouse = str(tmp_path_factory.mktemp("trino-corpus-lake"))
    for table, (data, timestamp_column) in FIXTURE_TABLES.items():
        lakekit.ingest(str(CORPUS / "data" / data), table, timestamp_column=timestamp_column, warehouse=warehouse)
    return resolve_settings(warehouse=warehouse, catalog="local", engine="local")


@pytest.fixture(scope="module")
def engine(corpus_lake):
    """One DuckDB connection for every case of a worker, as a long-lived session has."""
    from lakekit.engines.local import LocalEngine

    local = LocalEngine(corpus_lake)
    yield local
    local.close()


def _run(sql: str, settings, engine):
    return lakekit.run_query(sql, engine=engine, settings=settings).table


def _ordered(case: dict[str, Any]) -> bool:
    if "ordered" in case:
        return bool(case["ordered"])
    statement = sqlglot.parse_one(case["sql"], read="athena")
    return bool(statement.args.get("order"))


@pytest.mark.parametrize(("case_id", "case"), CASES, ids=[c[0] for c in CASES])
def test_corpus_case(case_id: str, case: dict[str, Any], corpus_lake, engine) -> None:
    sql = case["sql"]
    if "refused" in case:
        with pytest.raises(LakekitError) as raised:
            table = _run(sql, corpus_lake, engine)
            pytest.fail(f"expected a refusal ({case['refused']}), got {table.to_pylist()}")
        message = str(raised.value)
        assert raised.value.exit_code == 2, message
        assert case["refused"].lower() in message.lower(), message
        if isinstance(raised.value, NotSupportedLocally):
            assert "--engine athena" in message, message
        return
    if "error" in case:
        with pytest.raises(LakekitError) as raised:
            table = _run(sql, corpus_lake, engine)
            pytest.fail(f"Trino fails this query ({case['error']}); the local engine answered {table.to_pylist()}")
        if "local_error" in case:
            assert case["local_error"].lower() in str(raised.value).lower()
        return

    table = _run(sql, corpus_lake, engine)
    if "result" in case:
        columns, types, rows = None, [case["type"]], [[case["result"]]]
    else:
        columns, types, rows = case["columns"], case["types"], case["rows"]
    trino_types = [parse_type(t) for t in types]
    assert table.num_columns == len(trino_types), f"{table.num_columns} columns, Trino answers {len(trino_types)}"
    if columns is not None:
        assert table.column_names == columns
    for i, t in enumerate(trino_types):
        why = type_mismatch(t, table.schema.field(i).type)
        assert why is None, f"column {i + 1}: {why}"

    actual_rows = [
        [actual_value(t, table.schema.field(i).type, value) for i, (t, value) in enumerate(zip(trino_types, row.values()))]
        for row in table.to_pylist()
    ]
    expected_rows = [[expected_value(t, v) for t, v in zip(trino_types, row)] for row in rows]
    assert len(actual_rows) == len(expected_rows), f"{len(actual_rows)} rows, Trino answers {len(expected_rows)}: {actual_rows}"
    if not _ordered(case):
        actual_rows = sorted(actual_rows, key=repr)
        expected_rows = sorted(expected_rows, key=repr)
    for expected_row, actual_row in zip(expected_rows, actual_rows):
        for t, e, a in zip(trino_types, expected_row, actual_row):
            assert same(e, a, t), f"Trino answers {e!r} ({describe(t)}), the local engine {a!r}"


def test_corpus_is_large_enough() -> None:
    """The brief: at least 400 queries taken from Trino's documentation."""
    from_docs = [c for _, c in CASES if c["source"].startswith("docs/")]
    assert len(from_docs) >= 400, len(from_docs)


def test_every_case_states_an_answer() -> None:
    for case_id, case in CASES:
        kinds = [k for k in ("result", "rows", "error") if k in case]
        assert len(kinds) == 1, f"{case_id}: one of result, rows or error"
        if "result" in case:
            parse_type(case["type"])
        if "rows" in case:
            assert len(case["columns"]) == len(case["types"]), case_id
            for t in case["types"]:
                parse_type(t)
            for row in case["rows"]:
                assert len(row) == len(case["types"]), case_id
        if "refused" in case:
            assert case["refused"].strip(), case_id



def test_local_engine_doc_lists_every_refusal() -> None:
    """docs/local-engine.md's refusal table is the corpus's (regenerate it with
    ``python -m tests.engines.local_engine_doc``)."""
    from tests.engines.local_engine_doc import current, render

    assert current() == render()
