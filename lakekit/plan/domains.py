"""Domains: the set of values a predicate lets through one column, as ranges plus a
NULL verdict. ``AND``/``OR``/``NOT`` combine them; a row group (or a partition's time
span) whose min/max cannot meet the domain is skipped, as Trino's reader skips it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from lakekit.plan.evaluator import CannotEvaluate, ConstantEvaluator


@dataclass(frozen=True)
class Range:
    lo: Any = None  # None: unbounded
    lo_inclusive: bool = False
    hi: Any = None
    hi_inclusive: bool = False

    def overlaps(self, lo: Any, hi: Any) -> bool:
        """Whether this range meets the closed interval [lo, hi]."""
        if self.lo is not None and (hi < self.lo or (hi == self.lo and not self.lo_inclusive)):
            return False
        return not (self.hi is not None and (lo > self.hi or lo == self.hi and not self.hi_inclusive))

    def intersect(self, other: Range) -> Range | None:
        lo, lo_inc = self.lo, self.lo_inclusive
        if other.lo is not None and (lo is None or other.lo > lo or (other.lo == lo and not other.lo_inclusive)):
            lo, lo_inc = other.lo, other.lo_inclusive
        hi, hi_inc = self.hi, self.hi_inclusive
        if other.hi is not None and (hi is None or other.hi < hi or (other.hi == hi and not other.hi_inclusive)):
            hi, hi_inc = other.hi, other.hi_inclusive
        if lo is not None and hi is not None and (lo > hi or (lo == hi and not (lo_inc and hi_inc))):
            return None
        return Range(lo, lo_inc, hi, hi_inc)


@dataclass(frozen=True)
class Domain:
    ranges: tuple[Range, ...]
    #: the predicate's verdict on NULL: True keeps it, False and None (unknown) drop it
    null: bool | None = None

    def and_(self, other: Domain) -> Domain:
        ranges = tuple(r for a in self.ranges for b in other.ranges if (r := a.intersect(b)) is not None)
        return Domain(ranges, _and3(self.null, other.null))

    def or_(self, other: Domain) -> Domain:
        return Domain(self.ranges + other.ranges, _or3(self.null, other.null))

    def not_(self) -> Domain:
        complement = (Range(),)
        for r in self.ranges:
            pieces = []
            if r.lo is not None:
                pieces.append(Range(None, False, r.lo, not r.lo_inclusive))
            if r.hi is not None:
                pieces.append(Range(r.hi, not r.hi_inclusive, None, False))
            outside = Domain(tuple(pieces))
            complement = tuple(x for a in complement for b in outside.ranges if (x := a.intersect(b)) is not None)
        null = None if self.null is None else not self.null
        return Domain(complement, null)

    def may_match(self, lo: Any, hi: Any, nulls: int | None, rows: int) -> bool:
        if self.null is True and (nulls is None or nulls > 0):
            return True
        if lo is None or hi is None:
            # no range known: only an all-NULL chunk can be ruled out
            return not (nulls is not None and nulls >= rows)
        try:
            return any(r.overlaps(lo, hi) for r in self.ranges)
        except TypeError:  # values of kinds that do not compare: cannot rule anything out
            return True


def _and3(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    if a is True and b is True:
        return True
    return None


def _or3(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    if a is False and b is False:
        return False
    return None


FLIP = {exp.GT: exp.LT, exp.GTE: exp.LTE, exp.LT: exp.GT, exp.LTE: exp.GTE, exp.EQ: exp.EQ, exp.NEQ: exp.NEQ}


def domain_of(node: exp.Expression, column: str, athena_type: str, evaluator: ConstantEvaluator) -> Domain | None:
    """The values of ``column`` that ``node`` lets through; None when it cannot tell."""
    if isinstance(node, exp.Paren):
        return domain_of(node.this, column, athena_type, evaluator)
    if isinstance(node, exp.And):
        left = domain_of(node.left, column, athena_type, evaluator)
        right = domain_of(node.right, column, athena_type, evaluator)
        if left is None or right is None:
            return left or right
        return left.and_(right)
    if isinstance(node, exp.Or):
        left = domain_of(node.left, column, athena_type, evaluator)
        right = domain_of(node.right, column, athena_type, evaluator)
        return None if left is None or right is None else left.or_(right)
    if isinstance(node, exp.Not):
        inner = domain_of(node.this, column, athena_type, evaluator)
        return None if inner is None else inner.not_()
    if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
        return Domain((), True) if _is_column(node.this, column) else None
    try:
        if type(node) in FLIP:
            left, right = node.this, node.expression
            op = type(node)
            if not _is_column(left, column):
                left, right, op = right, left, FLIP[op]
            if not _is_column(left, column) or right.find(exp.Column):
                return _date_of_timestamp(node, column, athena_type, evaluator)
            return _comparison(op, evaluator.constant(right, athena_type))
        if isinstance(node, exp.Between) and _is_column(node.this, column):
            lo = evaluator.constant(node.args["low"], athena_type)
            hi = evaluator.constant(node.args["high"], athena_type)
            return Domain((Range(lo, True, hi, True),), None)
        if isinstance(node, exp.In) and _is_column(node.this, column) and not node.args.get("query"):
            values = [evaluator.constant(v, athena_type) for v in node.expressions]
            return Domain(tuple(Range(v, True, v, True) for v in values), None)
    except CannotEvaluate:
        return None
    return None


def _comparison(op: type, value: Any) -> Domain:
    if op is exp.EQ:
        return Domain((Range(value, True, value, True),), None)
    if op is exp.NEQ:
        return Domain((Range(None, False, value, False), Range(value, False, None, False)), None)
    if op is exp.GT:
        return Domain((Range(value, False, None, False),), None)
    if op is exp.GTE:
        return Domain((Range(value, True, None, False),), None)
    if op is exp.LT:
        return Domain((Range(None, False, value, False),), None)
    return Domain((Range(None, False, value, True),), None)  # LTE


def _date_of_timestamp(
    node: exp.Expression, column: str, athena_type: str, evaluator: ConstantEvaluator
) -> Domain | None:
    """``date(ts) op D`` / ``CAST(ts AS date) op D`` as a range of instants of ``ts``."""
    if athena_type != "timestamp":
        return None
    left, right, op = node.this, node.expression, type(node)
    if not _is_date_of(left, column):
        left, right, op = right, left, FLIP[op]
    if not _is_date_of(left, column) or right.find(exp.Column):
        return None
    day = evaluator.constant(right, "date")
    if isinstance(day, dt.datetime):
        day = day.date()
    days = _comparison(op, day)
    ranges = []
    for r in days.ranges:
        lo = hi = None
        lo_inc = hi_inc = False
        if r.lo is not None:
            start = r.lo if r.lo_inclusive else r.lo + dt.timedelta(days=1)
            lo, lo_inc = dt.datetime.combine(start, dt.time()), True
        if r.hi is not None:
            end = r.hi + dt.timedelta(days=1) if r.hi_inclusive else r.hi
            hi, hi_inc = dt.datetime.combine(end, dt.time()), False
        ranges.append(Range(lo, lo_inc, hi, hi_inc))
    return Domain(tuple(ranges), None)


def _is_column(node: exp.Expression, column: str) -> bool:
    return isinstance(node, exp.Column) and node.name == column


def _is_date_of(node: exp.Expression, column: str) -> bool:
    if isinstance(node, exp.Date) and _is_column(node.this, column):
        return True
    if isinstance(node, (exp.Cast, exp.TryCast)) and _is_column(node.this, column):
        return node.to.is_type(exp.DataType.Type.DATE)
    return False


def combined_domain(
    conjuncts: Iterable[exp.Expression], column: str, athena_type: str, evaluator: ConstantEvaluator
) -> Domain | None:
    result = None
    for c in conjuncts:
        d = domain_of(c, column, athena_type, evaluator)
        if d is None:
            continue
        result = d if result is None else result.and_(d)
    return result
