"""The schema SQL analysis qualifies against: ``{db: {table: {column: athena_type}}}``.

The one place a catalog's tables become sqlglot's ``MappingSchema`` dict. Partition
keys are included as ordinary columns, as Athena exposes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Schema = dict[str, dict[str, dict[str, str]]]

#: Athena's hidden columns of every table, with their Athena types: each row's data
#: file, its size and its last modification. ``SELECT *`` does not show them.
PSEUDO_COLUMNS: dict[str, str] = {
    "$path": "varchar",
    "$file_size": "bigint",
    "$file_modified_time": "timestamp(3) with time zone",
}


def qualification_schema(schema: Schema | None) -> Any:
    """``schema`` as sqlglot's ``MappingSchema``, every table also holding the
    :data:`PSEUDO_COLUMNS`, hidden from ``*`` (sqlglot's visible columns).

    >>> from sqlglot import parse_one
    >>> from sqlglot.optimizer.qualify import qualify
    >>> mapping = qualification_schema({"db": {"t": {"x": "bigint"}}})
    >>> qualify(parse_one('SELECT *, "$path" FROM db.t', read="athena"), schema=mapping, dialect="athena").sql()
    'SELECT "t"."x" AS "x", "t"."$path" AS "$path" FROM "db"."t" AS "t"'
    """
    from sqlglot.schema import MappingSchema

    if not schema:
        return None
    full: dict[str, Any] = {}
    visible: dict[str, Any] = {}
    for database, tables in schema.items():
        for table, columns in tables.items():
            full.setdefault(database, {})[table] = {**columns, **{k: v for k, v in PSEUDO_COLUMNS.items()
                                                                   if k not in columns}}
            visible.setdefault(database, {})[table] = set(columns)
    return MappingSchema(full, visible=visible, dialect="athena")


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
