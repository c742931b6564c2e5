"""Generate ``docs/rules.md`` from the rule classes: ``python -m lakekit.lint.docs > docs/rules.md``.

The reference is generated, never edited by hand, so it cannot drift from what
``lakekit rules CODE`` prints; a test fails when the committed file is stale.

>>> "## Q001 select-star" in rules_markdown()
True
"""

from __future__ import annotations

import sys

from lakekit.lint.rules import DOC_SECTIONS, RULES
from lakekit.lint.rules.base import Rule

#: sections whose body is SQL or a layout, shown as code blocks
_CODE_SECTIONS = {"Example:", "Use instead:"}


def rule_sections(rule: type[Rule]) -> tuple[str, dict[str, str]]:
    """(summary line, {section heading: dedented body}) of a rule's docstring."""
    import textwrap

    lines = rule.doc().splitlines()
    summary = lines[0] if lines else ""
    sections: dict[str, list[str]] = {}
    current = None
    for line in lines[1:]:
        if line.strip() in DOC_SECTIONS and not line.startswith(" "):
            current = line.strip()
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    return summary, {k: textwrap.dedent("\n".join(v)).strip() for k, v in sections.items()}


def rules_markdown() -> str:
    out = [
        "# lakekit lint rules",
        "",
        "<!-- Generated from the rule classes by `python -m lakekit.lint.docs > docs/rules.md`; do not edit. -->",
        "",
        "`lakekit lint query` runs the Q rules on SQL, `lakekit lint layout` the L rules on layout files,",
        "folders, `s3://` prefixes and catalog tables. `lakekit rules CODE` prints one rule's text.",
        "Select rules with `--select`/`--ignore` (codes or prefixes such as `Q`, `L00`) or in",
        "`[lint]` of `lakekit.toml`; silence one SQL line with `-- noqa` or `-- noqa: Q001,Q004`.",
        "",
        "With a catalog, query findings are priced: each carries what fixing it saves a run",
        "(`\"savings\": {\"bytes\", \"usd\"}` in JSON and SARIF properties, dollars in text and",
        "GitHub annotations), from the same estimate as `lakekit query --dry-run` (Q001: the chunks",
        "of the columns only `*` reads; Q002/Q003: the partitions the advised predicate skips), and",
        "the dearest come first within a file. `--fix` rewrites SQL files with the safe fixes (Q002:",
        "the partition predicate the timestamp range implies, inserted as text so the file keeps",
        "its formatting and comments) and lists what it changed. `--max-cost USD` (Q011) and",
        "`--baseline FILE` (Q012; `--write-baseline FILE` records the current estimates, path ->",
        "bytes) make the linter a cost gate for CI; `.pre-commit-hooks.yaml` has it as",
        "`lakekit-cost-gate`. A layout file that does not load is an L000 finding, not an",
        "aborted run.",
        "",
        "| code | name | finds |",
        "|---|---|---|",
    ]
    for code, rule in RULES.items():
        finds = rule.summary().replace("|", "\\|")
        out.append(f"| [{code}](#{code.lower()}-{rule.name}) | {rule.name} | {finds} |")
    for code, rule in RULES.items():
        summary, sections = rule_sections(rule)
        out += ["", f"## {code} {rule.name}", "", summary]
        for heading in DOC_SECTIONS:
            body = sections.get(heading, "")
            out += ["", f"**{heading.rstrip(':')}**", ""]
            if heading in _CODE_SECTIONS:
                lang = "sql" if rule.family == "query" else ""
                out += [f"```{lang}", body, "```"]
            else:
                out.append(body)
    return "\n".join(out) + "\n"


def main() -> None:
    sys.stdout.write(rules_markdown())


if __name__ == "__main__":
    main()
