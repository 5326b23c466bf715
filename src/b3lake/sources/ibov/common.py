"""What every IBOV input shares: the raw schema, a constituent row, dates, and the checks.

Every portfolio, whatever its form (JSON API, CSV export), passes :func:`check_and_build`:
participations sum to 100 within the printed rounding, quantities sum to the stated total, tickers
are unique, and sector subtotals agree.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from b3lake.errors import FetchError, ParseError
from b3lake.sources.numbers import EN_US, PT_BR, decimal_places

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

DATE_FORMATS = {PT_BR: "%d/%m/%y", EN_US: "%m/%d/%y"}
TICKER = re.compile(r"^[A-Z0-9]{4,12}$")


class MissingDate(ParseError):
    """The input has no date of its own and none was given (the CLI asks for ``--date``)."""


@dataclass
class Row:
    ticker: str
    asset: str | None
    share_type: str | None
    sector: str | None
    quantity: int
    participation: float
    participation_accum: float | None
    line: int
    part_text: str


def utc_stamp(ingested_at: dt.datetime | None) -> dt.datetime:
    if ingested_at is None:
        return dt.datetime.now(dt.UTC)
    if ingested_at.tzinfo is None:
        return ingested_at.replace(tzinfo=dt.UTC)
    return ingested_at.astimezone(dt.UTC)


def text_or_none(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def parse_header_date(text: str, *, language: str, source: str) -> dt.date:
    value = text.strip()
    fmt = DATE_FORMATS[language]
    if re.fullmatch(r"\d{2}/\d{2}/\d{4}", value):
        fmt = fmt.replace("%y", "%Y")
    try:
        return dt.datetime.strptime(value, fmt).date()
    except ValueError:
        raise ParseError(
            f"not a valid {language} date ({fmt})", source=source, field="date", value=text
        ) from None


def resolve_date(
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
        raise MissingDate(
            "the data carries no portfolio date: pass portfolio_date=", source=source, field="date"
        )
    return day


def check_and_build(
    rows: Sequence[Row],
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
        if not TICKER.match(row.ticker):
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
        by_sector: dict[str | None, list[Row]] = defaultdict(list)
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
    stamp = utc_stamp(ingested_at)
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
