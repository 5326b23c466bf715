"""The change set: what a run refines, handed to every step.

A run lists every registered raw source once (``key -> ETag``, ``lake/raw_manifest.py``) and compares
the listing with the raw manifest (what earlier runs consumed). The result is one
:class:`ChangeSet`: per source, the keys that are new or replaced, and the keys the manifest holds
that are gone. Every step declares the raw sources it reads and derives what it rewrites from the
change set alone (the sessions or dates of those keys), never from the run's ``--dt``: a run may
have been started by one object and find many pending (runs coalesce), and each of them must be
refined as a rebuild would refine it.

* ``--mode full``: every listed key is changed (and every manifest entry not listed is removed).
* A run started by hand with ``--dt D`` (no ``--raw_key``) also re-refines ``D``: every key of
  every source on ``D`` counts as changed.
* What the run records in the manifest once every step has written: the changed keys with the
  ETags listed here (an object replaced while the run executes keeps a new ETag, so it stays
  pending) and the removed ones forgotten.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from b3lake.lake import layout, raw_manifest

if TYPE_CHECKING:
    from b3lake.storage import Storage


@dataclass(frozen=True)
class ChangeSet:
    #: source -> {key: ETag} of every raw object listed when the run planned.
    listed: Mapping[str, Mapping[str, str]]
    #: source -> keys new or replaced since the manifest (every listed key in full mode).
    changed: Mapping[str, frozenset[str]]
    #: source -> keys the manifest holds that are no longer listed.
    removed: Mapping[str, frozenset[str]]
    full: bool = False
    #: Objects new, replaced or removed since the manifest (forced ones and a rebuild's not counted).
    pending: int = 0

    @classmethod
    def between(
        cls,
        listed: Mapping[str, Mapping[str, str]],
        consumed: Mapping[str, Mapping[str, str]],
        *,
        full: bool = False,
        forced_days: Iterable[dt.date] = (),
    ) -> ChangeSet:
        """The changes of ``listed`` (per source) against the manifest's ``consumed`` entries."""
        forced = set(forced_days)
        changed: dict[str, frozenset[str]] = {}
        removed: dict[str, frozenset[str]] = {}
        pending = 0
        by_source: dict[str, dict[str, Mapping[str, str]]] = defaultdict(dict)
        for key, entry in consumed.items():
            by_source[layout.parse_raw_key(key).source][key] = entry
        for source, keys in listed.items():
            new, gone = raw_manifest.changes(dict(keys), by_source.get(source, {}))
            pending += len(new) + len(gone)
            if full:
                new = list(keys)
            if forced:
                new += [k for k in keys if layout.parse_raw_key(k).dt in forced]
            changed[source] = frozenset(new)
            removed[source] = frozenset(gone)
        return cls(dict(listed), changed, removed, full, pending)

    @classmethod
    def of(
        cls,
        storage: Storage,
        sources: Iterable[str],
        *,
        full: bool = False,
        forced_days: Iterable[dt.date] = (),
    ) -> ChangeSet:
        """List ``sources`` (one listing each) and compare with the manifest."""
        names = tuple(sources)
        listed = {s: raw_manifest.list_raw(storage, s) for s in names}
        return cls.between(
            listed, raw_manifest.load(storage, names), full=full, forced_days=forced_days
        )

    # -- what steps ask ------------------------------------------------------------------------

    @cached_property
    def _index(self) -> dict[str, dict[dt.date, list[str]]]:
        return {source: layout.by_session(keys) for source, keys in self.listed.items()}

    def index(self, source: str) -> dict[dt.date, list[str]]:
        """``day -> keys`` of a source's objects (sorted keys)."""
        return self._index.get(source, {})

    def days(self, *sources: str) -> list[dt.date]:
        """Every day at least one of ``sources`` has an object on (sorted)."""
        return sorted({d for s in sources for d in self.index(s)})

    def changed_days(self, *sources: str) -> set[dt.date]:
        """The days of the changed or removed keys of ``sources``."""
        keys = [k for s in sources for k in (*self.changed.get(s, ()), *self.removed.get(s, ()))]
        return {layout.parse_raw_key(k).dt for k in keys}

    def keys_on(self, source: str, days: Iterable[dt.date]) -> list[str]:
        """The objects of ``source`` on ``days`` (sorted by day, then key)."""
        index = self.index(source)
        return [k for d in sorted(set(days)) for k in index.get(d, [])]

    def touches(self, *sources: str) -> bool:
        """Whether anything of ``sources`` changed (or the run is a full rebuild)."""
        return self.full or any(self.changed.get(s) or self.removed.get(s) for s in sources)

    # -- what the run records ------------------------------------------------------------------

    def consumed(self) -> dict[str, str]:
        """``key -> ETag`` of the changed keys, as listed (what the manifest records)."""
        return {k: self.listed[s][k] for s, keys in self.changed.items() for k in keys}

    def gone(self) -> list[str]:
        return sorted(k for keys in self.removed.values() for k in keys)
