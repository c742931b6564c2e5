"""Partition pruning: which registered (or projected) partitions a scan must read.

Every conjunct over partition keys alone is evaluated against each partition's
values (all at once, on DuckDB), as Athena's engine does: any deterministic
expression works, not only a list of recognised forms. Conjuncts on the table's
timestamp column become a range of instants and keep only the
``year=/month=/day=`` partitions that overlap it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlglot import exp

from lakekit.catalog.base import Catalog, Partition, Table
from lakekit.paths import hive_values, is_hidden, partition_path
from lakekit.plan.domains import combined_domain
from lakekit.plan.evaluator import CannotEvaluate, ConstantEvaluator, unqualified
from lakekit.sql import DIALECT
from lakekit.storage import Storage

TIME_KEYS = ("year", "month", "day")


def prune_by_values(
    partitions: Sequence[Partition],
    keys: list[str],
    table: Table,
    conjuncts: list[exp.Expression],
    evaluator: ConstantEvaluator,
    notes: list[str],
) -> list[Partition]:
    if not conjuncts or not partitions:
        return list(partitions)
    kept = list(partitions)
    for conjunct in conjuncts:
        try:
            mask = evaluator.filter_partitions(kept, keys, table, conjunct)
        except CannotEvaluate as ex:
            notes.append(f"predicate {unqualified(conjunct).sql(dialect=DIALECT)} cannot prune ({ex})")
            continue
        kept = [p for p, keep in zip(kept, mask) if keep]
    return kept


def prune_by_time(
    partitions: list[Partition],
    keys: list[str],
    table: Table,
    conjuncts: list[exp.Expression],
    evaluator: ConstantEvaluator,
) -> list[Partition]:
    ts = table.timestamp_column
    if not conjuncts or not ts or not set(keys) & set(TIME_KEYS):
        return partitions
    column = table.column(ts)
    domain = combined_domain(conjuncts, ts, column.type if column else "timestamp", evaluator)
    if domain is None:
        return partitions
    kept = []
    for p in partitions:
        span = partition_span(dict(zip(keys, p.values)))
        if span is None or domain.may_match(span[0], span[1], 0, 1):
            kept.append(p)
    return kept


def partition_span(values: dict[str, str]) -> tuple[dt.datetime, dt.datetime] | None:
    """First and last instant a ``year=/month=/day=`` partition can hold (UTC)."""
    try:
        year = int(values["year"])
        if "month" not in values:
            start = dt.datetime(year, 1, 1)
            end = dt.datetime(year + 1, 1, 1)
        else:
            month = int(values["month"])
            if "day" not in values:
                start = dt.datetime(year, month, 1)
                end = dt.datetime(year + (month == 12), month % 12 + 1, 1)
            else:
                start = dt.datetime(year, month, int(values["day"]))
                end = start + dt.timedelta(days=1)
    except (KeyError, ValueError, TypeError):
        return None
    return start, end - dt.timedelta(microseconds=1)
def projected_partitions(table: Table, catalog: Catalog, storage: Storage) -> list[Partition]:
    """The partitions of a table whose partitions Athena projects (none are registered).

    Athena enumerates the projected values and reads the folders that hold files; the
    partitions that hold files are those of the catalog's file statistics, or, when it
    has none, the ``key=value`` folders found in storage.
    """
    keys = [k.name for k in table.partition_keys]
    values = {tuple(f.partition_values) for f in catalog.list_files(table.database, table.name) if f.partition_values}
    if not values:
        for entry in storage.list_files(table.location):
            if is_hidden(entry.uri):
                continue
            found = hive_values(entry.uri, table.location)
            if set(keys) <= set(found):
                values.add(tuple(found[k] for k in keys))
    template = table.parameters.get("storage.location.template")
    partitions = []
    for vals in sorted(values):
        if template:
            location = template
            for key, value in zip(keys, vals):
                location = location.replace("${" + key + "}", value)
        else:
            location = "/".join([table.location.rstrip("/"), partition_path(keys, vals)])
        partitions.append(Partition(vals, location))
    return partitions
