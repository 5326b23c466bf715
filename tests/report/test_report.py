"""build_report on a lake: one self-contained HTML file, every panel present, missing tables tolerated."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from b3lake.errors import ConfigError
from b3lake.report import build_report, load_data
from b3lake.report import queries as q
from b3lake.settings import Settings

from .conftest import SYNTH_SKIPPED, SYNTH_TICKERS

PANELS = ("prices", "adjusted", "monthly", "portfolio", "indices", "curve", "options", "quality")


class _Scan(HTMLParser):
    """Script sources, external links, sections and figure divs of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.script_srcs: list[str] = []
        self.links: list[str] = []
        self.panels: list[str] = []
        self.figures = 0
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            if a.get("src"):
                self.script_srcs.append(str(a["src"]))
            else:
                self.inline_scripts += 1
        if tag == "link" and a.get("href"):
            self.links.append(str(a["href"]))
        if tag == "section" and a.get("data-panel"):
            self.panels.append(str(a["data-panel"]))
        if tag == "div" and "plotly-graph-div" in (a.get("class") or ""):
            self.figures += 1


def scan(page: str) -> _Scan:
    s = _Scan()
    s.feed(page)
    return s


def _section(page: str, key: str) -> str:
    m = re.search(rf'<section class="panel" id="{key}".*?</section>', page, re.S)
    assert m, f"panel {key} missing"
    return m.group(0)


def test_report_is_self_contained_with_every_panel(any_lake: Path, tmp_path: Path) -> None:
    out = build_report(
        Settings(lake=str(any_lake)),
        out=tmp_path / "sub" / "r.html",
        tickers=None,
        start=None,
        end=None,
    )
    page = out.read_text(encoding="utf-8")
    s = scan(page)
    assert s.script_srcs == []  # plotly.js is inline: no CDN, no network to open the file
    assert not [h for h in s.links if h.startswith(("http://", "https://", "//"))]
    assert not re.search(r"""src\s*=\s*["']?(https?:)?//""", page)
    assert page.count("plotly.js v") == 1  # inlined exactly once
    assert s.panels == list(PANELS)
    # Default selection: the six most traded tickers, one price figure each.
    head = re.search(r"tickers: ([^<]*)</p>", page)
    assert head is not None
    tickers = head.group(1).split(", ")
    assert 1 <= len(tickers) <= q.DEFAULT_TOP
    prices = _section(page, "prices")
    assert scan(prices).figures == len(tickers)
    for panel in ("monthly", "portfolio"):
        assert scan(_section(page, panel)).figures == 2, panel
        assert "No data" not in _section(page, panel)
    quality = _section(page, "quality")
    assert scan(quality).figures >= 1
    assert "Missing B3 sessions" in quality and "Quarantined rows by rule" in quality
    assert s.figures == int(re.search(r'name="b3lake-figures" content="(\d+)"', page).group(1))  # type: ignore[union-attr]


def test_synthetic_report_content(synthetic_lake: Path, tmp_path: Path) -> None:
    settings = Settings(lake=str(synthetic_lake))
    data = load_data(settings)
    # The five synthetic tickers, most traded first (VALE3 has the highest price x volume).
    assert data.tickers[0] == "VALE3" and set(data.tickers) == set(SYNTH_TICKERS)
    assert data.missing_sessions == [SYNTH_SKIPPED]  # 2021-01-25 is a holiday, not "missing"
    assert data.quarantine["quarantine_quotes"].ok
    assert data.quarantine["quarantine_ibov_portfolio"].table is None  # no such table
    page = build_report(
        settings, out=tmp_path / "r.html", tickers=None, start=None, end=None
    ).read_text(encoding="utf-8")
    quality = _section(page, "quality")
    assert SYNTH_SKIPPED.isoformat() in quality
    assert "positive_prices" in quality and "high_ge_low" in quality
    assert "No data" in quality and "quarantine_ibov_portfolio" in quality


def test_explicit_tickers_and_range(synthetic_lake: Path, tmp_path: Path) -> None:
    out = build_report(
        Settings(lake=str(synthetic_lake)),
        out=tmp_path / "r.html",
        tickers=["petr4", "NOPE3"],
        start=dt.date(2021, 1, 11),
        end=dt.date(2021, 1, 22),
    )
    page = out.read_text(encoding="utf-8")
    prices = _section(page, "prices")
    assert scan(prices).figures == 1
    assert "NOPE3" in prices and "No data" in prices  # a ticker with no quotes says so
    # The portfolio is the latest on or before the end: none in 2021.
    assert "No data" in _section(page, "portfolio")
    assert "2021-01-11 to 2021-01-22" in page


def test_settings_tickers_are_the_default(synthetic_lake: Path) -> None:
    data = load_data(Settings(lake=str(synthetic_lake), tickers=["MGLU3", "ITUB4"]))
    assert data.tickers == ["MGLU3", "ITUB4"]


def test_empty_lake_says_no_data(tmp_path: Path) -> None:
    out = build_report(
        Settings(lake=str(tmp_path / "empty")),
        out=tmp_path / "r.html",
        tickers=None,
        start=None,
        end=None,
    )
    page = out.read_text(encoding="utf-8")
    assert scan(page).panels == list(PANELS)
    for panel in PANELS:
        assert "No data" in _section(page, panel), panel
    assert scan(page).figures == 0


def test_queries_reject_injection() -> None:
    with pytest.raises(ConfigError):
        q.quotes_sql(["PETR4'; DROP TABLE x; --"], None, None)
    with pytest.raises(ConfigError):
        q.load(object(), start=dt.date(2021, 2, 1), end=dt.date(2021, 1, 1))  # type: ignore[arg-type]
    sql = q.quotes_sql(["petr4"], dt.date(2021, 1, 4), None)
    assert "ticker IN ('PETR4')" in sql and "dt >= DATE '2021-01-04'" in sql


def test_importing_the_report_does_not_import_plotly() -> None:
    """The trigger Lambda imports b3lake without plotly: the package must import without it."""
    code = (
        "import sys, b3lake.report, b3lake.report.queries, b3lake.report.charts, b3lake.report.html; "
        "assert 'plotly' not in sys.modules, 'plotly imported eagerly'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
