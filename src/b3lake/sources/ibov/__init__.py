"""Source ``ibov``: B3 index portfolios (IBOV and friends) from B3's site: JSON API and CSV export.

Declaration only (light to import). The parts: :mod:`.common` (raw schema, the checks every
portfolio passes), :mod:`.json_api` (``GetPortfolioDay``/``GetTheoricalPortfolio`` responses),
:mod:`.csv_export` (``IBOVDia_dd-mm-yy.csv``, also as re-saved by a spreadsheet program) and
:mod:`.client` (the HTTP endpoints); their public names are re-exported here lazily.

Lands ``raw/ibov_portfolio/dt=<portfolio date>/<INDEX>.parquet``; several saved files of one day
(e.g. segment 1 and 2) are combined into one object. ``--date`` gives the date of a saved response
that carries none (``GetTheoricalPortfolio``) and must agree with a file's own date otherwise.
"""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from b3lake.errors import ConfigError, ParseError
from b3lake.sources.base import Fetched, Param, Request, split_by_date

if TYPE_CHECKING:
    import pyarrow as pa

    from b3lake.settings import Settings
    from b3lake.sources.ibov.client import (
        BASE_URL,
        PAGE_SIZE,
        TIMEOUT,
        download_url,
        encode_params,
        fetch_portfolio,
        fetch_portfolio_csv,
        portfolio_url,
    )
    from b3lake.sources.ibov.common import SCHEMA
    from b3lake.sources.ibov.csv_export import parse_portfolio_csv
    from b3lake.sources.ibov.json_api import parse_portfolio_json

__all__ = [
    "BASE_URL",
    "PAGE_SIZE",
    "SCHEMA",
    "SOURCE",
    "TIMEOUT",
    "download_url",
    "encode_params",
    "fetch_portfolio",
    "fetch_portfolio_csv",
    "parse_portfolio_csv",
    "parse_portfolio_json",
    "portfolio_url",
]

_LAZY = {
    "BASE_URL": "client",
    "PAGE_SIZE": "client",
    "TIMEOUT": "client",
    "download_url": "client",
    "encode_params": "client",
    "fetch_portfolio": "client",
    "fetch_portfolio_csv": "client",
    "portfolio_url": "client",
    "SCHEMA": "common",
    "parse_portfolio_csv": "csv_export",
    "parse_portfolio_json": "json_api",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class IbovSource:
    name = "ibov"
    raw = "ibov_portfolio"
    summary = "Land an index's theoretical portfolio in raw/ibov_portfolio/dt=…/."
    example = "b3lake extract ibov --file data/sample/IBOVDia_03-10-25.csv"
    file_help = "Saved IBOVDia_*.csv or GetPortfolioDay/GetTheoricalPortfolio JSON."
    params = (
        Param("index", "Index code: IBOV, IBXX, SMLL, IDIV…", default="IBOV"),
        Param("language", "pt-br or en-us (API only).", default="pt-br"),
        Param("segment", "1 = by ticker, 2 = by sector (API only).", kind="int", default=2),
        Param(
            "date",
            "The portfolio's date (YYYY-MM-DD), for a saved file that carries none "
            "(a GetTheoricalPortfolio response); checked against the file's own date otherwise.",
            kind="date",
        ),
    )
    #: Files of data/sample/ that ``b3lake run`` lands when given no input (optional attribute).
    sample = "IBOVDia_*.csv"
    merge_key = None
    land_each_input = False

    def raw_schema(self) -> pa.Schema:
        from b3lake.sources.ibov.common import SCHEMA

        return SCHEMA

    def parse(self, path: Path, request: Request) -> pa.Table:
        from b3lake.sources.ibov.common import MissingDate

        data = path.read_bytes()
        index, day = request.get("index", "IBOV"), request["date"]
        try:
            if path.suffix.lower() == ".json":
                from b3lake.sources.ibov.json_api import parse_portfolio_json

                return parse_portfolio_json(
                    data, source_name=path.name, index=index, portfolio_date=day
                )
            from b3lake.sources.ibov.csv_export import parse_portfolio_csv

            return parse_portfolio_csv(data, source_name=path.name, index=index, portfolio_date=day)
        except MissingDate as exc:
            raise ParseError(
                "the file carries no portfolio date: pass --date YYYY-MM-DD",
                source=exc.source,
                field="date",
            ) from None

    def fetch(self, request: Request) -> Fetched:
        from b3lake.sources.ibov.client import fetch_portfolio

        if request["date"] is not None:
            raise ConfigError(
                "--date is for saved files (--file): GetPortfolioDay serves the current portfolio",
                field="--date",
                value=request["date"].isoformat(),
            )
        index, language, segment = request["index"], request["language"], request["segment"]
        table = fetch_portfolio(index, language=language, segment=segment)
        return Fetched(table, input=f"GetPortfolioDay {index} {language} segment {segment}")

    def groups(self, table: pa.Table) -> list[pa.Table]:
        return [table]

    def split(self, table: pa.Table) -> dict[dt.date, pa.Table]:
        return split_by_date(table, "portfolio_date")

    def object_name(self, day: dt.date, rows: pa.Table, request: Request) -> str:
        return str(request.get("index", "IBOV")).upper()

    def scheduled(self, day: dt.date, settings: Settings) -> list[tuple[str, dict[str, Any]]]:
        return [(f"ibov:{index}", {"index": index}) for index in settings.indexes]


SOURCE = IbovSource()
