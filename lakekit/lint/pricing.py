"""What the linter is told about a statement's cost, to price findings and gate on cost.

The linter does not estimate: the layer above it (:class:`lakekit.lake.Lake`) hands it
a *pricer*, a function from one statement's SQL to a :class:`StatementPrice` built
from the query plan. With no catalog there is no pricer and findings carry no
savings. Offsets are character offsets into the statement's SQL text, so a finding
on a table read can be matched with the scan it is about.

>>> price = StatementPrice(50 << 20, 50 << 20, 0.00025, 5.0)
>>> price.savings(10 << 20, 0.00005)
{'bytes': 41943040, 'usd': 0.0002}
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ScanAdvice:
    """A partition predicate a scan lacks, and what the statement would scan with it."""

    table: str
    alias: str
    #: offset of the table's name in the statement text (None: not located)
    table_offset: int | None
    message: str
    predicate: str
    #: the statement's bytes scanned and cost with the predicate added
    bytes_scanned_with: int
    cost_usd_with: float


@dataclass(frozen=True)
class StarSavings:
    """Bytes a scan reads only because of ``*``: the chunks of columns nothing else names."""

    table: str
    alias: str
    table_offset: int | None
    #: the statement's bytes scanned and cost without those chunks
    bytes_scanned_with: int
    cost_usd_with: float


@dataclass(frozen=True)
class StatementPrice:
    """One statement's estimate, its advice and what ``*`` costs, for the linter."""

    bytes_scanned: int
    bytes_billed: int
    cost_usd: float
    price_per_tb: float
    advice: tuple[ScanAdvice, ...] = ()
    star: tuple[StarSavings, ...] = ()

    def savings(self, bytes_scanned_with: int, cost_usd_with: float) -> dict[str, Any]:
        """``{"bytes", "usd"}`` a run saves when the statement scans ``bytes_scanned_with``."""
        return {
            "bytes": max(0, self.bytes_scanned - bytes_scanned_with),
            "usd": round(max(0.0, self.cost_usd - cost_usd_with), 12),
        }

    def advice_for(self, offsets: set[int | None]) -> ScanAdvice | None:
        for advice in self.advice:
            if advice.table_offset in offsets:
                return advice
        return None


#: statement SQL -> its price, or None when the catalog cannot price it
Pricer = Callable[[str], "StatementPrice | None"]
