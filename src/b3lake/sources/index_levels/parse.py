"""Strict parser of B3's index statistics (``indexStatisticsProxy/IndexCall/GetPortfolioDay``).

One answer per index and year, asked as the base64 of ``{"language", "index", "year"}``. It is a
calendar grid, not a list::

    {"min": {"day": 0, "rateValue1": "101,005.64", ...}, "max": {...},
     "results": [{"day": 1, "rateValue1": null, "rateValue2": "113,228.31", ...}, ... day 31]}

``rateValueN`` is the close of month N on that day; an empty cell is a day without a value
(a weekend, a holiday, the 30th of February, a day after the last published one). ``min`` and
``max`` are B3's own per-month extremes. Numbers follow the request's language (en-us
``101,005.64``, pt-br ``101.005,64``).

Decisions:

* **Strict.** An HTML page, an empty body, a body that is not this grid, a row without its
  ``day`` or one of the twelve cells, a day outside 1..31 or repeated, a value that is not a
  well-formed number of the language, a non-positive value, a value on a day that does not exist
  (30/02), or a ``min``/``max`` that disagrees with the month's values: each raises
  ParseError/FetchError naming the file, the day's row (its 1-based position in ``results``) and
  the cell (``rateValue3``, ``min.rateValue3``). ``"results": null`` is B3 saying it publishes no
  series for that index and year: FetchError (an empty year would be a fabricated gap).
* **Checked against B3's calendar** (``b3lake.sources.calendar``), for the dates it covers
  (2000 on): a value on a day that is not a session lands as B3 printed it and is reported (the
  refine moves it to ``quality_index_levels``, rule ``not_a_session``); a session between the
  answer's first and last value with an empty cell lands as a row with a null close (B3's empty
  cell; the refine reports it as ``missing_session``). Sessions after the last value are not yet
  published, not missing. Both are :class:`~b3lake.sources.base.Finding` s of the extract too.
* ``close`` is the float of B3's decimal text (``float(Decimal("109,734.60"))``: the nearest
  double, so a value reproduces the printed one exactly); ``close_text`` keeps the text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa

from b3lake.errors import FetchError, ParseError, SourceError
from b3lake.sources.base import Finding, with_findings
from b3lake.sources.numbers import (
    LANGUAGES,
    guess_language,
    normalize_language,
    parse_decimal,
)

ENDPOINT = "GetPortfolioDay"
MONTHS = tuple(range(1, 13))

SCHEMA = pa.schema(
    [
        pa.field("index", pa.string(), nullable=False),
        pa.field("date", pa.date32(), nullable=False),
        pa.field("close", pa.float64()),
        pa.field("close_text", pa.string()),
        pa.field("year", pa.int16(), nullable=False),
        pa.field("cell", pa.string(), nullable=False),
        pa.field("language", pa.string(), nullable=False),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("line_number", pa.int64(), nullable=False),
        pa.field("ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)


@dataclass(frozen=True)
class Asked:
    """What an answer was asked for (the request's parameters)."""

    index: str
    year: int
    language: str | None = None


def cell(month: int) -> str:
    return f"rateValue{month}"


def _stamp(ingested_at: dt.datetime | None) -> dt.datetime:
    if ingested_at is None:
        return dt.datetime.now(dt.UTC)
    return ingested_at if ingested_at.tzinfo else ingested_at.replace(tzinfo=dt.UTC)


def normalize_index(index: Any, *, source: str | None = None) -> str:
    code = str(index or "").strip().upper()
    if not code or not code.isalnum() or len(code) > 12:
        raise ParseError(
            "an index code is letters and digits (IBOV)", source=source, field="index", value=index
        )
    return code


def normalize_year(year: Any, *, source: str | None = None) -> int:
    try:
        value = int(str(year).strip())
    except ValueError:
        raise ParseError("not a year", source=source, field="year", value=year) from None
    if not 1900 <= value <= 2999:
        raise ParseError("not a year", source=source, field="year", value=year)
    return value


def _texts(results: Sequence[Any]) -> list[str]:
    return [
        str(row.get(cell(m)))
        for row in results
        if isinstance(row, Mapping)
        for m in MONTHS
        if isinstance(row.get(cell(m)), str)
    ]


def _language(results: Sequence[Any], explicit: str | None, *, source: str) -> str:
    if explicit is not None:
        return normalize_language(explicit, source=source)
    found = guess_language(_texts(results), source=source)
    if found is None:
        raise ParseError(
            f"cannot tell the number language (one of {LANGUAGES}): give the language",
            source=source,
            field="language",
        )
    return found


def _grid(
    results: Sequence[Any], asked: Asked, language: str, *, source: str
) -> dict[dt.date, tuple[Decimal, str, int, str]]:
    """``date -> (value, text, line, cell)`` of every non-empty cell, checked."""
    values: dict[dt.date, tuple[Decimal, str, int, str]] = {}
    seen: dict[int, int] = {}
    for line, row in enumerate(results, start=1):
        if not isinstance(row, Mapping):
            raise ParseError("row is not an object", source=source, line=line, value=row)
        day = row.get("day")
        if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 31:
            raise ParseError("day must be 1..31", source=source, line=line, field="day", value=day)
        if day in seen:
            raise ParseError(
                f"day {day} repeats row {seen[day]}", source=source, line=line, field="day"
            )
        seen[day] = line
        for month in MONTHS:
            key = cell(month)
            if key not in row:
                raise ParseError("missing cell", source=source, line=line, field=key)
            raw = row[key]
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            if not isinstance(raw, str):
                raise ParseError(
                    "a value must be text", source=source, line=line, field=key, value=raw
                )
            number = parse_decimal(raw, language=language, source=source, line=line, field=key)
            if number <= 0:
                raise ParseError(
                    "an index level is positive", source=source, line=line, field=key, value=raw
                )
            try:
                date = dt.date(asked.year, month, day)
            except ValueError:
                raise ParseError(
                    f"a value on {day:02d}/{month:02d}, a day that does not exist",
                    source=source,
                    line=line,
                    field=key,
                    value=raw,
                ) from None
            text = raw.strip()
            values[date] = (_decimal(text, language), text, line, key)
    return values


def _decimal(text: str, language: str) -> Decimal:
    thousands, decimal = (",", ".") if language == "en-us" else (".", ",")
    return Decimal(text.replace(thousands, "").replace(decimal, "."))


def _check_extremes(
    doc: Mapping[str, Any],
    values: dict[dt.date, tuple[Decimal, str, int, str]],
    language: str,
    *,
    source: str,
) -> None:
    """B3's ``min``/``max`` rows must be the extremes of each month's values."""
    for block, pick in (("min", min), ("max", max)):
        row = doc.get(block)
        if row is None:
            continue
        if not isinstance(row, Mapping):
            raise ParseError("not an object", source=source, field=block, value=row)
        for month in MONTHS:
            key = cell(month)
            raw = row.get(key)
            month_values = [v[0] for d, v in values.items() if d.month == month]
            empty = raw is None or (isinstance(raw, str) and not raw.strip())
            where = f"{block}.{key}"
            if empty:
                if month_values:
                    raise ParseError(
                        f"empty, but the month has {len(month_values)} value(s)",
                        source=source,
                        field=where,
                    )
                continue
            if not isinstance(raw, str):
                raise ParseError("a value must be text", source=source, field=where, value=raw)
            parse_decimal(raw, language=language, source=source, field=where)
            stated = _decimal(raw.strip(), language)
            if not month_values and stated == 0:
                continue  # a month with no value yet
            got = pick(month_values) if month_values else None
            if stated != got:
                raise ParseError(
                    f"B3's {block} of the month is {raw}, the {block} of its values is {got}",
                    source=source,
                    field=where,
                    value=raw,
                )


def _calendar_rows(
    values: dict[dt.date, tuple[Decimal, str, int, str]], asked: Asked, *, source: str
) -> tuple[list[dt.date], list[dt.date]]:
    """``(values on non-sessions, sessions missing between the first and last value)``, for the
    dates the B3 calendar covers."""
    from b3lake.sources import calendar

    if not values:
        return [], []
    first_known, last_known = calendar.calendar_range()
    lo, hi = max(min(values), first_known), min(max(values), last_known)
    covered = [d for d in values if first_known <= d <= last_known]
    off = sorted(d for d in covered if not calendar.is_session(d))
    missing = [d for d in calendar.sessions(lo, hi) if d not in values] if lo <= hi else []
    return off, missing


def parse_response(
    data: bytes | str | Mapping[str, Any],
    *,
    source_name: str,
    index: str,
    year: int,
    language: str | None = None,
    ingested_at: dt.datetime | None = None,
) -> pa.Table:
    """Rows of one ``GetPortfolioDay`` answer for ``index`` and ``year`` (see the module doc)."""
    from b3lake.sources.ibov.json_api import load_json

    source = source_name
    asked = Asked(normalize_index(index, source=source), normalize_year(year, source=source))
    doc = data if isinstance(data, Mapping) else load_json(data, source=source)
    if "results" not in doc:
        raise ParseError(
            f"not a {ENDPOINT} index statistics answer", source=source, field="results"
        )
    results = doc["results"]
    if results is None:
        raise FetchError(
            f"results is null: B3 publishes no {asked.index} series for {asked.year}",
            source=source,
            field="results",
        )
    if not isinstance(results, list):
        raise ParseError("results is not a list", source=source, field="results")
    lang = _language(results, language, source=source)
    values = _grid(results, asked, lang, source=source)
    _check_extremes(doc, values, lang, source=source)
    off, missing = _calendar_rows(values, asked, source=source)

    findings = [
        Finding(
            f"{asked.index} has a value on {d.isoformat()}, which is not a B3 session: "
            "landed, the refine reports it (not_a_session)",
            source=source,
            line=values[d][2],
            field=values[d][3],
            value=values[d][1],
        )
        for d in off
    ]
    rows: dict[dt.date, dict[str, Any]] = {}
    for date, (_, text, line, key) in values.items():
        rows[date] = {"date": date, "close": float(_decimal(text, lang)), "close_text": text}
        rows[date].update(line_number=line, cell=key)
    day_lines = {row.get("day"): n for n, row in enumerate(results, start=1)}
    for date in missing:
        day_line = day_lines.get(date.day)
        findings.append(
            Finding(
                f"{asked.index} has no value on {date.isoformat()}, a B3 session inside the "
                "published range: landed with a null close (missing_session)",
                source=source,
                line=day_line,
                field=cell(date.month),
            )
        )
        # A missing day row is a missing cell too: the row's position is then the grid's end.
        rows[date] = {"date": date, "close": None, "close_text": None, "cell": cell(date.month)}
        rows[date]["line_number"] = day_line if day_line is not None else len(results) + 1
    stamp = _stamp(ingested_at)
    ordered = [rows[d] for d in sorted(rows)]
    table = pa.Table.from_pydict(
        {
            "index": [asked.index] * len(ordered),
            "date": [r["date"] for r in ordered],
            "close": [r["close"] for r in ordered],
            "close_text": [r["close_text"] for r in ordered],
            "year": [asked.year] * len(ordered),
            "cell": [r["cell"] for r in ordered],
            "language": [lang] * len(ordered),
            "source_file": [source] * len(ordered),
            "line_number": [r["line_number"] for r in ordered],
            "ingested_at": [stamp] * len(ordered),
        },
        schema=SCHEMA,
    )
    return with_findings(table, findings)


def _asked_of(params: Mapping[str, Any], *, where: str) -> Asked:
    for key in ("index", "year"):
        if key not in params:
            raise ParseError(
                f"the recorded request names no {key}", source=where, field=f"uri.{key}"
            )
    language = params.get("language")
    return Asked(
        normalize_index(params["index"], source=where),
        normalize_year(params["year"], source=where),
        None if language is None else normalize_language(str(language), source=where),
    )


def parse_file(
    data: bytes | str,
    *,
    source_name: str,
    index: str | None = None,
    year: int | None = None,
    language: str | None = None,
    ingested_at: dt.datetime | None = None,
) -> pa.Table:
    """Every row of a saved answer (JSON: give ``index`` and ``year``, the body names neither) or
    of a vcr cassette (each interaction's request names them; ``index``/``year`` given must agree).
    """
    from b3lake.sources import cassette

    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    if not text.strip():
        raise FetchError("empty file", source=source_name)
    if not cassette.is_cassette(text):
        if index is None or year is None:
            raise SourceError(
                "a saved answer does not name its index and year: give --index and --year",
                source=source_name,
                field="index" if index is None else "year",
            )
        return parse_response(
            text,
            source_name=source_name,
            index=index,
            year=year,
            language=language,
            ingested_at=ingested_at,
        )
    parts = []
    findings: list[Finding] = []
    for item in cassette.interactions(text, source=source_name):
        method, params = cassette.b3_params(item.uri, source=item.where)
        if method != ENDPOINT or "indexStatisticsProxy" not in item.uri:
            raise ParseError(
                f"not an indexStatisticsProxy {ENDPOINT} request", source=item.where, field="uri"
            )
        asked = _asked_of(params, where=item.where)
        for name, given, got in (("index", index, asked.index), ("year", year, asked.year)):
            if given is not None and str(given).strip().upper() != str(got):
                raise ParseError(
                    f"the cassette asked for {name} {got}, not {given}",
                    source=item.where,
                    field=name,
                )
        table = parse_response(
            item.body,
            source_name=item.where,
            index=asked.index,
            year=asked.year,
            language=language or asked.language,
            ingested_at=ingested_at,
        )
        findings += _findings(table)
        parts.append(table.replace_schema_metadata(None))
    return with_findings(pa.concat_tables(parts), findings)


def _findings(table: pa.Table) -> list[Finding]:
    from b3lake.sources.base import findings_of

    return findings_of(table)
