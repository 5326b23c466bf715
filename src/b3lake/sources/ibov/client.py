"""B3's index endpoints over HTTP (``sistemaswebb3-listados.b3.com.br/indexProxy/indexCall``).

* ``GetPortfolioDay/<base64 json>`` – paginated JSON (``page``, ``header``, ``results``); segment 1
  lists by ticker, segment 2 by sector (results carry ``segment``). ``GetTheoricalPortfolio``
  answers in the same shape without a header date.
* ``GetDownloadPortfolioDay/<base64 json>`` – base64 of the latin-1 ``;`` CSV export.

Every GET goes through :mod:`b3lake.sources.http` (timeouts, retries with backoff on transient
errors); one session serves every page and is closed afterwards unless the caller passed it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from b3lake.errors import FetchError
from b3lake.sources.http import Http
from b3lake.sources.ibov.csv_export import parse_portfolio_csv
from b3lake.sources.ibov.json_api import load_json, parse_portfolio_json
from b3lake.sources.numbers import PT_BR, normalize_language

if TYPE_CHECKING:
    import requests

BASE_URL = "https://sistemaswebb3-listados.b3.com.br/indexProxy/indexCall"
PAGE_SIZE = 120
TIMEOUT = 30.0


# ---------------------------------------------------------------------------- URLs


def encode_params(params: Mapping[str, Any]) -> str:
    """Base64 of the compact JSON B3 expects as the last path segment."""
    text = json.dumps(dict(params), separators=(",", ":"), ensure_ascii=False)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def portfolio_url(
    index: str = "IBOV",
    *,
    language: str = PT_BR,
    segment: int = 1,
    page_number: int = 1,
    page_size: int = PAGE_SIZE,
    endpoint: str = "GetPortfolioDay",
) -> str:
    """URL of one page of ``GetPortfolioDay`` (or ``GetTheoricalPortfolio``)."""
    params = {
        "language": normalize_language(language),
        "pageNumber": page_number,
        "pageSize": page_size,
        "index": index,
        "segment": str(segment),
    }
    return f"{BASE_URL}/{endpoint}/{encode_params(params)}"


def download_url(index: str = "IBOV", *, language: str = PT_BR, segment: int = 1) -> str:
    """URL of ``GetDownloadPortfolioDay`` (answers base64 of the CSV export)."""
    params = {"index": index, "language": normalize_language(language), "segment": str(segment)}
    return f"{BASE_URL}/GetDownloadPortfolioDay/{encode_params(params)}"


# ---------------------------------------------------------------------------- HTTP


def fetch_portfolio(
    index: str = "IBOV",
    *,
    language: str = PT_BR,
    segment: int = 1,
    session: requests.Session | None = None,
    page_size: int = PAGE_SIZE,
    timeout: float = TIMEOUT,
    retries: int = 3,
    backoff_seconds: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    ingested_at: dt.datetime | None = None,
) -> pa.Table:
    """Download today's portfolio from ``GetPortfolioDay``, following every page.

    ``source_file`` is the first page's URL. Errors (HTTP, HTML, empty, no results, pages that
    disagree) raise FetchError naming the URL; transient ones are retried first.
    """
    lang = normalize_language(language)
    first_url = portfolio_url(index, language=lang, segment=segment, page_size=page_size)
    results: list[Any] = []
    header: dict[str, Any] = {}
    page_number, total_pages, total_records = 1, 1, None
    with Http(
        session,
        timeout_seconds=timeout,
        retries=retries,
        backoff_seconds=backoff_seconds,
        sleep=sleep,
    ) as http:
        while page_number <= total_pages:
            url = portfolio_url(
                index, language=lang, segment=segment, page_number=page_number, page_size=page_size
            )
            doc = load_json(http.get(url), source=url)
            page = doc.get("page") or {}
            if page_number == 1:
                header = doc.get("header") or {}
                try:
                    total_pages = int(page.get("totalPages", 1))
                    total_records = int(page["totalRecords"]) if "totalRecords" in page else None
                except (TypeError, ValueError):
                    raise FetchError("bad page block", source=url, value=page) from None
            chunk = doc.get("results") or []
            if not chunk and page_number == 1:
                raise FetchError(
                    "JSON has no results (no portfolio for this index/day?)", source=url
                )
            results.extend(chunk)
            page_number += 1
    if total_records is not None and total_records != len(results):
        raise FetchError(
            f"pages held {len(results)} rows, the API announced {total_records}", source=first_url
        )
    merged = {"page": {"totalRecords": len(results)}, "header": header, "results": results}
    return parse_portfolio_json(
        merged,
        source_name=first_url,
        ingested_at=ingested_at,
        index=index,
        language=lang,
        segment=segment,
    )


def fetch_portfolio_csv(
    index: str = "IBOV",
    *,
    language: str = PT_BR,
    segment: int = 1,
    session: requests.Session | None = None,
    timeout: float = TIMEOUT,
    retries: int = 3,
    backoff_seconds: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    portfolio_date: dt.date | None = None,
    ingested_at: dt.datetime | None = None,
) -> pa.Table:
    """Download the CSV export via ``GetDownloadPortfolioDay`` (base64 in the body) and parse it."""
    lang = normalize_language(language)
    url = download_url(index, language=lang, segment=segment)
    with Http(
        session,
        timeout_seconds=timeout,
        retries=retries,
        backoff_seconds=backoff_seconds,
        sleep=sleep,
    ) as http:
        body = http.get(url).strip()
    if body.startswith(b"<"):
        raise FetchError("got an HTML page instead of base64 CSV", source=url, value=body[:80])
    if body.startswith(b'"') and body.endswith(b'"'):
        body = body[1:-1]  # served as a JSON string
    try:
        csv_bytes = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise FetchError("body is not base64", source=url, value=body[:80]) from None
    if not csv_bytes.strip():
        raise FetchError("empty CSV", source=url)
    return parse_portfolio_csv(
        csv_bytes,
        source_name=url,
        index=index,
        portfolio_date=portfolio_date,
        ingested_at=ingested_at,
        language=lang,
    )
