"""Output formats for lint results: text (ruff's shape), json, github, sarif.

Every format is built from :meth:`Violation.to_dict`, so they agree on every field.

>>> v = Violation("Q004", "order-by-without-limit", "q.sql", 3, 1, "ORDER BY without LIMIT", "add LIMIT n")
>>> print(format_text([v]))
q.sql:3:1: Q004 order-by-without-limit ORDER BY without LIMIT
Found 1 problem (Q004: 1).
>>> print(format_github([v]))
::error file=q.sql,line=3,col=1,title=Q004 order-by-without-limit::ORDER BY without LIMIT (fix: add LIMIT n)
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from urllib.parse import quote

from lakekit.lint.rules.base import Rule
from lakekit.lint.violation import Violation
from lakekit.units import human_bytes

FORMATS = ("text", "json", "github", "sarif")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _saves(v: Violation) -> str:
    """What fixing a finding saves a run, in dollars (and bytes), for text formats."""
    if not v.savings:
        return ""
    return f" (fixing it saves ${v.savings['usd']:.6f} a run, {human_bytes(v.savings['bytes'])} scanned)"


def format_text(violations: Sequence[Violation]) -> str:
    """``path:line:col: CODE name message`` lines, then a summary line."""
    lines = [f"{v.location}: {v.code} {v.name} {v.message}{_saves(v)}" for v in violations]
    if violations:
        counts = Counter(v.code for v in violations)
        detail = ", ".join(f"{code}: {n}" for code, n in sorted(counts.items()))
        noun = "problem" if len(violations) == 1 else "problems"
        lines.append(f"Found {len(violations)} {noun} ({detail}).")
    else:
        lines.append("All checks passed!")
    return "\n".join(lines)


def format_fixed(fixed: Sequence[Violation]) -> str:
    """What ``--fix`` changed, one line a fix, then a summary line."""
    lines = [f"{v.location}: {v.code} fixed: {v.fix}" for v in fixed]
    files = len({v.path for v in fixed})
    lines.append(f"Fixed {len(fixed)} problem{'s' if len(fixed) != 1 else ''} in {files} file{'s' if files != 1 else ''}.")
    return "\n".join(lines)


def format_json(violations: Sequence[Violation]) -> str:
    """A JSON list of ``{"code", "name", "path", "line", "column", "message", "fix"}``."""
    return json.dumps([v.to_dict() for v in violations], indent=2)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(violations: Sequence[Violation]) -> str:
    """GitHub Actions workflow commands: one ``::error`` annotation per violation."""
    lines = []
    for v in violations:
        d = v.to_dict()
        message = d["message"] + _saves(v) + (f" (fix: {d['fix']})" if d["fix"] else "")
        lines.append(
            f"::error file={_escape_property(d['path'])},line={d['line']},col={d['column']},"
            f"title={_escape_property(d['code'] + ' ' + d['name'])}::{_escape_data(message)}"
        )
    return "\n".join(lines)


def _artifact_uri(path: str) -> str:
    if path.startswith("s3://"):
        return path
    return quote(path.replace("\\", "/"), safe="/:._-~")


def sarif_document(violations: Sequence[Violation], rules: Sequence[type[Rule]], version: str = "0") -> dict:
    """A SARIF 2.1.0 log with one run: lakekit's rules and its results."""
    described = {r.code: r for r in rules}
    for v in violations:  # every result's rule must be described, even if not in `rules`
        if v.code not in described:
            from lakekit.lint.rules import RULES

            described[v.code] = RULES[v.code]
    ordered = sorted(described.values(), key=lambda r: r.code)
    index = {r.code: i for i, r in enumerate(ordered)}
    results = []
    for v in violations:
        d = v.to_dict()
        result = {
            "ruleId": d["code"],
            "ruleIndex": index[d["code"]],
            "level": "error",
            "message": {"text": d["message"] + _saves(v) + (f" (fix: {d['fix']})" if d["fix"] else "")},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _artifact_uri(d["path"])},
                        "region": {"startLine": max(1, d["line"]), "startColumn": max(1, d["column"])},
                    }
                }
            ],
        }
        properties = {}
        if d["fix"]:
            properties["fix"] = d["fix"]
        if v.savings:
            properties["savings"] = dict(v.savings)
        if properties:
            result["properties"] = properties
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "lakekit",
                        "version": version,
                        "rules": [
                            {
                                "id": r.code,
                                "name": r.name,
                                "shortDescription": {"text": r.summary()},
                                "fullDescription": {"text": r.doc()},
                                "help": {"text": r.doc()},
                                "properties": {"family": r.family},
                            }
                            for r in ordered
                        ],
                    }
                },
                "results": results,
            }
        ],
    }


def format_sarif(violations: Sequence[Violation], rules: Sequence[type[Rule]] = ()) -> str:
    try:
        from importlib.metadata import version

        tool_version = version("lakekit")
    except Exception:  # noqa: BLE001 - not installed as a distribution: still a valid log
        tool_version = "0"
    return json.dumps(sarif_document(violations, rules, tool_version), indent=2)


def render(fmt: str, violations: Sequence[Violation], rules: Sequence[type[Rule]] = ()) -> str:
    """The violations in one of :data:`FORMATS`."""
    renderers: dict[str, Callable[[], str]] = {
        "text": lambda: format_text(violations),
        "json": lambda: format_json(violations),
        "github": lambda: format_github(violations),
        "sarif": lambda: format_sarif(violations, rules),
    }
    if fmt not in renderers:
        from lakekit.errors import UsageError

        raise UsageError(f"unknown lint format {fmt!r}; use one of {', '.join(FORMATS)}")
    return renderers[fmt]()
