"""lakekit lint: find what makes Athena queries and table layouts cost more than they must.

``lakekit.lint_query`` checks SQL (rules Q001-Q010), ``lakekit.lint_layout`` checks
layout files, folders, ``s3://`` prefixes and catalog tables (rules L001-L011). Both
return a :class:`LintResult`; ``lakekit rules`` documents every rule. The rules live
in :mod:`lakekit.lint.rules`, one module a family; :mod:`lakekit.lint.run` runs them.

>>> import lakekit
>>> result = lakekit.lint_query(["SELECT * FROM analytics.events ORDER BY ts"], warehouse="/nonexistent")
>>> [(v.code, v.line, v.column) for v in result.violations]
[('Q001', 1, 8), ('Q002', 1, 15), ('Q004', 1, 32)]
>>> result.exit_code
1
"""

from __future__ import annotations

from lakekit.lint.result import LintResult
from lakekit.lint.rules import RULES
from lakekit.lint.violation import Violation

__all__ = ["RULES", "LintResult", "Violation"]
