"""The invariant's check: a lake built by the event path equals a rebuild of the same raw data.

``rebuild(lake, into)`` copies the raw layer alone (``raw/``) into a fresh lake and runs
``refine --mode full`` there, with the same settings; ``assert_equals_rebuild`` then compares
every object of ``refined/`` and ``quarantine/`` byte for byte, and the catalog's refined and
quarantine tables (columns, location, partitions, table properties). A table that holds no data
compares equal to one that is not catalogued at all (a lake whose last quote was removed keeps an
empty table; a rebuild of it never creates one; both query as empty).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from b3lake import tables
from b3lake.catalog.local import LocalCatalog
from b3lake.errors import CatalogError
from b3lake.settings import Settings
from b3lake.storage.local import LocalStorage

DATA = ("refined/", "quarantine/")


def objects(storage: LocalStorage, prefixes: tuple[str, ...] = DATA) -> dict[str, bytes]:
    return {k: storage.get_bytes(k) for p in prefixes for k in storage.list_keys(p)}


def rebuild(settings: Settings, into: Path) -> LocalStorage:
    """A fresh lake with ``settings``' raw layer copied, refined by one ``--mode full`` run."""
    from b3lake.pipeline import Pipeline

    source = LocalStorage(settings.lake)
    if into.exists():
        shutil.rmtree(into)
    target = LocalStorage(into)
    for key in source.list_keys("raw/"):
        target.put_bytes(key, source.get_bytes(key))
    Pipeline(settings.model_copy(update={"lake": str(into)})).refine(mode="full")
    return target


def catalog_view(storage: LocalStorage) -> dict[str, Any]:
    """The refined and quarantine tables of the lake's catalog that hold data."""
    catalog = LocalCatalog(storage)
    out: dict[str, Any] = {}
    for spec in tables.TABLES.values():
        try:
            info = catalog.get_table(spec.name)
        except CatalogError:
            continue
        if not storage.list_keys(spec.location):
            continue
        out[spec.name] = {
            "location": info.location,
            "columns": [(c.name, c.type) for c in info.columns],
            "partition_keys": [(c.name, c.type) for c in info.partition_keys],
            "partitions": sorted(tuple(sorted(p.items())) for p in info.partitions),
            "parameters": info.parameters,
        }
    return out


def assert_equals_rebuild(settings: Settings, into: Path) -> LocalStorage:
    """The event-built lake at ``settings.lake`` against its rebuild (returned)."""
    lake = LocalStorage(settings.lake)
    full = rebuild(settings, into)
    ours, theirs = objects(lake), objects(full)
    missing = sorted(set(theirs) - set(ours))
    extra = sorted(set(ours) - set(theirs))
    differ = sorted(k for k in set(ours) & set(theirs) if ours[k] != theirs[k])
    assert not (missing or extra or differ), {
        "missing": missing[:10],
        "extra": extra[:10],
        "differ": differ[:10],
        "counts": (len(missing), len(extra), len(differ)),
    }
    a, b = catalog_view(lake), catalog_view(full)
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == b[name], name
    return full
