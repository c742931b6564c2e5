"""Property tests: pruning never drops data a predicate could match.

Random predicates (comparisons, BETWEEN, IN, NOT IN, IS NULL, AND/OR/NOT) are checked
against a brute-force evaluation in SQL's three-valued logic:

* partition pruning keeps exactly the partitions whose values satisfy the predicate;
* row-group pruning is sound: a row group that holds a value (or a NULL) satisfying
  the predicate is never ruled out by its min/max and null count.
"""

from __future__ import annotations

import pytest
import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st

from lakekit.catalog import Column, Partition, Table
from lakekit.plan.domains import domain_of as _domain
from lakekit.plan.evaluator import ConstantEvaluator
from lakekit.plan.partitions import prune_by_values as _prune_by_values

EVALUATOR = ConstantEvaluator()


# -- a tiny predicate language with a Python evaluator in three-valued logic -------------

def comparison(column: str, values):
    op = st.sampled_from(["=", "<>", "<", "<=", ">", ">="])
    return st.tuples(st.just("cmp"), st.just(column), op, values)


def predicates(column: str, values):
    leaf = st.one_of(
        comparison(column, values),
        st.tuples(st.just("between"), st.just(column), values, values),
        st.tuples(st.just("in"), st.just(column), st.lists(values, min_size=1, max_size=3)),
        st.tuples(st.just("notin"), st.just(column), st.lists(values, min_size=1, max_size=3)),
        st.tuples(st.just("isnull"), st.just(column)),
    )
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.tuples(st.just("and"), inner, inner),
            st.tuples(st.just("or"), inner, inner),
            st.tuples(st.just("not"), inner),
        ),
        max_leaves=5,
    )


def to_sql(p, literal) -> str:
    kind = p[0]
    if kind == "cmp":
        return f"{p[1]} {p[2]} {literal(p[3])}"
    if kind == "between":
        return f"{p[1]} BETWEEN {literal(p[2])} AND {literal(p[3])}"
    if kind in ("in", "notin"):
        items = ", ".join(literal(v) for v in p[2])
        return f"{p[1]} {'NOT IN' if kind == 'notin' else 'IN'} ({items})"
    if kind == "isnull":
        return f"{p[1]} IS NULL"
    if kind == "not":
        return f"NOT ({to_sql(p[1], literal)})"
    return f"({to_sql(p[1], literal)}) {kind.upper()} ({to_sql(p[2], literal)})"


def holds(p, row: dict):
    """SQL's three-valued result: True, False or None (unknown)."""
    kind = p[0]
    if kind == "isnull":
        return row[p[1]] is None
    if kind == "not":
        inner = holds(p[1], row)
        return None if inner is None else not inner
    if kind in ("and", "or"):
        a, b = holds(p[1], row), holds(p[2], row)
        if kind == "and":
            return False if (a is False or b is False) else (None if None in (a, b) else True)
        return True if (a is True or b is True) else (None if None in (a, b) else False)
    v = row[p[1]]
    if v is None:
        return None
    if kind == "cmp":
        return {"=": v == p[3], "<>": v != p[3], "<": v < p[3], "<=": v <= p[3],
                ">": v > p[3], ">=": v >= p[3]}[p[2]]
    if kind == "between":
        return p[2] <= v <= p[3]
    if kind == "in":
        return v in p[2]
    return v not in p[2]  # notin


# -- partition pruning ----------------------------------------------------------------

DAYS = [f"{d:02d}" for d in range(1, 13)]
TABLE = Table("db", "t", "/nowhere", [Column("x", "bigint")], [Column("day", "string")])
PARTITIONS = [Partition((d,), f"/nowhere/day={d}") for d in DAYS]


@settings(max_examples=60, deadline=None)
@given(predicates("day", st.sampled_from(DAYS + ["00", "13", "1", "9"])))
def test_partition_pruning_keeps_exactly_the_matching_partitions(p):
    sql = to_sql(p, lambda v: f"'{v}'")
    condition = sqlglot.parse_one(sql, read="athena")
    notes: list[str] = []
    kept = _prune_by_values(PARTITIONS, ["day"], TABLE, [condition], EVALUATOR, notes)
    assert not notes, notes
    assert [k.values[0] for k in kept] == [d for d in DAYS if holds(p, {"day": d}) is True], sql


# -- row-group pruning ----------------------------------------------------------------

@settings(max_examples=150, deadline=None)
@given(
    predicates("x", st.integers(-3, 12)),
    st.integers(-3, 12),
    st.integers(0, 6),
    st.booleans(),
)
def test_row_group_pruning_never_drops_a_match(p, low, width, has_nulls):
    sql = to_sql(p, str)
    domain = _domain(sqlglot.parse_one(sql, read="athena"), "x", "bigint", EVALUATOR)
    high = low + width
    values = list(range(low, high + 1)) + ([None] if has_nulls else [])
    could_match = any(holds(p, {"x": v}) is True for v in values)
    if domain is None:
        return  # no domain: nothing is ruled out
    kept = domain.may_match(low, high, 1 if has_nulls else 0, len(values))
    if could_match:
        assert kept, f"{sql} ruled out [{low}, {high}] nulls={has_nulls}"


@pytest.mark.parametrize(
    "sql, low, high, nulls, kept",
    [
        ("x = 1", 5, 9, 0, False),
        ("x = 7", 5, 9, 0, True),
        ("x <> 5", 5, 5, 0, False),        # a chunk of only 5s
        ("x <> 5", 5, 6, 0, True),
        ("x < 5", 5, 9, 0, False),
        ("x <= 5", 5, 9, 0, True),
        ("x BETWEEN 1 AND 4", 5, 9, 0, False),
        ("x IN (1, 2, 10)", 5, 9, 0, False),
        ("x NOT IN (5)", 5, 5, 0, False),
        ("x IS NULL", 5, 9, 0, False),
        ("x IS NULL", 5, 9, 3, True),
        ("NOT (x IS NULL)", None, None, 10, False),   # an all-NULL chunk
        ("NOT (x > 3)", 5, 9, 0, False),
        ("x > 1 AND x < 3", 5, 9, 0, False),
        ("x < 1 OR x > 30", 5, 9, 0, False),
        ("x < 1 OR x > 8", 5, 9, 0, True),
    ],
)
def test_row_group_forms(sql, low, high, nulls, kept):
    domain = _domain(sqlglot.parse_one(sql, read="athena"), "x", "bigint", EVALUATOR)
    assert domain.may_match(low, high, nulls, 10) is kept
