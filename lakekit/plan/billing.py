"""Athena's billing rules: bytes scanned add up over scans, are rounded up to a whole
MB (2^20 bytes) with a 10 MB minimum per query, and are priced per TB (2^40 bytes).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lakekit.config import check_max_cost, check_price_per_tb
from lakekit.errors import BudgetExceeded
from lakekit.units import format_bytes

#: Athena rounds scanned bytes up to whole megabytes ...
MB = 2**20


#: ... bills at least 10 MB per query ...
MIN_BILLED_BYTES = 10 * MB


#: ... and prices per terabyte, 2^40 bytes.
TB = 2**40


def billed_bytes(bytes_scanned: int) -> int:
    """Bytes Athena bills for a query that scanned ``bytes_scanned``.

    Rounded up to a whole MB, at least 10 MB: the minimum is per query, so a query
    that reads nothing (every partition pruned) still bills 10 MB.

    >>> billed_bytes(1), billed_bytes(10 * MB + 1), billed_bytes(0)
    (10485760, 11534336, 10485760)
    """
    return max(MIN_BILLED_BYTES, math.ceil(max(bytes_scanned, 0) / MB) * MB)


def cost_usd(bytes_billed: int, price_per_tb: float = 5.0) -> float:
    """Dollars for ``bytes_billed`` at ``price_per_tb`` (1 TB = 2^40 bytes).

    >>> cost_usd(TB), cost_usd(MIN_BILLED_BYTES)
    (5.0, 4.76837158203125e-05)
    """
    return bytes_billed * price_per_tb / TB


@dataclass(frozen=True)
class TableEstimate:
    """What one scan of one table reads."""

    table: str
    partitions_total: int
    partitions_scanned: int
    files_scanned: int
    row_groups_scanned: int
    columns: tuple[str, ...]
    bytes_scanned: int
    #: why pruning could not use a predicate, when it could not
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "partitions_total": self.partitions_total,
            "partitions_scanned": self.partitions_scanned,
            "files_scanned": self.files_scanned,
            "row_groups_scanned": self.row_groups_scanned,
            "columns": list(self.columns),
            "bytes_scanned": self.bytes_scanned,
        }


@dataclass(frozen=True)
class Advice:
    """A partition predicate a scan lacks, and what the query would scan with it."""

    table: str
    message: str
    predicate: str
    #: the whole query's bytes scanned, and its cost, with the predicate added to this scan
    bytes_scanned_with: int
    cost_usd_with: float
    #: the scan's alias, and the offset of the table's name in the SQL text (None: unknown)
    alias: str = field(default="", compare=False)
    table_offset: int | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "message": self.message,
            "predicate": self.predicate,
            "bytes_scanned_with": self.bytes_scanned_with,
        }


@dataclass(frozen=True)
class Estimate:
    """A query's estimate, in SPEC's JSON shape via :meth:`to_dict`."""

    bytes_scanned: int
    bytes_billed: int
    cost_usd: float
    price_per_tb_usd: float
    tables: tuple[TableEstimate, ...] = ()
    advice: tuple[Advice, ...] = ()

    @property
    def notes(self) -> list[str]:
        """One line per scan whose pruning was limited, saying which predicate and why."""
        return [f"{t.table}: {t.note}" for t in self.tables if t.note]

    def to_dict(self) -> dict[str, Any]:
        return {
            "bytes_scanned": self.bytes_scanned,
            "bytes_billed": self.bytes_billed,
            "cost_usd": self.cost_usd,
            "price_per_tb_usd": self.price_per_tb_usd,
            "tables": [t.to_dict() for t in self.tables],
            "advice": [a.to_dict() for a in self.advice],
        }

    def cost_of(self, bytes_scanned: int) -> float:
        """What a query scanning ``bytes_scanned`` would cost at this estimate's price."""
        return cost_usd(billed_bytes(bytes_scanned), self.price_per_tb_usd)

    @classmethod
    def from_tables(cls, tables: Sequence[TableEstimate], price_per_tb: float = 5.0) -> Estimate:
        """Add the scans up and apply Athena's billing rules.

        >>> t = TableEstimate("db.t", 1, 1, 1, 1, ("x",), 1234)
        >>> e = Estimate.from_tables([t, t])
        >>> e.bytes_scanned, e.bytes_billed
        (2468, 10485760)
        """
        scanned = sum(t.bytes_scanned for t in tables)
        billed = billed_bytes(scanned)
        return cls(scanned, billed, cost_usd(billed, price_per_tb), float(price_per_tb), tuple(tables))
def check_budget(est: Estimate, max_cost: float | None) -> None:
    """Raise :class:`BudgetExceeded` when ``est`` costs more than ``max_cost`` dollars.

    >>> check_budget(Estimate.from_tables([TableEstimate("db.t", 0, 0, 1, 1, (), 2**40)]), 1.0)
    Traceback (most recent call last):
    ...
    lakekit.errors.BudgetExceeded: estimated cost $5.000000 (1.00 TiB billed) is over --max-cost $1.000000; the query was not run
    """
    if check_max_cost(max_cost) is None or est.cost_usd <= max_cost:
        return
    raise BudgetExceeded(
        f"estimated cost ${est.cost_usd:.6f} ({format_bytes(est.bytes_billed)} billed) is over "
        f"--max-cost ${max_cost:.6f}; the query was not run"
    )


def check_price(price: float) -> None:
    """Refuse a price per TB that is negative, infinite or NaN (with NaN no estimate is
    ever over a budget)."""
    check_price_per_tb(price)
