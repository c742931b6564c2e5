"""Partition pruning: which registered (or projected) partitions a scan must read.

Every conjunct over partition keys alone is evaluated against each partition's
values (all at once, on DuckDB), as Athena's engine does: any deterministic
expression works, not only a list of recognised forms. Conjuncts on the table's
timestamp column become a range of instants and keep only the
``year=/month=/day=`` partitions that overlap it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from lakekit.catalog.base import Catalog, Partition, Table
from lakekit.paths import hive_values, is_hidden, partition_path
from lakekit.plan.domains import Domain, combined_domain
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


def time_domain_of(
    table: Table, conjuncts: list[exp.Expression], evaluator: ConstantEvaluator
) -> Domain | None:
    """The instants (UTC) a scan's conditions on the table's timestamp column allow, when
    its partitions are time partitions derived from that column; None when unbounded."""
    ts = table.timestamp_column
    keys = [k.name for k in table.partition_keys]
    if not conjuncts or not ts or not set(keys) & set(TIME_KEYS):
        return None
    column = table.column(ts)
    return combined_domain(conjuncts, ts, column.type if column else "timestamp", evaluator)


def projected_partitions(table: Table, catalog: Catalog, storage: Storage) -> list[Partition]:
    """The partitions of a table whose partitions Athena projects (none are registered).

    Athena enumerates the projected values and reads the folders that hold files: the
    ``key=value`` folders found in storage now, less those the projection never yields
    (a year outside its range).
    """
    from lakekit.catalog.projection import outside_projection

    keys = [k.name for k in table.partition_keys]
    values = set()
    for entry in storage.list_files(table.location):
        if is_hidden(entry.uri):
            continue
        found = hive_values(entry.uri, table.location)
        if set(keys) <= set(found):
            values.add(tuple(found[k] for k in keys))
    template = table.parameters.get("storage.location.template")
    partitions = []
    for vals in sorted(values):
        if outside_projection(table, vals):
            continue
        if template:
            location = template
            for key, value in zip(keys, vals):
                location = location.replace("${" + key + "}", value)
        else:
            location = "/".join([table.location.rstrip("/"), partition_path(keys, vals)])
        partitions.append(Partition(vals, location))
    return partitions
