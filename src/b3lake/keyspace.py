"""The lake's key space before any layout: where a lake is, and where b3lake keeps its own objects.

A lake is ``s3://bucket/prefix`` or a local directory (:func:`lake_location`), and b3lake's own
objects (the local catalog, job-run history, the raw manifest, caches) live under :data:`SYSTEM`.
The storage adapters, the catalogs, the event bus, the trigger and the lake's layout all read
these, so they sit at the bottom of the layering (docs/architecture.md, **Layers**), apart from
``b3lake.storage`` (whose ``storage_for`` reaches the adapters and pyarrow: the trigger Lambda's
zip holds no pyarrow) and from ``b3lake.lake.layout`` (the refined and raw keys, above storage).
Standard library only.
"""

from __future__ import annotations

#: The prefix of b3lake's own objects: the local catalog, job-run history, the raw manifest,
#: caches (``_b3lake/catalog/``, ``_b3lake/job_runs/``, ``_b3lake/manifest/``, ``_b3lake/cache/``).
SYSTEM = "_b3lake"

#: The pseudo-bucket of a local lake (local S3 events carry it).
LOCAL_BUCKET = "b3lake-local"


def lake_location(lake: str) -> tuple[str, str]:
    """``(bucket, key prefix)`` of a lake: ``s3://b/p`` → ``("b", "p/")``; a local dir is the
    pseudo-bucket ``b3lake-local`` with no prefix (local events carry that bucket name)."""
    if lake.startswith("s3://"):
        bucket, _, prefix = lake[len("s3://") :].partition("/")
        prefix = prefix.strip("/")
        return bucket, f"{prefix}/" if prefix else ""
    return LOCAL_BUCKET, ""
