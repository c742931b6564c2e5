"""`lakekit serverless template`: valid by cfn-lint (offline), with exactly the Glue
actions the handler calls (recorded against the moto server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import boto3
import botocore.client
import yaml

from lakekit.serverless import handler
from lakekit.serverless.sam import GLUE_ACTIONS
from tests.helpers import LAKEKIT


def _template(tmp_path, *extra) -> tuple[str, dict]:
    out = subprocess.run([LAKEKIT, "serverless", "template", "--table", "analytics.events", "--source",
                          "s3://raw-zone/events/", "--warehouse", "s3://lake-zone/warehouse", *extra],
                         capture_output=True, text=True, check=True)
    path = tmp_path / "template.yaml"
    path.write_text(out.stdout)
    return str(path), yaml.safe_load(out.stdout)


def test_the_template_passes_cfn_lint(tmp_path):
    path, doc = _template(tmp_path, "--timestamp-column", "ts")
    lint = subprocess.run([os.path.join(os.path.dirname(sys.executable), "cfn-lint"), path],
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fn = doc["Resources"]["IngestFunction"]["Properties"]
    assert fn["ImageConfig"]["Command"] == ["lakekit.serverless.handler"]
    assert fn["Environment"]["Variables"] == {"LAKEKIT_TABLE": "analytics.events", "LAKEKIT_WAREHOUSE":
                                              "s3://lake-zone/warehouse", "LAKEKIT_CATALOG": "glue",
                                              "LAKEKIT_TIMESTAMP_COLUMN": "ts"}
    pattern = fn["Events"]["ObjectCreated"]["Properties"]["Pattern"]
    assert pattern["detail"] == {"bucket": {"name": ["raw-zone"]}, "object": {"key": [{"prefix": "events/"}]}}
    assert fn["DeadLetterQueue"]["TargetArn"] == {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}


def test_a_warehouse_inside_the_source_is_refused(tmp_path):
    out = subprocess.run([LAKEKIT, "serverless", "template", "--table", "a.b", "--source", "s3://raw/",
                          "--warehouse", "s3://raw/lake"], capture_output=True, text=True)
    assert out.returncode == 2 and "would ingest its own output" in out.stderr


def test_the_policy_holds_every_glue_action_the_handler_calls(tmp_path, aws, monkeypatch):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="raw-zone")
    s3.create_bucket(Bucket="lake-zone")
    for k, v in {"LAKEKIT_TABLE": "analytics.events", "LAKEKIT_TIMESTAMP_COLUMN": "ts",
                 "LAKEKIT_WAREHOUSE": "s3://lake-zone/warehouse", "LAKEKIT_CATALOG": "glue"}.items():
        monkeypatch.setenv(k, v)
    called: set[tuple[str, str]] = set()
    real = botocore.client.BaseClient._make_api_call

    def recording(self, operation, params):
        called.add((self.meta.service_model.service_name, operation))
        return real(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    for day in (1, 2, 1):  # a new table, a new partition, an existing partition
        key = f"events/{day}-{len(called)}.jsonl"
        s3.put_object(Bucket="raw-zone", Key=key, Body=json.dumps({"id": day, "ts": f"2024-06-0{day}T00:00:00Z"}).encode())
        handler({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                              "s3": {"bucket": {"name": "raw-zone"}, "object": {"key": key}}}]})
    glue = {f"glue:{op}" for service, op in called if service == "glue"}
    assert glue and glue <= set(GLUE_ACTIONS), sorted(glue - set(GLUE_ACTIONS))
    _, doc = _template(tmp_path)
    statements = doc["Resources"]["IngestFunction"]["Properties"]["Policies"][0]["Statement"]
    granted = {a for st in statements for a in st["Action"]}
    assert set(GLUE_ACTIONS) <= granted
    s3_ops = {op for service, op in called if service == "s3"}
    assert s3_ops <= {"HeadObject", "GetObject", "PutObject", "CopyObject", "DeleteObject", "DeleteObjects",
                      "ListObjectsV2", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload",
                      "AbortMultipartUpload", "UploadPartCopy", "PutObjectTagging"}, s3_ops
