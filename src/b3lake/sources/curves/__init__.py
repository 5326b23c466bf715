"""Source ``curves``: B3's yield curves of each session, from its TaxaSwap file.

Declaration only (light to import): :mod:`.parse` reads ``TaxaSwap.txt`` (fixed width, every
curve of the session, strict) and opens B3's archive around it; :mod:`.client` downloads
``TS<yymmdd>.ex_`` from B3's "Pesquisa por pregão".

Raw layout: ``raw/taxa_swap/dt=<session>/part-0.parquet``, one object a session (a few thousand
vertices); the refine keeps ``refined_curves`` by ``dt`` (``tables/curves.py``).
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


class CurvesSource:
    name = "curves"
    raw = "taxa_swap"
    summary = (
        "Land B3's yield curves (TaxaSwap: DI x pré, IPCA, cupom cambial...) in raw/taxa_swap/."
    )
    example = "b3lake extract curves --date 2026-09-11"
    file_help = "TaxaSwap.txt, or B3's TS<yymmdd>.ex_ download (zip)."
    params = (Param("date", "The session whose file to download (YYYY-MM-DD).", kind="date"),)
    merge_key = None
    land_each_input = True

    def raw_schema(self) -> pa.Schema:
        from b3lake.sources.curves.parse import SCHEMA

        return SCHEMA

    def parse(self, path: Path, request: Request) -> pa.Table:
        from b3lake.sources.curves.parse import parse_taxa_swap

        return parse_taxa_swap(path.read_bytes(), source_name=path.name)

    def fetch(self, request: Request) -> Fetched:
        from b3lake.sources.curves.client import fetch_taxa_swap, file_name

        day = request["date"]
        if day is None:
            raise SourceError("give --date (or --file)", field="date")
        table, missing = fetch_taxa_swap(day)
        return Fetched(table, input=file_name(day), missing=missing)

    def groups(self, table: pa.Table) -> list[pa.Table]:
        return [table]

    def split(self, table: pa.Table) -> dict[dt.date, pa.Table]:
        return split_by_date(table, "date")

    def object_name(self, day: dt.date, rows: pa.Table, request: Request) -> str:
        return "part-0"

    def scheduled(self, day: dt.date, settings: Settings) -> list[tuple[str, dict[str, Any]]]:
        return [(self.name, {"date": day})]


SOURCE = CurvesSource()
