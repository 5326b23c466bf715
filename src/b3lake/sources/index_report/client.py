"""B3's index report over HTTP: ``pesquisapregao/download?filelist=IR<yymmdd>.zip``.

One archive a session from B3's "Pesquisa por pregão" (``b3lake.sources.archive``: its
retention window, slow answers, an empty zip for a session without the file, reported as
missing). brasa's template ``b3-bvbg087`` downloads the same address. The GET goes through
:mod:`b3lake.sources.http` (timeouts, retries with backoff on transient failures).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa

from b3lake.sources.archive import download_url, fetch_session_file
from b3lake.sources.index_report.parse import SCHEMA, parse_index_report


def file_name(day: dt.date) -> str:
    return f"IR{day:%y%m%d}.zip"


def index_report_url(day: dt.date) -> str:
    return download_url(file_name(day))


def fetch_index_report(day: dt.date, **http: Any) -> tuple[pa.Table, list[str]]:
    """The indices of session ``day`` and, when B3 has no file for it, ``[file name]`` missing.

    ``http``: :func:`b3lake.sources.archive.fetch_session_file`'s options (session, timeout,
    retries, backoff_seconds, sleep, ingested_at)."""
    return fetch_session_file(day, file_name(day), parse_index_report, SCHEMA, **http)
