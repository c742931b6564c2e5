"""Advice: the partition predicate a query's timestamp range implies and it does not state.

Athena's engine does not know that a table's ``year=/month=/day=`` values were computed
from its timestamp column, so a range on the timestamp prunes row groups (through
their statistics) but no partition. lakekit knows the link (it wrote the partitions,
in UTC), so from the range it writes the partition predicate that selects exactly the
days, months or years the range can touch. Adding it changes no row of the result and
lets Athena skip every other partition; the estimate says what the query would scan
with it.

>>> import datetime as dt
>>> from lakekit.plan.domains import Domain, Range
>>> week = Domain((Range(dt.datetime(2010, 7, 1), True, dt.datetime(2010, 7, 7, 23, 59, 59), True),))
>>> implied_partition_predicate(week, ["year", "month", "day"])
"year = '2010' AND month = '07' AND day BETWEEN '01' AND '07'"
>>> end_of_june = Domain((Range(dt.datetime(2010, 6, 28), True, dt.datetime(2010, 7, 3), False),))
>>> implied_partition_predicate(end_of_june, ["year", "month", "day"])
"year = '2010' AND (month = '06' AND day >= '28' OR month = '07' AND day <= '02')"
>>> implied_partition_predicate(end_of_june, ["year", "month"])
"year = '2010' AND month BETWEEN '06' AND '07'"
>>> new_year = Domain((Range(dt.datetime(2009, 12, 30), True, None, False),))
>>> implied_partition_predicate(new_year, ["year", "month", "day"])
"concat(year, month, day) >= '20091230'"
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import sqlglot
from sqlglot import exp

from lakekit.plan.billing import Advice, Estimate
from lakekit.plan.domains import Domain
from lakekit.plan.scan_plan import ScanPlan
from lakekit.sql import DIALECT
from lakekit.units import format_bytes

TIME_KEYS = ("year", "month", "day")


def _day_bounds(domain: Domain) -> tuple[dt.date | None, dt.date | None] | None:
    """The first and last UTC day the domain's instants can fall on (None: unbounded);
    None when the domain keeps NULLs or holds no instant at all."""
    if domain.null or not domain.ranges:
        return None
    firsts: list[Any] = []
    lasts: list[Any] = []
    for r in domain.ranges:
        firsts.append(r.lo)
        if r.hi is None:
            lasts.append(None)
        elif not r.hi_inclusive and _is_midnight(r.hi):
            lasts.append(_as_date(r.hi) - dt.timedelta(days=1))  # up to, not including, midnight
        else:
            lasts.append(r.hi)
    first = None if any(v is None for v in firsts) else _as_date(min(firsts))
    last = None if any(v is None for v in lasts) else _as_date(max(lasts))
    if first is not None and last is not None and last < first:
        return None
    return first, last


def _is_midnight(value: Any) -> bool:
    return not isinstance(value, dt.datetime) or value.time() == dt.time()


def _as_date(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def implied_partition_predicate(domain: Domain, keys: list[str]) -> str | None:
    """The predicate over ``keys`` (a prefix of year, month, day, zero-padded strings)
    that keeps exactly the partitions the instants of ``domain`` (UTC) can fall in;
    None when the domain bounds nothing or the keys are not time partitions."""
    keys = [k.lower() for k in keys]
    if not keys or tuple(keys) != TIME_KEYS[: len(keys)]:
        return None
    bounds = _day_bounds(domain)
    if bounds is None or bounds == (None, None):
        return None
    first, last = bounds
    width = {"year": 4, "month": 6, "day": 8}[keys[-1]]
    concat = f"concat({', '.join(keys)})" if len(keys) > 1 else "year"
    if first is None:
        return f"{concat} <= '{_stamp(last, width)}'"
    if last is None:
        return f"{concat} >= '{_stamp(first, width)}'"
    if first.year != last.year:
        return f"{concat} BETWEEN '{_stamp(first, width)}' AND '{_stamp(last, width)}'"
    year = f"year = '{first.year:04d}'"
    if len(keys) == 1:
        return year
    if first.month == last.month:
        month = f"month = '{first.month:02d}'"
        if len(keys) == 2:
            return f"{year} AND {month}"
        if first.day == last.day:
            return f"{year} AND {month} AND day = '{first.day:02d}'"
        return f"{year} AND {month} AND day BETWEEN '{first.day:02d}' AND '{last.day:02d}'"
    months = f"month BETWEEN '{first.month:02d}' AND '{last.month:02d}'"
    whole = first.day == 1 and last.day == calendar.monthrange(last.year, last.month)[1]
    if len(keys) == 2 or whole:
        return f"{year} AND {months}"
    parts = [f"month = '{first.month:02d}' AND day >= '{first.day:02d}'"]
    if last.month - first.month > 1:
        inner = (first.month + 1, last.month - 1)
        parts.append(f"month = '{inner[0]:02d}'" if inner[0] == inner[1]
                     else f"month BETWEEN '{inner[0]:02d}' AND '{inner[1]:02d}'")
    parts.append(f"month = '{last.month:02d}' AND day <= '{last.day:02d}'")
    return f"{year} AND ({' OR '.join(parts)})"


def _stamp(day: dt.date, width: int) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"[:width]


def scan_advice(
    plans: Sequence[ScanPlan],
    estimate: Estimate,
    replan: Callable[[ScanPlan, exp.Expression], ScanPlan],
) -> tuple[Advice, ...]:
    """For each scan whose timestamp range implies partitions it does not bound: the
    predicate, and the query's bytes and cost with it (``replan`` plans the scan again
    with one more conjunct, so the figure is the estimate of the query with it added)."""
    found = []
    for sp in plans:
        keys = [k.name for k in sp.table.partition_keys]
        if sp.time_domain is None or not keys:
            continue
        predicate = implied_partition_predicate(sp.time_domain, keys)
        if predicate is None:
            continue
        bound = sqlglot.parse_one(predicate, read=DIALECT)
        for column in bound.find_all(exp.Column):
            column.set("table", exp.to_identifier(sp.scan.alias))
        with_it = replan(sp, bound)
        if with_it.estimate.partitions_scanned >= sp.estimate.partitions_scanned:
            continue  # the query bounds its partitions as tightly already
        scanned_with = estimate.bytes_scanned - sp.estimate.bytes_scanned + with_it.estimate.bytes_scanned
        cost_with = estimate.cost_of(scanned_with)
        shown = predicate if len(plans) == 1 and sp.scan.alias == sp.table.name else bound.sql(dialect=DIALECT)
        ts = sp.table.timestamp_column
        found.append(Advice(
            table=sp.table.qualified_name,
            message=(
                f"Athena prunes no partition by {ts}: add AND {shown} to read "
                f"{with_it.estimate.partitions_scanned} of {sp.estimate.partitions_total} partitions, "
                f"{format_bytes(scanned_with)} scanned (${cost_with:.6f}) instead of "
                f"{format_bytes(estimate.bytes_scanned)} (${estimate.cost_usd:.6f})"
            ),
            predicate=shown,
            bytes_scanned_with=scanned_with,
            cost_usd_with=cost_with,
            alias=sp.scan.alias,
            table_offset=(sp.scan.node.this.meta or {}).get("start") if sp.scan.node.this is not None else None,
        ))
    return tuple(found)
