"""Row-group pruning: conjuncts that bound one data column become a domain; a row
group whose min/max (and null count) cannot meet it is not read."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from lakekit.catalog.base import Table
from lakekit.parquet import decode_stat
from lakekit.plan.domains import Domain, Range, combined_domain
from lakekit.plan.evaluator import ConstantEvaluator


@dataclass
class ColumnDomain:
    name: str
    athena_type: str
    domain: Domain = field(default_factory=lambda: Domain((Range(),), None))


def column_domains(
    conjuncts: list[tuple[str, exp.Expression]], table: Table, evaluator: ConstantEvaluator
) -> list[ColumnDomain]:
    by_column: dict[str, list[exp.Expression]] = {}
    for name, c in conjuncts:
        by_column.setdefault(name, []).append(c)
    result = []
    for name, items in by_column.items():
        column = table.column(name)
        if column is None:
            continue
        domain = combined_domain(items, name, column.type, evaluator)
        if domain is not None:
            result.append(ColumnDomain(name, column.type, domain))
    return result


def row_group_may_match(rows: int, columns: dict[str, list], domains: list[ColumnDomain]) -> bool:
    """Whether a row group (in its stored form: rows, ``{column: [compressed, min, max, nulls]}``)
    may hold a row every domain lets through."""
    for d in domains:
        chunk = columns.get(d.name)
        if chunk is None:
            continue
        try:
            lo = decode_stat(chunk[1], d.athena_type)
            hi = decode_stat(chunk[2], d.athena_type)
        except (TypeError, ValueError):
            continue
        if not d.domain.may_match(lo, hi, chunk[3], rows):
            return False
    return True
