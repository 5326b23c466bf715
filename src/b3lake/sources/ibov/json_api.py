"""``GetPortfolioDay`` / ``GetTheoricalPortfolio`` JSON responses (all pages' results merged).

Numbers and the header date follow the response's language (pt-br ``dd/mm/yy`` and ``1.234,5``;
en-us ``mm/dd/yy`` and ``1,234.5``), told from the header text or the number format.
``GetTheoricalPortfolio`` answers without a header date: the caller gives the date. A malformed
header reductor is stored as null with a quality finding, as in the CSV export (see csv_export).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from b3lake.errors import FetchError, ParseError
from b3lake.sources.base import Finding, with_findings
from b3lake.sources.ibov.common import (
    Row,
    check_and_build,
    parse_header_date,
    resolve_date,
    text_or_none,
)
from b3lake.sources.numbers import (
    EN_US,
    PT_BR,
    guess_language,
    normalize_language,
    parse_decimal,
    parse_int,
)

_HEADER_TEXT_LANGUAGE = {"total theorethical quantity": EN_US, "total theoretical quantity": EN_US}


def load_json(data: bytes | str | dict[str, Any], *, source: str) -> dict[str, Any]:
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
    doc = load_json(data, source=source)
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
    if text_or_none(header.get("date")):
        header_date = parse_header_date(str(header["date"]), language=lang, source=source)
    day = resolve_date(header_date, portfolio_date, source=source)

    def num(value: Any, field: str, line: int | None, *, integer: bool = False) -> Any:
        if value is None or str(value).strip() == "":
            raise ParseError("missing value", source=source, line=line, field=field)
        fn = parse_int if integer else parse_decimal
        return fn(str(value), language=lang, source=source, line=line, field=field)

    reductor_text = header.get("reductor", header.get("textReductionFactor"))
    reductor, findings = None, list[Finding]()
    if text_or_none(reductor_text) is not None:
        try:
            reductor = num(reductor_text, "reductor", None)
        except ParseError as exc:  # as in the CSV export: the divisor only, the rows are intact
            findings.append(Finding.of(exc, "reductor is malformed: stored as null"))
    total = (
        None
        if text_or_none(header.get("theoricalQty")) is None
        else num(header["theoricalQty"], "theoricalQty", None, integer=True)
    )
    total_part = (
        None if text_or_none(header.get("part")) is None else num(header["part"], "part", None)
    )

    rows: list[Row] = []
    for line, item in enumerate(results, start=1):
        if not isinstance(item, Mapping):
            raise ParseError("result is not an object", source=source, line=line, value=item)
        ticker = text_or_none(item.get("cod"))
        if ticker is None:
            raise ParseError("missing ticker", source=source, line=line, field="cod")
        part_text = str(item.get("part", ""))
        accum = item.get("partAcum")
        rows.append(
            Row(
                ticker=ticker.upper(),
                asset=text_or_none(item.get("asset")),
                share_type=text_or_none(item.get("type")),
                sector=text_or_none(item.get("segment")),
                quantity=num(item.get("theoricalQty"), "theoricalQty", line, integer=True),
                participation=num(item.get("part"), "part", line),
                participation_accum=None
                if text_or_none(accum) is None
                else num(accum, "partAcum", line),
                line=line,
                part_text=part_text,
            )
        )
    table = check_and_build(
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
    return with_findings(table, findings)
