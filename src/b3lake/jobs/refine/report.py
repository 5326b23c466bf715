"""The run report: what one refine run read, refined, quarantined, wrote and deleted, and how long
each stage took. Returned by ``job.run``, printed by the Glue script, kept in the local job-run
history (``b3lake runs``). Lineage (the run id) lives here and in the raw manifest, never in the
rows."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class RefineReport:
    mode: str
    dt: str | None
    engine: str
    run_id: str | None = None
    raw_rows_read: dict[str, int] = field(default_factory=dict)
    sessions_read: int = 0
    universe_rows: int = 0
    refined_input_rows: int = 0
    refined_rows: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, dict[str, int]] = field(default_factory=dict)
    partitions_written: dict[str, int] = field(default_factory=dict)
    objects_deleted: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    pending_objects: int = 0  # raw objects new, replaced or removed since the manifest
    manifest_shards_written: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def add(self, part: RefineReport) -> None:
        """Add a chunk's counts (sums of every count and time)."""

        def merge(into: dict[Any, Any], more: dict[Any, Any]) -> None:
            for key, value in more.items():
                if isinstance(value, dict):
                    merge(into.setdefault(key, {}), value)
                else:
                    into[key] = round(into.get(key, 0) + value, 4)

        merge(self.raw_rows_read, part.raw_rows_read)
        merge(self.refined_rows, part.refined_rows)
        merge(self.quarantined, part.quarantined)
        merge(self.partitions_written, part.partitions_written)
        merge(self.seconds, part.seconds)
        self.universe_rows += part.universe_rows
        self.refined_input_rows += part.refined_input_rows
        self.objects_deleted += part.objects_deleted

    def part(self) -> RefineReport:
        """An empty report for one chunk of this run (added back with :meth:`add`)."""
        return RefineReport(self.mode, self.dt, self.engine, self.run_id)


@contextmanager
def stage(report: RefineReport, name: str) -> Iterator[None]:
    """Add the time spent inside to ``report.seconds[name]``."""
    start = time.perf_counter()
    try:
        yield
    finally:
        report.seconds[name] = round(report.seconds.get(name, 0.0) + time.perf_counter() - start, 4)
