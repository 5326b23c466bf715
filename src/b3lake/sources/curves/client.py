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

from b3lake.errors import FetchError
from b3lake.sources.archive import TIMEOUT, NoFile, download_url
from b3lake.sources.curves.parse import SCHEMA, parse_taxa_swap
from b3lake.sources.http import get_bytes

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
    url = taxa_swap_url(day)
    body = get_bytes(
        url,
        session=session,
        timeout_seconds=timeout,
        retries=retries,
        backoff_seconds=backoff_seconds,
        sleep=sleep,
    )
    try:
        table = parse_taxa_swap(body, source_name=url, ingested_at=ingested_at)
    except NoFile:
        return SCHEMA.empty_table(), [file_name(day)]
    found = set(table["date"].to_pylist())
    if found != {day}:
        raise FetchError(
            f"asked for {day}, B3 served the file of {sorted(found)[0]}", source=url, field="date"
        )
    return table, []
