"""The S3-event function: each new raw object ingested into one table.

Deployed as an AWS Lambda function (``lakekit.serverless.handler``), invoked by S3
event notifications (``{"Records": [{"eventSource": "aws:s3", "eventName":
"ObjectCreated:Put", "s3": {"bucket": {"name"}, "object": {"key", "eTag"}}}]}``,
keys URL-encoded) or by EventBridge "Object Created" events (``{"detail-type":
"Object Created", "detail": {"bucket": {"name"}, "object": {"key", "etag"}}}``).

Settings come from the environment: ``LAKEKIT_TABLE`` (``DB.TABLE``, required),
``LAKEKIT_TIMESTAMP_COLUMN``, ``LAKEKIT_PARTITION_BY``, ``LAKEKIT_INPUT_FORMAT``,
``LAKEKIT_MAX_REJECTS``, ``LAKEKIT_TRANSFORM``, ``LAKEKIT_BACKUP`` and the lake's
own ``LAKEKIT_WAREHOUSE`` / ``LAKEKIT_CATALOG`` / ``LAKEKIT_REGION``.

Each object is one ingest, identified by its ETag as any ``s3://`` source is: a
retried invocation, a duplicate event, or a later ``lakekit ingest s3://...`` of the
same object finds it ingested and skips it. Rejects go to the table's rejects prefix.
The result is printed as one JSON line (what CloudWatch Logs keeps) and returned.
A failure raises, so Lambda retries the event and, in the end, sends it to the
dead-letter queue; objects of the event committed before the failure are skipped
by the retry. So does a commit Glue did not take (status ``unpublished`` with its
``warnings`` in the log line): Athena would not see it until a later write publishes it.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lakekit.errors import CatalogError, InputError, LakekitError, UsageError

__all__ = ["S3Object", "handler", "objects_of"]

#: the environment variables the function reads, beside the lake's own
ENV = {
    "table": "LAKEKIT_TABLE",
    "timestamp_column": "LAKEKIT_TIMESTAMP_COLUMN",
    "partition_by": "LAKEKIT_PARTITION_BY",
    "input_format": "LAKEKIT_INPUT_FORMAT",
    "max_rejects": "LAKEKIT_MAX_REJECTS",
    "transform": "LAKEKIT_TRANSFORM",
    "backup": "LAKEKIT_BACKUP",
}


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    etag: str | None
    size: int | None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def objects_of(event: Mapping[str, Any]) -> list[S3Object]:
    """The created objects an S3 notification or an EventBridge event names.

    >>> objects_of({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
    ...     "s3": {"bucket": {"name": "raw"}, "object": {"key": "a/b+c%3D1.json", "eTag": "e1", "size": 3}}}]})
    [S3Object(bucket='raw', key='a/b c=1.json', etag='e1', size=3)]
    """
    if event.get("detail-type") == "Object Created" and isinstance(event.get("detail"), Mapping):
        detail = event["detail"]
        obj = detail.get("object") or {}
        return [S3Object(detail["bucket"]["name"], obj["key"], obj.get("etag"), obj.get("size"))]
    out = []
    for record in event.get("Records") or []:
        if record.get("eventSource") != "aws:s3" or not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        s3 = record["s3"]
        obj = s3["object"]
        # Keys arrive URL-encoded, a space as '+' (the S3 notification format).
        key = urllib.parse.unquote_plus(obj["key"])
        out.append(S3Object(s3["bucket"]["name"], key, obj.get("eTag"), obj.get("size")))
    if not out and not event.get("Records"):
        raise UsageError("the event is neither an S3 notification (Records) nor an EventBridge Object Created event")
    return out


def _settings(env: Mapping[str, str]) -> dict[str, Any]:
    table = env.get(ENV["table"])
    if not table:
        raise UsageError("LAKEKIT_TABLE is not set; set it to the DB.TABLE the function ingests into")
    max_rejects = env.get(ENV["max_rejects"])
    try:
        limit = int(max_rejects) if max_rejects else None
    except ValueError as ex:
        raise UsageError(f"LAKEKIT_MAX_REJECTS={max_rejects!r} is not a whole number") from ex
    return {
        "table": table,
        "timestamp_column": env.get(ENV["timestamp_column"]) or None,
        "partition_by": env.get(ENV["partition_by"]) or None,
        "input_format": env.get(ENV["input_format"]) or "auto",
        "max_rejects": limit,
        "transform": env.get(ENV["transform"]) or None,
        "backup": env.get(ENV["backup"]) or None,
    }


def handler(event: Mapping[str, Any], context: Any = None, *, env: Mapping[str, str] | None = None) -> dict:
    """Ingest each object an S3 event names into ``LAKEKIT_TABLE``; one JSON log line."""
    from lakekit.lake import open_lake

    started = time.monotonic()
    env = os.environ if env is None else env
    settings = _settings(env)
    table = settings.pop("table")
    results: list[dict] = []
    with open_lake() as lake:
        for obj in objects_of(event):
            results.append(_ingest_one(lake, obj, table, settings))
    summary = {
        "table": table,
        "objects": results,
        "records_written": sum(r.get("records_written", 0) for r in results),
        "records_rejected": sum(r.get("records_rejected", 0) for r in results),
        "seconds": round(time.monotonic() - started, 3),
        "request_id": getattr(context, "aws_request_id", None),
    }
    print(json.dumps(summary, default=str), file=sys.stdout, flush=True)
    unpublished = [r for r in results if r.get("warnings")]
    if unpublished:
        # Committed, but Athena cannot see it (Glue refused the new locations, often a
        # missing permission): fail the invocation, so Lambda retries it and, in the end,
        # sends it to the dead-letter queue. A retry skips the committed object and
        # publishes the commit again.
        raise CatalogError(f"{table}: {unpublished[0]['warnings'][0]}")
    return summary


def _ingest_one(lake, obj: S3Object, table: str, settings: dict[str, Any]) -> dict:
    base = {"source": obj.uri, "event_etag": obj.etag}
    try:
        result = lake.ingest([obj.uri], table, **settings)
    except InputError as ex:
        if "not found" in str(ex) and not lake.storage.exists(obj.uri):
            # Deleted before this invocation ran: nothing to ingest, and a retry cannot help.
            return {**base, "status": "missing", "message": str(ex)}
        _log_failure(table, obj, ex)
        raise
    except LakekitError as ex:
        _log_failure(table, obj, ex)
        raise
    status = "skipped" if result.skipped_sources else "ingested"
    out = {**base, "status": status, **{k: v for k, v in result.to_dict().items() if k != "table"}}
    if result.warnings:
        out["status"] = "unpublished"
        out["warnings"] = list(result.warnings)
    return out


def _log_failure(table: str, obj: S3Object, ex: LakekitError) -> None:
    print(json.dumps({"table": table, "source": obj.uri, "status": "failed",
                      "error": {"exit_code": ex.exit_code, "message": str(ex)}}), file=sys.stdout, flush=True)
