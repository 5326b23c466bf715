"""Athena partition projection for the R6 table (``refined_quotes``, ``dt`` x ``ticker``).

With projection Athena computes a query's partitions from table properties instead of listing
them from the catalog (``GetPartitions``), so planning does not grow with the ~250,000 partitions
a year of the whole market registers. ``dt`` is a date projection from the first session the table
holds to ``NOW``; ``ticker`` is an ``enum`` of every ticker the job has written, kept by the job:
each run that writes the table sets the list to the tickers the lake holds (the history layer's,
narrowed to ``--r6_tickers``), after the files (a stale list would hide a new ticker's data), so
the table's properties are a function of the data, as a rebuild would set them. Partitions are still registered as well, so turning projection off in the
table properties gives the same table.

What projection does not change is how many partitions a full scan touches: every projected
``dt`` (calendar days, weekends included) times every ticker. Athena reads at most 1,000,000
partitions in one scan: the whole market over twenty years is ~7,300 days x ~2,000 tickers
(~15 M), out of reach with or without projection, which is why multi-year queries belong on
``refined_quotes_history`` (20 partitions for 20 years) and why the R6 table's universe can be
narrowed (``--r6_tickers``: ~100 tickers x 7,300 days = 730,000). ``b3lake.tickers`` records a
narrowed universe so the local query engine serves the same rows from the history layer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

TICKERS = "b3lake.tickers"
ENABLED = "projection.enabled"
DT_RANGE = "projection.dt.range"
TICKER_VALUES = "projection.ticker.values"


def r6_parameters(
    first: str | None, tickers: Iterable[str], universe: tuple[str, ...] = ()
) -> dict[str, str]:
    """The R6 table's properties for a table whose first session is ``first`` (ISO) and which
    holds ``tickers`` (``universe``: ``--r6_tickers``, recorded for the local query engine).

    Both come from the data (the history layer's years, see ``jobs/refine/steps/quotes.py``), not
    from what a run happened to write: an incremental run and a rebuild leave the same table."""
    known = sorted(set(tickers))
    params: dict[str, str] = {}
    if known and first:
        params = {
            ENABLED: "true",
            "projection.dt.type": "date",
            "projection.dt.format": "yyyy-MM-dd",
            DT_RANGE: f"{first},NOW",
            "projection.dt.interval": "1",
            "projection.dt.interval.unit": "DAYS",
            "projection.ticker.type": "enum",
            TICKER_VALUES: ",".join(known),
        }
    if universe:
        params[TICKERS] = ",".join(sorted(set(universe)))
    return params


def full_scan_partitions(first: dt.date, last: dt.date, tickers: int) -> int:
    """Partitions a full scan of the projected table touches (calendar days x tickers)."""
    return ((last - first).days + 1) * tickers
