"""Catalogs: where table definitions, partitions and file statistics live."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakekit.catalog.base import (
    Catalog,
    Column,
    ColumnChunk,
    Commit,
    CommitResult,
    DataFile,
    Load,
    Partition,
    RowGroup,
    Table,
    require_table,
)
from lakekit.config import Settings

if TYPE_CHECKING:  # pragma: no cover
    import boto3

__all__ = [
    "Catalog",
    "Column",
    "ColumnChunk",
    "Commit",
    "CommitResult",
    "DataFile",
    "Load",
    "Partition",
    "RowGroup",
    "Table",
    "open_catalog",
    "require_table",
]


def open_catalog(settings: Settings, boto3_session: boto3.Session | None = None, *,
                 read_only: bool = False) -> Catalog:
    """The catalog ``settings.catalog`` names: ``local`` (SQLite) or ``glue``.

    ``read_only``: for commands that only read (tables, describe, query, lint): nothing
    is created (a local catalog that does not exist reads as empty) and nothing written.
    """
    if settings.catalog == "glue":
        from lakekit.catalog.glue import GlueCatalog

        return GlueCatalog(settings, boto3_session=boto3_session, read_only=read_only)
    from lakekit.catalog.local import LocalCatalog

    location = settings.warehouse if not (settings.catalog_path or settings.is_s3) else settings.local_catalog_path()
    return LocalCatalog(settings.local_catalog_path(), location=location, warehouse=settings.warehouse,
                        read_only=read_only)
