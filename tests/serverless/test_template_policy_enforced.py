"""The template's IAM policy checked the other way round: the handler, run with
credentials that hold exactly that policy (parsed from `lakekit serverless template`),
ingests a real S3 event; with one needed action taken out it fails, naming the denial.

moto enforces IAM on a server of its own here (switched on through its
``/moto-api/reset-auth`` endpoint once the users and buckets exist), so the shared
fixture stays fast. moto checks S3 actions against the bucket and object ARNs, but Glue
actions only against ``*``: the test widens the Glue statement's resources to ``*``, so
it checks the Glue actions and not the catalog/database/table ARNs they are scoped to
(docs/aws.md says so).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import urllib.request

import boto3
import pyarrow.parquet as pq
import pytest
import yaml

from tests.helpers import LAKEKIT
from tests.moto_server import MotoServer

RAW, LAKE = "raw-zone", "lake-zone"
ACCOUNT, REGION = "123456789012", "us-east-1"  # moto's account; the region the test signs for

_INVOKE = r"""
import json, sys
from lakekit.serverless import handler
key, etag = sys.argv[1], sys.argv[2]
handler({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                      "eventName": "ObjectCreated:Put",
                      "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": "raw-zone", "arn": "arn:aws:s3:::raw-zone"},
                             "object": {"key": key, "eTag": etag, "size": 1}}}]}, None)
"""


@pytest.fixture(scope="module")
def enforcing_server():
    server = MotoServer().start()
    yield server
    server.stop()


def _set_auth(server: MotoServer, free_requests: str) -> None:
    """moto authenticates every request after ``free_requests`` more ("inf": none)."""
    req = urllib.request.Request(server.url + "/moto-api/reset-auth", data=free_requests.encode(), method="POST",
                                 headers={"Content-Type": "text/plain"})  # a form body would be parsed away
    urllib.request.urlopen(req, timeout=10).close()


def _admin(server: MotoServer, service: str):
    return boto3.client(service, endpoint_url=server.url, region_name=REGION, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def _template(table: str) -> dict:
    out = subprocess.run([LAKEKIT, "serverless", "template", "--table", table, "--source", f"s3://{RAW}/events/",
                          "--warehouse", f"s3://{LAKE}/warehouse", "--timestamp-column", "ts"],
                         capture_output=True, text=True, check=True)
    return yaml.safe_load(out.stdout)


def _resolve(value):
    """CloudFormation's Fn::Sub for the pseudo parameters the policy uses."""
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        return (value["Fn::Sub"].replace("${AWS::Partition}", "aws").replace("${AWS::Region}", REGION)
                .replace("${AWS::AccountId}", ACCOUNT))
    if isinstance(value, list):
        return [_resolve(v) for v in value]
    return value


def _policy(doc: dict, without: str | None = None) -> dict:
    (policy,) = doc["Resources"]["IngestFunction"]["Properties"]["Policies"]
    statements = []
    for st in policy["Statement"]:
        actions = [a for a in st["Action"] if a != without]
        if not actions:
            continue
        resources = _resolve(st["Resource"])
        if all(a.startswith("glue:") for a in actions):
            resources = ["*"]  # moto checks Glue actions against "*" only (module docstring)
        statements.append({**st, "Action": actions, "Resource": resources})
    return {"Version": policy["Version"], "Statement": statements}


def _run_handler(server: MotoServer, doc: dict, policy: dict, user: str, key: str, tmp_path) -> subprocess.CompletedProcess:
    _set_auth(server, "inf")
    iam = _admin(server, "iam")
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="lakekit-function", PolicyDocument=json.dumps(policy))
    access = iam.create_access_key(UserName=user)["AccessKey"]
    s3 = _admin(server, "s3")
    body = b"".join(json.dumps({"id": i, "ts": f"2024-06-0{1 + i % 3}T10:00:00Z", "v": i * 1.5}).encode() + b"\n"
                    for i in range(40))
    etag = s3.put_object(Bucket=RAW, Key=key, Body=body)["ETag"].strip('"')
    function_env = doc["Resources"]["IngestFunction"]["Properties"]["Environment"]["Variables"]
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "TMPDIR": str(tmp_path),
           "AWS_ENDPOINT_URL": server.url, "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
           "AWS_ACCESS_KEY_ID": access["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": access["SecretAccessKey"],
           "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
           **function_env}
    _set_auth(server, "0")
    try:
        return subprocess.run([sys.executable, "-c", _INVOKE, key, etag], capture_output=True, text=True, env=env,
                              timeout=180)
    finally:
        _set_auth(server, "inf")


def _rows_in_table(server: MotoServer, db: str, table: str) -> list[int]:
    """The ids in the Parquet objects under the locations Glue lists (as Athena reads them)."""
    glue, s3 = _admin(server, "glue"), _admin(server, "s3")
    parts = glue.get_partitions(DatabaseName=db, TableName=table)["Partitions"]
    ids = []
    for p in parts:
        bucket, _, prefix = p["StorageDescriptor"]["Location"][len("s3://"):].partition("/")
        for obj in s3.list_objects_v2(Bucket=bucket, Prefix=prefix.rstrip("/") + "/").get("Contents", []):
            rel = obj["Key"][len(prefix.rstrip("/")) + 1:]
            if any(part.startswith(("_", ".")) for part in rel.split("/")):
                continue
            data = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            ids.extend(pq.read_table(io.BytesIO(data), columns=["id"]).column("id").to_pylist())
    return sorted(ids)


@pytest.fixture(scope="module")
def buckets(enforcing_server):
    _set_auth(enforcing_server, "inf")
    for name in (RAW, LAKE):
        _admin(enforcing_server, "s3").create_bucket(Bucket=name)
    return enforcing_server


def test_the_handler_succeeds_with_exactly_the_template_policy(buckets, tmp_path):
    doc = _template("analytics.events")
    proc = _run_handler(buckets, doc, _policy(doc), "fn-full", "events/2024/a.jsonl", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [o["status"] for o in summary["objects"]] == ["ingested"]
    assert _rows_in_table(buckets, "analytics", "events") == list(range(40))


@pytest.mark.parametrize("action", ["s3:GetObject", "s3:PutObject", "glue:CreateTable"])
def test_without_one_needed_action_the_handler_fails_naming_the_denial(buckets, tmp_path, action):
    table = "analytics.no_" + action.split(":")[1].lower()
    doc = _template(table)
    proc = _run_handler(buckets, doc, _policy(doc, without=action), "fn-" + table.split(".")[1],
                        f"events/2024/{table}.jsonl", tmp_path)
    assert proc.returncode != 0, proc.stdout
    logged = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    # Either the ingest failed (S3), or it committed and Glue refused it (Glue, after the
    # commit point): both are one JSON log line naming the denial, and the invocation fails.
    messages = [d["error"]["message"] for d in logged if d.get("status") == "failed"]
    messages += [w for d in logged for o in d.get("objects", []) if o["status"] == "unpublished" for w in o["warnings"]]
    assert len(messages) == 1, proc.stdout + proc.stderr
    assert "\n" not in messages[0] and "AccessDenied" in messages[0], messages[0]
    assert "AccessDenied" in proc.stderr.strip().splitlines()[-1]  # what Lambda reports as the error
