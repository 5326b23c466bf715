"""B3 index portfolios (IBOV and friends) from B3's site: JSON API and CSV export.

Two endpoints of ``sistemaswebb3-listados.b3.com.br/indexProxy/indexCall``:

* ``GetPortfolioDay/<base64 json>`` – paginated JSON (``page``, ``header``, ``results``); segment 1
  lists by ticker, segment 2 by sector (results carry ``segment``). ``GetTheoricalPortfolio``
  answers in the same shape without a header date.
* ``GetDownloadPortfolioDay/<base64 json>`` – base64 of a latin-1 ``;`` CSV, the same file as the
  saved ``IBOVDia_dd-mm-yy.csv`` exports (title line, header, rows with a trailing ``;``, then the
  total and "Redutor" rows).

Numbers and the header date follow the response's language (pt-br ``dd/mm/yy`` and ``1.234,5``;
en-us ``mm/dd/yy`` and ``1,234.5``). Every number is parsed strictly and each portfolio is checked
(participations sum to 100, quantities sum to the stated total) so a malformed file raises
ParseError instead of landing wrong numbers in the lake.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import requests

from b3lake.errors import FetchError, ParseError
from b3lake.sources.numbers import (
    EN_US,
    PT_BR,
    decimal_places,
    guess_language,
    normalize_language,
    parse_decimal,
    parse_int,
)

BASE_URL = "https://sistemaswebb3-listados.b3.com.br/indexProxy/indexCall"
PAGE_SIZE = 120
TIMEOUT = 30.0

SCHEMA = pa.schema(
    [
        pa.field("index", pa.string(), nullable=False),
        pa.field("portfolio_date", pa.date32(), nullable=False),
        pa.field("ticker", pa.string(), nullable=False),
        pa.field("asset", pa.string()),
        pa.field("share_type", pa.string()),
        pa.field("sector", pa.string()),
        pa.field("theoretical_quantity", pa.int64(), nullable=False),
        pa.field("participation", pa.float64(), nullable=False),
        pa.field("participation_accum", pa.float64()),
        pa.field("reductor", pa.float64()),
        pa.field("theoretical_total", pa.int64()),
        pa.field("language", pa.string(), nullable=False),
        pa.field("segment", pa.int8(), nullable=False),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("line_number", pa.int64(), nullable=False),
        pa.field("ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)

_DATE_FORMATS = {PT_BR: "%d/%m/%y", EN_US: "%m/%d/%y"}
_HEADER_TEXT_LANGUAGE = {"total theorethical quantity": EN_US, "total theoretical quantity": EN_US}
_TICKER = re.compile(r"^[A-Z0-9]{4,12}$")


@dataclass
class _Row:
    ticker: str
    asset: str | None
    share_type: str | None
    sector: str | None
    quantity: int
    participation: float
    participation_accum: float | None
    line: int
    part_text: str


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


# ---------------------------------------------------------------------------- helpers


def _now_utc(ingested_at: dt.datetime | None) -> dt.datetime:
    if ingested_at is None:
        return dt.datetime.now(dt.UTC)
    if ingested_at.tzinfo is None:
        return ingested_at.replace(tzinfo=dt.UTC)
    return ingested_at.astimezone(dt.UTC)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _parse_header_date(text: str, *, language: str, source: str) -> dt.date:
    value = text.strip()
    fmt = _DATE_FORMATS[language]
    if re.fullmatch(r"\d{2}/\d{2}/\d{4}", value):
        fmt = fmt.replace("%y", "%Y")
    try:
        return dt.datetime.strptime(value, fmt).date()
    except ValueError:
        raise ParseError(
            f"not a valid {language} date ({fmt})", source=source, field="date", value=text
        ) from None


def _resolve_date(
    header_date: dt.date | None, portfolio_date: dt.date | None, *, source: str
) -> dt.date:
    if header_date and portfolio_date and header_date != portfolio_date:
        raise ParseError(
            f"portfolio_date {portfolio_date} disagrees with the file's date",
            source=source,
            field="date",
            value=header_date.isoformat(),
        )
    day = portfolio_date or header_date
    if day is None:
        raise ParseError(
            "the data carries no portfolio date: pass portfolio_date=", source=source, field="date"
        )
    return day


def _check_and_build(
    rows: Sequence[_Row],
    *,
    index: str,
    day: dt.date,
    language: str,
    segment: int,
    reductor: float | None,
    total: int | None,
    total_part: float | None,
    source: str,
    ingested_at: dt.datetime | None,
) -> pa.Table:
    """The consistency checks every portfolio must pass, then the Arrow table."""
    if not rows:
        raise FetchError("portfolio has no constituents", source=source)
    seen: dict[str, int] = {}
    for row in rows:
        if not _TICKER.match(row.ticker):
            raise ParseError(
                "not a B3 ticker", source=source, line=row.line, field="cod", value=row.ticker
            )
        if row.ticker in seen:
            raise ParseError(
                f"ticker listed twice (first on line {seen[row.ticker]})",
                source=source,
                line=row.line,
                field="cod",
                value=row.ticker,
            )
        seen[row.ticker] = row.line
        if row.quantity < 0 or row.participation < 0:
            raise ParseError(
                "negative quantity or participation", source=source, line=row.line, value=row.ticker
            )

    # Each weight is printed rounded to k decimals: the sum may drift by n * half a unit.
    places = max(decimal_places(r.part_text, language=language) for r in rows)
    tolerance = len(rows) * 0.5 * 10.0**-places + 1e-9
    part_sum = sum(r.participation for r in rows)
    if abs(part_sum - 100.0) > tolerance:
        raise ParseError(
            f"participations sum to {part_sum:.6f}, not 100 (tolerance {tolerance:.4f})",
            source=source,
            field="part",
            value=round(part_sum, 6),
        )
    if total_part is not None and abs(total_part - 100.0) > 10.0**-places:
        raise ParseError("stated total participation is not 100", source=source, value=total_part)
    qty_sum = sum(r.quantity for r in rows)
    if total is not None and qty_sum != total:
        raise ParseError(
            f"theoretical quantities sum to {qty_sum}, the stated total differs",
            source=source,
            field="theoricalQty",
            value=total,
        )
    if segment == 2:
        by_sector: dict[str | None, list[_Row]] = defaultdict(list)
        for row in rows:
            by_sector[row.sector].append(row)
        for sector, members in by_sector.items():
            got = sum(r.participation for r in members)
            tol = len(members) * 0.5 * 10.0**-places + 10.0**-places
            for r in members:
                if r.participation_accum is not None and abs(r.participation_accum - got) > tol:
                    raise ParseError(
                        f"sector {sector!r} accumulated participation disagrees with its "
                        f"constituents' sum {got:.3f}",
                        source=source,
                        line=r.line,
                        field="partAcum",
                        value=r.participation_accum,
                    )

    n = len(rows)
    stamp = _now_utc(ingested_at)
    columns: dict[str, list[Any]] = {
        "index": [index] * n,
        "portfolio_date": [day] * n,
        "ticker": [r.ticker for r in rows],
        "asset": [r.asset for r in rows],
        "share_type": [r.share_type for r in rows],
        "sector": [r.sector for r in rows],
        "theoretical_quantity": [r.quantity for r in rows],
        "participation": [r.participation for r in rows],
        "participation_accum": [r.participation_accum for r in rows],
        "reductor": [reductor] * n,
        "theoretical_total": [total] * n,
        "language": [language] * n,
        "segment": [segment] * n,
        "source_file": [source] * n,
        "line_number": [r.line for r in rows],
        "ingested_at": [stamp] * n,
    }
    return pa.Table.from_pydict(columns, schema=SCHEMA)


# ---------------------------------------------------------------------------- JSON


def _load_json(data: bytes | str | dict[str, Any], *, source: str) -> dict[str, Any]:
    if isinstance(data, dict):
        return data
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig").strip()
        except UnicodeDecodeError:
            text = data.decode("latin-1").strip()
    else:
        text = data.strip()
    if not text:
        raise FetchError("empty response, expected JSON", source=source)
    if text.startswith("<"):
        raise FetchError("got an HTML page instead of JSON", source=source, value=text[:80])
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FetchError(
            f"response is not JSON: {exc.msg}", source=source, value=text[:80]
        ) from None
    if not isinstance(doc, dict):
        raise FetchError("JSON is not an object", source=source, value=type(doc).__name__)
    return doc


def _json_language(doc: Mapping[str, Any], explicit: str | None, *, source: str) -> str:
    if explicit is not None:
        return normalize_language(explicit, source=source)
    header = doc.get("header") or {}
    text = str(header.get("text", "")).strip().lower()
    if text in _HEADER_TEXT_LANGUAGE:
        return _HEADER_TEXT_LANGUAGE[text]
    if text.startswith("quantidade"):
        return PT_BR
    samples = [str(header.get(k, "")) for k in ("theoricalQty", "reductor")]
    for item in doc.get("results") or []:
        if isinstance(item, Mapping):
            samples.append(str(item.get("theoricalQty", "")))
    lang = guess_language(samples, source=source)
    if lang is None:
        raise ParseError(
            "cannot tell the number language (pt-br or en-us): pass language=",
            source=source,
            field="language",
        )
    return lang


def parse_portfolio_json(
    data: bytes | str | dict[str, Any],
    *,
    source_name: str,
    ingested_at: dt.datetime | None = None,
    index: str = "IBOV",
    language: str | None = None,
    segment: int | None = None,
    portfolio_date: dt.date | None = None,
) -> pa.Table:
    """Parse a ``GetPortfolioDay``/``GetTheoricalPortfolio`` response (all pages' results merged).

    ``language`` and ``segment`` default to what the response shows (header text, number
    format, a ``segment`` key in the results); ``portfolio_date`` is required only when the
    response has no header date (``GetTheoricalPortfolio``) and must agree with it otherwise.
    ``line_number`` is the 1-based position in ``results``.
    """
    source = source_name
    doc = _load_json(data, source=source)
    results = doc.get("results")
    if not results:
        raise FetchError("JSON has no results (no portfolio for this index/day?)", source=source)
    if not isinstance(results, list):
        raise ParseError("results is not a list", source=source, field="results")
    header = doc.get("header") or {}
    lang = _json_language(doc, language, source=source)
    if segment is None:
        segment = 2 if any(isinstance(r, Mapping) and r.get("segment") for r in results) else 1
    if segment not in (1, 2):
        raise ParseError("segment must be 1 or 2", source=source, field="segment", value=segment)

    header_date = None
    if _text(header.get("date")):
        header_date = _parse_header_date(str(header["date"]), language=lang, source=source)
    day = _resolve_date(header_date, portfolio_date, source=source)

    def num(value: Any, field: str, line: int | None, *, integer: bool = False) -> Any:
        if value is None or str(value).strip() == "":
            raise ParseError("missing value", source=source, line=line, field=field)
        fn = parse_int if integer else parse_decimal
        return fn(str(value), language=lang, source=source, line=line, field=field)

    reductor_text = header.get("reductor", header.get("textReductionFactor"))
    reductor = None if _text(reductor_text) is None else num(reductor_text, "reductor", None)
    total = (
        None
        if _text(header.get("theoricalQty")) is None
        else num(header["theoricalQty"], "theoricalQty", None, integer=True)
    )
    total_part = None if _text(header.get("part")) is None else num(header["part"], "part", None)

    rows: list[_Row] = []
    for line, item in enumerate(results, start=1):
        if not isinstance(item, Mapping):
            raise ParseError("result is not an object", source=source, line=line, value=item)
        ticker = _text(item.get("cod"))
        if ticker is None:
            raise ParseError("missing ticker", source=source, line=line, field="cod")
        part_text = str(item.get("part", ""))
        accum = item.get("partAcum")
        rows.append(
            _Row(
                ticker=ticker.upper(),
                asset=_text(item.get("asset")),
                share_type=_text(item.get("type")),
                sector=_text(item.get("segment")),
                quantity=num(item.get("theoricalQty"), "theoricalQty", line, integer=True),
                participation=num(item.get("part"), "part", line),
                participation_accum=None if _text(accum) is None else num(accum, "partAcum", line),
                line=line,
                part_text=part_text,
            )
        )
    return _check_and_build(
        rows,
        index=index,
        day=day,
        language=lang,
        segment=segment,
        reductor=reductor,
        total=total,
        total_part=total_part,
        source=source,
        ingested_at=ingested_at,
    )


# ---------------------------------------------------------------------------- CSV


def _key(name: str) -> str:
    """Header cell -> comparable key (no accents, case, spaces or punctuation)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]", "", plain.lower())


_CSV_COLUMNS: dict[str, tuple[str, str]] = {
    # key: (our column, language evidence)
    "codigo": ("ticker", PT_BR),
    "acao": ("asset", PT_BR),
    "tipo": ("share_type", PT_BR),
    "qtdeteorica": ("quantity", PT_BR),
    "setor": ("sector", PT_BR),
    "partacum": ("accum", ""),
    "partacum2": ("accum", ""),
    "code": ("ticker", EN_US),
    "stock": ("asset", EN_US),
    "asset": ("asset", EN_US),
    "type": ("share_type", EN_US),
    "theoreticalqty": ("quantity", EN_US),
    "theoricalqty": ("quantity", EN_US),
    "sector": ("sector", EN_US),
    "part": ("part", ""),
}
_TITLE = re.compile(r"^\s*(?P<index>[A-Z0-9]+)\s+-\s+.*?(?P<date>\d{2}/\d{2}/\d{2,4})\s*$")
_TOTAL_KEYS = ("quantidadeteoricatotal", "totaltheoreticalquantity", "totaltheorethicalquantity")
_REDUCTOR_KEYS = ("redutor", "reductor")


def _csv_column(cell: str) -> str | None:
    key = _key(cell)
    if key.startswith("part") and ("acum" in key or "accum" in key):
        return "accum"
    entry = _CSV_COLUMNS.get(key)
    return entry[0] if entry else None


def _decode_csv(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data.decode("utf-8-sig")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # B3's exports are latin-1


def parse_portfolio_csv(
    data: bytes,
    *,
    source_name: str,
    index: str = "IBOV",
    portfolio_date: dt.date | None = None,
    ingested_at: dt.datetime | None = None,
    language: str | None = None,
) -> pa.Table:
    """Parse a "Carteira do Dia" CSV export (``IBOVDia_dd-mm-yy.csv`` or GetDownloadPortfolioDay).

    The index and date come from the title line (``IBOV - Carteira do Dia 03/10/25``) and must
    agree with ``index``/``portfolio_date`` when those are given. ``line_number`` is the file line.
    """
    source = source_name
    text = _decode_csv(data)
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise FetchError("empty CSV", source=source)
    if lines[0].lstrip().startswith("<"):
        raise FetchError("got an HTML page instead of CSV", source=source, value=lines[0][:80])

    # Find the header row; everything above it is the title.
    header_at = None
    columns: list[str | None] = []
    for i, line in enumerate(lines[:5]):
        cells = [c.strip() for c in line.rstrip().removesuffix(";").split(";")]
        mapped = [_csv_column(c) for c in cells]
        if "ticker" in mapped and "quantity" in mapped and "part" in mapped:
            header_at, columns = i, mapped
            break
    if header_at is None:
        raise ParseError(
            "no header row (Código;Ação;Tipo;Qtde. Teórica;Part. (%))",
            source=source,
            line=1,
            value=lines[0][:80],
        )
    header_keys = {_key(c) for c in lines[header_at].split(";")}
    evidence = {_CSV_COLUMNS[k][1] for k in header_keys if k in _CSV_COLUMNS} - {""}
    if language is not None:
        lang = normalize_language(language, source=source)
    elif len(evidence) == 1:
        lang = evidence.pop()
    else:
        raise ParseError(
            "cannot tell the CSV's language: pass language=", source=source, line=header_at + 1
        )

    title_index, title_date = None, None
    for i in range(header_at):
        match = _TITLE.match(lines[i])
        if match:
            title_index = match["index"]
            title_date = _parse_header_date(match["date"], language=lang, source=source)
    if title_index is not None and title_index != index:
        raise ParseError(
            f"the file is the {title_index} portfolio, not {index}: pass index=",
            source=source,
            line=1,
            field="index",
            value=title_index,
        )
    day = _resolve_date(title_date, portfolio_date, source=source)

    def num(value: str, field: str, line: int, *, integer: bool = False) -> Any:
        if not value.strip():
            raise ParseError("missing value", source=source, line=line, field=field)
        fn = parse_int if integer else parse_decimal
        return fn(value, language=lang, source=source, line=line, field=field)

    width = len(columns)
    rows: list[_Row] = []
    total = reductor = total_part = None
    for i in range(header_at + 1, len(lines)):
        line_no = i + 1
        raw = lines[i]
        if not raw.strip():
            continue
        cells = [c.strip() for c in raw.split(";")]
        first = _key(cells[0])
        if first in _TOTAL_KEYS:
            values = [c for c in cells[1:] if c]
            if len(values) != 2:
                raise ParseError(
                    "total row needs quantity and participation",
                    source=source,
                    line=line_no,
                    value=raw,
                )
            total = num(values[0], "total_quantity", line_no, integer=True)
            total_part = num(values[1], "total_part", line_no)
            continue
        if first in _REDUCTOR_KEYS:
            values = [c for c in cells[1:] if c]
            if len(values) != 1:
                raise ParseError(
                    "reductor row needs one value", source=source, line=line_no, value=raw
                )
            reductor = num(values[0], "reductor", line_no)
            continue
        if total is not None or reductor is not None:
            raise ParseError(
                "constituent row after the totals", source=source, line=line_no, value=raw
            )
        if raw.rstrip().endswith(";"):
            cells.pop()  # rows end with a ';'
        if len(cells) != width:
            raise ParseError(
                f"expected {width} fields, got {len(cells)}", source=source, line=line_no, value=raw
            )
        rec = {col: cell for col, cell in zip(columns, cells, strict=True) if col}
        if not rec.get("ticker"):
            raise ParseError("missing ticker", source=source, line=line_no, field="ticker")
        rows.append(
            _Row(
                ticker=rec["ticker"].upper(),
                asset=_text(rec.get("asset")),
                share_type=_text(rec.get("share_type")),
                sector=_text(rec.get("sector")),
                quantity=num(rec["quantity"], "quantity", line_no, integer=True),
                participation=num(rec["part"], "part", line_no),
                participation_accum=num(rec["accum"], "accum", line_no)
                if rec.get("accum")
                else None,
                line=line_no,
                part_text=rec["part"],
            )
        )
    if total is None:
        raise ParseError("no total row (Quantidade Teórica Total)", source=source, line=len(lines))
    segment = 2 if "sector" in columns else 1
    return _check_and_build(
        rows,
        index=index,
        day=day,
        language=lang,
        segment=segment,
        reductor=reductor,
        total=total,
        total_part=total_part,
        source=source,
        ingested_at=ingested_at,
    )


# ---------------------------------------------------------------------------- HTTP


def _get(session: requests.Session, url: str, timeout: float) -> bytes:
    try:
        response = session.get(url, timeout=timeout)
    except requests.RequestException as exc:
        raise FetchError(f"request failed: {exc}", source=url) from exc
    if response.status_code >= 400:
        raise FetchError(f"HTTP {response.status_code}", source=url, value=response.text[:80])
    body = response.content
    if not body.strip():
        raise FetchError("empty response", source=url)
    return body


def fetch_portfolio(
    index: str = "IBOV",
    *,
    language: str = PT_BR,
    segment: int = 1,
    session: requests.Session | None = None,
    page_size: int = PAGE_SIZE,
    timeout: float = TIMEOUT,
    ingested_at: dt.datetime | None = None,
) -> pa.Table:
    """Download today's portfolio from ``GetPortfolioDay``, following every page.

    ``source_file`` is the first page's URL. Errors (HTTP, HTML, empty, no results, pages that
    disagree) raise FetchError naming the URL.
    """
    lang = normalize_language(language)
    http = session or requests.Session()
    first_url = portfolio_url(index, language=lang, segment=segment, page_size=page_size)
    results: list[Any] = []
    header: dict[str, Any] = {}
    page_number, total_pages, total_records = 1, 1, None
    while page_number <= total_pages:
        url = portfolio_url(
            index, language=lang, segment=segment, page_number=page_number, page_size=page_size
        )
        doc = _load_json(_get(http, url, timeout), source=url)
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
            raise FetchError("JSON has no results (no portfolio for this index/day?)", source=url)
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
    portfolio_date: dt.date | None = None,
    ingested_at: dt.datetime | None = None,
) -> pa.Table:
    """Download the CSV export via ``GetDownloadPortfolioDay`` (base64 in the body) and parse it."""
    lang = normalize_language(language)
    url = download_url(index, language=lang, segment=segment)
    body = _get(session or requests.Session(), url, timeout).strip()
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
