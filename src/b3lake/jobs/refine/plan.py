"""The quote plan: which sessions a run reads and which partitions it rewrites (dates only, pure).

From the change set's changed sessions (``changes.py``) of the quote sources:

* quote targets: each changed session and the up to ``LOOKBACK_SESSIONS`` (21) sessions after it
  (their windows include it); for a session whose raw objects are all gone, the sessions after
  it, and its partitions are removed;
* month targets: the months of those sessions;
* read: for each target month, its sessions and the 21 sessions before it (the windows of every
  row the run writes are complete). The union may have gaps, which is safe: the session number is
  the dense rank of the dates read, so a row whose previous one lies beyond a gap is more than 21
  sessions away and its windows are null, as they are in a full run.

A full rebuild is the same plan with every session changed. A plan of many sessions (a rebuild,
years landed as one burst, a lost manifest) runs in chunks of whole years (:func:`year_chunks`),
each with its own look-back: a chunk's memory, the same rows (a row reads 21 sessions back at
most).
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field

from b3lake.jobs.refine.transforms.quotes import LOOKBACK_SESSIONS

# A full rebuild runs in chunks of this many years (each with its 21-session look-back): the
# transform's memory grows with the rows it holds (1.6 GB at five years in one piece), a chunk's
# does not grow with the lake. One year: 0.9 GB peak for a year of the whole market read natively,
# 1.4 GB through the Storage port's Arrow path (S3); the look-back re-read costs ~8 % of a year's
# raw reads.
CHUNK_YEARS = 1
# An incremental plan rewriting more sessions than this runs in the same chunks of years: a lake
# whose raw manifest is lost or was copied to another store, or years of raw landed as one burst,
# make every session pending at once; in one piece such a run held 12 GB at 20 years of the whole
# market.
CHUNK_SESSIONS = 500


@dataclass(frozen=True)
class Plan:
    """What one run (or one chunk of it) reads and rewrites (sorted dates)."""

    read_sessions: list[dt.date]
    quote_sessions: list[dt.date]
    months: list[str]
    #: Sessions whose raw objects are all gone: their refined partitions are deleted.
    removed_sessions: list[dt.date] = field(default_factory=list)
    #: ``(first, last)`` of each run of consecutive target (or removed) sessions.
    ranges: list[tuple[dt.date, dt.date]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.quote_sessions and not self.removed_sessions

    def partitions(self) -> list[str]:
        """The ``dt=…/`` prefixes of the sessions this plan owns (targets and removed)."""
        return [
            f"dt={d.isoformat()}/" for d in sorted({*self.quote_sessions, *self.removed_sessions})
        ]

    def month_partitions(self) -> list[str]:
        return [f"month={m}/" for m in self.months]


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def plan_changes(
    sessions: list[dt.date],
    changed: set[dt.date],
    *,
    lookback: int = LOOKBACK_SESSIONS,
) -> Plan:
    """One plan over every changed session (see the module docstring)."""
    targets: set[dt.date] = set()
    removed: list[dt.date] = []
    for day in sorted(changed):
        i = bisect.bisect_left(sessions, day)
        if i < len(sessions) and sessions[i] == day:
            targets.update(sessions[i : i + 1 + lookback])
        else:
            removed.append(day)
            targets.update(sessions[i : i + lookback])
    quote_sessions = sorted(targets)
    months = sorted({month_of(s) for s in [*quote_sessions, *removed]})
    read = read_for_months(months, sessions, lookback)
    ranges = consecutive_ranges(sorted({*quote_sessions, *removed}), sessions)
    return Plan(read, quote_sessions, months, removed, ranges)


def read_for_months(months: list[str], sessions: list[dt.date], lookback: int) -> list[dt.date]:
    """The sessions of each month and the ``lookback`` sessions before it (sorted, unique)."""
    read: set[dt.date] = set()
    for month in months:
        first = bisect.bisect_left(sessions, dt.date.fromisoformat(month + "-01"))
        last = first
        while last < len(sessions) and month_of(sessions[last]) == month:
            last += 1
        if last > first:
            read.update(sessions[max(0, first - lookback) : last])
    return sorted(read)


def consecutive_ranges(
    days: list[dt.date], sessions: list[dt.date]
) -> list[tuple[dt.date, dt.date]]:
    """``(first, last)`` of each run of ``days`` with no lake session between two of them."""
    ranges: list[tuple[dt.date, dt.date]] = []
    for day in days:
        if ranges and bisect.bisect_right(sessions, ranges[-1][1]) >= bisect.bisect_left(
            sessions, day
        ):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def chunked(plan: Plan, sessions: list[dt.date], *, full: bool) -> list[Plan]:
    """The plan as it runs: in chunks of years when it is a rebuild or large, else whole."""
    if full or len(plan.quote_sessions) > CHUNK_SESSIONS:
        return year_chunks(plan, sessions)
    return [plan] if not plan.empty else []


def year_chunks(
    plan: Plan,
    sessions: list[dt.date],
    *,
    years: int | None = None,
    lookback: int = LOOKBACK_SESSIONS,
) -> list[Plan]:
    """A plan cut into plans of ``years`` whole years of its targets: each with its targets,
    removed sessions and months of those years, the sessions those months read, and its own
    ranges (a range across a new year is cut there)."""
    per = years or CHUNK_YEARS
    found = sorted({d.year for d in [*plan.quote_sessions, *plan.removed_sessions]})
    out = []
    for i in range(0, len(found), per):
        group = set(found[i : i + per])
        targets = [d for d in plan.quote_sessions if d.year in group]
        removed = [d for d in plan.removed_sessions if d.year in group]
        months = sorted({month_of(d) for d in [*targets, *removed]})
        read = read_for_months(months, sessions, lookback)
        ranges = consecutive_ranges(sorted({*targets, *removed}), sessions)
        out.append(Plan(read, targets, months, removed, ranges))
    return out
