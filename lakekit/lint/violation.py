"""One finding of one rule: the single shape every output format is built from.

>>> v = Violation("Q001", "select-star", "q.sql", 1, 8, "SELECT * reads every column", "name the columns")
>>> v.to_dict()["code"], v.location
('Q001', 'q.sql:1:8')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, order=True)
class Violation:
    """A rule's finding at a place: ``path:line:column``.

    Field order is sort order, so sorted violations read file by file, top to bottom.
    SQL positions are 1-based line and column of the offending node; findings on
    storage or catalog targets sit at line 1, column 1 of the target.
    """

    code: str
    name: str
    path: str
    line: int
    column: int
    message: str
    fix: str | None = None
    #: what fixing it saves a run, ``{"bytes", "usd"}``, when the catalog lets lakekit price it
    savings: dict | None = field(default=None, compare=False, hash=False)
    #: the text edits of a safe fix (``lakekit lint query --fix``), relative to the file
    edits: tuple = field(default=(), compare=False, hash=False, repr=False)

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"

    def sort_key(self) -> tuple:
        """By file; within a file the dearest findings first, then by place."""
        saved = -(self.savings or {}).get("usd", 0.0)
        return (self.path, saved, self.line, self.column, self.code, self.message)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape SPEC gives: code, name, path, line, column, message, fix."""
        return {
            "code": self.code,
            "name": self.name,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "fix": self.fix,
            **({"savings": dict(self.savings)} if self.savings is not None else {}),
        }
