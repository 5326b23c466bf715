"""The report's adjusted-prices panel and the unexplained jumps in its data-quality panel."""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from b3lake.lake import layout
from b3lake.report import build_report, load_data
from b3lake.settings import Settings
from b3lake.storage.local import LocalStorage

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "jobs"))


@pytest.fixture(scope="module")
def split_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """KRSA3's real reverse split on synthetic prices, and a ticker that halves for no reason."""
    import corporate_actions_helpers as cah
    from refine_helpers import argv, put_table

    from b3lake.jobs.refine import job
    from b3lake.sources import calendar

    root = tmp_path_factory.mktemp("split")
    storage = LocalStorage(root)
    days = calendar.sessions(dt.date(2024, 9, 23), dt.date(2024, 10, 31))
    ex = dt.date(2024, 10, 11)
    krsa = cah.yfinance_rows("KRSA3", {d: 1.5 * (10 if d >= ex else 1) for d in days})
    other = cah.yfinance_rows(
        "ZZZZ3", {d: 20.0 if d < dt.date(2024, 10, 21) else 9.0 for d in days}
    )
    both = pa.concat_tables([krsa, other])
    for day in days:
        rows = both.filter(pa.compute.equal(both["date"], pa.scalar(day, pa.date32())))
        put_table(storage, layout.raw_key("yfinance", day), rows)
    cah.land(storage, cah.krsa_raw())
    job.main(argv(storage.root, mode="full"))
    return root


def _section(page: str, key: str) -> str:
    m = re.search(rf'<section class="panel" id="{key}".*?</section>', page, re.S)
    assert m, f"panel {key} missing"
    return m.group(0)


def test_adjusted_panel_compares_closes_and_total_return(split_lake: Path, tmp_path: Path) -> None:
    settings = Settings(lake=str(split_lake))
    data = load_data(settings, tickers=["KRSA3"])
    assert data.adjusted is not None and data.adjusted.ok
    assert set(data.adjusted.table.column("ticker").to_pylist()) == {"KRSA3"}  # type: ignore[union-attr]
    page = build_report(
        settings, out=tmp_path / "r.html", tickers=["KRSA3"], start=None, end=None
    ).read_text(encoding="utf-8")
    adjusted = _section(page, "adjusted")
    assert "KRSA3: adjusted vs unadjusted close" in adjusted
    # As traded the price went up tenfold; adjusted for the reverse split it did not move.
    assert "+900.00%" in adjusted and "+0.00%" in adjusted
    assert "2024-10-11" in adjusted  # the event applied
    quality = _section(page, "quality")
    assert "Jumps nobody explained" in quality
    assert "ZZZZ3" in quality and "KRSA3" not in quality.split("Jumps nobody explained")[1]


def test_adjusted_panel_without_events_says_no_data(tmp_path: Path) -> None:
    page = build_report(
        Settings(lake=str(tmp_path / "empty")),
        out=tmp_path / "r.html",
        tickers=None,
        start=None,
        end=None,
    ).read_text(encoding="utf-8")
    assert "No data" in _section(page, "adjusted")
