"""HTTP client of B3's listed-companies API: both corporate-action endpoints of one issuer.

``GetListedSupplementCompany`` is asked by issuer code (``{"issuingCompany": "ABEV"}``) and names
the company's ``tradingName`` (``AMBEV S/A``), which is what ``GetListedCashDividends`` is asked
by (``AMBEVSA``: letters and digits only, as B3's own site sends it). Cash dividends are paged:
every page is followed and the rows must add up to the announced ``totalRecords``.

Every GET goes through the shared helper (b3lake.sources.http): a connection error, a timeout,
HTTP 408/425/429 or 5xx is retried (``retries`` times, waiting ``backoff * 2**(attempt - 1)``
seconds; ``sleep`` is injectable so tests do not wait). Any other HTTP error, an HTML page or an
empty body raises FetchError naming the URL at once.

:func:`fetch_issuers` asks for many issuers politely, the way the daily schedule does (every
issuer of the landed tickers): one session, requests spaced ``min_interval_seconds`` apart. An
issuer B3 does not know (an empty body, as rb3's recording for ``WWWW`` shows, or an empty list)
is *missing*, not an error; an issuer whose requests still fail after the retries is listed as
missing with the reason and the others go on, unless every issuer failed (B3 is down: the error
is raised, so the scheduler's retry policy runs the extract again).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from b3lake.errors import FetchError
from b3lake.sources.corporate_actions import parse
from b3lake.sources.http import EmptyBody, Http, get_bytes
from b3lake.sources.ibov.client import encode_params

if TYPE_CHECKING:
    import requests

BASE_URL = "https://sistemaswebb3-listados.b3.com.br/listedCompaniesProxy/CompanyCall"
PAGE_SIZE = 100
TIMEOUT = 30.0
RETRIES = 3
BACKOFF = 1.0


def supplement_url(issuer: str, *, language: str = "pt-br") -> str:
    params = {"issuingCompany": issuer, "language": language}
    return f"{BASE_URL}/{parse.SUPPLEMENT}/{encode_params(params)}"


def cash_dividends_url(
    trading_name: str, *, page_number: int = 1, page_size: int = PAGE_SIZE, language: str = "pt-br"
) -> str:
    params = {
        "tradingName": trading_name,
        "language": language,
        "pageNumber": page_number,
        "pageSize": page_size,
    }
    return f"{BASE_URL}/{parse.CASH_DIVIDENDS}/{encode_params(params)}"


def get_body(
    session: requests.Session | None,
    url: str,
    *,
    timeout: float = TIMEOUT,
    retries: int = RETRIES,
    backoff: float = BACKOFF,
    sleep: Callable[[float], None] = time.sleep,
) -> bytes:
    """The body of a GET, retrying transient failures (the shared policy of b3lake.sources.http)."""
    return get_bytes(
        url,
        session=session,
        timeout_seconds=timeout,
        retries=retries,
        backoff_seconds=backoff,
        sleep=sleep,
    )


def fetch_issuer(
    issuer: str,
    *,
    session: requests.Session | None = None,
    trading_name: str | None = None,
    page_size: int = PAGE_SIZE,
    timeout: float = TIMEOUT,
    retries: int = RETRIES,
    backoff: float = BACKOFF,
    sleep: Callable[[float], None] = time.sleep,
    ingested_at: dt.datetime | None = None,
) -> pa.Table:
    """Both endpoints' rows for ``issuer`` (``source_file`` is each endpoint's first URL)."""
    code = parse.normalize_issuer(issuer)
    assert code is not None
    with Http(
        session, timeout_seconds=timeout, retries=retries, backoff_seconds=backoff, sleep=sleep
    ) as http:  # one session for every page, closed afterwards unless it is the caller's
        return _fetch_issuer(http, code, trading_name, page_size, ingested_at)


MIN_INTERVAL = 0.5


def fetch_issuers(
    issuers: list[str],
    *,
    session: requests.Session | None = None,
    page_size: int = PAGE_SIZE,
    timeout: float = TIMEOUT,
    retries: int = RETRIES,
    backoff: float = BACKOFF,
    min_interval_seconds: float = MIN_INTERVAL,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    ingested_at: dt.datetime | None = None,
) -> tuple[pa.Table, list[str]]:
    """Both endpoints' rows for each issuer, and the issuers missing (with why)."""
    tables, missing = [], []
    failures: list[FetchError] = []
    with Http(
        session,
        timeout_seconds=timeout,
        retries=retries,
        backoff_seconds=backoff,
        sleep=sleep,
        min_interval_seconds=min_interval_seconds,
        clock=clock,
    ) as http:
        for issuer in issuers:
            code = parse.normalize_issuer(issuer)
            assert code is not None
            try:
                tables.append(_fetch_issuer(http, code, None, page_size, ingested_at))
            except parse.NoCompany:
                missing.append(f"{code} (B3 knows no such company)")
            except FetchError as exc:
                failures.append(exc)
                missing.append(f"{code} (failed: {exc})")
    if failures and not tables:
        raise failures[0]
    table = pa.concat_tables(tables) if tables else parse.SCHEMA.empty_table()
    return table, missing


def _fetch_issuer(
    http: Http,
    code: str,
    trading_name: str | None,
    page_size: int,
    ingested_at: dt.datetime | None,
) -> pa.Table:
    def get(url: str) -> Any:
        body = http.get(url)
        return parse._json(parse._decode(body, source=url), source=url)

    first = supplement_url(code)
    try:
        supplement_doc = get(first)
    except EmptyBody:  # what B3 answers for a code it does not know (rb3's recording of WWWW)
        raise parse.NoCompany(
            "empty body: B3 knows no company for this code", source=first
        ) from None
    supplement = parse.parse_supplement(
        supplement_doc, source_name=first, issuer=code, ingested_at=ingested_at
    )
    name = trading_name or parse.trading_name_param(str(supplement_doc[0].get("tradingName") or ""))
    if not name:
        raise FetchError(
            "the company has no tradingName to ask its cash dividends by", source=first
        )
    pages = []
    page_number, total_pages = 1, 1
    first_cash = cash_dividends_url(name, page_size=page_size)
    while page_number <= total_pages:
        url = cash_dividends_url(name, page_number=page_number, page_size=page_size)
        doc = get(url)
        if parse.endpoint_of(doc, source=url) != parse.CASH_DIVIDENDS:
            raise FetchError(f"not a {parse.CASH_DIVIDENDS} answer", source=url)
        if page_number == 1:
            try:
                total_pages = int((doc.get("page") or {}).get("totalPages", 1))
            except (TypeError, ValueError):
                raise FetchError("bad page block", source=url, value=doc.get("page")) from None
        pages.append(doc)
        page_number += 1
    merged = parse.merge_pages(pages, source=first_cash)
    cash = parse.parse_cash_dividends(
        merged, issuer=code, source_name=first_cash, trading_name=name, ingested_at=ingested_at
    )
    return pa.concat_tables([cash, supplement])
