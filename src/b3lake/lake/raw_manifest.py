"""The raw manifest: which raw objects the refined layer has consumed, by ETag, and which run.

Why: a run refines every raw session that changed since the refined layer last consumed it, so
the run started by the first event of a burst does the work of the whole burst, and the runs
started by the other events (or by duplicate deliveries) find nothing pending and end in
seconds without writing. The manifest is what "changed" is measured against.

* **Fingerprints.** S3's ETag from the same ``ListObjectsV2`` pages the run lists raw with (no
  extra request; the ``eTag`` of an S3 notification is the same string), locally the MD5 of the
  object's bytes (what S3 gives a single PUT; ``LocalStorage.list_etags``, cached by size and
  modification time): content, not timestamps, so a copied lake has nothing pending.
* **Shards.** ``_b3lake/manifest/raw/<source>/<year>.json``: a daily run rewrites one or two
  small shards, the trigger reads only the shard of its event's object (one GET), and twenty
  years of three sources are ~60 shards, not one large object rewritten by every run.
* **Entries** ``key -> {"etag": …, "run": …}``: the ETag the run listed *before* it read the
  object, and the id of the run (the build) that consumed it. An entry is written only when it
  changes, so a run with nothing pending writes no shard, and re-runs keep the same bytes.
* **Nothing is lost.** A run records only what it listed when it planned, after all its
  partitions are written: an object that lands or is replaced while a run executes has an ETag
  the manifest does not hold, so it stays pending for the next run; a run that fails records
  nothing. Recording merges into the shard as it is at the end of the run (a concurrent run's
  entries are kept); the worst case of a lost update is one object refined twice.

Imports only the standard library and light b3lake modules (the trigger Lambda uses it).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from b3lake.errors import StorageError
from b3lake.keyspace import SYSTEM
from b3lake.lake.layout import by_session, parse_raw_key, raw_objects, raw_prefix

if TYPE_CHECKING:
    from b3lake.storage import Storage

MANIFEST_PREFIX = f"{SYSTEM}/manifest/raw/"
FORMAT = 1


def shard_key(raw_key: str) -> str:
    """The shard that holds a raw object's entry: ``…/manifest/raw/<source>/<year>.json``."""
    obj = parse_raw_key(raw_key)
    return f"{MANIFEST_PREFIX}{obj.source}/{obj.dt.year:04d}.json"


def list_raw(storage: Storage, source: str) -> dict[str, str]:
    """``key -> ETag`` of a raw source's objects (stray keys that are not raw data skipped)."""
    listed = storage.list_etags(raw_prefix(source))
    return {obj.key: listed[obj.key] for obj in raw_objects(listed)}


def parse_shard(data: bytes) -> dict[str, dict[str, str]]:
    """The entries of one shard's bytes."""
    body = json.loads(data)
    objects = body.get("objects", {}) if isinstance(body, dict) else {}
    return {str(k): dict(v) for k, v in objects.items() if isinstance(v, dict)}


def _read_shard(storage: Storage, key: str) -> dict[str, dict[str, str]]:
    try:
        return parse_shard(storage.get_bytes(key))
    except StorageError:
        return {}


def _encode(objects: dict[str, dict[str, str]]) -> bytes:
    body = {"format": FORMAT, "objects": dict(sorted(objects.items()))}
    return (json.dumps(body, indent=0, sort_keys=True) + "\n").encode()


def load(storage: Storage, sources: Iterable[str]) -> dict[str, dict[str, str]]:
    """Every entry of the given sources' shards: ``raw key -> {"etag", "run"}``."""
    entries: dict[str, dict[str, str]] = {}
    for source in sources:
        for key in storage.list_keys(f"{MANIFEST_PREFIX}{source}/"):
            if key.endswith(".json"):
                entries.update(_read_shard(storage, key))
    return entries


def changes(
    listed: Mapping[str, str], consumed: Mapping[str, Mapping[str, str]]
) -> tuple[list[str], list[str]]:
    """``(changed, removed)``: listed keys whose ETag the manifest does not hold, and keys the
    manifest holds that are no longer listed."""
    changed = sorted(k for k, e in listed.items() if consumed.get(k, {}).get("etag") != e)
    removed = sorted(k for k in consumed if k not in listed)
    return changed, removed


def record(
    storage: Storage,
    consumed: dict[str, str],
    removed: Iterable[str] = (),
    *,
    run_id: str,
) -> int:
    """Mark ``consumed`` (``key -> ETag`` as listed when the run planned) as refined by
    ``run_id`` and forget ``removed``; returns the number of shards written (only changed ones)."""
    by_shard: dict[str, tuple[dict[str, str], list[str]]] = defaultdict(lambda: ({}, []))
    for key, etag in consumed.items():
        by_shard[shard_key(key)][0][key] = etag
    for key in removed:
        by_shard[shard_key(key)][1].append(key)
    written = 0
    for shard, (updates, gone) in sorted(by_shard.items()):
        current = _read_shard(storage, shard)
        new = dict(current)
        for key in gone:
            new.pop(key, None)
        for key, etag in updates.items():
            if new.get(key, {}).get("etag") != etag:
                new[key] = {"etag": etag, "run": run_id}
        if new != current:
            if new:
                storage.put_bytes(shard, _encode(new))
            else:
                storage.delete_keys([shard])
            written += 1
    return written


def raw_index(storage: Storage, source: str) -> dict[dt.date, list[str]]:
    """``dt -> keys`` (sorted) of a raw source, from one listing of ``raw/<source>/``."""
    return by_session(storage.list_keys(raw_prefix(source)))
