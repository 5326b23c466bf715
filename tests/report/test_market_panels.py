"""The report's market panels (index closes, the DI x pré curve, options) over a lake landed
from the real files: each draws its figure and its numbers, or says "no data"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from b3lake.report import build_report, load_data
from b3lake.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _section(page: str, key: str) -> str:
    m = re.search(rf'<section class="panel" id="{key}".*?</section>', page, re.S)
    assert m, f"panel {key} missing"
    return m.group(0)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from b3lake.pipeline import Pipeline

    root = tmp_path_factory.mktemp("market_report") / "lake"
    pipeline = Pipeline(Settings(lake=str(root)))
    pipeline.extract(
        "index_levels",
        files=[FIXTURES / "index_levels" / "GetPortfolioDay_IndexStatistics_IBOV_2022.yml"],
    )
    pipeline.extract(
        "curves",
        files=[FIXTURES / "curves" / "TaxaSwap.txt", FIXTURES / "curves" / "TaxaSwap-sample.txt"],
    )
    pipeline.extract("cotahist", files=[FIXTURES / "cotahist" / "COTAHIST_D04012016.TXT"])
    pipeline.refine(mode="full")
    return root


def test_the_market_panels_draw_the_lakes_numbers(lake: Path, tmp_path: Path) -> None:
    settings = Settings(lake=str(lake))
    data = load_data(settings)
    assert data.index_history is not None and data.index_history.ok
    assert data.index_history.table is not None and data.index_history.table.num_rows == 250
    page = build_report(
        settings, out=tmp_path / "r.html", tickers=None, start=None, end=None
    ).read_text(encoding="utf-8")
    indices = _section(page, "indices")
    assert indices.count('class="figure"') == 1
    assert "2022-12-29" in indices and "109,734.60" in indices  # IBOV's last close of 2022
    assert "0 mismatch(es)" in indices
    curve = _section(page, "curve")
    assert curve.count('class="figure"') == 1 and "No data" not in curve
    assert "2026-09-11" in curve and "13.9000" in curve  # the 1-business-day PRE vertex
    options = _section(page, "options")
    assert options.count('class="figure"') == 1
    assert "<td>PETR4</td>" in options  # the most traded underlying of 2016-01-04


def test_a_range_without_market_data_says_no_data(lake: Path, tmp_path: Path) -> None:
    import datetime as dt

    page = build_report(
        Settings(lake=str(lake)),
        out=tmp_path / "r.html",
        tickers=None,
        start=dt.date(2019, 1, 1),
        end=dt.date(2019, 12, 31),
    ).read_text(encoding="utf-8")
    for key in ("indices", "curve"):
        assert "No data" in _section(page, key), key
