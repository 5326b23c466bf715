"""The lake as a local directory, mirroring the S3 key layout."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from b3lake.errors import StorageError
from b3lake.keyspace import SYSTEM

if TYPE_CHECKING:
    import pyarrow.fs


#: Where :meth:`LocalStorage.list_etags` keeps the digests it computed.
ETAG_CACHE = f"{SYSTEM}/cache/etags/"


def _etag_group(key: str) -> str:
    """The cache file of a key: its first two path segments (``raw/cotahist``)."""
    return "/".join(key.split("/")[:2]) if key.count("/") >= 2 else key.split("/")[0]


class LocalStorage:
    def __init__(self, root: str | Path) -> None:
        self.path = Path(root).expanduser().resolve()
        self.root = str(self.path)

    def _path(self, key: str) -> Path:
        if key.startswith("/") or ".." in key.split("/"):
            raise StorageError("key escapes the lake", source=key)
        return self.path / key

    def put_bytes(self, key: str, data: bytes) -> None:
        target = self._path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            # Write beside the target, then rename: rename is atomic on POSIX filesystems.
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except OSError as exc:
            raise StorageError(f"cannot write: {exc.strerror or exc}", source=str(target)) from exc

    def get_bytes(self, key: str) -> bytes:
        target = self._path(key)
        try:
            return target.read_bytes()
        except FileNotFoundError as exc:
            raise StorageError("object not found", source=str(target)) from exc
        except OSError as exc:
            raise StorageError(f"cannot read: {exc.strerror or exc}", source=str(target)) from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list_keys(self, prefix: str) -> list[str]:
        base = self._path(prefix.rstrip("/")) if prefix else self.path
        if base.is_file():
            return [prefix]
        # As S3's, a prefix is a string prefix: one ending in "/" (or none) is a folder, walked
        # whole; any other ("raw/cot", "refined/quotes") ends inside a name, so its parent is
        # walked, into the entries whose name starts that way only. os.walk over scandir and
        # string keys: a rebuild lists tables of 500,000 files, where pathlib's rglob + is_file +
        # relative_to cost ~3x more (a stat and Path objects a file).
        whole = not prefix or prefix.endswith("/")
        top = base if whole else base.parent
        if not top.is_dir():
            return []  # no such folder: nothing under it
        start, cut = str(top), len(self.root) + 1
        keys = []
        for folder, folders, names in os.walk(top):
            if not whole and folder == start:
                folders[:] = [f for f in folders if f.startswith(base.name)]
            rel = folder[cut:].replace(os.sep, "/") + "/" if len(folder) >= cut else ""
            for name in names:
                key = rel + name
                if key.startswith(prefix) and not name.startswith(".tmp-"):
                    keys.append(key)
        return sorted(keys)

    def list_etags(self, prefix: str) -> dict[str, str]:
        """``key -> ETag`` under ``prefix``: the MD5 of the object's bytes, as S3 gives a single
        PUT's ETag, so the fingerprint is the content's. A lake copied elsewhere (timestamps not
        kept) or synced to S3 has the same fingerprints, and the raw manifest sees nothing new.

        Hashing every raw object on every run would read the whole raw layer (gigabytes at twenty
        years), so the digests are cached per object with its size and modification time in
        ``_b3lake/cache/etags/<layer>/<source>.json``: a run hashes only objects new or replaced
        since the last listing (a copied lake: once). One key asked alone is hashed directly."""
        keys = self.list_keys(prefix)
        if keys == [prefix]:
            return {prefix: self._md5(prefix)}
        groups: dict[str, list[str]] = {}
        for key in keys:
            groups.setdefault(_etag_group(key), []).append(key)
        out: dict[str, str] = {}
        for group, members in groups.items():
            cache_key = f"{ETAG_CACHE}{group}.json"
            try:
                cached: dict[str, list[Any]] = json.loads(self.get_bytes(cache_key))
            except (StorageError, ValueError):
                cached = {}
            fresh = {k: v for k, v in cached.items() if not k.startswith(prefix)}
            for key in members:
                try:
                    st = self._path(key).stat()
                except FileNotFoundError:  # deleted between the listing and the stat
                    continue
                entry = cached.get(key)
                if entry is None or entry[0] != st.st_size or entry[1] != st.st_mtime_ns:
                    entry = [st.st_size, st.st_mtime_ns, self._md5(key)]
                fresh[key] = entry
                out[key] = str(entry[2])
            if fresh != cached:
                self.put_bytes(cache_key, json.dumps(fresh, sort_keys=True).encode())
        return out

    def _md5(self, key: str) -> str:
        digest = hashlib.md5(usedforsecurity=False)
        with open(self._path(key), "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()

    def delete_keys(self, keys: list[str]) -> None:
        for key in keys:
            target = self._path(key)
            try:
                target.unlink(missing_ok=True)
            except OSError as exc:
                raise StorageError(
                    f"cannot delete: {exc.strerror or exc}", source=str(target)
                ) from exc
            # Drop emptied partition folders so they do not look like partitions.
            parent = target.parent
            while parent != self.path and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent

    def uri(self, key: str) -> str:
        return str(self._path(key))

    def local_path(self, key: str) -> str | None:
        """The file of ``key``: engines and writer processes may read and write it directly.

        A subclass that must see every write (a wrapper, a test stand-in for S3) returns None.
        """
        return str(self._path(key))

    def arrow_filesystem(self) -> tuple[pyarrow.fs.FileSystem, str]:
        import pyarrow.fs

        return pyarrow.fs.LocalFileSystem(), self.root
