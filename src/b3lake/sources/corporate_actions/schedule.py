"""Which issuers the daily extract asks B3 about: every issuer of the landed tickers.

With no ``[corporate_actions] issuers`` in the settings, the scheduled extract of session ``D``
reads the lake's newest raw COTAHIST object at or before ``D`` (one object, four columns) and
takes the issuers (the first four letters) of its company shares in the universe: market ``010``
(the universe's markets), BDI ``02`` (round lots), an ISIN of shares or units (characters 7-9
``ACN`` or ``CDA``: not the BDRs B3 also printed under BDI 02, ``BRAAPLBDR004``, nor real-estate
funds, BDI 12, which the listed-companies API does not cover), a standard ticker (four letters
and a class number: ``ABEV3``, ``SANB11``), the universe's tickers when it lists some, minus its
excluded ``ESPECI``. The 2016-01-04 daily file gives 219 issuers. So the factors behind ``adjusted_quotes`` cover the whole market without a hand-kept
list.

Politeness and the time budget: ~300 issuers a session at ~2 requests each, spaced
``min_interval_seconds`` (0.5 s) apart, is ~5 minutes of requests. ``batches = N`` spreads them
over N sessions: issuer ``X`` is asked on the sessions whose ordinal (the count of B3 sessions
since the calendar's first) is ``crc32(X) mod N``, so every issuer is asked once every N sessions,
the assignment does not move when other issuers list or delist, and two runs of one session ask
the same issuers. A new event is announced days before its last date prior, so with N = 5 it
still lands before the ex-date in most cases (and when later, its raw object is dated by its last
date prior and the factors are recomputed then).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zlib
from typing import TYPE_CHECKING

from b3lake.errors import SourceError

if TYPE_CHECKING:
    from b3lake.settings import Settings
    from b3lake.storage import Storage

COMPANY_BDI = ("02",)
COMPANY_ISIN = ("ACN", "CDA")  # ISIN characters 7-9: shares, units (share deposit certificates)
_TICKER = re.compile(r"^[A-Z]{4}[0-9]{1,2}$")
_COLUMNS = ["codneg", "tpmerc", "codbdi", "especi", "codisi"]


def _storage(settings: Settings) -> Storage:
    from b3lake.storage import storage_for

    if settings.lake_is_s3:
        return storage_for(
            settings.lake, endpoint_url=settings.aws_endpoint_url, region=settings.aws_region
        )
    return storage_for(settings.lake)


def newest_cotahist_key(storage: Storage, day: dt.date) -> str | None:
    """The raw COTAHIST object of the newest session at or before ``day`` (None: none landed)."""
    from b3lake.lake.raw_manifest import raw_index

    index = raw_index(storage, "cotahist")
    days = [d for d in index if d <= day]
    return index[max(days)][-1] if days else None


def landed_issuers(settings: Settings, day: dt.date, storage: Storage | None = None) -> list[str]:
    """The issuers of the company shares in the newest landed session at or before ``day``."""
    import pyarrow.parquet as pq

    storage = storage or _storage(settings)
    key = newest_cotahist_key(storage, day)
    if key is None:
        raise SourceError(
            "no COTAHIST landed yet to take the issuers from: land cotahist first, or list "
            "[corporate_actions] issuers",
            source=storage.root,
            field="corporate_actions.issuers",
        )
    table = pq.read_table(io.BytesIO(storage.get_bytes(key)), columns=_COLUMNS)
    universe = settings.universe
    markets, tickers = set(universe.tpmerc), set(universe.tickers)
    excluded = set(universe.exclude_especi)
    issuers = set()
    for row in table.to_pylist():
        code = row["codneg"] or ""
        if (
            row["tpmerc"] in markets
            and row["codbdi"] in COMPANY_BDI
            and (row["codisi"] or "")[6:9] in COMPANY_ISIN
            and _TICKER.match(code)
            and (not tickers or code in tickers)
            and (row["especi"] or "") not in excluded
        ):
            issuers.add(code[:4])
    return sorted(issuers)


def session_ordinal(day: dt.date) -> int:
    """How many B3 sessions there are from the calendar's first to ``day`` (inclusive)."""
    from b3lake.sources import calendar

    first, _ = calendar.calendar_range()
    return len(calendar.sessions(first, day))


def batch_of(issuers: list[str], day: dt.date, batches: int) -> list[str]:
    """The issuers asked on session ``day`` when they are spread over ``batches`` sessions."""
    if batches <= 1:
        return list(issuers)
    turn = session_ordinal(day) % batches
    return [i for i in issuers if zlib.crc32(i.encode()) % batches == turn]


def scheduled_issuers(settings: Settings, day: dt.date) -> list[str]:
    """The settings' issuers, else those of the landed tickers; this session's batch of them."""
    config = settings.corporate_actions
    issuers = sorted({i.strip().upper() for i in config.issuers if i.strip()})
    if not issuers:
        issuers = landed_issuers(settings, day)
    return batch_of(issuers, day, config.batches)
