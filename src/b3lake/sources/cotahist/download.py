"""COTAHIST files from B3's site, through the shared HTTP helper (retries, timeouts, session closed).

A 200 that is not a complete zip is checked here: an HTML page (B3's error or maintenance page) or a
body that is not a zip fails at once; a truncated zip (an interrupted download) is retried.
"""

from __future__ import annotations

import datetime as dt
import io
import time
import zipfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from b3lake.errors import FetchError
from b3lake.sources.http import Transient, get_bytes

if TYPE_CHECKING:
    import requests

__all__ = ["DEFAULT_BASE_URL", "cotahist_file_name", "download_cotahist"]

DEFAULT_BASE_URL = "https://bvmf.bmfbovespa.com.br/InstDados/SerHist/"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_HINTS = {404: " (no such file: a weekend, a holiday or not published yet?)"}


def cotahist_file_name(year: int, month: int | None = None, day: dt.date | None = None) -> str:
    """B3's name for the file: ``COTAHIST_A2019.ZIP``, ``_M012020.ZIP`` or ``_D02012020.ZIP``."""
    if day is not None:
        if day.year != year or (month is not None and month != day.month):
            raise ValueError(f"day {day} is not in year={year}, month={month}")
        return f"COTAHIST_D{day:%d%m%Y}.ZIP"
    if month is not None:
        if not 1 <= month <= 12:
            raise ValueError(f"month must be 1..12, got {month}")
        return f"COTAHIST_M{month:02d}{year:04d}.ZIP"
    return f"COTAHIST_A{year:04d}.ZIP"


def download_cotahist(
    *,
    year: int,
    month: int | None = None,
    day: dt.date | None = None,
    session: requests.Session | None = None,
    base_url: str = DEFAULT_BASE_URL,
    retries: int = 3,
    backoff_seconds: float = 2.0,
    timeout_seconds: float = 120.0,
    sleep: Callable[[float], None] = time.sleep,
) -> bytes:
    """The zip bytes of one COTAHIST file from B3 (annual, monthly with ``month``, daily with
    ``day``).

    Connection errors, timeouts, 408/429/5xx and truncated zips are retried ``retries`` times with
    exponential backoff; any other HTTP error, an HTML page, an empty body or a body that is not a
    zip raises :class:`FetchError` naming the URL. ``session`` is injectable for tests.
    """
    name = cotahist_file_name(year, month, day)
    url = base_url.rstrip("/") + "/" + name
    return get_bytes(
        url,
        session=session,
        check=_check_zip,
        status_hints=_HINTS,
        timeout_seconds=timeout_seconds,
        retries=retries,
        backoff_seconds=backoff_seconds,
        sleep=sleep,
    )


def _check_zip(url: str, body: bytes, response: Any) -> None:
    """Why a 200 response is not a COTAHIST zip (nothing when it is one)."""
    content_type = str(response.headers.get("Content-Type", ""))
    if "html" in content_type.lower() or body.lstrip()[:1] == b"<":
        raise FetchError(
            "an HTML page instead of a zip (B3's error or maintenance page)",
            source=url,
            value=body[:80].decode("latin-1"),
        )
    if body[:4] not in _ZIP_MAGIC:
        raise FetchError("not a zip archive", source=url, value=body[:80].decode("latin-1"))
    try:
        with zipfile.ZipFile(io.BytesIO(body)):
            return
    except zipfile.BadZipFile:
        raise Transient("truncated zip (incomplete download)", source=url) from None
