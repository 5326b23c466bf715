"""The extract Lambda: D-1 by the B3 calendar, download replayed offline, raw landed, refine fired."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import responses

from b3lake.errors import SourceError
from b3lake.lambdas.extract import handler
from b3lake.settings import Settings
from b3lake.sources.cotahist import DEFAULT_BASE_URL
from b3lake.storage.local import LocalStorage

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "cotahist" / "COTAHIST_D04012016.TXT"


@dataclass
class Context:
    b3lake_settings: Settings
    function_name: str = "b3lake-extract"


def _zipped_daily_file() -> bytes:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w") as zf:
        zf.writestr("COTAHIST_D04012016.TXT", FIXTURE.read_bytes())
    return sink.getvalue()


@responses.activate
def test_extracts_the_session_and_the_trigger_refines_it(tmp_path: Path) -> None:
    responses.get(f"{DEFAULT_BASE_URL}COTAHIST_D04012016.ZIP", body=_zipped_daily_file())
    settings = Settings(lake=str(tmp_path), sources=["cotahist"])
    out = handler({"date": "2016-01-04"}, Context(settings))
    assert out["errors"] == {}
    assert "1,743 rows read" in out["sources"]["cotahist"]
    storage = LocalStorage(tmp_path)
    assert storage.list_keys("raw/cotahist/") == ["raw/cotahist/dt=2016-01-04/part-0.parquet"]
    # Landing the raw object fired the (local) S3 event, which ran the refine for that session.
    quotes = storage.list_keys("refined/quotes/dt=2016-01-04/")
    assert "refined/quotes/dt=2016-01-04/ticker=PETR4/part-0.parquet" in quotes


def test_not_a_session_is_skipped(tmp_path: Path) -> None:
    out = handler({"date": "2016-01-01"}, Context(Settings(lake=str(tmp_path))))  # New Year
    assert out["skipped"] == "not a B3 session"
    assert not list(tmp_path.rglob("*.parquet"))


@responses.activate
def test_a_failing_source_fails_the_invocation_with_its_reason(tmp_path: Path) -> None:
    responses.get(f"{DEFAULT_BASE_URL}COTAHIST_D04012016.ZIP", status=404)
    with pytest.raises(SourceError, match="cotahist"):
        handler({"date": "2016-01-04"}, Context(Settings(lake=str(tmp_path), sources=["cotahist"])))


def test_bad_event_date(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="date"):
        handler({"date": "04/01/2016"}, Context(Settings(lake=str(tmp_path))))


@responses.activate
def test_every_configured_source_is_extracted_through_the_registry(tmp_path: Path) -> None:
    import json

    from b3lake.sources.ibov import portfolio_url

    responses.get(f"{DEFAULT_BASE_URL}COTAHIST_D04012016.ZIP", body=_zipped_daily_file())
    ibov = Path(__file__).resolve().parents[1] / "fixtures" / "ibov"
    doc = json.loads((ibov / "GetTheoricalPortfolio_IBOV_2022_ptbr.json").read_text())
    doc["header"]["date"] = "04/01/16"  # as GetPortfolioDay's header carries it (pt-br)
    responses.get(portfolio_url("IBOV", segment=2), json=doc)
    settings = Settings(lake=str(tmp_path), sources=["cotahist", "ibov"], indexes=["IBOV"])
    out = handler({"date": "2016-01-04"}, Context(settings))
    assert out["errors"] == {}
    assert sorted(out["sources"]) == ["cotahist", "ibov:IBOV"]
    assert out["sources"]["ibov:IBOV"].startswith("ibov_portfolio: 92 rows read, 1 session(s)")
    keys = LocalStorage(tmp_path).list_keys("raw/ibov_portfolio/")
    assert keys == ["raw/ibov_portfolio/dt=2016-01-04/IBOV.parquet"]
