"""Storage port: a flat key space (like S3) that the lake lives in.

``LocalStorage`` (a directory) and ``S3Storage`` (a bucket and prefix) implement it; everything
above this layer speaks keys such as ``raw/cotahist/dt=2021-01-04/part-0.parquet``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from b3lake.errors import ConfigError

if TYPE_CHECKING:
    import pyarrow.fs


@runtime_checkable
class Storage(Protocol):
    """What the pipeline needs from an object store."""

    #: Where the lake lives: a local directory path or ``s3://bucket/prefix``.
    root: str

    def put_bytes(self, key: str, data: bytes) -> None:
        """Write one object atomically: a reader sees the old object or the new, never half."""

    def get_bytes(self, key: str) -> bytes:
        """Read one object; StorageError if it does not exist."""

    def exists(self, key: str) -> bool: ...

    def list_keys(self, prefix: str) -> list[str]:
        """Every object key under ``prefix``, sorted."""

    def list_etags(self, prefix: str) -> dict[str, str]:
        """``key -> ETag`` of every object under ``prefix``: a fingerprint of its content (S3's
        ETag; locally the MD5 of the bytes, which is what S3 gives a single PUT)."""

    def delete_keys(self, keys: list[str]) -> None: ...

    def uri(self, key: str) -> str:
        """The address of a key for engines that read paths (``/…`` or ``s3://…``)."""

    def local_path(self, key: str) -> str | None:
        """The local file of ``key`` when other code (DuckDB, Spark in local mode, writer
        processes) may read and write it directly; None when every access must go through this
        object (S3). The capability replaces checks of the concrete storage type."""

    def arrow_filesystem(self) -> tuple[pyarrow.fs.FileSystem, str]:
        """A pyarrow filesystem and the base path that key ``k`` lives at (``base/k``)."""


def storage_for(lake: str, **aws: Any) -> Storage:
    """The Storage of a lake address: ``s3://bucket/prefix`` (S3Storage; ``aws`` holds its
    ``session``/``endpoint_url``/``region``) or a local directory (LocalStorage)."""
    if lake.startswith("s3://"):
        from b3lake.storage.s3 import S3Storage

        return S3Storage(lake, **aws)
    if "://" in lake:
        raise ConfigError(
            "lake must be a local directory or s3://bucket/prefix", field="lake", value=lake
        )
    from b3lake.storage.local import LocalStorage

    return LocalStorage(lake)
