"""lakekit as a serverless function: the S3-event Lambda handler and its SAM template.

``lakekit.serverless.handler`` is the Lambda handler (:mod:`lakekit.serverless.s3_event`);
``lakekit serverless template`` prints the SAM template that deploys it
(:mod:`lakekit.serverless.sam`).
"""

from __future__ import annotations

from lakekit.serverless.s3_event import S3Object, handler, objects_of

__all__ = ["S3Object", "handler", "objects_of"]
