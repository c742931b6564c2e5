"""``lakekit serverless template``: the AWS SAM template that deploys the S3-event function.

The template holds: the function (a container image with lakekit, built by
``sam build`` from the Dockerfile :func:`dockerfile` prints; pyarrow and DuckDB are
too big for a Lambda layer's 250 MB), an EventBridge rule for "Object Created" events
under the source prefix (it works on an existing bucket, which an S3 notification
declared in a template cannot: the bucket must send its events to EventBridge, one
setting, see docs/aws.md), a dead-letter queue for events that keep failing, and an
IAM policy with exactly the S3 and Glue actions the handler calls.

Memory and timeout come from the handler benchmark (``benchmarks/stream.py``,
docs/performance.md): a 64 MiB raw object converts with a peak RSS well under the
memory given, and Lambda gives CPU in proportion to memory.
"""

from __future__ import annotations

import yaml

from lakekit.errors import UsageError
from lakekit.names import parse_table_name
from lakekit.paths import is_s3, split_s3

#: from the handler benchmark (docs/performance.md): a 67 MiB object converted in 4.5 s
#: at a peak RSS of 365 MiB on 2 cores; 1,769 MB is the size at which Lambda gives one
#: full vCPU, leaving room for objects several times larger; 300 s covers ~30x that.
MEMORY_MB = 1769
TIMEOUT_S = 300
RUNTIME_IMAGE = "public.ecr.aws/lambda/python:3.11"

#: what the handler calls on S3 (pyarrow and boto3 both): read and list the raw
#: objects; read, list, write, copy and delete in the warehouse (staging, moves,
#: manifests, rejects)
SOURCE_S3_ACTIONS = ["s3:GetObject", "s3:ListBucket"]
WAREHOUSE_S3_ACTIONS = ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:ListBucket",
                        "s3:PutObject"]
#: what the Glue catalog calls during an ingest (a test records them against moto)
GLUE_ACTIONS = ["glue:BatchCreatePartition", "glue:BatchDeletePartition", "glue:BatchGetPartition",
                "glue:BatchUpdatePartition", "glue:CreateDatabase", "glue:CreateTable", "glue:DeleteTable",
                "glue:GetDatabase", "glue:GetPartitions", "glue:GetTable", "glue:UpdateTable"]


def _bucket_and_prefix(uri: str, what: str) -> tuple[str, str]:
    if not is_s3(uri):
        raise UsageError(f"{what} {uri!r} must be an s3:// URI, like s3://bucket/raw/")
    bucket, key = split_s3(uri)
    if not bucket:
        raise UsageError(f"{what} {uri!r} names no bucket")
    return bucket, key.strip("/")


def template(*, table: str, source: str, warehouse: str | None = None, timestamp_column: str | None = None) -> str:
    """The SAM template (YAML) for ``table`` fed by objects under ``source``.

    >>> text = template(table="analytics.events", source="s3://raw/events/", warehouse="s3://lake/wh")
    >>> "lakekit.serverless.handler" in text, "s3://lake/wh" in text
    (True, True)
    """
    database, name = parse_table_name(table)
    src_bucket, src_prefix = _bucket_and_prefix(source, "--source")
    warehouse = warehouse or f"s3://{src_bucket}/lakekit"
    wh_bucket, wh_prefix = _bucket_and_prefix(warehouse, "--warehouse")
    if src_bucket == wh_bucket and (not src_prefix or not wh_prefix or wh_prefix.startswith(src_prefix)):
        raise UsageError(f"--warehouse {warehouse} lies under --source {source}: the function would ingest its own "
                         "output; give a warehouse outside the source prefix")

    def objects(bucket: str, prefix: str) -> dict:
        return {"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{bucket}/{prefix + '/' if prefix else ''}*"}

    def bucket_arn(bucket: str) -> dict:
        return {"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{bucket}"}

    glue_resources = [{"Fn::Sub": f"arn:${{AWS::Partition}}:glue:${{AWS::Region}}:${{AWS::AccountId}}:{r}"}
                      for r in ("catalog", f"database/{database}", f"table/{database}/{name}")]
    env = {"LAKEKIT_TABLE": f"{database}.{name}", "LAKEKIT_WAREHOUSE": warehouse, "LAKEKIT_CATALOG": "glue"}
    if timestamp_column:
        env["LAKEKIT_TIMESTAMP_COLUMN"] = timestamp_column
    key_filter = [{"prefix": src_prefix + "/"}] if src_prefix else [{"prefix": ""}]
    doc = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": f"lakekit: raw objects under {source} ingested into {database}.{name} (Parquet in {warehouse})",
        "Resources": {
            "DeadLetterQueue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"MessageRetentionPeriod": 1209600},
            },
            "IngestFunction": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "PackageType": "Image",
                    "ImageConfig": {"Command": ["lakekit.serverless.handler"]},
                    "MemorySize": MEMORY_MB,
                    "Timeout": TIMEOUT_S,
                    "EphemeralStorage": {"Size": 2048},
                    "Environment": {"Variables": env},
                    "DeadLetterQueue": {"Type": "SQS", "TargetArn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}},
                    "Policies": [{
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [objects(src_bucket, src_prefix)]},
                            {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [bucket_arn(src_bucket)]},
                            {"Effect": "Allow", "Action": [a for a in WAREHOUSE_S3_ACTIONS if a != "s3:ListBucket"],
                             "Resource": [objects(wh_bucket, wh_prefix)]},
                            {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [bucket_arn(wh_bucket)]},
                            {"Effect": "Allow", "Action": GLUE_ACTIONS, "Resource": glue_resources},
                        ],
                    }],
                    "Events": {
                        "ObjectCreated": {
                            "Type": "EventBridgeRule",
                            "Properties": {
                                "Pattern": {
                                    "source": ["aws.s3"],
                                    "detail-type": ["Object Created"],
                                    "detail": {"bucket": {"name": [src_bucket]}, "object": {"key": key_filter}},
                                },
                                "RetryPolicy": {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 21600},
                                "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}},
                            },
                        },
                    },
                },
                "Metadata": {"Dockerfile": "Dockerfile", "DockerContext": ".", "DockerTag": "lakekit"},
            },
        },
        "Outputs": {
            "FunctionArn": {"Value": {"Fn::GetAtt": ["IngestFunction", "Arn"]}},
            "DeadLetterQueueUrl": {"Value": {"Ref": "DeadLetterQueue"}},
        },
    }
    return yaml.safe_dump(doc, sort_keys=False, width=120)


def dockerfile(version: str) -> str:
    """The Dockerfile ``sam build`` builds the function's image from."""
    return (f"FROM {RUNTIME_IMAGE}\n"
            f"RUN pip install --no-cache-dir 'lakekit=={version}'\n"
            'CMD ["lakekit.serverless.handler"]\n')
