"""Source ``yfinance``: daily bars from Yahoo Finance (unadjusted; adjusted close alongside).

Declaration only (light to import); the parsing and the downloader are :mod:`.prices`, whose
public names are re-exported here lazily. Lands ``raw/yfinance/dt=…/part-0.parquet``: one object per
session holding every ticker extracted so far, merged by ticker (re-runs never duplicate a ticker,
and extracting one ticker keeps the others). A saved file is ``<TICKER>[.SA].csv``.
"""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from b3lake.errors import SourceError
from b3lake.sources.base import Fetched, Param, Request, split_by_date

if TYPE_CHECKING:
    import pyarrow as pa

    from b3lake.settings import Settings
    from b3lake.sources.yfinance.prices import (
        CSV_HEADER,
        SCHEMA,
        Downloader,
        YFinanceResult,
        fetch_history,
        frame_to_table,
        make_yfinance_downloader,
        normalize_ticker,
        parse_yfinance_csv,
        yahoo_symbol,
        yfinance_downloader,
    )

__all__ = [
    "CSV_HEADER",
    "SCHEMA",
    "SOURCE",
    "Downloader",
    "YFinanceResult",
    "fetch_history",
    "frame_to_table",
    "make_yfinance_downloader",
    "normalize_ticker",
    "parse_yfinance_csv",
    "yahoo_symbol",
    "yfinance_downloader",
]


def __getattr__(name: str) -> Any:
    if name in __all__ and name != "SOURCE":
        return getattr(importlib.import_module(f"{__name__}.prices"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class YFinanceSource:
    name = "yfinance"
    raw = "yfinance"
    summary = "Land Yahoo Finance daily bars (unadjusted; adjusted close alongside) in raw/yfinance/dt=…/."
    example = "b3lake extract yfinance --tickers PETR4,VALE3 --start 2024-01-02 --end 2024-01-31"
    file_help = "Saved yfinance CSV(s) (TICKER.SA.csv)."
    params = (
        Param(
            "tickers", "Comma-separated B3 tickers (PETR4,VALE3).", kind="list", setting="tickers"
        ),
        Param(
            "start",
            "First date (default: last completed B3 session).",
            kind="date",
            setting="start",
        ),
        Param("end", "Last date, inclusive.", kind="date", setting="end"),
    )
    merge_key = "ticker"
    land_each_input = False
    #: Set by tests to replay recorded answers (``downloader(symbol, start, end)``).
    downloader: Any = None

    def raw_schema(self) -> pa.Schema:
        from b3lake.sources.yfinance.prices import SCHEMA

        return SCHEMA

    def parse(self, path: Path, request: Request) -> pa.Table:
        from b3lake.sources.yfinance.prices import normalize_ticker, parse_yfinance_csv

        ticker = normalize_ticker(path.stem)
        return parse_yfinance_csv(path.read_bytes(), ticker=ticker, source_name=path.name)

    def fetch(self, request: Request) -> Fetched:
        from b3lake.sources.yfinance.prices import fetch_history

        tickers = request["tickers"]
        if not tickers:
            raise SourceError("give --tickers (or set tickers in b3lake.toml)")
        result = fetch_history(
            tickers, request["start"], request["end"], downloader=self.downloader
        )
        return Fetched(result.table, input=f"yfinance {','.join(tickers)}", missing=result.missing)

    def groups(self, table: pa.Table) -> list[pa.Table]:
        return [table]

    def split(self, table: pa.Table) -> dict[dt.date, pa.Table]:
        return split_by_date(table, "date")

    def object_name(self, day: dt.date, rows: pa.Table, request: Request) -> str:
        return "part-0"

    def scheduled(self, day: dt.date, settings: Settings) -> list[tuple[str, dict[str, Any]]]:
        return [(self.name, {"tickers": settings.tickers, "start": day, "end": day})]


SOURCE = YFinanceSource()
