"""Rewrite a typed Trino statement into DuckDB SQL with Trino's semantics.

The tree arrives typed by :mod:`lakekit.sql.trino.infer`. The rewrite runs bottom-up: each
node is replaced by DuckDB expressions that give Trino's answer (``a / b`` on integers
becomes ``a // b``, ``array_position`` returns 0 when nothing is found, a subscript
past the end raises as Athena does). This module holds the operators, literals and
query structure (``VALUES``, ``FETCH ... WITH TIES``, ``TRY``) and the table of node
rules; :mod:`~lakekit.sql.trino.casts` and :mod:`~lakekit.sql.trino.unnest` add their
rules to that table with :func:`rule`, and function calls are emitted as the specs in
:mod:`~lakekit.sql.trino.registry` say (filled by :mod:`~lakekit.sql.trino.functions` and
its siblings). The package's entry imports all of them, so the tables are complete.

>>> import sqlglot
>>> from lakekit.sql.trino.infer import Typer
>>> tree = sqlglot.parse_one("SELECT 7 / 2", read="athena")
>>> _ = Typer({}).query(tree)
>>> Emitter().run(tree).sql(dialect="duckdb")
'SELECT 7 // 2 AS "_col0"'
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import sqlglot
from sqlglot import exp

from lakekit.duckdb_macros import MACROS, _raises
from lakekit.sql.trino.errors import not_supported
from lakekit.sql.trino.infer import TYPE_KEY, ttype
from lakekit.sql.trino.literals import constant_string, unicode_text
from lakekit.sql.trino.registry import FUNCTIONS, Spec
from lakekit.sql.trino.types import DOUBLE, TType, decimal, duckdb_type

__all__ = ["Emitter", "rule", "template", "call", "string", "to_local", "from_local"]


# -- building DuckDB expressions -----------------------------------------------------------
@functools.cache
def _parsed_template(text: str) -> exp.Expression:
    import re

    sql = re.sub(r"\{(\d+)\}", r"__lk\1", text)
    return sqlglot.parse_one(sql, read="duckdb")


def template(text: str, *args: exp.Expression) -> exp.Expression:
    """A DuckDB expression from ``text`` with ``{0}``, ``{1}`` ... replaced by ``args``.

    >>> template("coalesce({0}, 0) + {1}", exp.column("x"), exp.Literal.number(2)).sql(dialect="duckdb")
    'COALESCE(x, 0) + 2'
    """
    tree = _parsed_template(text).copy()

    def fill(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name.startswith("__lk"):
            return args[int(node.name[4:])].copy()
        return node

    return tree.transform(fill, copy=False)


def call(name: str, *args: exp.Expression) -> exp.Expression:
    """``name(args...)``, printed verbatim for DuckDB."""
    return exp.Anonymous(this=name, expressions=list(args))


def string(text: str) -> exp.Literal:
    return exp.Literal.string(text)


def number(value: int | float) -> exp.Literal:
    return exp.Literal.number(value)


def _offset_minutes(zone: str) -> int | None:
    """Minutes east of UTC of a fixed-offset zone (``+05:30``), None for named zones."""
    if zone.startswith(("+", "-")):
        sign = 1 if zone[0] == "+" else -1
        hours, _, minutes = zone[1:].partition(":")
        return sign * (int(hours) * 60 + int(minutes or 0))
    return None


def to_local(value: exp.Expression, zone: str) -> exp.Expression:
    """The wall-clock TIMESTAMP in ``zone`` of the instant ``value`` (a TIMESTAMPTZ)."""
    minutes = _offset_minutes(zone)
    if minutes is None:
        return template("timezone({1}, {0})", value, string(zone))
    return template(f"CAST(timezone('UTC', {{0}}) AS TIMESTAMP) + to_minutes({minutes})", value)


def from_local(value: exp.Expression, zone: str) -> exp.Expression:
    """The instant (TIMESTAMPTZ) at which the wall clock of ``zone`` shows ``value``."""
    minutes = _offset_minutes(zone)
    if minutes is None:
        return template("timezone({1}, CAST({0} AS TIMESTAMP))", value, string(zone))
    return template(f"timezone('UTC', CAST({{0}} AS TIMESTAMP) - to_minutes({minutes}))", value)


def duck_cast(node: exp.Expression, t: TType | str) -> exp.Expression:
    """``CAST(node AS <DuckDB type of t>)``."""
    text = t if isinstance(t, str) else duckdb_type(t)
    return exp.Cast(this=node, to=exp.DataType.build(text, dialect="duckdb"))


# ---------------------------------------------------------------------------------------
class Emitter:
    """One rewrite of one statement. ``macros``: the DuckDB macros the SQL calls."""

    def __init__(self) -> None:
        self.macros: set[str] = set()
        self.try_depth = 0
        self._names = 0

    # -- helpers for rules -------------------------------------------------------------
    def macro(self, name: str, *args: exp.Expression) -> exp.Expression:
        """A call of one of lakekit's DuckDB macros (:mod:`lakekit.duckdb_macros`)."""
        if name not in MACROS:
            raise AssertionError(f"no macro {name}")
        if self.try_depth and _raises(name):
            name += "__try"
        self.macros.add(name)
        return call(name, *args)

    def fail(self, message: exp.Expression | str) -> exp.Expression:
        """Raise Athena's runtime error; inside TRY(...) the value is NULL, as in Trino."""
        if self.try_depth:
            return exp.Null()
        if isinstance(message, str):
            message = string(message)
        return call("error", message)

    def fresh(self, prefix: str = "lk") -> str:
        self._names += 1
        return f"{prefix}_{self._names}"

    # -- the rewrite ---------------------------------------------------------------------
    def run(self, tree: exp.Expression) -> exp.Expression:
        return self.rewrite(tree)

    def rewrite(self, node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Try):
            self.try_depth += 1
            try:
                inner = self.rewrite(node.this)
            finally:
                self.try_depth -= 1
            return _keep_type(node, call("TRY", inner))
        for key, value in list(node.args.items()):
            if isinstance(value, exp.Expression):
                node.set(key, self.rewrite(value))
            elif isinstance(value, list):
                node.set(key, [self.rewrite(v) if isinstance(v, exp.Expression) else v for v in value])
        rule = _RULES.get(type(node))
        if rule is not None:
            return _keep_type(node, rule(self, node))
        if TYPE_KEY in node.meta and isinstance(node, (exp.Func, exp.Anonymous)):
            spec = FUNCTIONS.lookup(node)
            if spec is not None:
                return _keep_type(node, self.function_call(spec, node))
        return node

    def function_call(self, spec: Spec, node: exp.Expression) -> exp.Expression:
        """The DuckDB spelling of a call of the function ``spec`` describes."""
        if spec.emit is None:
            return node
        args = spec.arguments(node)
        if isinstance(spec.emit, str):
            return template(spec.emit, *args)
        return spec.emit(self, node, args)


def _keep_type(old: exp.Expression, new: exp.Expression) -> exp.Expression:
    # The new expression stands for the old one: it has the old one's Trino type (a
    # hoisted child, as AT TIME ZONE's value, takes the zone of the whole).
    if new is not old and TYPE_KEY in old.meta:
        new.meta[TYPE_KEY] = old.meta[TYPE_KEY]
    return new


_RULES: dict[type, Callable[[Emitter, exp.Expression], exp.Expression]] = {}


def rule(*classes: type):
    def register(fn):
        for cls in classes:
            _RULES[cls] = fn
        return fn
    return register


# -- arithmetic -------------------------------------------------------------------------------
def _is_decimal_operation(node: exp.Binary) -> bool:
    return ttype(node).is_decimal


@rule(exp.Div)
def _div(em: Emitter, node: exp.Div) -> exp.Expression:
    t = ttype(node)
    a, b = node.left, node.right
    if t.is_integer:
        # DuckDB's // truncates toward zero and raises on a zero divisor, as Trino does.
        return exp.IntDiv(this=a, expression=b)
    if t.is_decimal:
        return decimal_divide(em, a, b, t)
    return node


def decimal_divide(em: Emitter, a: exp.Expression, b: exp.Expression, t: TType) -> exp.Expression:
    """Trino's decimal division: exact, at the result's scale, rounded half up."""
    ta, tb = ttype(a), ttype(b)
    sa, sb = (ta.scale if ta.is_decimal else 0), (tb.scale if tb.is_decimal else 0)
    rescale = t.scale - sa + sb
    numerator = template("CAST({0} * " + _power_of_ten(sa) + " AS HUGEINT)", a) if sa else duck_cast(a, "HUGEINT")
    denominator = template("CAST({0} * " + _power_of_ten(sb) + " AS HUGEINT)", b) if sb else duck_cast(b, "HUGEINT")
    quotient = em.macro("lk_decimal_divide", numerator, denominator, number(10**rescale))
    if em.try_depth:
        quotient = template("CASE WHEN {1} = 0 THEN NULL ELSE {0} END", quotient, denominator)
    scaled = template(f"CAST(CAST({{0}} AS DECIMAL(38,0)) * {_unit(t.scale)} AS {duckdb_type(t)})", quotient)
    return scaled


def _power_of_ten(scale: int) -> str:
    return "1" + "0" * scale


def _unit(scale: int) -> str:
    """``1``, ``0.1``, ``0.01`` ... as a DuckDB decimal literal of that scale."""
    if scale == 0:
        return "CAST(1 AS DECIMAL(1,0))"
    return f"CAST('0.{'0' * (scale - 1)}1' AS DECIMAL({scale},{scale}))"


@rule(exp.Add, exp.Sub, exp.Mul)
def _plus_minus_times(em: Emitter, node: exp.Binary) -> exp.Expression:
    t = ttype(node)
    left, right = ttype(node.left), ttype(node.right)
    if t.is_decimal:
        return duck_cast(node, t)
    if t.base == "date" and (left.is_interval or right.is_interval):
        interval = node.right if right.is_interval else node.left
        if isinstance(interval, exp.Interval) and not _whole_days(interval):
            raise not_supported("adding hours, minutes or seconds to a date", "Athena rejects it")
        return duck_cast(node, "DATE")
    if t.is_interval and (left.is_numeric or right.is_numeric):
        raise not_supported("interval arithmetic with numbers")
    if t.base == "interval day to second" and left.is_timestamp and right.is_timestamp:
        if left.base != right.base:
            raise not_supported("subtracting timestamps of different kinds")
        return node
    if t.base == "timestamp with time zone" and (left.is_interval or right.is_interval):
        zone = t.zone
        if zone is None:
            raise not_supported("timestamp with time zone arithmetic on a value of unknown zone")
        interval_type = right if right.is_interval else left
        if zone != "UTC" and interval_type.base == "interval year to month" or (
                zone != "UTC" and isinstance(node.right, exp.Interval) and _has_day_units(node.right)):
            ts, iv = (node.left, node.right) if right.is_interval else (node.right, node.left)
            op = "+" if isinstance(node, exp.Add) else "-"
            local = to_local(ts, zone)
            return from_local(template(f"{{0}} {op} {{1}}", local, iv), zone)
        return node
    return node


def _whole_days(interval: exp.Interval) -> bool:
    unit = interval.args.get("unit")
    name = unit.name.upper() if isinstance(unit, exp.Var) else ""
    return name in ("DAY", "DAYS", "YEAR", "YEARS", "MONTH", "MONTHS", "WEEK")


def _has_day_units(interval: exp.Interval) -> bool:
    unit = interval.args.get("unit")
    return isinstance(unit, exp.Var) and unit.name.upper() in ("DAY", "DAYS")


@rule(exp.Mod)
def _mod(em: Emitter, node: exp.Mod) -> exp.Expression:
    t = ttype(node)
    if t.is_decimal:
        return duck_cast(node, t)
    if t.is_floating:
        return template("fmod({0}, {1})", node.left, node.right)
    return node


@rule(exp.Neg)
def _neg(em: Emitter, node: exp.Neg) -> exp.Expression:
    return node


@rule(exp.DPipe)
def _concat_operator(em: Emitter, node: exp.DPipe) -> exp.Expression:
    return concat_values(em, [node.left, node.right], ttype(node))


def concat_values(em: Emitter, args: list[exp.Expression], t: TType) -> exp.Expression:
    """Trino's ``||`` / ``concat``: NULL if any argument is NULL; arrays and elements too."""
    if t.is_string or t.base == "varbinary":
        out = args[0]
        for arg in args[1:]:
            out = exp.DPipe(this=out, expression=arg, safe=False)
        return exp.Paren(this=out)
    if t.is_array:
        lists = [a if ttype(a).is_array or ttype(a).is_unknown else template("[{0}]", a) for a in args]
        out = lists[0]
        for item in lists[1:]:
            out = template("list_concat({0}, {1})", out, item)
        nulls = " OR ".join(f"{{{i}}} IS NULL" for i in range(len(lists)))
        return template(f"CASE WHEN {nulls} THEN NULL ELSE {{{len(lists)}}} END", *lists, out)
    raise not_supported(f"concatenation of {t}")


# -- comparisons ------------------------------------------------------------------------------
@rule(exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE, exp.NullSafeEQ, exp.NullSafeNEQ)
def _comparison(em: Emitter, node: exp.Binary) -> exp.Expression:
    left, right = node.left, node.right
    if isinstance(right, (exp.Any, exp.All)):
        inner = right.this
        if isinstance(inner, exp.Subquery):
            inner = inner.this
        if isinstance(inner, exp.Values):
            inner = exp.select("*").from_(inner)
        right.set("this", exp.Subquery(this=inner))
        return node
    a, b = _meta_type(left), _meta_type(right)
    if (a is not None and b is not None and (a.is_map or b.is_map)
            and not isinstance(node, (exp.EQ, exp.NEQ, exp.NullSafeEQ, exp.NullSafeNEQ))):
        raise not_supported("ordering comparison of maps")
    return node


def _meta_type(node: exp.Expression) -> TType | None:
    return node.meta.get(TYPE_KEY)


@rule(exp.Between)
def _between(em: Emitter, node: exp.Between) -> exp.Expression:
    if node.args.get("symmetric"):
        return template("(({0} BETWEEN {1} AND {2}) OR ({0} BETWEEN {2} AND {1}))",
                        node.this, node.args["low"], node.args["high"])
    node.set("symmetric", None)
    return node


# -- constructors and subscripts -------------------------------------------------------------------
@rule(exp.Array)
def _array(em: Emitter, node: exp.Array) -> exp.Expression:
    t = ttype(node)
    if not node.expressions:
        return template(f"CAST([] AS {duckdb_type(t)})") if not t.element.is_unknown else template("[]")
    items = [_coerce(e, t.element) for e in node.expressions]
    return exp.Array(expressions=items)


def _coerce(node: exp.Expression, t: TType) -> exp.Expression:
    """Cast ``node`` to ``t`` where Trino's implicit coercion changes the value's type."""
    current = _meta_type(node)
    if current is None or current == t or t.is_unknown:
        return node
    if current.is_unknown:
        return duck_cast(node, t)
    if t.is_decimal or (t.is_floating and not current.is_floating) or (t.is_integer and current != t):
        return duck_cast(node, t)
    if t.base == "timestamp" and current.base == "date":
        return duck_cast(node, t)
    if t.is_row or t.is_array or t.is_map:
        return duck_cast(node, t)
    return node


@rule(exp.Struct, exp.Tuple)
def _row(em: Emitter, node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Tuple) and isinstance(node.parent, (exp.Values, exp.In)):
        return node
    items = node.expressions
    return template("row(" + ", ".join(f"{{{i}}}" for i in range(len(items))) + ")", *items) if items else node


@rule(exp.Bracket)
def _subscript(em: Emitter, node: exp.Bracket) -> exp.Expression:
    base, index = node.this, node.expressions[0]
    t = ttype(base)
    safe = bool(node.args.get("safe"))
    if t.is_array:
        if safe:  # element_at: NULL past either end, an error for 0
            return template("CASE WHEN {1} = 0 THEN {2} ELSE list_extract({0}, {1}) END",
                            base, index, em.fail("SQL array indices start at 1"))
        return template(
            "CASE WHEN {1} > len({0}) THEN {2} WHEN {1} = 0 THEN {3} WHEN {1} < 0 THEN {4} ELSE list_extract({0}, {1}) END",
            base, index,
            em.fail(template("'Array subscript must be less than or equal to array length: ' || {1} || ' > ' || len({0})", base, index)),
            em.fail("SQL array indices start at 1"),
            em.fail(template("'Array subscript is negative: ' || {0}", index)),
        )
    if t.is_map:
        key = _coerce(index, t.elements[0])
        if safe:
            return template("{0}[{1}]", base, key)
        return template("CASE WHEN NOT list_contains(map_keys({0}), {1}) THEN {2} ELSE {0}[{1}] END",
                        base, key, em.fail(template("'Key not present in map: ' || CAST({0} AS VARCHAR)", key)))
    if t.is_row:
        return template("struct_extract_at({0}, {1})", base, index)
    return node


@rule(exp.Dot)
def _dot(em: Emitter, node: exp.Dot) -> exp.Expression:
    return template("struct_extract({0}, {1})", node.this, string(node.expression.name.lower()))


@rule(exp.Column)
def _column(em: Emitter, node: exp.Column) -> exp.Expression:
    return node


@rule(exp.Interval)
def _interval(em: Emitter, node: exp.Interval) -> exp.Expression:
    value = constant_string(node.this)
    unit = node.args.get("unit")
    if isinstance(unit, exp.IntervalSpan):
        if value is None:
            raise not_supported("INTERVAL with a computed value")
        first, second = unit.this.name.upper(), unit.expression.name.upper()
        if (first, second) == ("YEAR", "MONTH"):
            sign = -1 if value.strip().startswith("-") else 1
            years, _, months = value.strip().lstrip("+-").partition("-")
            total = sign * (int(years) * 12 + int(months or 0))
            return template(f"to_months({total})")
        raise not_supported(f"INTERVAL ... {first} TO {second}")
    name = unit.name.upper().rstrip("S") if unit is not None else ""
    if value is None:
        return node
    text = value.strip()
    if name in ("YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "WEEK") and not _is_integer_text(text):
        raise not_supported(f"INTERVAL '{value}' {name}")
    duck = {"YEAR": "to_years", "MONTH": "to_months", "DAY": "to_days", "HOUR": "to_hours",
            "MINUTE": "to_minutes", "SECOND": "to_microseconds", "WEEK": "to_weeks"}[name]
    if name == "SECOND":
        from decimal import Decimal

        micros = Decimal(text) * 1_000_000
        if micros != micros.to_integral_value():
            raise not_supported(f"INTERVAL '{value}' SECOND below a microsecond")
        return template(f"to_microseconds({int(micros)})")
    return template(f"{duck}({int(text)})")


def _is_integer_text(text: str) -> bool:
    return text.lstrip("+-").isdigit()


@rule(exp.AtTimeZone)
def _at_time_zone(em: Emitter, node: exp.AtTimeZone) -> exp.Expression:
    value_type = _meta_type(node.this)
    # The instant stays; only the zone it is shown in changes (the type carries it).
    if value_type is not None and value_type.base == "timestamp":
        return duck_cast(node.this, "TIMESTAMPTZ")
    return node.this


@rule(exp.Typeof)
def _typeof(em: Emitter, node: exp.Typeof) -> exp.Expression:
    t = node.this.meta.get(TYPE_KEY)
    return string(t.name())


@rule(exp.Literal)
def _literal(em: Emitter, node: exp.Literal) -> exp.Expression:
    t = _meta_type(node)
    if t is None or node.is_string:
        return node
    text = node.this.replace("_", "")
    if t.is_decimal:
        return template(f"CAST('{text}' AS {duckdb_type(t)})")
    if t == DOUBLE:
        return template(f"CAST('{text}' AS DOUBLE)")
    return exp.Literal.number(text) if text != node.this else node


@rule(exp.HexString)
def _hex_literal(em: Emitter, node: exp.HexString) -> exp.Expression:
    if node.args.get("is_integer"):
        return exp.Literal.number(int(node.this, 16))
    return template(f"unhex('{node.this}')")


@rule(exp.UnicodeString)
def _unicode_literal(em: Emitter, node: exp.UnicodeString) -> exp.Expression:
    return string(unicode_text(node))


@rule(exp.Like)
def _like(em: Emitter, node: exp.Like) -> exp.Expression:
    return node


@rule(exp.Escape)
def _escape(em: Emitter, node: exp.Escape) -> exp.Expression:
    return node


@rule(exp.Is)
def _is(em: Emitter, node: exp.Is) -> exp.Expression:
    return node


# -- query structure ------------------------------------------------------------------------------
@rule(exp.Select)
def _select(em: Emitter, node: exp.Select) -> exp.Expression:
    outputs = node.meta.get("trino_outputs")
    if outputs is not None:
        projections = []
        position = 0
        for projection in node.expressions:
            if isinstance(projection, exp.Star) or (isinstance(projection, exp.Column) and projection.is_star):
                projections.append(projection)
                position += 1
                continue
            name = outputs[position][0] if position < len(outputs) else None
            inner = projection.this if isinstance(projection, exp.Alias) else projection
            if name is not None:
                projections.append(exp.alias_(inner, name, quoted=True))
            else:
                projections.append(projection)
            position += 1
        node.set("expressions", projections)
    limit = node.args.get("limit")
    if isinstance(limit, exp.Fetch):
        options = limit.args.get("limit_options")
        if options is not None and options.args.get("with_ties"):
            return _with_ties(em, node, limit)
        if options is not None and options.args.get("percent"):
            raise not_supported("FETCH FIRST ... PERCENT")
    return node


def _with_ties(em: Emitter, node: exp.Select, fetch: exp.Fetch) -> exp.Expression:
    order = node.args.get("order")
    if order is None:
        raise not_supported("FETCH FIRST ... WITH TIES without ORDER BY")
    count = fetch.args.get("count") or exp.Literal.number(1)
    keys = []
    for ordered in order.expressions:
        key = ordered.this
        if isinstance(key, exp.Literal) and key.is_int:
            projection = node.expressions[int(key.this) - 1]
            key = projection.this if isinstance(projection, exp.Alias) else projection
        keys.append(exp.Ordered(this=key.copy(), desc=ordered.args.get("desc"), nulls_first=ordered.args.get("nulls_first")))
    window = exp.Window(this=exp.Anonymous(this="rank", expressions=[]), order=exp.Order(expressions=keys))
    node.set("limit", None)
    node.set("qualify", exp.Qualify(this=exp.LTE(this=window, expression=count)))
    return node


@rule(exp.Values)
def _values(em: Emitter, node: exp.Values) -> exp.Expression:
    t = ttype(node)
    rows = []
    for row_node in node.expressions:
        items = row_node.expressions if isinstance(row_node, exp.Tuple) else [row_node]
        rows.append(exp.Tuple(expressions=[_coerce(item, element) for item, element in zip(items, t.elements)]))
    node.set("expressions", rows)
    alias = node.args.get("alias")
    if alias is None or not alias.columns:
        names = [exp.to_identifier(f"_col{i}", quoted=True) for i in range(len(t.elements))]
        if alias is None:
            alias = exp.TableAlias(this=exp.to_identifier(em.fresh("values"), quoted=True), columns=names)
        else:
            alias.set("columns", names)
        node.set("alias", alias)
    parent = node.parent
    if parent is None or isinstance(parent, (exp.Union, exp.Intersect, exp.Except, exp.Subquery, exp.CTE)) and not isinstance(parent, exp.From):
        return exp.select("*").from_(node)
    return node


@rule(exp.Table)
def _table(em: Emitter, node: exp.Table) -> exp.Expression:
    sample = node.args.get("sample")
    if sample is not None:
        percent = sample.args.get("percent")
        sample.set("method", exp.var("BERNOULLI"))
        sample.set("percent", percent)
    return node


@rule(exp.Window, exp.Filter)
def _window(em: Emitter, node: exp.Expression) -> exp.Expression:
    # A cast that gives an aggregate Trino's result type goes around OVER (...) / FILTER.
    inner = node.this
    if isinstance(inner, exp.Cast):
        node.set("this", inner.this)
        return exp.Cast(this=node, to=inner.args["to"])
    if not isinstance(inner, (exp.Func, exp.Anonymous, exp.IgnoreNulls, exp.RespectNulls, exp.Window, exp.Filter)):
        raise not_supported(f"{_aggregate_name(node)} with OVER or FILTER",
                            "its Trino result needs more than one DuckDB aggregate")
    return node


def _aggregate_name(node: exp.Expression) -> str:
    inner = node.this
    while isinstance(inner, (exp.Window, exp.Filter)):
        inner = inner.this
    return inner.sql_name().lower() + "()" if isinstance(inner, exp.Func) else "this aggregate"


@rule(exp.Lambda)
def _lambda(em: Emitter, node: exp.Lambda) -> exp.Expression:
    return node


__all__ += ["decimal_divide", "concat_values", "duck_cast", "number", "_coerce", "decimal"]
