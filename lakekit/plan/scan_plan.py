"""One scan's plan: what the planner kept for it. A module of its own because both the
planner (:mod:`.query_plan`) and the advice on a plan (:mod:`.advice`) read it."""

from __future__ import annotations

from dataclasses import dataclass, field

from lakekit.catalog.base import DataFile, Partition, Table
from lakekit.plan.billing import TableEstimate
from lakekit.plan.domains import Domain
from lakekit.plan.row_groups import ColumnDomain
from lakekit.sql import TableScan


@dataclass(frozen=True)
class ScanPlan:
    """One scan, pruned: the partitions and files it keeps and what reading them costs."""

    scan: TableScan
    table: Table
    partitions: tuple[Partition, ...]
    files: tuple[DataFile, ...]
    estimate: TableEstimate
    #: the instants the scan's conditions on the timestamp column allow (None: unbounded)
    time_domain: Domain | None = field(default=None, compare=False)
    #: the bounds on data columns that rule row groups out
    domains: tuple[ColumnDomain, ...] = field(default=(), compare=False)
