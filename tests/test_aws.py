"""AWS clients of the default session: one per service while the environment boto3 reads
stays the same, fresh ones when it changes, and the old ones not kept (each holds its
service model, so a process changing its environment often would pile them up)."""

from __future__ import annotations

import gc
import weakref

import pytest

from lakekit.aws import aws_client, s3_filesystem


@pytest.fixture
def fake_aws(monkeypatch):
    """Credentials and an endpoint nothing listens on: clients are built, never called."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    return monkeypatch


def test_a_client_is_kept_while_the_environment_stays(fake_aws):
    glue = aws_client("glue")
    assert aws_client("glue") is glue
    assert aws_client("s3") is not glue and aws_client("s3") is aws_client("s3")
    assert s3_filesystem() is s3_filesystem()


def test_a_changed_environment_gets_fresh_clients_and_the_old_ones_go(fake_aws):
    old_glue, old_fs = aws_client("glue"), s3_filesystem()
    old_glue_ref, old_fs_ref = weakref.ref(old_glue), weakref.ref(old_fs)
    fake_aws.setenv("AWS_ENDPOINT_URL", "http://127.0.0.2:9")
    glue = aws_client("glue")
    assert glue is not old_glue and glue.meta.endpoint_url == "http://127.0.0.2:9"
    assert s3_filesystem() is not old_fs
    del old_glue, old_fs
    gc.collect()
    assert old_glue_ref() is None, "the client of the old environment is still kept"
    assert old_fs_ref() is None, "the S3 file system of the old environment is still kept"
