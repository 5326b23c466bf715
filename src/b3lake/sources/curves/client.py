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
from typing import Any

import pyarrow as pa

from b3lake.sources.archive import download_url, fetch_session_file
from b3lake.sources.curves.parse import SCHEMA, parse_taxa_swap


def file_name(day: dt.date) -> str:
    return f"TS{day:%y%m%d}.ex_"


def taxa_swap_url(day: dt.date) -> str:
    return download_url(file_name(day))


def fetch_taxa_swap(day: dt.date, **http: Any) -> tuple[pa.Table, list[str]]:
    """The curves of session ``day`` and, when B3 has no file for it, ``[file name]`` missing.

    ``http``: :func:`b3lake.sources.archive.fetch_session_file`'s options (session, timeout,
    retries, backoff_seconds, sleep, ingested_at)."""
    return fetch_session_file(day, file_name(day), parse_taxa_swap, SCHEMA, **http)
