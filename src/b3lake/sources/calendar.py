"""B3 trading calendar: which days are sessions, and what "D-1" means.

Built on exchange_calendars (imported lazily: it is slow to import). exchange_calendars 4.x
names B3 ``BVMF`` (``XBSP`` is tried first in case a release adds the ISO MIC). Its default range
starts in 2006; we build it from :data:`CALENDAR_START` (2000-01-01), the earliest year where it
agrees with B3's published non-trading days (before 2000 it misses one-off closures such as
Plano Collor, election days and Holy Thursdays). Dates outside the range raise SourceError
instead of a silently wrong answer.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from b3lake.errors import SourceError

CALENDAR_NAMES = ("XBSP", "BVMF")
CALENDAR_START = dt.date(2000, 1, 1)
B3_TZ = ZoneInfo("America/Sao_Paulo")


@dataclass(frozen=True)
class _B3Calendar:
    name: str
    sessions: tuple[dt.date, ...]
    session_set: frozenset[dt.date]
    calendar: Any  # exchange_calendars.ExchangeCalendar

    @property
    def first(self) -> dt.date:
        return self.sessions[0]

    @property
    def last(self) -> dt.date:
        return self.sessions[-1]

    @property
    def source(self) -> str:
        return f"exchange_calendars:{self.name}"


@lru_cache(maxsize=1)
def _b3() -> _B3Calendar:
    import exchange_calendars as xc
    from exchange_calendars.errors import InvalidCalendarName

    for name in CALENDAR_NAMES:
        try:
            cal = xc.get_calendar(name, start=CALENDAR_START.isoformat())
        except InvalidCalendarName:
            continue
        days = tuple(ts.date() for ts in cal.sessions)
        return _B3Calendar(name, days, frozenset(days), cal)
    raise SourceError(
        "exchange_calendars has no B3 calendar", source="exchange_calendars", value=CALENDAR_NAMES
    )


def _as_date(d: dt.date) -> dt.date:
    return d.date() if isinstance(d, dt.datetime) else d


def _check(d: dt.date, *, allow_after: bool = False) -> dt.date:
    b3 = _b3()
    d = _as_date(d)
    upper = b3.last + dt.timedelta(days=1) if allow_after else b3.last
    if not b3.first <= d <= upper:
        raise SourceError(
            f"date outside the B3 calendar's range {b3.first}..{b3.last}",
            source=b3.source,
            field="date",
            value=d.isoformat(),
        )
    return d


def calendar_range() -> tuple[dt.date, dt.date]:
    """First and last session the calendar knows (answers outside it raise SourceError)."""
    b3 = _b3()
    return b3.first, b3.last


def is_session(d: dt.date) -> bool:
    """True when B3 trades on ``d`` (weekends, holidays and exchange closures are not sessions)."""
    return _check(d) in _b3().session_set


def sessions(start: dt.date, end: dt.date) -> list[dt.date]:
    """Sessions from ``start`` to ``end``, both inclusive."""
    start, end = _check(start), _check(end)
    days = _b3().sessions
    return list(days[bisect.bisect_left(days, start) : bisect.bisect_right(days, end)])


def previous_session(d: dt.date) -> dt.date:
    """The last session strictly before ``d``."""
    b3 = _b3()
    d = _check(d, allow_after=True)
    i = bisect.bisect_left(b3.sessions, d) - 1
    if i < 0:
        raise SourceError(
            f"no session before the calendar's first session {b3.first}",
            source=b3.source,
            field="date",
            value=d.isoformat(),
        )
    return b3.sessions[i]


def session_close(d: dt.date) -> dt.datetime:
    """Close of session ``d``, aware UTC (17:00 local before 2019-11-04, 18:00 after)."""
    import pandas as pd

    d = _check(d)
    if d not in _b3().session_set:
        raise SourceError(
            "not a B3 session", source=_b3().source, field="date", value=d.isoformat()
        )
    close = _b3().calendar.session_close(pd.Timestamp(d))
    return close.to_pydatetime().astimezone(dt.UTC)


def last_completed_session(now: dt.datetime | None = None) -> dt.date:
    """D-1: the last session whose trading day is over at ``now``.

    On a session day before the close the answer is the previous session; after the close it
    is today. A naive ``now`` is read as Sao Paulo wall time (B3's clock).
    """
    if now is None:
        now = dt.datetime.now(dt.UTC)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=B3_TZ)
    today = now.astimezone(B3_TZ).date()
    if is_session(today) and now >= session_close(today):
        return today
    return previous_session(today)


def missing_sessions(dates: Iterable[dt.date], start: dt.date, end: dt.date) -> list[dt.date]:
    """Sessions in ``start..end`` (inclusive) missing from ``dates``: the gaps to backfill."""
    have = {_as_date(d) for d in dates}
    return [d for d in sessions(start, end) if d not in have]
