"""B3's index statistics over HTTP: one ``GetPortfolioDay`` answer per index and year.

``https://sistemaswebb3-listados.b3.com.br/indexStatisticsProxy/IndexCall/GetPortfolioDay/<b64>``
with ``{"language": "pt-br", "index": "IBOV", "year": 2022}`` (the base64 of ibov's client). Alive
as peers last reported (rb3's cassette recorded 2025-04-07; projects of 2026 still call it). Every
GET goes through :mod:`b3lake.sources.http` on one session: timeouts, retries with backoff on
transient failures, and ``min_interval_seconds`` between requests (a backfill of 20 years x N
indices asks B3 at a steady rate). An index and year B3 publishes nothing for (``"results":
null``) is reported as missing, not an error; any other failure raises naming the URL.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from b3lake.errors import FetchError
from b3lake.sources.base import findings_of, with_findings
from b3lake.sources.http import Http
from b3lake.sources.ibov.client import encode_params
from b3lake.sources.index_levels.parse import ENDPOINT, SCHEMA, parse_response
from b3lake.sources.numbers import PT_BR, normalize_language

if TYPE_CHECKING:
    import requests

BASE_URL = "https://sistemaswebb3-listados.b3.com.br/indexStatisticsProxy/IndexCall"
TIMEOUT = 30.0
MIN_INTERVAL = 0.5


def levels_url(index: str, year: int, *, language: str = PT_BR) -> str:
    params = {"language": normalize_language(language), "index": index, "year": year}
    return f"{BASE_URL}/{ENDPOINT}/{encode_params(params)}"


def fetch_levels(
    indexes: Sequence[str],
    years: Sequence[int],
    *,
    language: str = PT_BR,
    session: requests.Session | None = None,
    timeout: float = TIMEOUT,
    retries: int = 3,
    backoff_seconds: float = 2.0,
    min_interval_seconds: float = MIN_INTERVAL,
    sleep: Callable[[float], None] = time.sleep,
    ingested_at: dt.datetime | None = None,
) -> tuple[pa.Table, list[str]]:
    """Rows of every index and year asked, and the ``"INDEX YEAR"`` pairs B3 has nothing for."""
    tables, missing, findings = [], [], []
    with Http(
        session,
        timeout_seconds=timeout,
        retries=retries,
        backoff_seconds=backoff_seconds,
        sleep=sleep,
        min_interval_seconds=min_interval_seconds,
    ) as http:
        for index in indexes:
            for year in years:
                url = levels_url(index, year, language=language)
                body = http.get(url)
                try:
                    table = parse_response(
                        body,
                        source_name=url,
                        index=index,
                        year=year,
                        language=language,
                        ingested_at=ingested_at,
                    )
                except FetchError as exc:
                    if exc.field != "results":
                        raise
                    missing.append(f"{index} {year}")
                    continue
                findings += findings_of(table)
                tables.append(table.replace_schema_metadata(None))
    table = pa.concat_tables(tables) if tables else SCHEMA.empty_table()
    return with_findings(table, findings), missing
