"""The table of Trino functions the local engine knows: :data:`FUNCTIONS`.

Why the table sits in a module of its own, below everything else in the package: both
passes look functions up in it (the type pass in :mod:`~lakekit.sql.trino.infer` for a
call's result type, the rewrite in :mod:`~lakekit.sql.trino.emit` for its DuckDB
spelling), while the modules that define functions (:mod:`~lakekit.sql.trino.functions`,
:mod:`~lakekit.sql.trino.datetime`, :mod:`~lakekit.sql.trino.formatting`) build on both
passes' helpers. Were the table in one of them, the imports would run in a circle. Here
it holds data only (how a function is typed and emitted is the passes' business), the
defining modules add their specs when imported, and the package's entry
(``lakekit/sql/trino/__init__.py``) imports each of them once, so the table is complete
before any statement is typed.

A function is in the table only when the local engine gives Trino's answer for it;
anything else is refused by name. A spec names the Trino function, the sqlglot classes
it parses into (and their argument keys in Trino's order), the result type, and the
DuckDB expression (a template over the arguments, or a builder).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from lakekit.sql.trino.types import TType

__all__ = ["FUNCTIONS", "F", "Registry", "Spec"]


@dataclass
class Spec:
    """One Trino function: ``ret`` is its result type or a rule ``(argument types, node)
    -> type``; ``emit`` a DuckDB template over the arguments (``{0}`` ...), a builder
    ``(emitter, node, arguments) -> expression``, or None to keep the call as it is."""

    name: str
    ret: Any
    emit: Any = None
    keys: tuple[str, ...] | None = None
    arity: tuple[int, int | None] = (0, None)
    lambdas: Callable[[list[TType]], list[list[TType]]] | None = None
    check: Callable[[list[TType], exp.Expression], None] | None = None
    constant_args: tuple[int, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def arguments(self, node: exp.Expression) -> list[exp.Expression]:
        """The call's arguments in Trino's order."""
        if isinstance(node, exp.Anonymous) or self.keys is None:
            if isinstance(node, exp.Anonymous):
                return list(node.expressions)
            keys = [k for k in type(node).arg_types]
        else:
            keys = list(self.keys)
        out: list[exp.Expression] = []
        for key in keys:
            value = node.args.get(key)
            if value is None:
                continue
            if isinstance(value, list):
                out.extend(v for v in value if isinstance(v, exp.Expression))
            elif isinstance(value, exp.Expression):
                out.append(value)
        return out


class Registry:
    """Specs by Trino name (for calls sqlglot leaves anonymous) and by sqlglot class."""

    def __init__(self) -> None:
        self.by_class: dict[type, Spec] = {}
        self.by_name: dict[str, Spec] = {}

    def add(self, names: str | tuple[str, ...], *classes: type, **kwargs: Any) -> Spec:
        names = (names,) if isinstance(names, str) else names
        # The defining modules fill the table in import order; refusing a second spec
        # for a name or class keeps the table the same whatever that order is.
        taken = [n for n in names if n in self.by_name] + [c.__name__ for c in classes if c in self.by_class]
        if taken:
            raise AssertionError(f"functions registered twice: {', '.join(taken)}")
        spec = Spec(names[0], **kwargs)
        for name in names:
            self.by_name[name] = spec
        for cls in classes:
            self.by_class[cls] = spec
        return spec

    def lookup(self, node: exp.Expression) -> Spec | None:
        if isinstance(node, exp.Anonymous):
            return self.by_name.get(node.name.lower())
        spec = self.by_class.get(type(node))
        if spec is not None and "name_of" in spec.extra:
            return spec.extra["name_of"](node)
        return spec


FUNCTIONS = Registry()
#: the short name the defining modules register with (``F.add(...)``)
F = FUNCTIONS
