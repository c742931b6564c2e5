"""Every boto3 client lakekit makes, and the one translation of AWS errors into words.

Endpoint, region and credentials come from boto3's own chain (``AWS_ENDPOINT_URL``
points everything at a local server, as the tests do with a moto server); throttled
calls are retried with backoff. No client is created at import time.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pyarrow.fs as pafs

from lakekit.errors import first_line

if TYPE_CHECKING:  # pragma: no cover
    import boto3

#: attempts per AWS request before giving up; throttling backs off exponentially.
S3_RETRY_ATTEMPTS = 10

#: what to do when AWS finds no credentials, or refuses them
NO_CREDENTIALS_HELP = "no AWS credentials found; set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
ACCESS_DENIED_HELP = "docs/aws.md lists the IAM permissions lakekit needs"
BAD_CREDENTIALS_HELP = "check the credentials of AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
_BAD_CREDENTIALS = frozenset({"UnrecognizedClientException", "InvalidAccessKeyId", "SignatureDoesNotMatch",
                              "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId"})

# Clients are thread-safe and slow to build (each loads its service model), so one is
# kept per service and session; for the default session, for the environment boto3
# reads now (see _ForCurrentEnvironment).
_CLIENTS: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()
_CLIENTS_LOCK = threading.Lock()
_ENV_KEYS = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
             "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
             "LAKEKIT_REGION")


def _env_key() -> tuple:
    return tuple(os.environ.get(k) for k in _ENV_KEYS)


class _ForCurrentEnvironment:
    """What lakekit builds from the default session (clients, S3 file systems), kept
    while the AWS_* environment boto3 reads stays the same. A change gets fresh ones and
    lets the old ones go: a process that changes it again and again (a notebook trying
    profiles, a test suite with a config file per test) would otherwise keep every
    client it ever made, each holding its service model (S3, Glue and Athena together
    about 100,000 objects), and every garbage collection would walk them all."""

    def __init__(self) -> None:
        # reentrant: the default S3 file system is built from the default S3 client
        self._lock = threading.RLock()
        self._env: tuple | None = None
        self._built: dict[str, Any] = {}

    def get(self, name: str, build: Callable[[], Any]) -> Any:
        with self._lock:
            env = _env_key()
            if env != self._env:
                self._env, self._built = env, {}
            built = self._built
            if name not in built:
                built[name] = build()
            return built[name]


_DEFAULT_SESSION = _ForCurrentEnvironment()


def aws_client(service: str, boto3_session: boto3.Session | None = None) -> Any:
    """The one place lakekit makes AWS clients (one per service and session)."""
    if boto3_session is None:
        return _DEFAULT_SESSION.get(f"client:{service}", lambda: _new_client(service, None))
    with _CLIENTS_LOCK:
        per_session = _CLIENTS.setdefault(boto3_session, {})
        if service not in per_session:
            per_session[service] = _new_client(service, boto3_session)
        return per_session[service]


def _new_client(service: str, boto3_session: boto3.Session | None) -> Any:
    import boto3
    from botocore.config import Config

    session = boto3_session or boto3.Session()
    config = Config(
        retries={"mode": "standard", "max_attempts": S3_RETRY_ATTEMPTS},
        max_pool_connections=32,
        # Glue partition batches are large nested documents that lakekit builds itself;
        # botocore's client-side validation of them costs more CPU than the request,
        # and Glue validates them again anyway.
        parameter_validation=service != "glue",
    )
    kwargs = {}
    if session.region_name is None:
        kwargs["region_name"] = os.environ.get("LAKEKIT_REGION") or "us-east-1"
    return session.client(service, config=config, **kwargs)


def s3_filesystem(boto3_session: boto3.Session | None = None) -> pafs.S3FileSystem:
    """A pyarrow S3 filesystem configured from boto3's own settings.

    pyarrow does not read ``AWS_ENDPOINT_URL``; boto3 does. Taking endpoint, region and
    credentials from a boto3 client keeps one source of truth, so tests against a
    local moto server and real AWS take the same path.
    """
    if boto3_session is None:
        return _DEFAULT_SESSION.get("s3_filesystem", lambda: _new_s3_filesystem(None))
    return _new_s3_filesystem(boto3_session)


def _new_s3_filesystem(boto3_session: boto3.Session | None) -> pafs.S3FileSystem:
    import boto3

    client = aws_client("s3", boto3_session)
    session = boto3_session or boto3.Session()
    endpoint = client.meta.endpoint_url
    kwargs: dict = {
        "region": client.meta.region_name or "us-east-1",
        "retry_strategy": pafs.AwsStandardS3RetryStrategy(max_attempts=S3_RETRY_ATTEMPTS),
    }
    if endpoint and not endpoint.startswith("https://s3.") and "amazonaws.com" not in endpoint:
        scheme, _, rest = endpoint.partition("://")
        kwargs.update(endpoint_override=rest, scheme=scheme)
    creds = session.get_credentials()
    if creds is not None:
        frozen = creds.get_frozen_credentials()
        kwargs.update(access_key=frozen.access_key, secret_key=frozen.secret_key, session_token=frozen.token)
    return pafs.S3FileSystem(**kwargs)


def error_code(ex: BaseException | None) -> str:
    """The AWS error code of a botocore ``ClientError`` (or of the one that caused ``ex``)."""
    for candidate in (ex, getattr(ex, "__cause__", None)):
        response = getattr(candidate, "response", None)
        if isinstance(response, dict):
            code = response.get("Error", {}).get("Code")
            if code:
                return str(code)
    return ""


def arrow_s3_error_message(ex: BaseException) -> str:
    """One line for a failure of pyarrow's S3 filesystem, in :func:`aws_error_message`'s
    words when S3 refused the credentials (pyarrow spells it ``ACCESS_DENIED``, over
    several lines).

    >>> arrow_s3_error_message(OSError("AWS Error ACCESS_DENIED during GetObject operation:\\nNo body"))[:60]
    'S3 said AccessDenied: AWS Error ACCESS_DENIED during GetObje'
    """
    text = " ".join(str(ex).split())
    if "ACCESS_DENIED" in text:
        return f"S3 said AccessDenied: {text}; {ACCESS_DENIED_HELP}"
    return text


def aws_error_message(ex: BaseException, service: str) -> str:
    """One line for an AWS failure, with what to do when credentials are the problem.

    The same words for S3, Glue and Athena: ``<service> said <Code>: <message>``, plus
    the way out for missing credentials and for AccessDenied.

    >>> from botocore.exceptions import ClientError, NoCredentialsError
    >>> aws_error_message(NoCredentialsError(), "S3")
    'no AWS credentials found; set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY'
    >>> denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetObject")
    >>> aws_error_message(denied, "S3")
    'S3 said AccessDenied: no; docs/aws.md lists the IAM permissions lakekit needs'
    """
    from botocore.exceptions import ClientError, NoCredentialsError, PartialCredentialsError

    if isinstance(ex, (NoCredentialsError, PartialCredentialsError)):
        return NO_CREDENTIALS_HELP
    if isinstance(ex, ClientError):
        error = ex.response.get("Error", {})
        code = str(error.get("Code") or "error")
        message = " ".join(str(error.get("Message") or "").split())
        text = f"{service} said {code}: {message}" if message else f"{service} said {code}"
        if "AccessDenied" in code:
            text += f"; {ACCESS_DENIED_HELP}"
        elif code in _BAD_CREDENTIALS:
            text += f"; {BAD_CREDENTIALS_HELP}"
        return text
    return first_line(ex)
