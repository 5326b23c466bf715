"""Storage port: a flat key space (like S3) that the lake lives in.

``LocalStorage`` (a directory) and ``S3Storage`` (a bucket and prefix) implement it; everything
above this layer speaks keys such as ``raw/cotahist/dt=2021-01-04/part-0.parquet``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

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

    def delete_keys(self, keys: list[str]) -> None: ...

    def uri(self, key: str) -> str:
        """The address of a key for engines that read paths (``/…`` or ``s3://…``)."""

    def arrow_filesystem(self) -> tuple[pyarrow.fs.FileSystem, str]:
        """A pyarrow filesystem and the base path that key ``k`` lives at (``base/k``)."""
