"""The schema SQL analysis qualifies against: ``{db: {table: {column: athena_type}}}``.

The one place a catalog's tables become sqlglot's ``MappingSchema`` dict. Partition
keys are included as ordinary columns, as Athena exposes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Schema = dict[str, dict[str, dict[str, str]]]


def tables_schema(tables: Iterable[Any], *, fold_case: bool = False) -> Schema:
    """The schema of ``tables`` (:class:`lakekit.catalog.Table` objects).

    ``fold_case`` lowercases database and table names, as Athena folds them.
    """
    schema: Schema = {}
    for table in tables:
        database, name = (table.database.lower(), table.name.lower()) if fold_case else (table.database, table.name)
        schema.setdefault(database, {})[name] = {c.name: c.type for c in (*table.columns, *table.partition_keys)}
    return schema


def catalog_schema(catalog: Any) -> Schema:
    """The sqlglot ``MappingSchema`` dict ``{db: {table: {column: type}}}`` of a catalog.

    Partition keys are included as ordinary columns, as Athena exposes them.

    >>> from lakekit.catalog.base import Column, Table
    >>> class Tiny:
    ...     def list_tables(self, database=None):
    ...         return [Table("analytics", "events", "/lake", [Column("ts", "timestamp")],
    ...                       [Column("year", "string")])]
    >>> catalog_schema(Tiny())
    {'analytics': {'events': {'ts': 'timestamp', 'year': 'string'}}}
    """
    return tables_schema(catalog.list_tables())
