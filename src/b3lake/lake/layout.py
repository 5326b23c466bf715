"""Where every object lives in the lake; the one place that knows the key layout.

Local and S3 lakes share it: ``raw/<source>/dt=YYYY-MM-DD/<name>.parquet``,
``refined/<table>/<partitions>/…parquet``, ``quarantine/<table>/dt=…/…parquet``.
``dt`` is the trading date the data belongs to, never the ingestion date. A refined or
quarantine table's folder and partition keys are its ``TableSpec``'s (``b3lake.tables``).
b3lake's own objects (catalog, job runs, the raw manifest, caches) live under
``b3lake.keyspace.SYSTEM`` (``_b3lake/``) and a lake's address is ``keyspace.lake_location``'s:
the storage and the catalog below read them without importing this module. Nothing here copies
a list: the raw sources are the registry's (``b3lake.sources.registry.raw_names()``), the tables
the specs' (``b3lake.tables``).
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from b3lake import tables
from b3lake.errors import EventError

RAW = "raw"
REFINED = "refined"

_RAW_KEY = re.compile(
    r"^raw/(?P<source>[a-z0-9_]+)/dt=(?P<dt>\d{4}-\d{2}-\d{2})/(?P<name>[A-Za-z0-9_.=-]+)\.parquet$"
)


def raw_key(source: str, day: dt.date, name: str = "part-0") -> str:
    return f"{RAW}/{source}/dt={day.isoformat()}/{name}.parquet"


def raw_prefix(source: str) -> str:
    return f"{RAW}/{source}/"


def refined_prefix(table: str) -> str:
    """``refined/quotes/`` for ``refined_quotes`` (the spec's location)."""
    return tables.table(table).location


@dataclass(frozen=True)
class RawObject:
    source: str
    dt: dt.date
    name: str
    key: str


def parse_raw_key(key: str) -> RawObject:
    """Validate a raw key (no ``..``, no absolute path, the dt=… layout) and split it."""
    if key.startswith("/") or ".." in key.split("/") or posixpath.normpath(key) != key:
        raise EventError("raw key is not a plain relative key", source=key)
    match = _RAW_KEY.match(key)
    if match is None:
        raise EventError(
            "raw key does not match raw/<source>/dt=YYYY-MM-DD/<name>.parquet", source=key
        )
    try:
        day = dt.date.fromisoformat(match["dt"])
    except ValueError as exc:
        raise EventError("raw key has an impossible date", source=key, value=match["dt"]) from exc
    return RawObject(source=match["source"], dt=day, name=match["name"], key=key)


def raw_objects(keys: Iterable[str]) -> Iterator[RawObject]:
    """The raw objects among ``keys``; stray keys (markers, temp files) are not raw data."""
    for key in keys:
        try:
            yield parse_raw_key(key)
        except EventError:
            continue


def by_session(keys: Iterable[str]) -> dict[dt.date, list[str]]:
    """``dt -> keys`` (sorted) of the raw objects among ``keys``, sessions in order."""
    found: dict[dt.date, list[str]] = {}
    for obj in raw_objects(sorted(keys)):
        found.setdefault(obj.dt, []).append(obj.key)
    return found
