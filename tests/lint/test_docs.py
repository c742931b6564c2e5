"""Rules describe themselves: sections in every docstring, `lakekit rules`, docs/rules.md."""

from __future__ import annotations

import pytest

from lakekit.lint.docs import rule_sections, rules_markdown
from lakekit.lint.rules import DOC_SECTIONS, RULES
from tests.helpers import ROOT, cli

SPEC_NAMES = {
    "Q001": "select-star", "Q002": "missing-partition-filter", "Q003": "partition-key-in-function",
    "Q004": "order-by-without-limit", "Q005": "many-like", "Q006": "exact-count-distinct",
    "Q007": "large-table-on-right", "Q008": "cross-join", "Q009": "window-without-partition",
    "Q010": "unknown-object", "Q011": "over-budget", "Q012": "cost-increase",
    "L001": "not-partitioned", "L002": "non-hive-partitions", "L003": "row-format",
    "L004": "uncompressed", "L005": "unsplittable-compression", "L006": "small-files",
    "L007": "over-partitioned", "L008": "schema-drift", "L009": "missing-statistics",
    "L010": "unregistered-partitions", "L011": "small-row-groups",
    # beyond SPEC's table: a layout file that does not load is reported as a finding (issue 12)
    "L000": "invalid-layout",
}


def test_codes_and_names_are_spec_exact():
    assert {code: rule.name for code, rule in RULES.items()} == SPEC_NAMES


@pytest.mark.parametrize("code", sorted(RULES))
def test_rule_docstring_has_every_section(code):
    summary, sections = rule_sections(RULES[code])
    assert summary.strip()
    for heading in DOC_SECTIONS:
        assert sections.get(heading), f"{code} lacks a non-empty {heading!r} section"
    assert "https://" in sections["References:"]


def test_rules_md_is_fresh():
    committed = (ROOT / "docs" / "rules.md").read_text()
    assert committed == rules_markdown(), "docs/rules.md is stale: python -m lakekit.lint.docs > docs/rules.md"


def test_rules_command_prints_the_docstring_exactly():
    result = cli("rules", "Q003")
    assert result.exit_code == 0
    assert result.output == RULES["Q003"].doc() + "\n"
    by_name = cli("rules", "small-files")
    assert by_name.output == RULES["L006"].doc() + "\n"


def test_rules_command_lists_every_rule():
    result = cli("rules")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == list(RULES)
    assert lines[0].split()[1] == "select-star"


def test_rules_unknown_code_is_a_usage_error():
    result = cli("rules", "Q999")
    assert result.exit_code == 2
    assert "no rule 'Q999'" in result.output
