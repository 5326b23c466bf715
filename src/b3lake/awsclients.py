"""One boto3 client factory: every AWS call goes through it, so one ``endpoint_url``
(moto server, LocalStack) and one optional ``boto3.Session`` redirect the whole pipeline.

boto3 is imported lazily: the trigger Lambda imports this module, and the local backend never
needs boto3 at all.

The region is never guessed. Every deployed component is given it explicitly (Terraform sets
``B3LAKE_AWS_REGION`` on both Lambdas and ``--aws_region`` on the Glue job); elsewhere the
session's region or the SDK's own ``AWS_REGION``/``AWS_DEFAULT_REGION`` count as explicit. With
none of them a client is refused with a ConfigError that says where to set it: a silent
us-east-1 would send a São Paulo deployment's calls to another region's (empty) Glue catalog.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any

#: The environment variable that points every b3lake AWS client at another endpoint.
ENDPOINT_ENV = "B3LAKE_AWS_ENDPOINT_URL"
#: The region setting every b3lake process reads (``Settings.aws_region``).
REGION_ENV = "B3LAKE_AWS_REGION"

# botocore's "standard" mode retries throttling and transient 5xx errors with backoff and jitter,
# which is what a Lambda burst of S3 events needs (Glue's StartJobRun quota is low).
_RETRIES = {"mode": "standard", "max_attempts": 6}
_LOCK = threading.Lock()


def session_for(session: Any = None) -> Any:
    """The given ``boto3.Session``, or a new default one (credentials from the usual chain)."""
    if session is not None:
        return session
    import boto3

    return boto3.session.Session()


def endpoint_for(endpoint_url: str | None = None) -> str | None:
    """An explicit endpoint, else ``B3LAKE_AWS_ENDPOINT_URL``, else None (the real AWS)."""
    return endpoint_url or os.environ.get(ENDPOINT_ENV) or None


def region_for(session: Any = None, region: str | None = None) -> str:
    """Region: explicit, the session's, ``B3LAKE_AWS_REGION``, ``AWS_REGION`` or
    ``AWS_DEFAULT_REGION``; ConfigError when none is set (no default region)."""
    from b3lake.errors import ConfigError

    found = (
        region
        or getattr(session, "region_name", None)
        or os.environ.get(REGION_ENV)
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
    )
    if not found:
        raise ConfigError(
            "no AWS region: set aws_region (B3LAKE_AWS_REGION), the session's region or "
            "AWS_REGION; b3lake never assumes one",
            field="aws_region",
        )
    return str(found)


def client(
    service: str,
    *,
    endpoint_url: str | None = None,
    session: Any = None,
    region: str | None = None,
    max_pool_connections: int = 10,
) -> Any:
    """A boto3 client for ``service`` with the b3lake endpoint override and retry policy.

    Clients are thread-safe, sessions are not: create a client once (under a lock if threads
    may race) and share it.
    """
    from botocore.config import Config

    session = session_for(session)
    config = Config(
        retries=_RETRIES,
        user_agent_extra="b3lake",
        max_pool_connections=max_pool_connections,
    )
    with _LOCK:
        return session.client(
            service,
            endpoint_url=endpoint_for(endpoint_url),
            region_name=region_for(session, region),
            config=config,
        )


#: What S3 answers for a missing key to a caller with s3:ListBucket, and to one without it.
S3_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
S3_DENIED_CODES = frozenset({"403", "AccessDenied", "Forbidden"})


def s3_key_missing(client: Any, bucket: str, key: str, exc: BaseException) -> bool | None:
    """After a GetObject or HeadObject of ``key`` failed with ``exc``: True when the key does
    not exist, False when it does (the failure was a real refusal), None for any other error.

    S3 answers a missing key with 404 only to a caller allowed ``s3:ListBucket`` on the bucket,
    with 403 to any other (the S3 API reference, "Permissions" of GetObject and HeadObject). A
    role whose ListBucket holds only under an ``s3:prefix`` condition gets 403, so a 403 is
    followed by the one question such a role may ask: a ``ListObjectsV2`` of exactly that key
    (``Prefix=key, MaxKeys=1``). If that is refused too, nobody can tell: StorageError."""
    code = error_code(exc)
    if code in S3_MISSING_CODES:
        return True
    if code not in S3_DENIED_CODES:
        return None
    try:
        response = client.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
    except Exception as list_exc:
        from b3lake.errors import StorageError

        raise StorageError(
            f"{code} on the object, and {error_code(list_exc) or type(list_exc).__name__} on "
            f"listing it (s3:ListBucket with s3:prefix {key!r}): whether it exists cannot be told",
            source=f"s3://{bucket}/{key}",
        ) from list_exc
    return not any(item.get("Key") == key for item in response.get("Contents", []))


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ``ClientError`` (``EntityNotFoundException``) or None."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None


@dataclass(frozen=True)
class AwsContext:
    """One AWS context for every adapter of a backend: the session, the endpoint override and
    the region. ``AwsBackend`` builds one and hands it to S3Storage, GlueCatalog, GlueLauncher and
    Athena alike (``Adapter(..., **aws.kwargs())``), so all talk to one account, endpoint, region."""

    session: Any = field(default=None, compare=False)
    endpoint_url: str | None = None
    region: str | None = None

    def kwargs(self) -> dict[str, Any]:
        """``session``, ``endpoint_url`` and ``region``, as every AWS adapter takes them."""
        return {"session": self.session, "endpoint_url": self.endpoint_url, "region": self.region}

    def client(self, service: str, *, max_pool_connections: int = 10) -> Any:
        return client(service, max_pool_connections=max_pool_connections, **self.kwargs())
