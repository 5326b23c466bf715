"""Daily prices from Yahoo Finance through the ``yfinance`` package (a convenience source).

Prices land as Yahoo serves them *unadjusted* (``auto_adjust=False``), with ``adj_close``
alongside, so they can be compared with COTAHIST, the exchange's own record. Yahoo revises history
after splits/bonuses; treat this source as secondary.

The network call is a ``downloader(symbol, start, end) -> pandas.DataFrame`` (``end`` inclusive),
injectable for tests; the default one imports ``yfinance`` lazily. yfinance returns an empty frame
instead of raising when it is offline or the ticker is unknown: that means "no data" and the ticker
is reported in ``missing``; exceptions are retried with exponential backoff.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from b3lake.errors import FetchError, ParseError, SourceError
from b3lake.sources import calendar as b3cal
from b3lake.sources.http import retrying

SCHEMA = pa.schema(
    [
        pa.field("ticker", pa.string(), nullable=False),
        pa.field("date", pa.date32(), nullable=False),
        pa.field("open", pa.float64()),
        pa.field("high", pa.float64()),
        pa.field("low", pa.float64()),
        pa.field("close", pa.float64()),
        pa.field("adj_close", pa.float64()),
        pa.field("volume", pa.int64()),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("line_number", pa.int64(), nullable=False),
        pa.field("ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)

CSV_HEADER = ("Date", "Open", "High", "Low", "Close", "Adj Close", "Volume")
_PRICE_COLUMNS = ("Open", "High", "Low", "Close", "Adj Close")
_OUT = {"Open": "open", "High": "high", "Low": "low", "Close": "close", "Adj Close": "adj_close"}
_TICKER = re.compile(r"^\^?[A-Z0-9]{1,12}$")

Downloader = Callable[[str, dt.date, dt.date], Any]


@dataclass(frozen=True)
class YFinanceResult:
    """Rows for the tickers that had data, plus the tickers that had none."""

    table: pa.Table
    missing: list[str] = field(default_factory=list)


def normalize_ticker(symbol: str) -> str:
    """Yahoo symbol -> B3 code: ``"petr4.sa"`` -> ``"PETR4"`` (indexes like ``^BVSP`` kept)."""
    code = symbol.strip().upper()
    if code.endswith(".SA"):
        code = code[:-3]
    if not _TICKER.match(code):
        raise SourceError("not a B3 ticker", source="yfinance", field="ticker", value=symbol)
    return code


def yahoo_symbol(ticker: str) -> str:
    """B3 code -> Yahoo symbol: ``"PETR4"`` -> ``"PETR4.SA"`` (idempotent; ``^BVSP`` unchanged)."""
    code = normalize_ticker(ticker)
    return code if code.startswith("^") else f"{code}.SA"


def _stamp(ingested_at: dt.datetime | None) -> dt.datetime:
    if ingested_at is None:
        return dt.datetime.now(dt.UTC)
    if ingested_at.tzinfo is None:
        return ingested_at.replace(tzinfo=dt.UTC)
    return ingested_at.astimezone(dt.UTC)


def _build(rows: list[dict[str, Any]], *, ingested_at: dt.datetime | None) -> pa.Table:
    stamp = _stamp(ingested_at)
    for row in rows:
        row["ingested_at"] = stamp
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def _number(value: Any, *, source: str, line: int, column: str) -> float | None:
    """A price cell: float, or None for Yahoo's ``null``/NaN placeholders."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text == "" or text.lower() in ("null", "nan"):
            return None
        try:
            number = float(text)
        except ValueError:
            raise ParseError(
                "not a number", source=source, line=line, field=column, value=value
            ) from None
    else:
        number = float(value)
    if math.isnan(number):
        return None
    if math.isinf(number) or number < 0:
        raise ParseError(
            "not a finite non-negative number", source=source, line=line, field=column, value=value
        )
    return number


def _volume(value: Any, *, source: str, line: int) -> int | None:
    number = _number(value, source=source, line=line, column="Volume")
    if number is None:
        return None
    if number != int(number):
        raise ParseError(
            "volume is not whole", source=source, line=line, field="Volume", value=value
        )
    return int(number)


def _row(
    ticker: str,
    day: dt.date,
    values: dict[str, Any],
    *,
    source: str,
    line: int,
) -> dict[str, Any] | None:
    """One output row, or None when Yahoo gave a placeholder row with no prices at all."""
    prices = {
        _OUT[c]: _number(values.get(c), source=source, line=line, column=c) for c in _PRICE_COLUMNS
    }
    volume = _volume(values.get("Volume"), source=source, line=line)
    if all(v is None for v in prices.values()):
        return None
    return {
        "ticker": ticker,
        "date": day,
        **prices,
        "volume": volume,
        "source_file": source,
        "line_number": line,
    }


def parse_yfinance_csv(
    data: bytes, *, ticker: str, source_name: str, ingested_at: dt.datetime | None = None
) -> pa.Table:
    """Parse a saved yfinance CSV (``Date,Open,High,Low,Close,Adj Close,Volume``).

    ``null`` rows (Yahoo's placeholders) are skipped; a malformed row raises ParseError with
    its line and column. ``line_number`` is the file line (the header is line 1).
    """
    code = normalize_ticker(ticker)
    source = source_name
    text = data.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise ParseError("empty CSV", source=source, line=1)
    header = [h.strip() for h in header]
    if tuple(header) != CSV_HEADER:
        raise ParseError(
            f"unexpected header, expected {','.join(CSV_HEADER)}",
            source=source,
            line=1,
            value=",".join(header),
        )
    rows: list[dict[str, Any]] = []
    seen: set[dt.date] = set()
    for cells in reader:
        line = reader.line_num
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != len(CSV_HEADER):
            raise ParseError(
                f"expected {len(CSV_HEADER)} fields, got {len(cells)}",
                source=source,
                line=line,
                value=",".join(cells),
            )
        values = dict(zip(CSV_HEADER, cells, strict=True))
        try:
            day = dt.date.fromisoformat(values["Date"].strip()[:10])
        except ValueError:
            raise ParseError(
                "not a date (YYYY-MM-DD)",
                source=source,
                line=line,
                field="Date",
                value=values["Date"],
            ) from None
        if day in seen:
            raise ParseError(
                "date repeated", source=source, line=line, field="Date", value=str(day)
            )
        seen.add(day)
        row = _row(code, day, values, source=source, line=line)
        if row is not None:
            rows.append(row)
    return _build(rows, ingested_at=ingested_at)


def _flatten(frame: Any, symbol: str, *, source: str) -> Any:
    """Single-level OHLCV columns from ``download()`` (MultiIndex) or ``history()`` output."""
    import pandas as pd

    if isinstance(frame.columns, pd.MultiIndex):
        for level in range(frame.columns.nlevels):
            values = frame.columns.get_level_values(level)
            if symbol in set(values):
                frame = frame.xs(symbol, axis=1, level=level)
                break
        else:
            if frame.columns.nlevels == 2 and len(set(frame.columns.get_level_values(1))) == 1:
                frame = frame.droplevel(1, axis=1)
            else:
                raise ParseError(
                    "cannot find the symbol in the frame's columns", source=source, value=symbol
                )
    missing = [c for c in (*_PRICE_COLUMNS, "Volume") if c not in frame.columns]
    if missing:
        raise ParseError(
            "frame lacks columns (was auto_adjust=False?)", source=source, value=missing
        )
    return frame


def frame_to_table(
    frame: Any,
    *,
    ticker: str,
    source_name: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    ingested_at: dt.datetime | None = None,
) -> pa.Table:
    """A yfinance DataFrame (``download(auto_adjust=False)`` or ``Ticker.history``) -> raw table.

    Index timestamps are taken as B3 trading dates (their local date, no UTC shift); rows
    outside ``start..end`` are dropped; ``line_number`` is the 1-based row position.
    """
    code = normalize_ticker(ticker)
    flat = _flatten(frame, yahoo_symbol(code), source=source_name)
    rows: list[dict[str, Any]] = []
    for position, (stamp, record) in enumerate(flat.iterrows(), start=1):
        day = stamp.date() if hasattr(stamp, "date") else dt.date.fromisoformat(str(stamp)[:10])
        if (start and day < start) or (end and day > end):
            continue
        values = {c: record[c] for c in (*_PRICE_COLUMNS, "Volume")}
        row = _row(code, day, values, source=source_name, line=position)
        if row is not None:
            rows.append(row)
    dates = [r["date"] for r in rows]
    if len(set(dates)) != len(dates):
        raise ParseError("a date appears twice", source=source_name, field="Date")
    return _build(rows, ingested_at=ingested_at)


def make_yfinance_downloader(session: Any = None) -> Downloader:
    """A downloader over the real yfinance; ``session`` (e.g. a ``requests.Session``) is passed
    through, which lets tests replay Yahoo's chart JSON through yfinance's own parsing."""

    def download(symbol: str, start: dt.date, end: dt.date) -> Any:
        import yfinance as yf

        return yf.download(
            symbol,
            start=start.isoformat(),
            end=(end + dt.timedelta(days=1)).isoformat(),  # yfinance's end is exclusive
            interval="1d",
            auto_adjust=False,  # unadjusted OHLC, "Adj Close" alongside
            actions=False,
            progress=False,
            threads=False,
            multi_level_index=False,
            session=session,
        )

    return download


def yfinance_downloader(symbol: str, start: dt.date, end: dt.date) -> Any:
    """Call the real yfinance: unadjusted prices (``auto_adjust=False``), ``end`` made exclusive."""
    return make_yfinance_downloader()(symbol, start, end)


def _source_name(symbol: str, start: dt.date, end: dt.date) -> str:
    return f"yfinance:{symbol}?start={start.isoformat()}&end={end.isoformat()}"


def fetch_history(
    tickers: list[str],
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    downloader: Downloader | None = None,
    retries: int = 3,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    ingested_at: dt.datetime | None = None,
) -> YFinanceResult:
    """Daily OHLCV for B3 tickers (``PETR4`` or ``PETR4.SA``), ``start..end`` inclusive.

    Calls yfinance with ``auto_adjust=False``: ``open..close`` are unadjusted, ``adj_close`` is
    Yahoo's adjusted close. ``start``/``end`` default to the last completed B3 session (D-1 by the
    B3 calendar). A downloader exception is retried up to ``retries`` more times, sleeping
    ``backoff * 2**attempt`` seconds (the shared policy of :func:`b3lake.sources.http.retrying`);
    when all attempts fail FetchError is raised. A ticker with
    no rows is listed in ``missing`` and the others are still returned.
    """
    if end is None:
        end = b3cal.last_completed_session()
    if start is None:
        start = end
    if start > end:
        raise FetchError("start is after end", source="yfinance", value=f"{start}..{end}")
    download = downloader or yfinance_downloader
    tables: list[pa.Table] = []
    missing: list[str] = []
    for ticker in dict.fromkeys(normalize_ticker(t) for t in tickers):
        symbol = yahoo_symbol(ticker)
        source = _source_name(symbol, start, end)
        frame = retrying(
            functools.partial(download, symbol, start, end),
            source=source,
            retries=retries,
            backoff_seconds=backoff,
            sleep=sleep,
            # yfinance raises anything from curl/requests/json: every exception is retried.
            transient=lambda exc: True,
        )
        if frame is None or len(frame) == 0:
            missing.append(ticker)
            continue
        table = frame_to_table(
            frame, ticker=ticker, source_name=source, start=start, end=end, ingested_at=ingested_at
        )
        if table.num_rows == 0:
            missing.append(ticker)
        else:
            tables.append(table)
    table = pa.concat_tables(tables) if tables else SCHEMA.empty_table()
    return YFinanceResult(table=table, missing=missing)
