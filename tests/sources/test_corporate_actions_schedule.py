"""Corporate actions on the schedule: the issuers of the landed tickers, asked politely, and a
scheduled extract with no issuer list replayed against B3's recorded answers."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import responses
import yaml

from b3lake.errors import FetchError, SourceError
from b3lake.settings import Settings
from b3lake.sources.corporate_actions import client, schedule

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DAILY = FIXTURES / "cotahist" / "COTAHIST_D04012016.TXT"
CA = FIXTURES / "corporate_actions"
SESSION = dt.date(2016, 1, 4)


def _file_issuers() -> set[str]:
    """Company issuers of the daily file, read by position: market 010, BDI 02, share or unit ISIN."""
    out = set()
    for line in DAILY.read_text(encoding="latin-1").splitlines():
        code = line[12:24].strip()
        if (
            line[:2] == "01"
            and line[24:27] == "010"
            and line[10:12] == "02"
            and line[236:239] in ("ACN", "CDA")
            and re.match(r"^[A-Z]{4}[0-9]{1,2}$", code)
        ):
            out.add(code[:4])
    return out


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lake with the real daily COTAHIST of 2016-01-04 landed (raw only)."""
    from b3lake.lake.raw_writer import RawWriter
    from b3lake.sources.cotahist import parse_cotahist
    from b3lake.storage.local import LocalStorage

    root = tmp_path_factory.mktemp("schedule") / "lake"
    table = parse_cotahist(DAILY, source_name=DAILY.name)
    RawWriter(LocalStorage(root)).write("cotahist", SESSION, table, "part-0")
    return root


def test_the_issuers_are_those_of_the_landed_company_shares(lake: Path) -> None:
    settings = Settings(lake=str(lake))
    issuers = schedule.landed_issuers(settings, dt.date(2016, 1, 8))  # the newest at or before
    assert set(issuers) == _file_issuers() and len(issuers) == 219
    assert {"ABEV", "PETR", "VALE", "ITUB", "SANB"} <= set(issuers)
    assert not {"AAPL", "BOVA", "BCFF"} & set(issuers)  # a BDR, an ETF, a real-estate fund
    narrowed = Settings(lake=str(lake), universe={"tickers": ["ABEV3", "PETR4", "AAPL34"]})
    assert schedule.landed_issuers(narrowed, SESSION) == ["ABEV", "PETR"]
    with pytest.raises(SourceError, match="no COTAHIST landed"):
        schedule.landed_issuers(settings, dt.date(2015, 12, 30))


def test_batches_cover_every_issuer_once_over_n_sessions(lake: Path) -> None:
    from b3lake.sources import calendar

    issuers = schedule.landed_issuers(Settings(lake=str(lake)), SESSION)
    days = calendar.sessions(dt.date(2016, 1, 4), dt.date(2016, 1, 8))
    batches = [schedule.batch_of(issuers, d, 5) for d in days]
    assert sorted(i for b in batches for i in b) == issuers  # each once
    assert all(15 <= len(b) <= 75 for b in batches)
    assert schedule.batch_of(issuers, days[0], 5) == schedule.batch_of(issuers, days[0], 5)
    assert schedule.batch_of(issuers, days[0], 1) == issuers
    # An issuer keeps its turn when others list or delist.
    assert set(schedule.batch_of(issuers[:50], days[2], 5)) <= set(batches[2])


def _register_abev() -> None:
    responses.get(
        client.supplement_url("ABEV"),
        body=(CA / "GetListedSupplementCompany_ABEV.json").read_bytes(),
    )
    cash = json.loads((CA / "GetListedCashDividends_ABEV.json").read_text(encoding="utf-8"))
    results = cash["results"]
    page = {"pageNumber": 1, "pageSize": 100, "totalRecords": len(results), "totalPages": 1}
    responses.get(client.cash_dividends_url("AMBEVSA"), json={"page": page, "results": results})


def _recorded_empty() -> tuple[str, str]:
    """B3's recorded answer for an issuer code it does not know (WWWW): 200, empty body."""
    doc = yaml.safe_load((CA / "GetListedSupplementCompany_WWWW_empty.yml").read_text())
    item = doc["http_interactions"][0]
    return item["request"]["uri"], item["response"]["body"]["string"]


@responses.activate
def test_many_issuers_are_asked_politely_and_an_unknown_one_is_missing() -> None:
    _register_abev()
    uri, body = _recorded_empty()
    assert uri == client.supplement_url("WWWW")
    responses.get(uri, body=body)
    for _ in range(4):
        responses.get(client.supplement_url("KRSA"), status=503)
    now, waits = [0.0], []

    def sleep(seconds: float) -> None:
        waits.append(round(seconds, 6))
        now[0] += seconds

    import requests

    session = requests.Session()
    real_get = session.get

    def timed_get(*args: Any, **kwargs: Any) -> Any:
        now[0] += 0.1  # every answer takes 0.1 s
        return real_get(*args, **kwargs)

    session.get = timed_get  # type: ignore[method-assign]
    table, missing = client.fetch_issuers(
        ["ABEV", "WWWW", "KRSA"],
        session=session,
        min_interval_seconds=1.0,
        backoff=2.0,
        sleep=sleep,
        clock=lambda: now[0],
    )
    assert table.num_rows == 32 and set(table["issuer"].to_pylist()) == {"ABEV"}
    assert missing[0] == "WWWW (B3 knows no such company)"
    assert missing[1].startswith("KRSA (failed: ") and "gave up after 4 attempts" in missing[1]
    # ABEV's two requests, WWWW's one, KRSA's four attempts: each starts >= 1 s after the last
    # (the 0.1 s answers count towards it); KRSA's backoff waits come on top.
    assert len(responses.calls) == 7
    assert waits == [0.9, 0.9, 0.9, 2.0, 4.0, 8.0]


@responses.activate
def test_when_every_issuer_fails_the_error_is_raised() -> None:
    responses.get(client.supplement_url("ABEV"), status=404)
    with pytest.raises(FetchError, match="HTTP 404"):
        client.fetch_issuers(["ABEV"], min_interval_seconds=0, sleep=lambda _: None)


@dataclass
class _Context:
    b3lake_settings: Settings


@responses.activate
def test_a_scheduled_run_with_no_issuer_list_fetches_the_landed_issuers(
    tmp_path: Path,
) -> None:
    """The extract Lambda's handler for session 2016-01-04 with corporate_actions scheduled and
    no issuer list: the issuers come from the landed COTAHIST (the universe narrowed to ABEV3, the
    one issuer whose answers are recorded; the whole file's 219 are above), B3's recorded answers
    are replayed, the events land raw."""
    from b3lake.lake.raw_writer import RawWriter
    from b3lake.lambdas.extract import handler
    from b3lake.sources.cotahist import parse_cotahist
    from b3lake.storage.local import LocalStorage

    root = tmp_path / "lake"
    RawWriter(LocalStorage(root)).write(
        "cotahist", SESSION, parse_cotahist(DAILY, source_name=DAILY.name), "part-0"
    )
    _register_abev()
    settings = Settings(
        lake=str(root),
        sources=["corporate_actions"],
        universe={"tickers": ["ABEV3"]},
        # Every issuer this session (batches = 1): the rotation is tested above.
        corporate_actions={"min_interval_seconds": 0.0, "batches": 1},
    )
    assert settings.corporate_actions.issuers == []
    out = handler({"date": SESSION.isoformat()}, _Context(settings))
    assert out["errors"] == {}
    line = out["sources"]["corporate_actions"]
    assert line.startswith("corporate_actions: 32 rows read") and "no data" not in line
    assert [c.request.url for c in responses.calls] == [
        client.supplement_url("ABEV"),
        client.cash_dividends_url("AMBEVSA"),
    ]
    keys = LocalStorage(root).list_keys("raw/corporate_actions/")
    assert "raw/corporate_actions/dt=2021-01-13/ABEV_GetListedCashDividends.parquet" in keys
    assert len({k.split("/")[2] for k in keys}) > 20  # one object per event date
