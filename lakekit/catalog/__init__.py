"""Catalogs: where table definitions, partitions and file statistics live."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakekit.catalog.base import (
    Catalog,
    Column,
    ColumnChunk,
    DataFile,
    IngestCommit,
    Load,
    Partition,
    RowGroup,
    Table,
)
from lakekit.config import Settings
from lakekit.errors import TableNotFound

if TYPE_CHECKING:  # pragma: no cover
    import boto3

__all__ = [
    "Catalog",
    "Column",
    "ColumnChunk",
    "DataFile",
    "IngestCommit",
    "Load",
    "Partition",
    "RowGroup",
    "Table",
    "open_catalog",
    "require_table",
]


def open_catalog(settings: Settings, boto3_session: "boto3.Session | None" = None) -> Catalog:
    """The catalog ``settings.catalog`` names: ``local`` (SQLite) or ``glue``."""
    if settings.catalog == "glue":
        from lakekit.catalog.glue import GlueCatalog

        return GlueCatalog(settings, boto3_session=boto3_session)
    from lakekit.catalog.local import LocalCatalog

    return LocalCatalog(settings.local_catalog_path())


def require_table(catalog: Catalog, database: str, name: str, where: str = "") -> Table:
    """The table, or :class:`TableNotFound` naming the closest existing table."""
    table = catalog.get_table(database, name)
    if table is not None:
        return table
    import difflib

    names = [t.qualified_name for t in catalog.list_tables()]
    close = difflib.get_close_matches(f"{database}.{name}", names, n=1)
    hint = f"; did you mean {close[0]}?" if close else "; `lakekit tables` lists the tables"
    place = f" ({where})" if where else ""
    raise TableNotFound(f"table {database}.{name} not found in catalog {catalog.name}{place}{hint}")
