"""Source ``cotahist``: B3's COTAHIST historical quotes (every instrument, every session).

Declaration only (light to import): the parser is :mod:`.parse`, the downloader :mod:`.download`;
their public names are re-exported here lazily (``from b3lake.sources.cotahist import
parse_cotahist`` works and loads numpy only then). Lands ``raw/cotahist/dt=…/part-0.parquet``, one
object per session; each file is landed on its own (an annual file is a million rows).
"""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from b3lake.errors import SourceError
from b3lake.sources.base import Fetched, Param, Request

if TYPE_CHECKING:
    import pyarrow as pa

    from b3lake.settings import Settings
    from b3lake.sources.cotahist.download import (
        DEFAULT_BASE_URL,
        cotahist_file_name,
        download_cotahist,
    )
    from b3lake.sources.cotahist.parse import (
        RAW_COTAHIST_SCHEMA,
        RECORD_LENGTH,
        parse_cotahist,
        split_by_session,
    )

__all__ = [
    "DEFAULT_BASE_URL",
    "RAW_COTAHIST_SCHEMA",
    "RECORD_LENGTH",
    "SOURCE",
    "cotahist_file_name",
    "download_cotahist",
    "parse_cotahist",
    "split_by_session",
]

_LAZY = {
    "DEFAULT_BASE_URL": "download",
    "cotahist_file_name": "download",
    "download_cotahist": "download",
    "RAW_COTAHIST_SCHEMA": "parse",
    "RECORD_LENGTH": "parse",
    "parse_cotahist": "parse",
    "split_by_session": "parse",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class CotahistSource:
    name = "cotahist"
    raw = "cotahist"
    summary = "Land B3 COTAHIST historical quotes (every instrument) in raw/cotahist/dt=…/."
    example = "b3lake extract cotahist --file data/sample/COTAHIST_A2021.ZIP"
    file_help = "COTAHIST .ZIP/.TXT file(s)."
    params = (
        Param("year", "Download B3's annual file for this year.", kind="int"),
        Param("month", "With --year: the monthly file.", kind="int"),
        Param("date", "Download the daily file (YYYY-MM-DD).", kind="date"),
    )
    #: Files of data/sample/ that ``b3lake run`` lands when given no input (optional attribute).
    sample = "COTAHIST_*.ZIP"
    merge_key = None
    land_each_input = True

    def raw_schema(self) -> pa.Schema:
        from b3lake.sources.cotahist.parse import RAW_COTAHIST_SCHEMA

        return RAW_COTAHIST_SCHEMA

    def parse(self, path: Path, request: Request) -> pa.Table:
        from b3lake.sources.cotahist.parse import parse_cotahist

        return parse_cotahist(path, source_name=path.name)

    def fetch(self, request: Request) -> Fetched:
        from b3lake.sources.cotahist.download import cotahist_file_name, download_cotahist
        from b3lake.sources.cotahist.parse import parse_cotahist

        year, month, day = request["year"], request["month"], request["date"]
        if year is None and day is None:
            raise SourceError("give COTAHIST files, or a year, month or date to download")
        year = year if year is not None else day.year
        name = cotahist_file_name(year=year, month=month, day=day)
        body = download_cotahist(year=year, month=month, day=day)
        return Fetched(parse_cotahist(body, source_name=name), input=name)

    def groups(self, table: pa.Table) -> list[pa.Table]:
        return [table]

    def split(self, table: pa.Table) -> dict[dt.date, pa.Table]:
        from b3lake.sources.cotahist.parse import split_by_session

        return split_by_session(table)

    def object_name(self, day: dt.date, rows: pa.Table, request: Request) -> str:
        return "part-0"

    def scheduled(self, day: dt.date, settings: Settings) -> list[tuple[str, dict[str, Any]]]:
        return [(self.name, {"year": day.year, "date": day})]


SOURCE = CotahistSource()
