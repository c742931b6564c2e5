"""What every lint rule is: a class with a code, a name and a docstring that explains it.

A rule's docstring is its documentation: ``lakekit rules CODE`` prints it as written
and ``docs/rules.md`` is generated from it, so it carries the sections users of ruff
and sqlfluff expect (see :data:`DOC_SECTIONS`).
"""

from __future__ import annotations

import inspect
from typing import ClassVar

from lakekit.lint.violation import Violation

#: The headings every rule docstring has, in this order.
DOC_SECTIONS = ("What it does:", "Why is this bad?", "Example:", "Use instead:", "References:")


class Rule:
    """Base of every rule. Subclasses set ``code``, ``name`` and ``family``."""

    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    #: ``query`` (checks SQL) or ``layout`` (checks layout files, storage, catalog)
    family: ClassVar[str] = ""

    @classmethod
    def doc(cls) -> str:
        """The rule's docstring, dedented: exactly what ``lakekit rules CODE`` prints."""
        return inspect.getdoc(cls) or ""

    @classmethod
    def summary(cls) -> str:
        """The first line of the docstring: what the rule finds, in one sentence."""
        return cls.doc().splitlines()[0] if cls.doc() else ""

    def violation(self, path: str, line: int, column: int, message: str, fix: str | None = None,
                  savings: dict | None = None, edits: tuple = ()) -> Violation:
        return Violation(self.code, self.name, path, line, column, message, fix, savings=savings, edits=edits)

    def __repr__(self) -> str:
        return f"<{self.code} {self.name}>"
