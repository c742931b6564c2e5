"""Trino's type of every expression in a query, and Trino's type checks.

The pass walks a parsed statement the way Trino's analyzer does: relations first (tables,
derived tables, CTEs, ``VALUES``, ``UNNEST``), then each clause's expressions bottom-up.
Every expression gets ``node.meta["tt"]``, its :class:`~lakekit.sql.trino.types.TType`;
column types come from the catalog schema. A comparison or operator Trino rejects
raises :class:`~lakekit.sql.trino.errors.TrinoTypeError` with Athena's message; an
expression the local engine has no Trino semantics for raises
:class:`~lakekit.sql.trino.errors.NotSupportedLocally`.

>>> import sqlglot
>>> tree = sqlglot.parse_one("SELECT 5 / 2 AS q, x || 'a' AS s FROM t", read="athena")
>>> [(name, t.name()) for name, t in Typer({"t": {"x": VARCHAR}}).query(tree)]
[('q', 'integer'), ('s', 'varchar')]
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlglot import exp

from lakekit.sql.trino.errors import TrinoTypeError, not_supported
from lakekit.sql.trino.literals import constant_zone, literal_zone, unicode_text
from lakekit.sql.trino.registry import FUNCTIONS, Spec
from lakekit.sql.trino.types import (
    BIGINT,
    BOOLEAN,
    DATE,
    DOUBLE,
    INTEGER,
    INTERVAL_DAY_SECOND,
    INTERVAL_YEAR_MONTH,
    JSON,
    REAL,
    UNKNOWN,
    VARBINARY,
    VARCHAR,
    TType,
    array,
    comparable,
    decimal,
    map_of,
    parse_type,
    row,
    super_type,
    timestamp,
    timestamp_tz,
    varchar,
)

__all__ = ["Typer", "ttype", "set_type", "datatype_to_ttype", "function_type", "lambda_result"]

TYPE_KEY = "tt"
#: the base of a lambda argument's type: its parameters' types, then its body's
FUNCTION = "function"


def ttype(node: exp.Expression) -> TType:
    """The Trino type the pass gave ``node``."""
    t = node.meta.get(TYPE_KEY) if node.meta else None
    if t is None:
        raise AssertionError(f"untyped expression {node.sql(dialect='athena')!r}")  # a bug in the pass
    return t


def set_type(node: exp.Expression, t: TType) -> TType:
    node.meta[TYPE_KEY] = t
    return t


def function_type(params: list[TType], result: TType) -> TType:
    """The type of a lambda argument taking ``params`` and giving ``result``."""
    return TType(FUNCTION, elements=(*params, result))


def lambda_result(t: TType) -> TType:
    """The type of the body of a lambda of type ``t``."""
    return t.elements[-1]


def datatype_to_ttype(dt: exp.DataType) -> TType:
    """A sqlglot DataType (as the Athena parser read it) as a Trino type."""
    if dt.this == exp.DType.USERDEFINED:
        return parse_type(dt.sql(dialect="trino"))
    text = dt.sql(dialect="trino")
    try:
        t = parse_type(text)
    except ValueError:
        raise not_supported(f"type {text.lower()}") from None
    if t.is_decimal and not dt.expressions:
        return decimal(38, 0)  # CAST(x AS DECIMAL) is decimal(38,0) in Trino
    return t


@dataclass
class Relation:
    """The columns a FROM item provides (lower-case names, in order)."""

    columns: dict[str, TType]
    #: the names as written (for messages and ``*``)
    names: list[str] = field(default_factory=list)


class Env:
    """What names an expression can see: its FROM items, the enclosing query's (for
    correlated subqueries), lambda parameters, and output aliases (ORDER BY)."""

    def __init__(self, relations: dict[str, Relation], outer: Env | None = None,
                 lambdas: dict[str, TType] | None = None, aliases: dict[str, TType] | None = None) -> None:
        self.relations = relations
        self.outer = outer
        self.lambdas = lambdas or {}
        self.aliases = aliases or {}

    def with_lambdas(self, params: dict[str, TType]) -> Env:
        return Env(self.relations, self.outer, {**self.lambdas, **params}, self.aliases)

    def with_aliases(self, aliases: dict[str, TType]) -> Env:
        return Env(self.relations, self.outer, self.lambdas, aliases)

    def column(self, name: str, table: str | None) -> TType:
        key = name.lower()
        if table:
            relation = self._relation(table.lower())
            if relation is not None:
                if key in relation.columns:
                    return relation.columns[key]
                raise TrinoTypeError(_unknown_column(name, relation.columns, table))
            if table.lower() in self.lambdas:  # s.sum: a field of a lambda's row parameter
                return _field_of(self.lambdas[table.lower()], name)
            found = self._lookup_unqualified(table.lower())  # t.x where t is a row column
            if found is not None:
                return _field_of(found, name)
            raise TrinoTypeError(f"column {table}.{name} cannot be resolved: no table {table} in this query")
        if key in self.lambdas:
            return self.lambdas[key]
        if key in self.aliases:  # ORDER BY reads output names before input columns, as Trino does
            return self.aliases[key]
        found = self._lookup_unqualified(key)
        if found is not None:
            return found
        if key in self.aliases:
            return self.aliases[key]
        everything = {c: t for env in self._chain() for r in env.relations.values() for c, t in r.columns.items()}
        raise TrinoTypeError(_unknown_column(name, everything, None))

    def _chain(self):
        env: Env | None = self
        while env is not None:
            yield env
            env = env.outer

    def _relation(self, alias: str) -> Relation | None:
        for env in self._chain():
            if alias in env.relations:
                return env.relations[alias]
        return None

    def _lookup_unqualified(self, key: str) -> TType | None:
        for env in self._chain():
            matches = [r.columns[key] for r in env.relations.values() if key in r.columns]
            if len(matches) > 1:
                raise TrinoTypeError(f"column '{key}' is ambiguous")
            if matches:
                return matches[0]
            if key in env.lambdas:
                return env.lambdas[key]
        return None


def _unknown_column(name: str, columns, table: str | None) -> str:
    where = f" in {table}" if table else ""
    close = difflib.get_close_matches(name.lower(), list(columns), n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"column '{name}' cannot be resolved{where}{hint}"


def _field_of(t: TType, name: str) -> TType:
    if not t.is_row:
        raise TrinoTypeError(f"expression of type {t.name()} has no field {name}")
    for field_name, element in zip(t.fields, t.elements):
        if field_name == name.lower():
            return element
    raise TrinoTypeError(f"column '{name}' cannot be resolved: the row {t.name()} has no such field")


# ---------------------------------------------------------------------------------------
class Typer:
    """Types a statement. ``tables``: table name -> column name -> type (str or TType)."""

    def __init__(self, tables: dict[str, dict[str, TType | str]]) -> None:
        self.tables = {
            name.lower(): Relation(
                {c.lower(): (t if isinstance(t, TType) else parse_type(t)) for c, t in columns.items()},
                list(columns),
            )
            for name, columns in tables.items()
        }
        self._ctes: list[dict[str, Relation]] = []

    # -- queries -------------------------------------------------------------------------
    def query(self, node: exp.Expression, outer: Env | None = None) -> list[tuple[str, TType]]:
        """The output columns (name, type) of a query expression, typing everything inside."""
        with_ = node.args.get("with_") if isinstance(node, exp.Query) else None
        if with_ is not None:
            self._ctes.append({})
            try:
                for cte in with_.expressions:
                    self._ctes[-1][cte.alias_or_name.lower()] = self._cte(cte, outer, with_.args.get("recursive"))
                return self._query_body(node, outer)
            finally:
                self._ctes.pop()
        return self._query_body(node, outer)

    def _cte(self, cte: exp.CTE, outer: Env | None, recursive: bool) -> Relation:
        body = cte.this
        alias_columns = [c.name for c in cte.args["alias"].columns] if cte.args.get("alias") and cte.args["alias"].columns else None
        if recursive and isinstance(body, exp.Union):
            base = self.query(body.left, outer)
            names = alias_columns or [n for n, _ in base]
            self._ctes[-1][cte.alias_or_name.lower()] = Relation(
                {n.lower(): t for n, (_, t) in zip(names, base)}, names)
        columns = self.query(body, outer)
        names = alias_columns or [n for n, _ in columns]
        if len(names) != len(columns):
            raise TrinoTypeError(f"WITH query {cte.alias_or_name} has {len(columns)} columns but {len(names)} column names")
        return Relation({n.lower(): t for n, (_, t) in zip(names, columns)}, names)

    def _query_body(self, node: exp.Expression, outer: Env | None) -> list[tuple[str, TType]]:
        if isinstance(node, exp.Select):
            return self._select(node, outer)
        if isinstance(node, exp.SetOperation):
            left = self.query(node.left, outer)
            right = self.query(node.right, outer)
            if node.args.get("by_name") or node.args.get("corresponding") or node.args.get("on"):
                raise not_supported("UNION/INTERSECT/EXCEPT CORRESPONDING")
            if len(left) != len(right):
                raise TrinoTypeError(
                    f"{node.key.upper()} query has different number of fields: {len(left)}, {len(right)}")
            out = []
            for (name, a), (_, b) in zip(left, right):
                t = super_type(a, b)
                if t is None:
                    raise TrinoTypeError(f"column {name} in {node.key.upper()} query has incompatible types: {a}, {b}")
                out.append((name, t))
            self._order_limit(node, Env({}, outer, aliases={n.lower(): t for n, t in out}), out)
            return out
        if isinstance(node, exp.Subquery):
            return self.query(node.this, outer)
        if isinstance(node, exp.Values):
            return self._values(node, outer)
        raise not_supported(f"{node.key.upper()} statements")

    def _values(self, node: exp.Values, outer: Env | None) -> list[tuple[str, TType]]:
        env = Env({}, outer)
        width = None
        types: list[TType] = []
        for row_node in node.expressions:
            items = row_node.expressions if isinstance(row_node, exp.Tuple) else [row_node]
            row_types = [self.expr(item, env) for item in items]
            if width is None:
                width, types = len(row_types), row_types
                continue
            if len(row_types) != width:
                raise TrinoTypeError("Values rows have mismatched sizes")
            merged = []
            for a, b in zip(types, row_types):
                t = super_type(a, b)
                if t is None:
                    raise TrinoTypeError(f"Values rows have mismatched types: {a}, {b}")
                merged.append(t)
            types = merged
        set_type(node, row(types))
        return [(f"_col{i}", t) for i, t in enumerate(types)]

    def _select(self, node: exp.Select, outer: Env | None) -> list[tuple[str, TType]]:
        relations: dict[str, Relation] = {}
        from_ = node.args.get("from_")
        sources = ([from_.this] if from_ is not None else []) + [j.this for j in node.args.get("joins") or []]
        for source in sources:
            alias, relation = self._source(source, Env(dict(relations), outer))
            relations[alias] = relation
        env = Env(relations, outer)
        for join in node.args.get("joins") or []:
            if join.args.get("on") is not None:
                self._boolean(join.args["on"], env, "JOIN ON")
            if join.args.get("using"):
                raise not_supported("JOIN ... USING")
        if node.args.get("where") is not None:
            self._boolean(node.args["where"].this, env, "WHERE")
        group = node.args.get("group")
        if group is not None:
            for key in ("expressions", "grouping_sets", "cube", "rollup"):
                for item in group.args.get(key) or []:
                    self._group_item(item, env, node)
            if group.args.get("totals"):
                raise not_supported("GROUP BY ... WITH TOTALS")
        outputs: list[tuple[str, TType]] = []
        for projection in list(node.expressions):
            if isinstance(projection, exp.Star) or (isinstance(projection, exp.Column) and projection.is_star):
                table = projection.table if isinstance(projection, exp.Column) else None
                for alias, relation in relations.items():
                    if table and alias != table.lower():
                        continue
                    for name in relation.names or list(relation.columns):
                        outputs.append((name, relation.columns[name.lower()]))
                set_type(projection, UNKNOWN)
                continue
            t = self.expr(projection, env)
            outputs.append((self._output_name(projection, len(outputs)), t))
        if node.args.get("having") is not None:
            self._boolean(node.args["having"].this, env, "HAVING")
        if node.args.get("qualify") is not None:
            raise not_supported("QUALIFY")
        for window in node.args.get("windows") or []:
            self._window_spec(window, env)
        self._order_limit(node, env.with_aliases({n.lower(): t for n, t in outputs}), outputs)
        node.meta["trino_outputs"] = outputs
        return outputs

    def _group_item(self, item: exp.Expression, env: Env, select: exp.Select) -> None:
        if isinstance(item, (exp.GroupingSets, exp.Cube, exp.Rollup)):
            for inner in item.expressions:
                self._group_item(inner, env, select)
            set_type(item, UNKNOWN)
            return
        if isinstance(item, exp.Tuple):
            for inner in item.expressions:
                self._group_item(inner, env, select)
            set_type(item, UNKNOWN)
            return
        if isinstance(item, exp.Literal) and item.is_int:
            index = int(item.this)
            if not 1 <= index <= len(select.expressions):
                raise TrinoTypeError(f"GROUP BY position {index} is not in select list")
            set_type(item, BIGINT)
            return
        self.expr(item, env)

    def _order_limit(self, node: exp.Expression, env: Env, outputs: list[tuple[str, TType]]) -> None:
        order = node.args.get("order")
        if order is not None:
            for ordered in order.expressions:
                key = ordered.this
                if isinstance(key, exp.Literal) and key.is_int:
                    index = int(key.this)
                    if not 1 <= index <= len(outputs):
                        raise TrinoTypeError(f"ORDER BY position {index} is not in select list")
                    set_type(key, outputs[index - 1][1])
                else:
                    self.expr(key, env)
                set_type(ordered, UNKNOWN)
        for key in ("limit", "offset"):
            clause = node.args.get(key)
            if clause is not None and clause.args.get("expression") is not None:
                self.expr(clause.args["expression"], Env({}))

    @staticmethod
    def _output_name(projection: exp.Expression, index: int) -> str:
        if isinstance(projection, exp.Alias):
            # sqlglot's qualify names unnamed projections _col_0; Athena calls them _col0
            m = re.fullmatch(r"_col_(\d+)", projection.alias)
            return f"_col{m.group(1)}" if m else projection.alias
        if isinstance(projection, exp.Column):
            return projection.name
        if isinstance(projection, exp.Dot):
            return projection.name
        return f"_col{index}"

    # -- FROM items ----------------------------------------------------------------------
    def _source(self, node: exp.Expression, env: Env) -> tuple[str, Relation]:
        alias_node = node.args.get("alias")
        alias_columns = [c.name for c in alias_node.columns] if alias_node is not None and alias_node.columns else None
        if isinstance(node, exp.Table):
            if node.args.get("sample") is not None:
                self._sample(node.args["sample"])
            relation = self._table(node)
            alias = node.alias_or_name
        elif isinstance(node, exp.Subquery):
            relation = self._relation_of(self.query(node.this, env if node.args.get("lateral") else env.outer))
            alias = node.alias
        elif isinstance(node, exp.Lateral):
            inner = node.this
            if isinstance(inner, exp.Subquery):
                relation = self._relation_of(self.query(inner.this, env))
            else:
                raise not_supported(f"LATERAL {inner.key.upper()}")
            alias = node.alias
        elif isinstance(node, exp.Unnest):
            relation = self._unnest(node, env)
            alias = node.alias
            alias_columns = None  # applied by _unnest
        elif isinstance(node, exp.Values):
            relation = self._relation_of(self._values(node, env.outer))
            alias = node.alias
        else:
            raise not_supported(f"{node.key.upper()} in FROM")
        if alias_columns:
            if len(alias_columns) != len(relation.columns):
                raise TrinoTypeError(
                    f"Column alias list has {len(alias_columns)} entries but relation {alias or ''} has {len(relation.columns)} columns")
            relation = Relation({a.lower(): t for a, t in zip(alias_columns, relation.columns.values())}, alias_columns)
        set_type(node, row(list(relation.columns.values()), list(relation.columns)))
        return (alias or f"_relation{id(node)}").lower(), relation

    @staticmethod
    def _relation_of(columns: list[tuple[str, TType]]) -> Relation:
        out: dict[str, TType] = {}
        names = []
        for name, t in columns:
            out.setdefault(name.lower(), t)
            names.append(name)
        return Relation(out, names)

    def _table(self, node: exp.Table) -> Relation:
        name = node.name.lower()
        if not node.db:
            for ctes in reversed(self._ctes):
                if name in ctes:
                    return ctes[name]
        if name in self.tables:
            return self.tables[name]
        raise TrinoTypeError(f"table {node.sql(dialect='athena')} does not exist")

    def _sample(self, sample: exp.TableSample) -> None:
        method = (sample.args.get("method").name if sample.args.get("method") else "").upper()
        if method not in ("BERNOULLI",):
            raise not_supported(f"TABLESAMPLE {method or ''}".strip(),
                                "Athena samples S3 splits; DuckDB samples vectors")
        if sample.args.get("percent") is None:
            raise not_supported("TABLESAMPLE without a percentage")
        self.expr(sample.args["percent"], Env({}))

    def _unnest(self, node: exp.Unnest, env: Env) -> Relation:
        columns: list[TType] = []
        for arg in node.expressions:
            t = self.expr(arg, env)
            if t.is_array:
                element = t.element
                if element.is_row:
                    columns.extend(element.elements)
                else:
                    columns.append(element)
            elif t.is_map:
                columns.extend(t.elements)
            elif t.is_unknown:
                columns.append(UNKNOWN)
            else:
                raise TrinoTypeError(f"Cannot unnest type: {t}")
        if node.args.get("offset"):
            columns.append(BIGINT)
        alias_node = node.args.get("alias")
        names = [c.name for c in alias_node.columns] if alias_node is not None and alias_node.columns else None
        ordinality = node.args.get("offset")
        if names is not None and isinstance(ordinality, exp.Identifier):
            names.append(ordinality.name)
        if names is None:
            names = [f"_col{i}" for i in range(len(columns))]
        if len(names) != len(columns):
            raise TrinoTypeError(
                f"Column alias list has {len(names)} entries but 'UNNEST' has {len(columns)} columns available")
        return Relation({n.lower(): t for n, t in zip(names, columns)}, names)

    # -- expressions ---------------------------------------------------------------------
    def _boolean(self, node: exp.Expression, env: Env, clause: str) -> None:
        t = self.expr(node, env)
        if t not in (BOOLEAN, UNKNOWN):
            raise TrinoTypeError(f"{clause} clause must evaluate to a boolean: actual type {t}")

    def expr(self, node: exp.Expression, env: Env) -> TType:
        """Type ``node`` (and everything under it) in ``env``."""
        handler = _HANDLERS.get(type(node))
        if handler is not None:
            t = handler(self, node, env)
        else:
            spec = FUNCTIONS.lookup(node)
            if spec is None:
                raise not_supported(_describe(node))
            t = self.function_call(spec, node, env)
        return set_type(node, t)

    def function_call(self, spec: Spec, node: exp.Expression, env: Env) -> TType:
        """The result type of a call of the function ``spec`` describes."""
        args = spec.arguments(node)
        low, high = spec.arity
        if len(args) < low or (high is not None and len(args) > high):
            raise TrinoTypeError(f"Unexpected parameters for function {spec.name}: {len(args)} arguments")
        types: list[TType] = []
        lambda_params = None
        for i, arg in enumerate(args):
            if isinstance(arg, exp.Lambda):
                if spec.lambdas is None:
                    raise TrinoTypeError(f"function {spec.name} does not take a lambda")
                if lambda_params is None:
                    lambda_params = spec.lambdas(types)
                params = lambda_params[sum(1 for a in args[:i] if isinstance(a, exp.Lambda))]
                types.append(self._lambda_argument(arg, params, env))
                continue
            if i in spec.constant_args:
                types.append(set_type(arg, VARCHAR))
                continue
            types.append(self.expr(arg, env))
        if spec.check is not None:
            spec.check(types, node)
        return spec.ret(types, node) if callable(spec.ret) else spec.ret

    def _lambda_argument(self, node: exp.Lambda, params: list[TType], env: Env) -> TType:
        names = [p.name.lower() for p in node.expressions]
        if len(names) != len(params):
            raise TrinoTypeError(f"lambda takes {len(params)} arguments, got {len(names)}")
        for identifier, t in zip(node.expressions, params):
            set_type(identifier, t)
        body_type = self.expr(node.this, env.with_lambdas(dict(zip(names, params))))
        return set_type(node, function_type(params, body_type))

    def exprs(self, nodes, env: Env) -> list[TType]:
        return [self.expr(n, env) for n in nodes]


def _describe(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):
        return f"function {node.name.lower()}()"
    if isinstance(node, exp.Func):
        # the name the Athena dialect prints, which is the one the user wrote
        text = node.sql(dialect="athena")
        name = text.split("(", 1)[0].strip().lower()
        if not name.replace("_", "").isalnum():
            name = node.sql_name().lower()
        return f"function {name}()"
    return f"{node.key.upper()} expression"


# ---------------------------------------------------------------------------------------
# Handlers for operators and SQL syntax; functions live in lakekit.sql.trino.functions.
_HANDLERS: dict[type, Callable[[Typer, exp.Expression, Env], TType]] = {}


def handles(*classes: type):
    def register(fn):
        for cls in classes:
            _HANDLERS[cls] = fn
        return fn
    return register


@handles(exp.Literal)
def _literal(typer: Typer, node: exp.Literal, env: Env) -> TType:
    if node.is_string:
        return varchar(len(node.this))
    text = node.this.replace("_", "")
    if "e" in text.lower():
        return DOUBLE
    if "." in text:
        whole, _, fraction = text.partition(".")
        digits = whole.lstrip("0") + fraction
        precision = max(len(digits), len(fraction), 1)
        if precision > 38:
            return DOUBLE
        return decimal(precision, len(fraction))
    value = int(text)
    if -(2**31) <= value < 2**31:
        return INTEGER
    if -(2**63) <= value < 2**63:
        return BIGINT
    return decimal(len(text.lstrip("-")), 0)


@handles(exp.Null)
def _null(typer, node, env):
    return UNKNOWN


@handles(exp.Boolean)
def _boolean_literal(typer, node, env):
    return BOOLEAN


@handles(exp.HexString)
def _hex(typer, node, env):
    if node.args.get("is_integer"):
        return BIGINT if int(node.this, 16) >= 2**31 else INTEGER
    return VARBINARY


@handles(exp.UnicodeString)
def _unicode(typer, node, env):
    return varchar(len(unicode_text(node)))


@handles(exp.Column)
def _column(typer: Typer, node: exp.Column, env: Env) -> TType:
    if node.is_star:
        raise TrinoTypeError("'*' is only allowed in the select list and count(*)")
    return env.column(node.name, node.table or None)


@handles(exp.Identifier)
def _identifier(typer: Typer, node: exp.Identifier, env: Env) -> TType:
    return env.column(node.name, None)


@handles(exp.Dot)
def _dot(typer: Typer, node: exp.Dot, env: Env) -> TType:
    base = typer.expr(node.this, env)
    return _field_of(base, node.expression.name)


@handles(exp.Paren)
def _paren(typer, node, env):
    return typer.expr(node.this, env)


@handles(exp.Alias)
def _alias(typer, node, env):
    return typer.expr(node.this, env)


@handles(exp.Neg)
def _neg(typer, node, env):
    t = typer.expr(node.this, env)
    if not (t.is_numeric or t.is_interval or t.is_unknown):
        raise TrinoTypeError(f"Cannot negate {t}")
    return t


# -- arithmetic ---------------------------------------------------------------------------
def arithmetic_type(op: str, a: TType, b: TType) -> TType:
    """Trino's result type of ``a <op> b`` for + - * / %; raises Athena's error if none."""
    if a.is_unknown and b.is_unknown:
        return UNKNOWN
    if a.is_unknown:
        a = b if b.is_numeric or op in "+-" else a
    if b.is_unknown:
        b = a if a.is_numeric or op in "+-" else b
    if a.is_numeric and b.is_numeric:
        if a.base == "double" or b.base == "double":
            return DOUBLE
        if a.base == "real" or b.base == "real":
            return REAL
        if a.is_integer and b.is_integer:
            return super_type(a, b)
        x = decimal(a.precision, a.scale) if a.is_integer else a
        y = decimal(b.precision, b.scale) if b.is_integer else b
        return decimal_arithmetic_type(op, x, y)
    if op in "+-":
        if a.base == "date" and b.is_interval:
            return DATE
        if b.base == "date" and a.is_interval and op == "+":
            return DATE
        if a.is_timestamp and b.is_interval:
            return a
        if b.is_timestamp and a.is_interval and op == "+":
            return b
        if a.base in ("time", "time with time zone") and b.base == "interval day to second":
            return a
        if a.is_interval and a == b:
            return a
        if op == "-" and a.is_timestamp and b.is_timestamp:
            return INTERVAL_DAY_SECOND
        if op == "-" and a.base == b.base == "date":
            raise not_supported("date - date", "use date_diff('day', a, b)")
    if op in "*/" and (a.is_interval and b.is_numeric or (op == "*" and a.is_numeric and b.is_interval)):
        return a if a.is_interval else b
    raise TrinoTypeError(f"'{op}' cannot be applied to {a}, {b}")


def decimal_arithmetic_type(op: str, x: TType, y: TType) -> TType:
    """Trino's (legacy, Athena engine v3) decimal result type rules."""
    xp, xs, yp, ys = x.precision, x.scale, y.precision, y.scale
    if op in "+-":
        return decimal(min(38, 1 + max(xs, ys) + max(xp - xs, yp - ys)), max(xs, ys))
    if op == "*":
        return decimal(min(38, xp + yp), xs + ys)
    if op == "/":
        return decimal(min(38, xp + ys + max(ys - xs, 0)), max(xs, ys))
    return decimal(min(xp - xs, yp - ys) + max(xs, ys), max(xs, ys))


def _arith(op: str):
    def handler(typer: Typer, node: exp.Binary, env: Env) -> TType:
        return arithmetic_type(op, typer.expr(node.left, env), typer.expr(node.right, env))
    return handler


for _cls, _op in ((exp.Add, "+"), (exp.Sub, "-"), (exp.Mul, "*"), (exp.Div, "/"), (exp.Mod, "%")):
    _HANDLERS[_cls] = _arith(_op)


@handles(exp.DPipe)
def _concat_operator(typer: Typer, node: exp.DPipe, env: Env) -> TType:
    a, b = typer.expr(node.left, env), typer.expr(node.right, env)
    return concat_type(a, b, "||")


def concat_type(a: TType, b: TType, name: str) -> TType:
    if (a.is_string or a.is_unknown) and (b.is_string or b.is_unknown):
        if a.length is not None and b.length is not None:
            return varchar(a.length + b.length)
        return VARCHAR
    if a.base == b.base == "varbinary" or (a.base == "varbinary" and b.is_unknown) or (b.base == "varbinary" and a.is_unknown):
        return VARBINARY
    if a.is_array and b.is_array:
        t = super_type(a, b)
        if t is not None:
            return t
    if a.is_array and (super_type(a.element, b) is not None) and not b.is_array:
        return array(super_type(a.element, b))
    if b.is_array and (super_type(b.element, a) is not None) and not a.is_array:
        return array(super_type(b.element, a))
    raise TrinoTypeError(f"'{name}' cannot be applied to {a}, {b}")


# -- comparisons and logic -----------------------------------------------------------------
_OPERATOR_NAMES = {
    exp.EQ: "=", exp.NEQ: "<>", exp.LT: "<", exp.LTE: "<=", exp.GT: ">", exp.GTE: ">=",
    exp.NullSafeEQ: "IS NOT DISTINCT FROM", exp.NullSafeNEQ: "IS DISTINCT FROM",
}


def check_comparable(op: str, a: TType, b: TType, ordering: bool = False) -> None:
    if not comparable(a, b):
        raise TrinoTypeError(f"'{op}' cannot be applied to {a}, {b}")
    if ordering and (a.is_map or b.is_map):
        raise TrinoTypeError(f"'{op}' cannot be applied to {a}, {b}")


@handles(exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE, exp.NullSafeEQ, exp.NullSafeNEQ)
def _comparison(typer: Typer, node: exp.Binary, env: Env) -> TType:
    op = _OPERATOR_NAMES[type(node)]
    right = node.right
    if isinstance(right, exp.Anonymous) and right.name.upper() in ("ALL", "ANY", "SOME") and len(right.expressions) == 1:
        # sqlglot reads "x < ALL (VALUES ...)" as a call of a function named ALL
        quantifier = exp.All if right.name.upper() == "ALL" else exp.Any
        right = quantifier(this=right.expressions[0])
        node.set("expression", right)
    a = typer.expr(node.left, env)
    if isinstance(right, (exp.Any, exp.All)):
        columns = typer.query(right.this.this if isinstance(right.this, exp.Subquery) else right.this, env)
        if len(columns) != 1:
            raise TrinoTypeError("Multiple columns returned by subquery are not yet supported")
        set_type(right, columns[0][1])
        b = columns[0][1]
    else:
        b = typer.expr(right, env)
    check_comparable(op, a, b, ordering=op in ("<", "<=", ">", ">="))
    return BOOLEAN


@handles(exp.And, exp.Or)
def _logic(typer: Typer, node: exp.Binary, env: Env) -> TType:
    for side in (node.left, node.right):
        t = typer.expr(side, env)
        if t not in (BOOLEAN, UNKNOWN):
            op = "AND" if isinstance(node, exp.And) else "OR"
            raise TrinoTypeError(f"{op} operand must evaluate to a boolean: actual type {t}")
    return BOOLEAN


@handles(exp.Not)
def _not(typer, node, env):
    t = typer.expr(node.this, env)
    if t not in (BOOLEAN, UNKNOWN):
        raise TrinoTypeError(f"NOT operand must evaluate to a boolean: actual type {t}")
    return BOOLEAN


@handles(exp.Is)
def _is(typer, node, env):
    typer.expr(node.this, env)
    typer.expr(node.expression, env)
    return BOOLEAN


@handles(exp.Between)
def _between(typer, node, env):
    value = typer.expr(node.this, env)
    low, high = typer.expr(node.args["low"], env), typer.expr(node.args["high"], env)
    check_comparable("BETWEEN", value, low)
    check_comparable("BETWEEN", value, high)
    return BOOLEAN


@handles(exp.In)
def _in(typer, node, env):
    value = typer.expr(node.this, env)
    if node.args.get("query") is not None:
        query = node.args["query"]
        columns = typer.query(query.this if isinstance(query, exp.Subquery) else query, env)
        if len(columns) != 1:
            raise TrinoTypeError("Multiple columns returned by subquery are not yet supported")
        set_type(query, columns[0][1])
        check_comparable("IN", value, columns[0][1])
        return BOOLEAN
    if node.args.get("unnest") is not None:
        raise not_supported("IN UNNEST")
    for item in node.expressions:
        check_comparable("IN", value, typer.expr(item, env))
    return BOOLEAN


@handles(exp.Like, exp.ILike)
def _like(typer, node, env):
    value = typer.expr(node.this, env)
    pattern = node.expression
    if isinstance(pattern, exp.Escape):
        typer.expr(pattern.this, env)
        typer.expr(pattern.expression, env)
        set_type(pattern, VARCHAR)
    else:
        typer.expr(pattern, env)
    if isinstance(node, exp.ILike):
        raise not_supported("ILIKE", "Athena has no ILIKE")
    if not (value.is_string or value.is_unknown):
        raise TrinoTypeError(f"Left side of LIKE expression must evaluate to a varchar (actual: {value})")
    return BOOLEAN


@handles(exp.Escape)
def _escape(typer, node, env):
    inner = node.this
    escape = typer.expr(node.expression, env)
    if not escape.is_string:
        raise TrinoTypeError(f"ESCAPE must be a varchar, got {escape}")
    if isinstance(inner, exp.Like):
        return typer.expr(inner, env)
    raise not_supported("ESCAPE outside LIKE")


@handles(exp.Exists)
def _exists(typer, node, env):
    typer.query(node.this, env)
    return BOOLEAN


@handles(exp.Subquery)
def _scalar_subquery(typer, node, env):
    columns = typer.query(node.this, env)
    if len(columns) != 1:
        raise TrinoTypeError("Multiple columns returned by subquery are not yet supported")
    return columns[0][1]


# -- conditionals -------------------------------------------------------------------------
def common(types: list[TType], what: str) -> TType:
    out = UNKNOWN
    for t in types:
        merged = super_type(out, t)
        if merged is None:
            raise TrinoTypeError(f"All {what} must be the same type or coercible to a common type: {out}, {t}")
        out = merged
    return out


@handles(exp.Case)
def _case(typer, node, env):
    operand = typer.expr(node.this, env) if node.this is not None else None
    results = []
    for when in node.args.get("ifs") or []:
        condition = typer.expr(when.this, env)
        if operand is not None:
            check_comparable("=", operand, condition)
        elif condition not in (BOOLEAN, UNKNOWN):
            raise TrinoTypeError(f"CASE WHEN clause must evaluate to a boolean: actual type {condition}")
        results.append(typer.expr(when.args["true"], env))
        set_type(when, results[-1])
    if node.args.get("default") is not None:
        results.append(typer.expr(node.args["default"], env))
    return common(results, "CASE results")


@handles(exp.If)
def _if(typer, node, env):
    condition = typer.expr(node.this, env)
    if condition not in (BOOLEAN, UNKNOWN):
        raise TrinoTypeError(f"IF condition must evaluate to a boolean: actual type {condition}")
    results = [typer.expr(node.args["true"], env)]
    if node.args.get("false") is not None:
        results.append(typer.expr(node.args["false"], env))
    return common(results, "IF results")


@handles(exp.Coalesce)
def _coalesce(typer, node, env):
    return common([typer.expr(node.this, env), *typer.exprs(node.expressions, env)], "COALESCE operands")


@handles(exp.Nullif)
def _nullif(typer, node, env):
    a, b = typer.expr(node.this, env), typer.expr(node.expression, env)
    check_comparable("NULLIF", a, b)
    return a


@handles(exp.Try)
def _try(typer, node, env):
    return typer.expr(node.this, env)


# -- casts ----------------------------------------------------------------------------------
@handles(exp.Cast, exp.TryCast)
def _cast(typer, node, env):
    source = typer.expr(node.this, env)
    target = datatype_to_ttype(node.args["to"])
    if node.args.get("format") is not None:
        raise not_supported("CAST ... FORMAT")
    if isinstance(node.this, exp.Literal) and node.this.is_string and node.args.get("lakekit_literal"):
        pass
    check_cast(source, target)
    if target.base == "timestamp with time zone" and isinstance(node.this, exp.Literal) and node.this.is_string:
        return target.with_zone(literal_zone(node.this.this))
    return target


_CASTABLE_FROM_VARCHAR = {"boolean", "tinyint", "smallint", "integer", "bigint", "real", "double", "decimal",
                          "varchar", "char", "date", "timestamp", "timestamp with time zone", "time", "json",
                          "varbinary", "interval day to second", "interval year to month", "uuid"}


def check_cast(source: TType, target: TType) -> None:
    """Trino's rule for which casts exist (a missing one is a type error everywhere)."""
    if source.is_unknown or source == target:
        return
    if source.is_string and target.base in _CASTABLE_FROM_VARCHAR:
        return
    if target.is_string and (source.is_numeric or source.is_temporal or source.base in ("boolean", "json", "varchar", "char", "uuid")):
        return
    if source.is_numeric and (target.is_numeric or target.base in ("boolean", "json")):
        return
    if source.base == "boolean" and (target.is_numeric or target.base == "json"):
        return
    if source.is_temporal and target.is_temporal and not (source.base == "date" and target.base.startswith("time ")):
        return
    if source.base == "json" and (target.is_numeric or target.is_string or target.base == "boolean"
                                  or target.is_array or target.is_map or target.is_row):
        return
    if target.base == "json" and (source.is_array or source.is_map or source.is_row):
        return
    if source.is_array and target.is_array:
        check_cast(source.element, target.element)
        return
    if source.is_map and target.is_map:
        check_cast(source.elements[0], target.elements[0])
        check_cast(source.elements[1], target.elements[1])
        return
    if source.is_row and target.is_row and len(source.elements) == len(target.elements):
        for a, b in zip(source.elements, target.elements):
            check_cast(a, b)
        return
    if source.base == "varbinary" and target.base == "varbinary":
        return
    raise TrinoTypeError(f"Cannot cast {source} to {target}")


# -- constructors -----------------------------------------------------------------------
@handles(exp.Array)
def _array(typer, node, env):
    elements = typer.exprs(node.expressions, env)
    return array(common(elements, "ARRAY elements"))


@handles(exp.Struct, exp.Tuple)
def _row(typer, node, env):
    names: list[str | None] = []
    types = []
    for item in node.expressions:
        if isinstance(item, (exp.PropertyEQ, exp.Alias)):
            raise not_supported("named ROW fields outside CAST")
        types.append(typer.expr(item, env))
        names.append(None)
    return row(types, names)


@handles(exp.Bracket)
def _subscript(typer, node, env):
    base = typer.expr(node.this, env)
    if len(node.expressions) != 1 or isinstance(node.expressions[0], exp.Slice):
        raise not_supported("array slices with [a:b]")
    index = typer.expr(node.expressions[0], env)
    if base.is_array:
        if not (index.is_integer or index.is_unknown):
            raise TrinoTypeError(f"Cannot use {index} for subscript of {base}")
        return base.element
    if base.is_map:
        if super_type(base.elements[0], index) is None:
            raise TrinoTypeError(f"Cannot use {index} for subscript of {base}")
        return base.elements[1]
    if base.is_row:
        if isinstance(node.expressions[0], exp.Literal) and node.expressions[0].is_int:
            position = int(node.expressions[0].this)
            if 1 <= position <= len(base.elements):
                return base.elements[position - 1]
        raise TrinoTypeError(f"Invalid subscript of {base}")
    if base.is_unknown:
        return UNKNOWN
    raise TrinoTypeError(f"Cannot use subscript on {base}")


@handles(exp.Interval)
def _interval(typer, node, env):
    unit = node.args.get("unit")
    if isinstance(unit, exp.IntervalSpan):
        first = unit.this.name.upper()
        return INTERVAL_YEAR_MONTH if first in ("YEAR", "MONTH") else INTERVAL_DAY_SECOND
    name = unit.name.upper() if unit is not None else ""
    if name in ("YEAR", "MONTH", "YEARS", "MONTHS"):
        return INTERVAL_YEAR_MONTH
    if name in ("DAY", "HOUR", "MINUTE", "SECOND", "DAYS", "HOURS", "MINUTES", "SECONDS"):
        return INTERVAL_DAY_SECOND
    raise not_supported(f"INTERVAL ... {name or '(no unit)'}")


@handles(exp.AtTimeZone)
def _at_time_zone(typer, node, env):
    value = typer.expr(node.this, env)
    zone = typer.expr(node.args["zone"], env)
    if not zone.is_string:
        raise TrinoTypeError(f"AT TIME ZONE needs a varchar zone, got {zone}")
    if not value.is_timestamp:
        raise TrinoTypeError(f"Cannot apply AT TIME ZONE to {value}")
    zone_node = node.args["zone"]
    return timestamp_tz(value.precision, constant_zone(zone_node, "AT TIME ZONE"))


@handles(exp.Lambda)
def _lambda(typer, node, env):
    raise TrinoTypeError("lambda expressions are only allowed as function arguments")


# -- windows and aggregate modifiers ----------------------------------------------------------
@handles(exp.Window)
def _window(typer: Typer, node: exp.Window, env: Env) -> TType:
    typer._window_spec(node, env)
    inner = node.this
    if isinstance(inner, (exp.IgnoreNulls, exp.RespectNulls)):
        t = typer.expr(inner.this, env)
        set_type(inner, t)
        return t
    return typer.expr(inner, env)


def _window_spec(self: Typer, node: exp.Expression, env: Env) -> None:
    for item in node.args.get("partition_by") or []:
        self.expr(item, env)
    order = node.args.get("order")
    if order is not None:
        for ordered in order.expressions:
            self.expr(ordered.this, env)
            set_type(ordered, UNKNOWN)
    spec = node.args.get("spec")
    if spec is not None:
        for key in ("start", "end"):
            bound = spec.args.get(key)
            if isinstance(bound, exp.Expression):
                self.expr(bound, env)
        if spec.args.get("kind", "").upper() == "GROUPS":
            raise not_supported("window frames in GROUPS")


Typer._window_spec = _window_spec  # type: ignore[attr-defined]


@handles(exp.Filter)
def _filter(typer, node, env):
    t = typer.expr(node.this, env)
    where = node.expression
    typer._boolean(where.this, env, "FILTER")
    set_type(where, BOOLEAN)
    return t


@handles(exp.IgnoreNulls, exp.RespectNulls)
def _nulls_treatment(typer, node, env):
    return typer.expr(node.this, env)


@handles(exp.Distinct)
def _distinct(typer, node, env):
    types = typer.exprs(node.expressions, env)
    return types[0] if len(types) == 1 else row(types)


@handles(exp.Order)
def _order_in_aggregate(typer, node, env):
    t = typer.expr(node.this, env)
    for ordered in node.expressions:
        typer.expr(ordered.this, env)
        set_type(ordered, UNKNOWN)
    return t


@handles(exp.Star)
def _star(typer, node, env):
    return UNKNOWN


# json and maps use these, re-exported for lakekit.sql.trino.functions
__all__ += ["Env", "Relation", "arithmetic_type", "common", "concat_type", "check_cast", "check_comparable",
            "JSON", "map_of", "timestamp", "BOOLEAN"]


@handles(exp.Typeof)
def _typeof(typer, node, env):
    typer.expr(node.this, env)
    return VARCHAR
