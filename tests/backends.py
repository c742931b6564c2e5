"""The two places a lake can live, as one parametrized fixture: tests written once run
against a local folder + SQLite catalog and against s3:// + Glue on the moto server."""

from __future__ import annotations

from dataclasses import dataclass

import boto3
import pytest
from botocore.awsrequest import AWSResponse

BUCKET = "lake"


@dataclass
class BackendLake:
    kind: str  # "local" or "aws"
    warehouse: str
    catalog: str
    #: a place outside the warehouse for data lakekit did not write
    raw: str

    @property
    def settings(self):
        from lakekit.config import resolve_settings

        return resolve_settings(warehouse=self.warehouse, catalog=self.catalog)

    def storage(self):
        from lakekit.storage import Storage

        return Storage(self.warehouse)

    def open_catalog(self):
        from lakekit.catalog import open_catalog

        return open_catalog(self.settings)

    def filesystem(self):
        """(pyarrow filesystem, path prefix) to write raw data with pyarrow directly."""
        import pyarrow.fs as pafs

        from lakekit.aws import s3_filesystem

        if self.kind == "aws":
            return s3_filesystem(), self.raw[len("s3://"):]
        return pafs.LocalFileSystem(), self.raw


def make_lake(kind: str, request, tmp_path) -> BackendLake:
    if kind == "local":
        (tmp_path / "raw").mkdir(exist_ok=True)
        return BackendLake("local", str(tmp_path / "lake"), "local", str(tmp_path / "raw"))
    request.getfixturevalue("aws")
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    return BackendLake("aws", f"s3://{BUCKET}/warehouse", "glue", f"s3://{BUCKET}/raw")


@pytest.fixture(params=["local", "aws"])
def backend_lake(request, tmp_path) -> BackendLake:
    """A lake on either backend: a local folder + SQLite, or s3:// + Glue on the moto server."""
    return make_lake(request.param, request, tmp_path)


@pytest.fixture
def s3_lake(request, tmp_path) -> BackendLake:
    """A lake on s3:// + Glue (moto server)."""
    return make_lake("aws", request, tmp_path)


class _Raw:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_):
        yield self.body


def error_response(status: int, code: str, message: str = "injected fault") -> AWSResponse:
    """An AWS error reply, to return from a botocore ``before-send`` handler."""
    body = (f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
            f"<Message>{message}</Message></Error>").encode()
    return AWSResponse("http://fault", status, {"Content-Type": "application/xml"}, _Raw(body))
