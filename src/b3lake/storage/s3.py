"""The lake as an S3 bucket and prefix (``s3://bucket/prefix``), behind the Storage port.

Keys are relative to the lake prefix, exactly as in ``LocalStorage``. A single ``PutObject`` is
atomic in S3 (readers see the old object or the new one, never half), so no temp-and-rename is
needed. boto3 and pyarrow are imported lazily.

A missing key is not always a 404: S3 answers GetObject and HeadObject on a key that does not
exist with 404 only to a caller allowed ``s3:ListBucket`` on the bucket, and with 403 to any
other. A role whose ListBucket holds only under an ``s3:prefix`` condition (the extract and
trigger Lambdas') gets 403; ``awsclients.s3_key_missing`` then lists exactly that key to tell a
missing key (``exists`` is False, ``get_bytes`` says "object not found") from a refusal (raised
as such). One extra request, only for missing keys.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from b3lake import awsclients
from b3lake.errors import ConfigError, StorageError
from b3lake.lake.layout import lake_location

if TYPE_CHECKING:
    import pyarrow.fs

#: ``DeleteObjects`` takes at most 1,000 keys per call.
DELETE_BATCH = 1000
#: HTTP connections kept per client: the Parquet writers put up to 16 partitions at a time.
MAX_POOL = 32


class S3Storage:
    """Storage on S3 (or anything that speaks its API at ``endpoint_url``, e.g. moto server)."""

    def __init__(
        self,
        lake: str,
        *,
        endpoint_url: str | None = None,
        session: Any = None,
        region: str | None = None,
        client: Any = None,
    ) -> None:
        if not lake.startswith("s3://"):
            raise ConfigError("an S3 lake must be s3://bucket/prefix", field="lake", value=lake)
        self.bucket, self.prefix = lake_location(lake)
        if not self.bucket:
            raise ConfigError("an S3 lake needs a bucket name", field="lake", value=lake)
        self.root = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        self.session = session
        self.endpoint_url = awsclients.endpoint_for(endpoint_url)
        self.region = region
        self._client = client
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        # Writers put partitions from a thread pool: make the one shared client exactly once.
        with self._lock:
            if self._client is None:
                self._client = awsclients.client(
                    "s3",
                    endpoint_url=self.endpoint_url,
                    session=self.session,
                    region=self.region,
                    max_pool_connections=MAX_POOL,
                )
        return self._client

    def _key(self, key: str) -> str:
        if not key or key.startswith("/") or ".." in key.split("/"):
            raise StorageError("key escapes the lake", source=key or "<empty key>")
        return self.prefix + key

    def _fail(self, action: str, key: str, exc: Exception) -> StorageError:
        code = awsclients.error_code(exc) or type(exc).__name__
        return StorageError(f"cannot {action}: {code}: {exc}", source=self.uri(key))

    def put_bytes(self, key: str, data: bytes) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("write", key, exc) from exc

    def get_bytes(self, key: str) -> bytes:
        data = self.get_if_exists(key)
        if data is None:
            raise StorageError("object not found", source=self.uri(key))
        return data

    def get_if_exists(self, key: str) -> bytes | None:
        """The object's bytes, or None when the key does not exist (a 404, or a 403 for a key
        that a listing of exactly it shows missing: see the module docstring)."""
        from botocore.exceptions import BotoCoreError, ClientError

        full = self._key(key)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=full)
            return bytes(response["Body"].read())
        except ClientError as exc:
            if awsclients.s3_key_missing(self.client, self.bucket, full, exc):
                return None
            raise self._fail("read", key, exc) from exc
        except BotoCoreError as exc:
            raise self._fail("read", key, exc) from exc

    def exists(self, key: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        full = self._key(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=full)
        except ClientError as exc:
            missing = awsclients.s3_key_missing(self.client, self.bucket, full, exc)
            if missing is None:
                raise self._fail("check", key, exc) from exc
            return not missing  # False: it exists, and the HEAD was refused
        except BotoCoreError as exc:
            raise self._fail("check", key, exc) from exc
        return True

    def list_keys(self, prefix: str) -> list[str]:
        """Every key under ``prefix``, sorted; folder markers (keys ending in ``/``) are skipped."""
        from botocore.exceptions import BotoCoreError, ClientError

        if prefix.startswith("/") or ".." in prefix.split("/"):
            raise StorageError("prefix escapes the lake", source=prefix)
        keys: list[str] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix + prefix
            )
            for page in pages:
                for item in page.get("Contents", []):
                    full = item["Key"]
                    if not full.endswith("/"):
                        keys.append(full[len(self.prefix) :])
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("list", prefix, exc) from exc
        return sorted(keys)

    def list_etags(self, prefix: str) -> dict[str, str]:
        """``key -> ETag`` (quotes stripped) under ``prefix``: the same ``ListObjectsV2`` pages as
        :meth:`list_keys` (no extra request), and the ``eTag`` an S3 notification carries."""
        from botocore.exceptions import BotoCoreError, ClientError

        if prefix.startswith("/") or ".." in prefix.split("/"):
            raise StorageError("prefix escapes the lake", source=prefix)
        out: dict[str, str] = {}
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix + prefix
            )
            for page in pages:
                for item in page.get("Contents", []):
                    full = item["Key"]
                    if not full.endswith("/"):
                        out[full[len(self.prefix) :]] = str(item.get("ETag", "")).strip('"')
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("list", prefix, exc) from exc
        return dict(sorted(out.items()))

    def delete_keys(self, keys: list[str]) -> None:
        """Delete in batches of 1,000 (the API limit); a missing key is not an error (as in S3)."""
        from botocore.exceptions import BotoCoreError, ClientError

        full = [self._key(k) for k in keys]
        for start in range(0, len(full), DELETE_BATCH):
            batch = full[start : start + DELETE_BATCH]
            try:
                response = self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True},
                )
            except (ClientError, BotoCoreError) as exc:
                raise self._fail("delete", batch[0][len(self.prefix) :], exc) from exc
            errors = response.get("Errors") or []
            if errors:
                first = errors[0]
                raise StorageError(
                    f"cannot delete {len(errors)} object(s): {first.get('Code')}: "
                    f"{first.get('Message')}",
                    source=f"s3://{self.bucket}/{first.get('Key')}",
                )

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{key}"

    def local_path(self, key: str) -> str | None:
        """None: an S3 object is read and written through this object (or its filesystem)."""
        return None

    def arrow_filesystem(self) -> tuple[pyarrow.fs.FileSystem, str]:
        """A pyarrow ``S3FileSystem`` on the same endpoint, region and session as boto3.

        With an endpoint override (moto server, LocalStack) the scheme follows the URL; writers
        should pass ``create_dir=False`` so that no folder-marker objects are made.
        """
        import pyarrow.fs

        options: dict[str, Any] = {"region": awsclients.region_for(self.session, self.region)}
        # An explicit session's credentials are passed on; otherwise pyarrow's own AWS SDK chain
        # (environment, profile, instance or container role) is used, and it refreshes them.
        credentials = self.session.get_credentials() if self.session is not None else None
        if credentials is not None:
            frozen = credentials.get_frozen_credentials()
            options.update(access_key=frozen.access_key, secret_key=frozen.secret_key)
            if frozen.token:
                options["session_token"] = frozen.token
        if self.endpoint_url:
            parts = urlsplit(self.endpoint_url)
            if parts.scheme and parts.netloc:
                options.update(endpoint_override=parts.netloc, scheme=parts.scheme)
            else:
                options["endpoint_override"] = self.endpoint_url
        base = f"{self.bucket}/{self.prefix}".rstrip("/")
        return pyarrow.fs.S3FileSystem(**options), base
