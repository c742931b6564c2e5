"""The query path before anything runs: plan a statement, prune its scans, bill it.

:mod:`~lakekit.plan.query_plan` builds a :class:`QueryPlan` from
:mod:`~lakekit.plan.partitions`, :mod:`~lakekit.plan.file_stats`,
:mod:`~lakekit.plan.row_groups` (over :mod:`~lakekit.plan.domains`, evaluated by
:mod:`~lakekit.plan.evaluator`) and prices it with :mod:`~lakekit.plan.billing`.
"""

from __future__ import annotations

from lakekit.plan.billing import (
    MB,
    MIN_BILLED_BYTES,
    TB,
    Estimate,
    TableEstimate,
    billed_bytes,
    check_budget,
    check_price,
    cost_usd,
)
from lakekit.plan.query_plan import QueryPlan, ScanPlan, plan_query, plan_scans

__all__ = [
    "MB",
    "MIN_BILLED_BYTES",
    "TB",
    "Estimate",
    "QueryPlan",
    "ScanPlan",
    "TableEstimate",
    "billed_bytes",
    "check_budget",
    "check_price",
    "cost_usd",
    "plan_query",
    "plan_scans",
]
