"""Every rule's pass and fail cases, as data in fixtures/<CODE>.yml, run by one test."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lakekit import lint_layout, lint_query
from lakekit.lint.rules import RULES
from tests.lint.conftest import with_lint_config, write_file

FIXTURES = Path(__file__).parent / "fixtures"


def _cases():
    for path in sorted(FIXTURES.glob("*.yml")):
        data = yaml.safe_load(path.read_text())
        for outcome in ("fail", "pass"):
            for i, case in enumerate(data.get(outcome) or []):
                merged = {k: v for k, v in data.items() if k not in ("fail", "pass")}
                merged.update(case)
                yield pytest.param(data["rule"], outcome, merged, id=f"{data['rule']}-{outcome}-{i}")


CASES = list(_cases())


def test_every_rule_has_four_fail_and_four_pass_cases():
    counts = {}
    for param in CASES:
        code, outcome, _ = param.values
        counts.setdefault(code, {"fail": 0, "pass": 0})[outcome] += 1
    assert sorted(counts) == sorted(RULES)
    short = {code: c for code, c in counts.items() if c["fail"] < 4 or c["pass"] < 4}
    assert not short


@pytest.mark.parametrize("code, outcome, case", CASES)
def test_rule_case(code, outcome, case, query_catalog, no_catalog, tmp_path, request):
    if code.startswith("Q"):
        settings = query_catalog if case.get("catalog") else no_catalog
        if case.get("lake"):  # a real lake of Parquet files, so that statements can be priced
            settings = request.getfixturevalue("priced_lake").settings
        settings = with_lint_config(settings, case.get("options"))
        result = lint_query([case["sql"]], select=[code], settings=settings)
    else:
        settings = with_lint_config(no_catalog, case.get("options"))
        target = _layout_target(case, tmp_path, settings)
        result = lint_layout([target], select=[code], settings=_catalog_settings(case, tmp_path, settings))
    found = [v for v in result.violations if v.code == code]
    if outcome == "pass":
        assert found == [], [v.to_dict() for v in found]
        return
    assert found, f"{code} did not fire"
    if "count" in case:
        assert len(found) == case["count"], [v.to_dict() for v in found]
    if "at" in case:
        assert (found[0].line, found[0].column) == tuple(case["at"]), found[0].to_dict()
    if "message" in case:
        assert case["message"] in found[0].message


def _layout_target(case: dict, tmp_path: Path, settings) -> str:
    if "layout" in case:
        path = tmp_path / "layout.yaml"
        path.write_text(case["layout"])
        return str(path)
    warehouse = Path(settings.warehouse)
    table_root = warehouse / "db" / "t"
    table_root.mkdir(parents=True, exist_ok=True)
    for spec in case.get("files", []):
        write_file(table_root, spec)
    if "catalog_table" in case:
        return "db.t"
    return str(table_root)


def _catalog_settings(case: dict, tmp_path: Path, settings):
    """Register ``db.t`` in a real local catalog when the case declares one."""
    spec = case.get("catalog_table")
    if not spec:
        return settings
    import os

    from lakekit.catalog.base import Column, Partition, Table
    from lakekit.catalog.local import LocalCatalog

    location = os.path.join(settings.warehouse, "db", "t")
    keys = [Column(k, "string") for k in spec.get("partition_keys", [])]
    catalog = LocalCatalog(settings.local_catalog_path())
    try:
        catalog.create_or_update_table(
            Table("db", "t", location, [Column("event_id", "string")], keys, spec.get("parameters", {}))
        )
        partitions = [
            Partition(tuple(str(v) for v in values),
                      os.path.join(location, *[f"{k.name}={v}" for k, v in zip(keys, values)]))
            for values in spec.get("partitions", [])
        ]
        if partitions:
            catalog.add_partitions("db", "t", partitions)
    finally:
        catalog.close()
    return settings
