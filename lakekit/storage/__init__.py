"""Storage: the warehouse's files, local or on S3, behind one :class:`Storage`."""

from __future__ import annotations

from lakekit.paths import is_s3, join, split_s3
from lakekit.storage.base import Backend, FileEntry
from lakekit.storage.s3_upload import S3Upload
from lakekit.storage.warehouse import Storage

__all__ = ["Backend", "FileEntry", "S3Upload", "Storage", "is_s3", "join", "split_s3"]
