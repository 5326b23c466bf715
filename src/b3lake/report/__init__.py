"""Charts over the refined tables: a self-contained HTML report and the notebook's building blocks.

``queries`` holds the SQL (Athena dialect) and the loader, ``charts`` the plotly figures,
``html`` the page. All reads go through the QueryEngine port, so the report is the same on the
local lake (DuckDB) and on AWS (Athena). Nothing here imports plotly until a figure is drawn.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from b3lake.query import QueryEngine
    from b3lake.report.queries import ReportData
    from b3lake.settings import Settings

__all__ = ["build_report", "load_data", "query_engine"]


def query_engine(settings: Settings) -> QueryEngine:
    """The configured QueryEngine: DuckDB over a local lake, Athena with ``backend = "aws"``."""
    from b3lake.backends import build_backend

    return build_backend(settings).query_engine()


def load_data(
    settings: Settings,
    *,
    tickers: list[str] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    engine: QueryEngine | None = None,
) -> ReportData:
    """Fetch what the report draws (``settings.tickers`` or the most traded ones by default)."""
    from b3lake.report.queries import DEFAULT_INDEX, load

    index = settings.indexes[0] if settings.indexes else DEFAULT_INDEX
    return load(
        engine or query_engine(settings),
        tickers=tickers,
        default_tickers=settings.tickers,
        start=start,
        end=end,
        index=index,
        indexes=list(settings.index_levels) or None,
    )


def build_report(
    settings: Settings,
    *,
    out: Path,
    tickers: list[str] | None,
    start: dt.date | None,
    end: dt.date | None,
    engine: QueryEngine | None = None,
) -> Path:
    """Write the HTML report to ``out`` (parents created) and return its path."""
    from b3lake.report.html import render

    data = load_data(settings, tickers=tickers, start=start, end=end, engine=engine)
    from b3lake.backends import build_backend

    where = build_backend(settings).describe()
    page = render(data, source=where)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out
