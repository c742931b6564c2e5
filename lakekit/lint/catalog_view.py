"""What query rules ask of the catalog: does a table exist, its partition keys, its size.

Lint works with or without a catalog. Without one, the partition keys are assumed
(``year``, ``month``, ``day``, ``dt``, ``date`` unless ``[lint] partition_keys``
says otherwise) and rules that need sizes or columns stay quiet.

>>> view = CatalogView(None, ("dt",))
>>> view.available, view.partition_keys(None, "events")
(False, frozenset({'dt'}))
"""

from __future__ import annotations

from functools import cache

from lakekit.catalog.base import Catalog, Table
from lakekit.sql import tables_schema


class CatalogView:
    """Read-only, cached look-ups on a catalog (or on none)."""

    def __init__(self, catalog: Catalog | None, assumed_partition_keys: tuple[str, ...]):
        self.catalog = catalog
        self.assumed_partition_keys = frozenset(assumed_partition_keys)
        self._assumed_order = tuple(assumed_partition_keys)
        self._tables: dict[tuple[str, str], Table] | None = None

    @property
    def available(self) -> bool:
        return self.catalog is not None

    def tables(self) -> dict[tuple[str, str], Table]:
        if self._tables is None:
            self._tables = {}
            if self.catalog is not None:
                for table in self.catalog.list_tables():
                    self._tables[(table.database.lower(), table.name.lower())] = table
        return self._tables

    def table(self, database: str | None, name: str) -> Table | None:
        """The table; an unqualified name matches when exactly one database has it."""
        name = name.lower()
        if database:
            return self.tables().get((database.lower(), name))
        matches = [t for (_, n), t in self.tables().items() if n == name]
        return matches[0] if len(matches) == 1 else None

    def partition_keys(self, database: str | None, name: str) -> frozenset[str]:
        """The table's partition keys; assumed ones when there is no catalog."""
        if self.catalog is None:
            return self.assumed_partition_keys
        table = self.table(database, name)
        return frozenset(k.name.lower() for k in table.partition_keys) if table else frozenset()

    def ordered_partition_keys(self, database: str | None, name: str) -> tuple[str, ...]:
        """The partition keys in the table's order (the configured order when assumed)."""
        if self.catalog is None:
            return self._assumed_order
        table = self.table(database, name)
        return tuple(k.name for k in table.partition_keys) if table else ()

    @cache  # noqa: B019 - one view lives for one lint run
    def size(self, database: str | None, name: str) -> int | None:
        """Bytes of the table's data files, or ``None`` when the catalog has no statistics."""
        table = self.table(database, name)
        if table is None or self.catalog is None:
            return None
        files = self.catalog.list_files(table.database, table.name)
        return sum(f.size for f in files) if files else None

    def schema(self) -> dict[str, dict[str, dict[str, str]]]:
        """``{db: {table: {column: type}}}`` for SQL analysis (qualify, scopes)."""
        return tables_schema(self.tables().values(), fold_case=True)
