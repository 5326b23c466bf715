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
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

from b3lake.errors import FetchError, ParseError

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
