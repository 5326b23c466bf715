"""Source ``index_report``: B3's index report of each session (BVBG.087: open, low, high, close).

Declaration only (light to import): :mod:`.parse` reads the ISO 20022 XML (strict, errors name
the XML line and the field's path), :mod:`.client` downloads ``IR<yymmdd>.zip``.

Raw layout: ``raw/index_report/dt=<session>/part-0.parquet`` (a few dozen indices a session);
``refined_index_report`` by ``dt`` (``tables/index_report.py``), cross-checked against the index
statistics' closes by the ``quality_index_closes`` view.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from b3lake.errors import SourceError
from b3lake.sources.base import Fetched, Param, Request, split_by_date

if TYPE_CHECKING:
    import pyarrow as pa

    from b3lake.settings import Settings


class IndexReportSource:
    name = "index_report"
    raw = "index_report"
    summary = "Land B3's index report (BVBG.087: open, low, high, close) in raw/index_report/."
    example = "b3lake extract index-report --file IR210423.zip"
    file_help = "B3's IR<yymmdd>.zip download or the BVBG.087 XML it holds."
    params = (Param("date", "The session whose report to download (YYYY-MM-DD).", kind="date"),)
    merge_key = None
    land_each_input = True

    def raw_schema(self) -> pa.Schema:
        from b3lake.sources.index_report.parse import SCHEMA

        return SCHEMA

    def parse(self, path: Path, request: Request) -> pa.Table:
        from b3lake.sources.index_report.parse import parse_index_report

        return parse_index_report(path.read_bytes(), source_name=path.name)

    def fetch(self, request: Request) -> Fetched:
        from b3lake.sources.index_report.client import fetch_index_report, file_name

        day = request["date"]
        if day is None:
            raise SourceError("give --date (or --file)", field="date")
        table, missing = fetch_index_report(day)
        return Fetched(table, input=file_name(day), missing=missing)

    def groups(self, table: pa.Table) -> list[pa.Table]:
        return [table]

    def split(self, table: pa.Table) -> dict[dt.date, pa.Table]:
        return split_by_date(table, "date")

    def object_name(self, day: dt.date, rows: pa.Table, request: Request) -> str:
        return "part-0"

    def scheduled(self, day: dt.date, settings: Settings) -> list[tuple[str, dict[str, Any]]]:
        return [(self.name, {"date": day})]


SOURCE = IndexReportSource()
