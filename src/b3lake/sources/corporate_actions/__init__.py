"""Source ``corporate_actions``: B3's own record of cash distributions and stock events.

``parse`` holds the pure, strict parsers of ``GetListedCashDividends`` and
``GetListedSupplementCompany`` bodies (and of vcr cassettes that recorded them); ``client`` the
HTTP client (paging, retries). Raw layout: ``raw/corporate_actions/dt=<last date prior>/
<ISSUER>_<Endpoint>.parquet`` – one object per issuer, endpoint and date, so every event lands
under the session that still carries the right (a session of B3's calendar, known from the body,
never the wall clock), a re-fetch of an unchanged history rewrites nothing and fires nothing, and
a new event writes (and triggers the refine for) its own date only.
"""

from __future__ import annotations

from b3lake.sources.corporate_actions.parse import (
    CASH_DIVIDENDS,
    ENDPOINTS,
    SCHEMA,
    SOURCE,
    SUPPLEMENT,
    load_bodies,
    parse_cash_dividends,
    parse_file,
    parse_supplement,
    split_by_date,
    ticker_for,
)

__all__ = [
    "CASH_DIVIDENDS",
    "ENDPOINTS",
    "SCHEMA",
    "SOURCE",
    "SUPPLEMENT",
    "load_bodies",
    "object_name",
    "parse_cash_dividends",
    "parse_file",
    "parse_supplement",
    "split_by_date",
    "ticker_for",
]


def object_name(issuer: str, endpoint: str) -> str:
    """The raw object's name inside its ``dt=`` folder: ``ABEV_GetListedCashDividends``."""
    return f"{issuer}_{endpoint}"
