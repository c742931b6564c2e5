"""Athena partition projection: partitions computed from table parameters, not listed.

With projection on, Athena derives each ``year=/month=/day=`` folder from ranges kept
in the table's parameters instead of looking partitions up in Glue, so a table with
years of daily partitions needs no partition registration at all and queries skip
the partition lookup. lakekit then registers no partitions in Glue for the table;
its manifest still records which partitions hold files, for cost estimates and sync.

>>> import datetime as dt
>>> from lakekit.catalog.base import Table
>>> t = Table("analytics", "events", "s3://bkt/lake/analytics/events", [])
>>> params = projection_parameters(t, ("year", "month", "day"),
...                               dt.datetime(2023, 11, 2), dt.datetime(2024, 3, 7))
>>> params["projection.year.range"], params["projection.month.digits"]
('2023,2024', '2')
>>> projection_parameters(t, ("year", "month"), [("2022", "01"), ("2025", "12")])["projection.year.range"]
'2022,2025'
>>> params["storage.location.template"]
's3://bkt/lake/analytics/events/year=${year}/month=${month}/day=${day}'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from lakekit.catalog.base import Table
from lakekit.errors import UsageError

#: key -> (digits, full range) of the time grains lakekit partitions by.
_GRAINS = {"year": (4, None), "month": (2, (1, 12)), "day": (2, (1, 31))}


def projection_parameters(
    table: Table,
    partition_by: Sequence[str],
    first_ts: dt.datetime | dt.date | Iterable[Sequence[str]] | None = None,
    last_ts: dt.datetime | dt.date | None = None,
) -> dict[str, str]:
    """The table parameters that turn on partition projection for ``table``.

    ``year`` is an integer projection whose range covers ``first_ts``..``last_ts``
    widened by any range the table already declares (so a later ingest of older or
    newer data extends it, never shrinks it); ``month`` and ``day`` are integers
    over their full ranges with two digits, matching lakekit's zero-padded folders.
    Merge the result into ``table.parameters`` before registering the table.

    Args:
        table: the table (its ``location`` and current ``parameters`` are used).
        partition_by: the partition keys, a prefix of ``("year", "month", "day")``.
        first_ts: the earliest timestamp being written (``None``: keep the table's range),
            or the partition values being written (``[("2024", "03", "07"), ...]``),
            whose years give the range.
        last_ts: the latest timestamp being written.

    Returns:
        ``projection.*`` parameters and ``storage.location.template``.
    """
    keys = tuple(partition_by)
    if not keys or keys != ("year", "month", "day")[: len(keys)]:
        raise UsageError(
            f"partition projection needs time partitions year[,month[,day]], not {','.join(keys) or 'none'}"
        )
    years: list[int] = []
    if first_ts is not None and not isinstance(first_ts, (dt.date, dt.datetime)):
        for values in first_ts:
            try:
                years.append(int(values[0]))
            except (ValueError, IndexError, TypeError) as ex:
                raise UsageError(f"partition values {values!r} do not start with a year") from ex
    elif first_ts is not None:
        years.append(first_ts.year)
    if last_ts is not None:
        years.append(last_ts.year)
    existing = table.parameters.get("projection.year.range", "")
    if existing:
        try:
            lo, hi = (int(v) for v in existing.split(","))
            years += [lo, hi]
        except ValueError:
            pass  # a malformed range is replaced by the one the data gives
    if not years:
        raise UsageError(f"cannot enable partition projection on {table.qualified_name}: no timestamps to range over")
    params = {"projection.enabled": "true"}
    for key in keys:
        digits, full_range = _GRAINS[key]
        lo, hi = (min(years), max(years)) if full_range is None else full_range
        params[f"projection.{key}.type"] = "integer"
        params[f"projection.{key}.range"] = f"{lo},{hi}"
        params[f"projection.{key}.digits"] = str(digits)
    location = table.location.rstrip("/")
    params["storage.location.template"] = location + "/" + "/".join(f"{k}=${{{k}}}" for k in keys)
    return params


def is_projected(table: Table) -> bool:
    """True when Athena projects the table's partitions (``projection.enabled``)."""
    return table.parameters.get("projection.enabled", "").lower() == "true"


def outside_projection(table: Table, values: Sequence[str]) -> str | None:
    """Why Athena's projection of ``table`` never yields the partition ``values``, or
    ``None`` when it does (or the table's projection is not one lakekit can read).

    >>> t = Table("a", "t", "s3://b/a/t", [], [], {"projection.enabled": "true",
    ...     "projection.year.type": "integer", "projection.year.range": "2023,2024",
    ...     "projection.year.digits": "4"})
    >>> from lakekit.catalog.base import Column
    >>> t.partition_keys = [Column("year", "string")]
    >>> outside_projection(t, ("2024",)) is None, outside_projection(t, ("2031",))
    (True, 'year=2031 is outside the projected range 2023,2024')
    """
    for key, value in zip((k.name for k in table.partition_keys), values):
        kind = table.parameters.get(f"projection.{key}.type", "").lower()
        if kind != "integer":
            continue  # enum, date and injected projections: not judged here
        try:
            lo, hi = (int(v) for v in table.parameters.get(f"projection.{key}.range", "").split(","))
        except ValueError:
            continue
        digits = table.parameters.get(f"projection.{key}.digits")
        if not value.isdigit() or not lo <= int(value) <= hi:
            return f"{key}={value} is outside the projected range {lo},{hi}"
        if digits and digits.isdigit() and value != str(int(value)).zfill(int(digits)):
            return f"{key}={value} is not written with {digits} digits as the projection writes it"
    return None
