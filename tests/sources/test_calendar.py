"""B3 calendar against B3's published non-trading days (R bizdays' Brazil_B3.json), and D-1."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from dateutil.easter import easter

from b3lake.errors import SourceError
from b3lake.sources import calendar as b3cal

HOLIDAYS_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "holidays" / "Brazil_B3.json"
SP = b3cal.B3_TZ


@pytest.fixture(scope="module")
def holidays() -> list[dt.date]:
    doc = json.loads(HOLIDAYS_FILE.read_text(encoding="utf-8"))
    return [dt.date.fromisoformat(d) for d in doc["holidays"]]


def _weekdays(start: dt.date, end: dt.date) -> list[dt.date]:
    days = (start + dt.timedelta(n) for n in range((end - start).days + 1))
    return [d for d in days if d.weekday() < 5]


def test_fixture_shape(holidays: list[dt.date]) -> None:
    assert len(holidays) == 571
    assert min(holidays) == dt.date(1990, 1, 1) and max(holidays) == dt.date(2025, 12, 31)
    assert sum(d.weekday() < 5 for d in holidays) == 489  # 82 of the 571 fall on weekends


def test_listed_weekdays_are_never_sessions(holidays: list[dt.date]) -> None:
    """2000..2025 (the overlap with our calendar): full agreement, both directions."""
    first, last = b3cal.calendar_range()
    assert first == dt.date(2000, 1, 3)  # 2000-01-01 is a Saturday (and a holiday)
    start, end = dt.date(2000, 1, 1), dt.date(2025, 12, 31)
    listed = {d for d in holidays if start <= d <= end and d.weekday() < 5}
    assert len(listed) == 339
    disagreements = sorted(d for d in listed if b3cal.is_session(d))
    assert disagreements == []
    # And the converse: every weekday the list does not name is a session.
    closed_unlisted = [
        d
        for d in _weekdays(dt.date(2000, 1, 3), end)
        if d not in listed and not b3cal.is_session(d)
    ]
    assert closed_unlisted == []


def test_before_2000_exchange_calendars_misses_26_closures(holidays: list[dt.date]) -> None:
    """Why the calendar starts in 2000: extrapolated back to 1990, exchange_calendars' B3 rules
    miss one-off closures. Measured here with the raw calendar, and each one explained."""
    import exchange_calendars as xc

    raw = xc.get_calendar(b3cal._b3().name, start="1990-01-01", end="2000-12-31")
    open_days = {ts.date() for ts in raw.sessions}
    listed = [d for d in holidays if d.year < 2000 and d.weekday() < 5]
    disagreements = sorted(d for d in listed if d in open_days)
    holy_thursday = {easter(y) - dt.timedelta(days=3) for y in range(1990, 2000)}
    ash_wednesday = {easter(y) - dt.timedelta(days=46) for y in range(1990, 1997)}
    one_offs = {
        dt.date(1990, 3, 14): "Plano Collor bank holiday",
        dt.date(1990, 3, 15): "Plano Collor bank holiday",
        dt.date(1990, 3, 16): "Plano Collor bank holiday",
        dt.date(1991, 2, 1): "Plano Collor II bank holiday",
        dt.date(1994, 7, 1): "Plano Real (new currency)",
        dt.date(1990, 10, 3): "general election",
        dt.date(1994, 10, 3): "general election",
        dt.date(1996, 10, 3): "municipal election",
        dt.date(1997, 7, 9): "Sao Paulo state holiday, first observed 1997",
    }
    explained = holy_thursday | ash_wednesday | set(one_offs)
    assert len(disagreements) == 26
    assert set(disagreements) == explained  # 10 Holy Thursdays + 7 Ash Wednesdays + 9 one-offs
    # Nothing the other way round: the calendar never closes a day the list calls open.
    listed_set = set(listed)
    weekdays = _weekdays(dt.date(1990, 1, 2), dt.date(1999, 12, 31))
    assert [d for d in weekdays if d not in open_days and d not in listed_set] == []


def test_out_of_range_dates_raise() -> None:
    with pytest.raises(SourceError, match=r"outside the B3 calendar's range 2000-01-03\.\."):
        b3cal.is_session(dt.date(1999, 12, 30))
    _, last = b3cal.calendar_range()
    with pytest.raises(SourceError, match="outside"):
        b3cal.sessions(dt.date(2020, 1, 1), last + dt.timedelta(days=1))
    with pytest.raises(SourceError, match="no session before"):
        b3cal.previous_session(dt.date(2000, 1, 3))


def test_sessions_and_gaps() -> None:
    carnival = b3cal.sessions(dt.date(2025, 2, 28), dt.date(2025, 3, 6))
    assert carnival == [dt.date(2025, 2, 28), dt.date(2025, 3, 5), dt.date(2025, 3, 6)]
    assert b3cal.is_session(dt.date(2025, 3, 5))  # Ash Wednesday: opens at 13:00
    assert not b3cal.is_session(dt.date(2025, 3, 4))
    assert len(b3cal.sessions(dt.date(2025, 1, 1), dt.date(2025, 1, 31))) == 22  # Jan 1 closed
    have = [dt.date(2025, 2, 28), dt.datetime(2025, 3, 6, 10, 0)]
    assert b3cal.missing_sessions(have, dt.date(2025, 2, 28), dt.date(2025, 3, 6)) == [
        dt.date(2025, 3, 5)
    ]


def test_previous_session() -> None:
    assert b3cal.previous_session(dt.date(2025, 4, 7)) == dt.date(2025, 4, 4)  # Monday -> Friday
    assert b3cal.previous_session(dt.date(2025, 4, 6)) == dt.date(2025, 4, 4)  # Sunday
    assert b3cal.previous_session(dt.date(2025, 3, 5)) == dt.date(2025, 2, 28)  # after Carnival
    assert b3cal.previous_session(dt.date(2025, 4, 8)) == dt.date(2025, 4, 7)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Weekend: Saturday and Monday morning both mean Friday.
        (dt.datetime(2025, 4, 5, 12, 0, tzinfo=SP), dt.date(2025, 4, 4)),
        (dt.datetime(2025, 4, 7, 9, 0, tzinfo=SP), dt.date(2025, 4, 4)),
        # Regular day around the 18:00 close.
        (dt.datetime(2025, 4, 8, 17, 59, tzinfo=SP), dt.date(2025, 4, 7)),
        (dt.datetime(2025, 4, 8, 18, 0, tzinfo=SP), dt.date(2025, 4, 8)),
        (dt.datetime(2025, 4, 8, 23, 30, tzinfo=SP), dt.date(2025, 4, 8)),
        # The same instants given in UTC (Sao Paulo is UTC-3 since 2019).
        (dt.datetime(2025, 4, 8, 20, 59, tzinfo=dt.UTC), dt.date(2025, 4, 7)),
        (dt.datetime(2025, 4, 9, 1, 0, tzinfo=dt.UTC), dt.date(2025, 4, 8)),  # 22:00 on the 8th
        # Naive means Sao Paulo wall time.
        (dt.datetime(2025, 4, 8, 18, 30), dt.date(2025, 4, 8)),
        # Carnival 2025 (Mar 3-4 closed): during and on Ash Wednesday before the close.
        (dt.datetime(2025, 3, 4, 20, 0, tzinfo=SP), dt.date(2025, 2, 28)),
        (dt.datetime(2025, 3, 5, 12, 0, tzinfo=SP), dt.date(2025, 2, 28)),
        (dt.datetime(2025, 3, 5, 18, 30, tzinfo=SP), dt.date(2025, 3, 5)),
        # Before 2019-11-04 B3 closed at 17:00.
        (dt.datetime(2019, 3, 1, 17, 30, tzinfo=SP), dt.date(2019, 3, 1)),
        (dt.datetime(2019, 3, 1, 16, 59, tzinfo=SP), dt.date(2019, 2, 28)),
        # New Year's Day.
        (dt.datetime(2025, 1, 1, 19, 0, tzinfo=SP), dt.date(2024, 12, 30)),
    ],
)
def test_last_completed_session(now: dt.datetime, expected: dt.date) -> None:
    assert b3cal.last_completed_session(now) == expected


def test_last_completed_session_default_now() -> None:
    today = dt.datetime.now(SP).date()
    got = b3cal.last_completed_session()
    assert got <= today and b3cal.is_session(got)
    assert [d for d in b3cal.sessions(got, today) if d not in (got, today)] == []
