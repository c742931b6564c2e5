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
    require_table,
)
from lakekit.config import Settings

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


def open_catalog(settings: Settings, boto3_session: boto3.Session | None = None) -> Catalog:
    """The catalog ``settings.catalog`` names: ``local`` (SQLite) or ``glue``."""
    if settings.catalog == "glue":
        from lakekit.catalog.glue import GlueCatalog

        return GlueCatalog(settings, boto3_session=boto3_session)
    from lakekit.catalog.local import LocalCatalog

    location = settings.warehouse if not (settings.catalog_path or settings.is_s3) else settings.local_catalog_path()
    return LocalCatalog(settings.local_catalog_path(), location=location)
