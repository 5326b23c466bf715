"""What every engine can do beyond running plans: write a table, write the history layer, release.

``ArrowEngine`` is the base implementation: the rows of a DataFrame are collected as Arrow and
written through the Storage port (``lake/parquet_io.py``: one ``part-0.parquet`` per partition,
sorted, deterministic bytes; ``lake/history.py``: one file a year). The embedded engine
(SQLFrame/DuckDB) uses it as it is; ``SparkEngine`` overrides both writers with Spark's own
writer on the executors where Spark reaches the lake, and falls back to these where it does not
(a local Spark over moto's S3).

Decisions:

* The job never asks an engine what it is: every engine has these methods, and an engine that
  writes differently overrides them. What the caller gets back is the same (:class:`TableWrite`).
* A write deletes what it made stale itself (objects under the partitions it owns that it did
  not rewrite) and returns those keys: the caller only catalogues.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from b3lake.engines import DataFrame

if TYPE_CHECKING:
    import pyarrow as pa

    from b3lake.lake.parquet_io import WrittenPartition
    from b3lake.storage import Storage
    from b3lake.tables import TableSpec

#: ``(first, last)`` session of a run of consecutive rewritten sessions.
DateRange = tuple[dt.date, dt.date]


@dataclass
class TableWrite:
    """What one write did: the partitions written and the objects it deleted."""

    written: list[WrittenPartition] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    #: Per written partition value of the history layer: its tickers and first session (the
    #: R6 table's projection is derived from them).
    summary: dict[str, dict[str, Any]] = field(default_factory=dict)


class ArrowEngine:
    """The writers of every engine, over Arrow tables (subclasses run the plans)."""

    name = "arrow"

    def to_arrow(self, df: DataFrame) -> pa.Table:  # pragma: no cover - every engine has its own
        raise NotImplementedError

    def count(self, df: DataFrame) -> int:
        """Rows of ``df`` (one aggregate; nothing else reaches the driver)."""
        return int(df.count())

    def release(self) -> None:
        """Drop what the engine holds for the plans run so far (the session stays usable)."""

    # -- writing -------------------------------------------------------------------------------

    def write_table(
        self,
        df: DataFrame,
        spec: TableSpec,
        storage: Storage,
        *,
        owned: list[str],
    ) -> TableWrite:
        """Write ``df`` (the spec's partition columns first, any order of the rest) under the
        table's location, one file per partition, and delete the objects under ``owned`` (key
        prefixes this write replaces whole) that it did not write."""
        from b3lake.lake import parquet_io
        from b3lake.tables.arrow import conform, full_schema

        table = conform(self.to_arrow(df), full_schema(spec), spec.name)
        written = parquet_io.write_partitions(
            storage, spec.location, table, spec.keys, sort_by=list(spec.sort_by)
        )
        stale = parquet_io.stale_keys(storage, owned, [w.key for w in written])
        if stale:
            storage.delete_keys(stale)
        return TableWrite(written, stale)

    def write_history(
        self,
        df: DataFrame,
        spec: TableSpec,
        storage: Storage,
        *,
        ranges: list[DateRange] | None,
    ) -> TableWrite:
        """The history layer (``year=YYYY/part-0.parquet``) from ``df`` (its rows of the
        rewritten sessions). ``ranges``: the runs of consecutive sessions an incremental run
        rewrites (the other rows of their years are kept); None: ``df`` is the whole content of
        every year it touches (a full rebuild, or one chunk of one)."""
        from b3lake.lake import history
        from b3lake.lake.parquet_io import WrittenPartition
        from b3lake.tables.arrow import file_schema

        schema = file_schema(spec)
        rows = self.to_arrow(df)
        results = [
            history.write(
                storage,
                spec.location,
                rows if r is None else history.between(rows, r[0], r[1]),
                schema,
                replace=r,
            )
            for r in ([None] if ranges is None else ranges)
        ]
        # A year written by two ranges is one partition (the last write holds both).
        last: dict[str, tuple[str, str, int]] = {w[0]: w for res in results for w in res.written}
        deleted = [k for res in results for v, k in res.deleted if v not in last]
        summary = {v: s for res in results for v, s in res.summary.items() if v in last}
        written = [WrittenPartition({"year": v}, key, n) for v, key, n in last.values()]
        return TableWrite(written, deleted, summary)
