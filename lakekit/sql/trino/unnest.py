"""Trino's ``UNNEST`` as a DuckDB lateral subquery.

Trino expands several arrays side by side (the shorter padded with NULLs), an array of
rows into one column per field, a map into key and value columns, and adds the position
with ``WITH ORDINALITY``. DuckDB's ``unnest()`` calls in one select list zip the same
way, so each form becomes ``LATERAL (SELECT unnest(a) ..., unnest(b) ...)``.
Importing the module adds the rule for ``UNNEST`` to the emitter's table.
"""

from __future__ import annotations

from sqlglot import exp

from lakekit.sql.trino.emit import Emitter, rule, template
from lakekit.sql.trino.errors import not_supported
from lakekit.sql.trino.infer import ttype

__all__ = ["emit_unnest"]


@rule(exp.Unnest)
def emit_unnest(em: Emitter, node: exp.Unnest) -> exp.Expression:
    inner: list[exp.Expression] = []  # unnest() calls of the inner select
    outer: list[tuple[exp.Expression, str | None]] = []  # columns of the result, unnamed
    lengths: list[exp.Expression] = []
    for arg in node.expressions:
        t = ttype(arg)
        name = em.fresh("lk_u")
        if t.is_map:
            inner.append(exp.alias_(template("unnest(map_keys({0}))", arg), name + "_k"))
            inner.append(exp.alias_(template("unnest(map_values({0}))", arg), name + "_v"))
            outer.append((exp.column(name + "_k"), None))
            outer.append((exp.column(name + "_v"), None))
            lengths.append(template("coalesce(cardinality({0}), 0)", arg))
            continue
        if not (t.is_array or t.is_unknown):
            raise not_supported(f"UNNEST of {t}")
        inner.append(exp.alias_(template("unnest({0})", arg), name))
        lengths.append(template("coalesce(len({0}), 0)", arg))
        if t.is_array and t.element.is_row:
            for i in range(len(t.element.elements)):
                outer.append((template("struct_extract_at({0}, {1})", exp.column(name), exp.Literal.number(i + 1)), None))
        else:
            outer.append((exp.column(name), None))
    ordinality = node.args.get("offset")
    if ordinality:
        longest = lengths[0] if len(lengths) == 1 else exp.Anonymous(this="greatest", expressions=lengths)
        inner.append(exp.alias_(template("unnest(generate_series(1, {0}))", longest), "lk_ordinality"))
        outer.append((exp.column("lk_ordinality"), None))
    alias = node.args.get("alias")
    names = [c.name for c in alias.columns] if alias is not None and alias.columns else []
    if isinstance(ordinality, exp.Identifier):
        names.append(ordinality.name)
    if not names:
        names = [f"_col{i}" for i in range(len(outer))]
    if len(names) != len(outer):
        raise not_supported("UNNEST with this column alias list")
    expanded = exp.select(*inner)
    columns = [exp.alias_(expr, name, quoted=True) for (expr, _), name in zip(outer, names)]
    select = exp.select(*columns).from_(expanded.subquery(em.fresh("lk_unnest")))
    table_alias = exp.TableAlias(this=exp.to_identifier(alias.name if alias is not None and alias.name else em.fresh("lk_t"), quoted=True))
    if isinstance(node.parent, (exp.Join, exp.Lateral)):
        return exp.Lateral(this=exp.Subquery(this=select), alias=table_alias)
    return exp.Subquery(this=select, alias=table_alias)
