"""What a lint run returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lakekit.lint.rules.base import Rule
from lakekit.lint.violation import Violation


@dataclass
class LintResult:
    """What a lint run found: violations (sorted by place), notes, and what was checked."""

    violations: list[Violation]
    #: things the user should know once (e.g. "no catalog: partition keys assumed")
    notes: list[str] = field(default_factory=list)
    #: paths, SQL sources and targets that were checked
    checked: list[str] = field(default_factory=list)
    #: the rules that ran, for output formats that describe them (SARIF)
    rules: list[type[Rule]] = field(default_factory=list)
    #: what ``--fix`` changed: the findings it fixed (their files were rewritten)
    fixed: list[Violation] = field(default_factory=list)
    #: path -> estimated bytes scanned of its statements (what ``--write-baseline`` records)
    estimates: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def exit_code(self) -> int:
        """0 when clean, 1 when anything was found (SPEC)."""
        return 1 if self.violations else 0

    def to_dicts(self) -> list[dict[str, Any]]:
        return [v.to_dict() for v in self.violations]
