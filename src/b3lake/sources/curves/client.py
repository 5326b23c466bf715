"""B3's TaxaSwap file over HTTP: ``pesquisapregao/download?filelist=TS<yymmdd>.ex_``.

B3's "Pesquisa por pregão" (``b3lake.sources.archive``) serves one archive per session (a zip
holding the self-extracting ``TS<yymmdd>.ex_`` holding ``TaxaSwap.txt``). It is what B3 names the
replacement of the reference-rates page it shut down (rb3 PR #127, 2026-09-14); peers (rb3,
pyettj and others) fetch it in 2026. A day without a file (an empty zip) is reported as missing,
not an error. The GET goes through :mod:`b3lake.sources.http` (timeouts, retries with backoff on
transient failures).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import pyarrow as pa

from b3lake.sources.archive import TIMEOUT, download_url, fetch_session_file
from b3lake.sources.curves.parse import SCHEMA, parse_taxa_swap

if TYPE_CHECKING:
    import requests


def file_name(day: dt.date) -> str:
    return f"TS{day:%y%m%d}.ex_"


def taxa_swap_url(day: dt.date) -> str:
    return download_url(file_name(day))


def fetch_taxa_swap(
    day: dt.date,
    *,
    session: requests.Session | None = None,
    timeout: float = TIMEOUT,
    retries: int = 3,
    backoff_seconds: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    ingested_at: dt.datetime | None = None,
) -> tuple[pa.Table, list[str]]:
    """The curves of session ``day`` and, when B3 has no file for it, ``[file name]`` missing."""
    return fetch_session_file(
        day,
        file_name(day),
        parse_taxa_swap,
        SCHEMA,
        session=session,
        timeout=timeout,
        retries=retries,
        backoff_seconds=backoff_seconds,
        sleep=sleep,
        ingested_at=ingested_at,
    )
