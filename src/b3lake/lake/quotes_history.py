"""The history layer: ``refined/quotes_history/year=YYYY/part-0.parquet`` (``refined_quotes_history``).

The same rows as the R6 table (``refined/quotes/dt=…/ticker=…/``), written by the same run from
the same Arrow table, in a layout sized for twenty years of the whole market:

* **one file per year**, rows sorted by ``ticker, source, dt``, written in row groups of
  ``ROW_GROUP_ROWS`` rows with statistics: a filter on ``ticker`` reads one or two row groups
  of each year (min/max pruning), a filter on ``dt`` skips whole years (file statistics, and the
  ``year`` partition on Athena). Twenty years are 20 objects and 20 partitions, against the R6
  table's ~250,000 objects and partitions a year; a full scan stays far below Athena's
  1,000,000 partitions a scan. Measured against month partitions and the dt x ticker table in
  ``benchmarks/bench_history.py`` (figures in docs/architecture.md);
* ``dt`` and ``ticker`` are columns of the file (not partition values): a query reads the same
  columns as from the R6 table, and the partition key ``year`` is only for pruning;
* **incremental**: a run that rewrites sessions ``first..last`` (the session and the later
  sessions whose windows it changes) reads each year file those sessions fall in, replaces that
  date range's rows with the run's rows and writes the year again; other years are untouched.
  Rows are sorted on their unique key and serialised with fixed options, so the same rows give
  the same bytes however they were reached (a re-run, an incremental run, a full rebuild).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

    from b3lake.storage import Storage

TABLE = "refined_quotes_history"
PART_FILE = "part-0.parquet"
SORT_KEYS = ("ticker", "source", "dt")
# ~1,000 tickers x 250 sessions = ~250,000 rows a year: ~25 row groups, each spanning ~40
# tickers, so one ticker's rows sit in one or two of them.
ROW_GROUP_ROWS = 10_000


def partition_of(day: dt.date, grain: str = "year") -> str:
    """The partition value of a session: ``"2021"`` (year) or ``"2021-01"`` (month)."""
    return f"{day.year:04d}" if grain == "year" else f"{day.year:04d}-{day.month:02d}"


def partition_bounds(value: str) -> tuple[dt.date, dt.date]:
    """First and last calendar day of a partition value."""
    if len(value) == 4:
        year = int(value)
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    year, month = int(value[:4]), int(value[5:7])
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return dt.date(year, month, 1), nxt - dt.timedelta(days=1)


def key_of(prefix: str, value: str, grain: str = "year") -> str:
    return f"{prefix}{grain}={value}/{PART_FILE}"


def serialize(table: pa.Table, row_group_rows: int = ROW_GROUP_ROWS) -> bytes:
    """Deterministic Parquet bytes with statistics and dictionaries (large files)."""
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(
        table,
        sink,
        compression="snappy",
        row_group_size=row_group_rows,
        use_dictionary=True,
        write_statistics=True,
    )
    return sink.getvalue()


def sort_rows(table: pa.Table) -> pa.Table:
    import pyarrow.compute as pc

    order = [(k, "ascending") for k in SORT_KEYS]
    return table.take(pc.sort_indices(table, sort_keys=order))


def _in_range(table: pa.Table, first: dt.date, last: dt.date, *, inside: bool) -> pa.Table:
    import pyarrow as pa
    import pyarrow.compute as pc

    day = table.column("dt")
    mask = pc.and_(
        pc.greater_equal(day, pa.scalar(first, pa.date32())),
        pc.less_equal(day, pa.scalar(last, pa.date32())),
    )
    return table.filter(mask if inside else pc.invert(mask))


def between(table: pa.Table, first: dt.date, last: dt.date) -> pa.Table:
    """Rows of ``table`` with ``first <= dt <= last`` (the table itself when all are)."""
    import pyarrow.compute as pc

    if table.num_rows:
        low, high = pc.min_max(table.column("dt")).values()
        if low.as_py() >= first and high.as_py() <= last:
            return table  # the whole table (a full rebuild): no filtered copy
    return _in_range(table, first, last, inside=True)


def summarize(rows: pa.Table) -> dict[str, object]:
    """What a year file holds, in brief: its tickers and its first session (the R6 table's
    partition projection is derived from these, so it is a function of the data alone)."""
    import pyarrow.compute as pc

    tickers = sorted(t for t in pc.unique(rows.column("ticker")).to_pylist() if t is not None)
    first = pc.min(rows.column("dt")).as_py()
    return {"first": first.isoformat() if first else None, "tickers": tickers}


def summaries(table: pa.Table) -> dict[str, dict[str, object]]:
    """``year -> summary`` from an aggregate of ``year, first, tickers`` (one row per year, as
    an engine computes it without collecting the rows)."""
    out: dict[str, dict[str, object]] = {}
    for row in table.to_pylist():
        first = row["first"]
        out[row["year"]] = {
            "first": first.isoformat() if first else None,
            "tickers": sorted(t for t in row["tickers"] if t is not None),
        }
    return out


@dataclass(frozen=True)
class HistoryWrite:
    written: list[tuple[str, str, int]]  # (partition value, key, rows)
    deleted: list[tuple[str, str]]  # (partition value, key)
    requests: int = 0
    #: partition value -> :func:`summarize` of the rows written there.
    summary: dict[str, dict[str, object]] = field(default_factory=dict)


def write(
    storage: Storage,
    prefix: str,
    rows: pa.Table,
    schema: pa.Schema,
    *,
    replace: tuple[dt.date, dt.date] | None,
    grain: str = "year",
    row_group_rows: int = ROW_GROUP_ROWS,
) -> HistoryWrite:
    """Write the history files that ``rows`` (in ``schema``: ``dt``, ``ticker``, …) touch.

    ``replace=(first, last)``: an incremental run; each partition overlapping ``first..last`` is
    read, its rows in that range dropped, ``rows`` of the partition added, and written again
    (deleted when left empty). ``replace=None``: ``rows`` are the whole content of every
    partition they touch (a full rebuild or one chunk of one); nothing is read.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    rows = rows.select(schema.names).cast(schema)
    values: set[str] = set()
    if rows.num_rows:
        days = pc.unique(rows.column("dt")).to_pylist()
        values = {partition_of(d, grain) for d in days}
    if replace is not None:
        first, last = replace
        day = first
        while day <= last:  # every partition the range touches, with or without new rows
            values.add(partition_of(day, grain))
            day = partition_bounds(partition_of(day, grain))[1] + dt.timedelta(days=1)
    written: list[tuple[str, str, int]] = []
    deleted: list[tuple[str, str]] = []
    summary: dict[str, dict[str, object]] = {}
    requests = 0
    for value in sorted(values):
        lo, hi = partition_bounds(value)
        mine = _in_range(rows, lo, hi, inside=True)
        key = key_of(prefix, value, grain)
        if replace is not None and storage.exists(key):
            requests += 2
            old = pq.read_table(io.BytesIO(storage.get_bytes(key))).select(schema.names)
            kept = _in_range(old.cast(schema), replace[0], replace[1], inside=False)
            mine = pa.concat_tables([kept, mine])
        if mine.num_rows == 0:
            if replace is not None and storage.exists(key):
                storage.delete_keys([key])
                deleted.append((value, key))
            continue
        storage.put_bytes(key, serialize(sort_rows(mine), row_group_rows))
        requests += 1
        written.append((value, key, mine.num_rows))
        summary[value] = summarize(mine)
    return HistoryWrite(written, deleted, requests, summary)


def partitions_in(keys: Iterable[str], prefix: str, grain: str = "year") -> dict[str, str]:
    """``{value: key}`` of the history files among ``keys``."""
    out = {}
    for key in keys:
        rest = key[len(prefix) :]
        if rest.startswith(f"{grain}=") and rest.endswith("/" + PART_FILE):
            out[rest[len(grain) + 1 : -len(PART_FILE) - 1]] = key
    return out
