"""B3's "Pesquisa por pregão" downloads: one archive per file and session, opened layer by layer.

``https://www.b3.com.br/pesquisapregao/download?filelist=<NAME>`` answers a zip. What it holds
depends on the file: the TaxaSwap file (``TS<yymmdd>.ex_``) is a self-extracting Windows archive
(an ``MZ`` stub followed by a zip) holding ``TaxaSwap.txt``; the index report (``IR<yymmdd>.zip``)
is a zip holding the XML, sometimes inside another zip. :func:`member` opens every layer (zips,
and stubs with a zip after them) until it finds the one member the caller wants.

Peers' notes on the service (rb3 PR #127 and issue #124, brasa, 2026): it is the replacement B3
named for its closed reference-rates and settlement-price pages; it keeps a limited window of
recent sessions; healthy answers take ~20 s; a session without the file is an empty zip (22
bytes), which :func:`member` reports as :class:`NoFile` (the caller lists it as missing); and
it sometimes answers 200 with an empty body (``http.EmptyBody``, not retried: the next
scheduled run asks again).

:func:`fetch_session_file` is the download of one such file (the shared HTTP policy, a missing
file reported as missing, a file of another session refused), and :class:`SessionFileSource` the
declaration both daily-file sources share (``curves``, ``index_report``). The module imports only
the standard library at import time (source declarations stay light).
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from b3lake.errors import FetchError, ParseError, SourceError
from b3lake.sources.base import Fetched, Param, Request, split_by_date

if TYPE_CHECKING:
    import pyarrow as pa
    import requests

    from b3lake.settings import Settings

BASE_URL = "https://www.b3.com.br/pesquisapregao/download"
TIMEOUT = 90.0  # healthy answers take ~20 s (brasa)


class NoFile(FetchError):
    """B3 served an archive with nothing in it: no file for that session (yet, or any more)."""


def download_url(name: str) -> str:
    return f"{BASE_URL}?filelist={name}"


def _open(data: bytes) -> zipfile.ZipFile | None:
    for start in (0, data.find(b"PK\x03\x04")):
        if start < 0:
            continue
        try:
            return zipfile.ZipFile(io.BytesIO(data[start:]))
        except zipfile.BadZipFile:
            continue
    return None


def _nested(name: str) -> bool:
    return name.lower().endswith((".ex_", ".exe", ".zip"))


def member(
    data: bytes, *, source: str, wanted: Callable[[str], bool], what: str, depth: int = 0
) -> tuple[str, bytes]:
    """``(name, bytes)`` of the one member ``wanted`` accepts (its base name, lower case), inside
    the archive ``data`` or an archive it holds. NoFile for an empty archive; ParseError naming
    the members when there is none or more than one."""
    if data.lstrip()[:1] == b"<":
        raise FetchError("got an HTML page instead of an archive", source=source, value=data[:80])
    if depth > 3:
        raise ParseError("archives nested too deep", source=source)
    archive = _open(data)
    if archive is None:
        raise ParseError("not a zip archive (nor a stub holding one)", source=source)
    with archive:
        names = [n for n in archive.namelist() if not n.endswith("/")]
        if not names:
            raise NoFile("the archive is empty: B3 has no file for this session", source=source)
        found = [n for n in names if wanted(n.rsplit("/", 1)[-1].lower())]
        if len(found) == 1:
            return found[0], archive.read(found[0])
        if found:
            raise ParseError(f"the archive holds {what} twice", source=source, value=found)
        inner = [n for n in names if _nested(n)]
        if len(inner) != 1:
            raise ParseError(
                f"the archive holds no {what} (nor one archive)", source=source, value=names
            )
        return member(
            archive.read(inner[0]),
            source=f"{source}!{inner[0]}",
            wanted=wanted,
            what=what,
            depth=depth + 1,
        )


#: ``parse(body, source_name=..., ingested_at=...) -> pa.Table`` with a ``date`` column.
Parser = Callable[..., "pa.Table"]


def fetch_session_file(
    day: dt.date,
    name: str,
    parse: Parser,
    schema: pa.Schema,
    *,
    session: requests.Session | None = None,
    timeout: float = TIMEOUT,
    retries: int = 3,
    backoff_seconds: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    ingested_at: dt.datetime | None = None,
) -> tuple[pa.Table, list[str]]:
    """The rows of file ``name`` of session ``day`` and, when B3 has none, ``[name]`` missing."""
    from b3lake.sources.http import get_bytes

    url = download_url(name)
    body = get_bytes(
        url,
        session=session,
        timeout_seconds=timeout,
        retries=retries,
        backoff_seconds=backoff_seconds,
        sleep=sleep,
    )
    try:
        table = parse(body, source_name=url, ingested_at=ingested_at)
    except NoFile:
        return schema.empty_table(), [name]
    found = sorted(set(table["date"].to_pylist()))
    if found != [day]:
        raise FetchError(
            f"asked for {day}, B3 served the file of {found[0]}", source=url, field="date"
        )
    return table, []


class SessionFileSource:
    """A source of one B3 file a session from "Pesquisa por pregão": its ``parse`` module holds
    ``SCHEMA`` and the parser named :attr:`parser`, its ``client`` module ``file_name(day)`` and
    the fetch named :attr:`fetcher` (``fetch(day) -> (table, missing)``). Lands
    ``raw/<raw>/dt=<session>/part-0.parquet``; the daily extract asks for the session."""

    name: str
    raw: str
    summary: str
    example: str
    file_help: str
    package: str  # the source's package: b3lake.sources.curves
    parser: str
    fetcher: str
    params = (Param("date", "The session whose file to download (YYYY-MM-DD).", kind="date"),)
    merge_key = None
    land_each_input = True

    def _module(self, name: str) -> Any:
        return importlib.import_module(f"{self.package}.{name}")

    def raw_schema(self) -> pa.Schema:
        schema: pa.Schema = self._module("parse").SCHEMA
        return schema

    def parse(self, path: Path, request: Request) -> pa.Table:
        table: pa.Table = getattr(self._module("parse"), self.parser)(
            path.read_bytes(), source_name=path.name
        )
        return table

    def fetch(self, request: Request) -> Fetched:
        day = request["date"]
        if day is None:
            raise SourceError("give --date (or --file)", field="date")
        client = self._module("client")
        table, missing = getattr(client, self.fetcher)(day)
        return Fetched(table, input=client.file_name(day), missing=missing)

    def groups(self, table: pa.Table) -> list[pa.Table]:
        return [table]

    def split(self, table: pa.Table) -> dict[dt.date, pa.Table]:
        return split_by_date(table, "date")

    def object_name(self, day: dt.date, rows: pa.Table, request: Request) -> str:
        return "part-0"

    def scheduled(self, day: dt.date, settings: Settings) -> list[tuple[str, dict[str, Any]]]:
        return [(self.name, {"date": day})]
