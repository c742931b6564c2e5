"""The rule registry: every lint rule, by code, in one place.

>>> sorted(RULES)[:3], len(RULES)
(['L000', 'L001', 'L002'], 24)
>>> [r.code for r in select_rules(select=("Q00",), ignore=("Q004",))][:4]
['Q001', 'Q002', 'Q003', 'Q005']
"""

from __future__ import annotations

from collections.abc import Sequence

from lakekit.errors import UsageError
from lakekit.lint.rules.base import DOC_SECTIONS, Rule
from lakekit.lint.rules.layout import LAYOUT_RULES, LayoutRule
from lakekit.lint.rules.query import QUERY_RULES, QueryRule

__all__ = ["DOC_SECTIONS", "RULES", "LayoutRule", "QueryRule", "Rule", "get_rule", "select_rules"]

#: code -> rule class, query rules first.
RULES: dict[str, type[Rule]] = {rule.code: rule for rule in (*QUERY_RULES, *LAYOUT_RULES)}


def get_rule(code: str) -> type[Rule]:
    """The rule with this code (or name), or a UsageError saying where the list is.

    >>> get_rule("q003").name, get_rule("small-files").code
    ('partition-key-in-function', 'L006')
    """
    wanted = code.strip()
    for rule in RULES.values():
        if wanted.upper() == rule.code or wanted.lower() == rule.name:
            return rule
    raise UsageError(f"no rule {code!r}; `lakekit rules` lists every rule")


def _matches(code: str, pattern: str) -> bool:
    return pattern == "ALL" or code.startswith(pattern)


def _check_patterns(patterns: Sequence[str], what: str) -> None:
    for pattern in patterns:
        if pattern != "ALL" and not any(code.startswith(pattern) for code in RULES):
            raise UsageError(
                f"--{what} {pattern}: no rule code starts with it; use codes like Q001, prefixes like Q or L00, "
                "or ALL (`lakekit rules` lists them)"
            )


def select_rules(select: Sequence[str] = (), ignore: Sequence[str] = (), family: str | None = None) -> list[type[Rule]]:
    """Rules chosen by code prefixes (``Q``, ``L00``, ``Q001``, ``ALL``), less the ignored."""
    _check_patterns(select, "select")
    _check_patterns(ignore, "ignore")
    chosen = []
    for code, rule in RULES.items():
        if family and rule.family != family:
            continue
        if select and not any(_matches(code, p) for p in select):
            continue
        if any(_matches(code, p) for p in ignore):
            continue
        chosen.append(rule)
    return chosen
