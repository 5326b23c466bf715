"""Source ``index_levels``: the daily close of B3's indices (IBOV and those the settings list).

Declaration only (light to import): :mod:`.parse` reads B3's index statistics answer (one per
index and year, a day x month grid; strict, checked against B3's calendar), :mod:`.client` asks
``indexStatisticsProxy/IndexCall/GetPortfolioDay``.

Raw layout: ``raw/index_levels/dt=<session>/<INDEX>.parquet``, one object per index and day, like
``raw/ibov_portfolio/``. A year's answer is split by day; re-landing it rewrites only the days
whose rows changed (the raw writer's content hash), so the daily extract, which asks for the
current year, writes one new object per index and fires one event. The refine keeps one
``dt=`` partition per day with every index in it (``tables/index_levels.py``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from b3lake.errors import ConfigError, SourceError
from b3lake.sources.base import Fetched, Param, Request, split_by_date

if TYPE_CHECKING:
    import pyarrow as pa

    from b3lake.settings import Settings


def years_of(values: Any) -> list[int]:
    """``["2021", "2005-2007"]`` -> ``[2005, 2006, 2007, 2021]`` (a range is inclusive)."""
    out: set[int] = set()
    for value in values or []:
        text = str(value).strip()
        try:
            if "-" in text:
                first, last = (int(p) for p in text.split("-", 1))
                if first > last or last - first > 100:
                    raise ValueError
                out.update(range(first, last + 1))
            else:
                out.add(int(text))
        except ValueError:
            raise ConfigError(
                "a year or a range of years (2005-2024)", field="--year", value=value
            ) from None
    return sorted(out)


class IndexLevelsSource:
    name = "index_levels"
    raw = "index_levels"
    summary = "Land B3's daily index closes (IBOV, ...) in raw/index_levels/dt=…/."
    example = "b3lake extract index-levels --index IBOV --year 2022"
    file_help = "Saved GetPortfolioDay (indexStatisticsProxy) answers (JSON) or vcr cassettes."
    params = (
        Param(
            "index",
            "Index codes (IBOV, SMLL, ...); repeatable. Default: the settings' index_levels.",
            kind="list",
            setting="index_levels",
        ),
        Param("year", "Years to fetch (2022, or a range 2005-2024); repeatable.", kind="list"),
        Param("language", "pt-br or en-us (the answer's number format).", default=None),
    )
    merge_key = None
    land_each_input = False

    def raw_schema(self) -> pa.Schema:
        from b3lake.sources.index_levels.parse import SCHEMA

        return SCHEMA

    def parse(self, path: Path, request: Request) -> pa.Table:
        from b3lake.sources.index_levels.parse import parse_file

        indexes, years = request.get("index", []), years_of(request["year"])
        if len(years) > 1 or (request["year"] and len(indexes) > 1):
            raise SourceError("with --file give at most one --index and one --year", field="year")
        return parse_file(
            path.read_bytes(),
            source_name=path.name,
            index=indexes[0] if request["year"] and indexes else None,
            year=years[0] if years else None,
            language=request["language"],
        )

    def fetch(self, request: Request) -> Fetched:
        from b3lake.sources.index_levels.client import fetch_levels

        indexes = [str(i).strip().upper() for i in request.get("index", []) if str(i).strip()]
        years = years_of(request["year"])
        if not indexes or not years:
            raise SourceError("give --index and --year (or --file)", field="year")
        table, missing = fetch_levels(indexes, years, language=request.get("language", "pt-br"))
        what = f"GetPortfolioDay {','.join(indexes)} {years[0]}" + (
            f"..{years[-1]}" if len(years) > 1 else ""
        )
        return Fetched(table, input=what, missing=missing)

    def groups(self, table: pa.Table) -> list[pa.Table]:
        """One group per index: each lands as its own object of a day."""
        import pyarrow.compute as pc

        return [
            table.filter(pc.equal(table["index"], index))
            for index in sorted(set(table["index"].to_pylist()))
        ]

    def split(self, table: pa.Table) -> dict[dt.date, pa.Table]:
        # The answer's findings stay with the extract's report: an object keeps only its rows
        # (its content hash must not change because another day of the year has a finding).
        return split_by_date(table.replace_schema_metadata(None), "date")

    def object_name(self, day: dt.date, rows: pa.Table, request: Request) -> str:
        return str(rows["index"][0].as_py())

    def scheduled(self, day: dt.date, settings: Settings) -> list[tuple[str, dict[str, Any]]]:
        """The session's year for each index of ``index_levels`` (unchanged days rewrite nothing)."""
        return [
            (f"index_levels:{index}", {"index": [index], "year": [str(day.year)]})
            for index in settings.index_levels
        ]


SOURCE = IndexLevelsSource()
