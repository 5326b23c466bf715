"""yfinance: the recorded real CSVs replayed through fetch_history, network call injected."""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
import requests
import responses

from b3lake.errors import FetchError, ParseError, SourceError
from b3lake.sources import calendar as b3cal
from b3lake.sources import yfinance as yfs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "yfinance"
TICKERS = ["BBAS3", "BBDC4", "BOVA11", "ITSA4", "MGLU3", "PETR4"]
VALUES = ["ticker", "date", "open", "high", "low", "close", "adj_close", "volume"]
# Yahoo served BOVA11 as "null" rows on two sessions (2019-08-01, 2019-08-22): skipped, not rows.
ROWS = {t: 245 if t == "BOVA11" else 247 for t in TICKERS}
INGESTED = dt.datetime(2019, 9, 27, 12, tzinfo=dt.UTC)
FIRST = dt.date(2018, 9, 26)
LAST = dt.date(2019, 9, 26)


def _csv(ticker: str) -> bytes:
    return (FIXTURES / f"{ticker}.SA.csv").read_bytes()


def download_frame(symbol: str) -> pd.DataFrame:
    """What ``yfinance.download(symbol, auto_adjust=False)`` returns (1.x: MultiIndex columns)."""
    frame = pd.read_csv(io.BytesIO(_csv(symbol.removesuffix(".SA"))), parse_dates=["Date"])
    frame = frame.set_index("Date")[["Adj Close", "Close", "High", "Low", "Open", "Volume"]]
    frame.columns = pd.MultiIndex.from_product([frame.columns, [symbol]], names=["Price", "Ticker"])
    return frame


def history_frame(symbol: str) -> pd.DataFrame:
    """What ``Ticker.history(auto_adjust=False)`` returns: tz-aware local index, actions."""
    frame = pd.read_csv(io.BytesIO(_csv(symbol.removesuffix(".SA"))), parse_dates=["Date"])
    frame = frame.set_index("Date")
    frame.index = frame.index.tz_localize("America/Sao_Paulo")
    frame["Dividends"] = 0.0
    frame["Stock Splits"] = 0.0
    return frame


def replay(frames: Callable[[str], pd.DataFrame] = download_frame) -> Any:
    """A downloader that serves the recorded CSVs; unknown symbols get yfinance's empty frame."""
    calls: list[tuple[str, dt.date, dt.date]] = []

    def downloader(symbol: str, start: dt.date, end: dt.date) -> pd.DataFrame:
        calls.append((symbol, start, end))
        if not (FIXTURES / f"{symbol}.csv").exists():
            return pd.DataFrame()
        frame = frames(symbol)
        dates = frame.index.date
        return frame[(dates >= start) & (dates <= end)]

    downloader.calls = calls  # type: ignore[attr-defined]
    return downloader


def test_ticker_symbols() -> None:
    assert yfs.normalize_ticker("PETR4.SA") == "PETR4"
    assert yfs.normalize_ticker(" petr4.sa ") == "PETR4"
    assert yfs.normalize_ticker("BOVA11") == "BOVA11"
    assert yfs.yahoo_symbol("PETR4") == "PETR4.SA"
    assert yfs.yahoo_symbol("PETR4.SA") == "PETR4.SA"
    assert yfs.yahoo_symbol("^BVSP") == "^BVSP"
    with pytest.raises(SourceError, match="ticker"):
        yfs.normalize_ticker("PETR 4")


@pytest.mark.parametrize("ticker", TICKERS)
def test_parse_real_csv(ticker: str) -> None:
    table = yfs.parse_yfinance_csv(
        _csv(ticker), ticker=f"{ticker}.SA", source_name=f"{ticker}.SA.csv", ingested_at=INGESTED
    )
    assert table.schema.equals(yfs.SCHEMA)
    assert table.num_rows == ROWS[ticker]
    assert set(table.column("ticker").to_pylist()) == {ticker}
    assert table.column("date")[0].as_py() == FIRST
    assert table.column("date")[-1].as_py() == LAST
    assert table.column("line_number")[0].as_py() == 2


def test_csv_dates_are_exactly_the_b3_sessions() -> None:
    """Cross-source check: Yahoo's dates against the B3 calendar (247 sessions in the range)."""
    assert len(b3cal.sessions(FIRST, LAST)) == 247
    for ticker in TICKERS:
        table = yfs.parse_yfinance_csv(_csv(ticker), ticker=ticker, source_name="x")
        dates = table.column("date").to_pylist()
        assert all(b3cal.is_session(d) for d in dates), ticker
        gaps = b3cal.missing_sessions(dates, FIRST, LAST)
        assert gaps == ([dt.date(2019, 8, 1), dt.date(2019, 8, 22)] if ticker == "BOVA11" else [])


def test_parse_csv_exact_values() -> None:
    table = yfs.parse_yfinance_csv(_csv("PETR4"), ticker="PETR4", source_name="PETR4.SA.csv")
    # 2018-09-26,20.240000,20.299999,19.969999,20.190001,19.203230,60060800
    assert table.slice(0, 1).select(VALUES).to_pylist() == [
        {
            "ticker": "PETR4",
            "date": FIRST,
            "open": 20.24,
            "high": 20.299999,
            "low": 19.969999,
            "close": 20.190001,
            "adj_close": 19.20323,
            "volume": 60060800,
        }
    ]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (b"Date,Open", b"Day,Open", r"x:1: unexpected header"),
        (b"2018-09-27,20.500000", b"2018-13-27,20.500000", r"x:3 \[Date\]: not a date"),
        (b"20.500000,21.459999", b"20.500000,21.4x", r"x:3 \[High\]: not a number"),
        (b",104177300\n", b",104177300,7\n", r"x:3: expected 7 fields"),
        (b",104177300\n", b",-5\n", r"x:3 \[Volume\]: not a finite non-negative"),
        (b",104177300\n", b",1.5\n", r"x:3 \[Volume\]: volume is not whole"),
        (b"2018-09-27,", b"2018-09-26,", r"x:3 \[Date\]: date repeated"),
    ],
)
def test_parse_csv_bad_rows(old: bytes, new: bytes, message: str) -> None:
    data = _csv("PETR4").replace(b"\r\n", b"\n")
    assert old in data
    with pytest.raises(ParseError, match=message):
        yfs.parse_yfinance_csv(data.replace(old, new, 1), ticker="PETR4", source_name="x")


def test_parse_csv_skips_yahoo_null_rows() -> None:
    data = _csv("PETR4").replace(b"\r\n", b"\n")
    data += b"2019-09-27,null,null,null,null,null,null\n"
    assert yfs.parse_yfinance_csv(data, ticker="PETR4", source_name="x").num_rows == 247


def test_fetch_replays_recorded_csvs_through_the_same_path() -> None:
    downloader = replay()
    result = yfs.fetch_history(
        TICKERS, FIRST, LAST, downloader=downloader, ingested_at=INGESTED, sleep=lambda s: None
    )
    assert result.missing == []
    assert result.table.schema.equals(yfs.SCHEMA)
    assert result.table.num_rows == sum(ROWS.values()) == 1480
    assert downloader.calls == [(f"{t}.SA", FIRST, LAST) for t in TICKERS]
    for ticker in TICKERS:
        fetched = result.table.filter(pa.compute.equal(result.table["ticker"], ticker))
        parsed = yfs.parse_yfinance_csv(_csv(ticker), ticker=ticker, source_name="x")
        assert fetched.select(VALUES).equals(parsed.select(VALUES)), ticker
    source = result.table.column("source_file")[0].as_py()
    assert source == "yfinance:BBAS3.SA?start=2018-09-26&end=2019-09-26"


def test_ticker_history_shape_gives_the_same_rows() -> None:
    a = yfs.fetch_history(["PETR4"], FIRST, LAST, downloader=replay(download_frame))
    b = yfs.fetch_history(["PETR4"], FIRST, LAST, downloader=replay(history_frame))
    assert a.table.select(VALUES).equals(b.table.select(VALUES))


def test_unknown_ticker_is_reported_and_others_land() -> None:
    result = yfs.fetch_history(["PETR4.SA", "XXXX3", "MGLU3"], FIRST, LAST, downloader=replay())
    assert result.missing == ["XXXX3"]
    assert set(result.table.column("ticker").to_pylist()) == {"PETR4", "MGLU3"}
    assert result.table.num_rows == 2 * 247


def test_range_without_rows_is_missing() -> None:
    day = dt.date(2019, 3, 5)  # Carnival Tuesday: no session, no rows
    result = yfs.fetch_history(["PETR4"], day, day, downloader=replay())
    assert result.missing == ["PETR4"]
    assert result.table.num_rows == 0
    assert result.table.schema.equals(yfs.SCHEMA)


def test_defaults_to_last_completed_b3_session(monkeypatch: pytest.MonkeyPatch) -> None:
    # Ash Wednesday 2019-03-06, 10:00 in Sao Paulo: Mon/Tue were Carnival, so D-1 is Fri 03-01.
    now = dt.datetime(2019, 3, 6, 10, tzinfo=b3cal.B3_TZ)
    real = b3cal.last_completed_session
    monkeypatch.setattr(b3cal, "last_completed_session", lambda: real(now))
    downloader = replay()
    result = yfs.fetch_history(["PETR4"], None, None, downloader=downloader)
    assert downloader.calls == [("PETR4.SA", dt.date(2019, 3, 1), dt.date(2019, 3, 1))]
    assert result.table.column("date").to_pylist() == [dt.date(2019, 3, 1)]


def test_retry_then_success() -> None:
    failures = [ConnectionError("reset"), TimeoutError("slow")]
    inner = replay()
    sleeps: list[float] = []

    def flaky(symbol: str, start: dt.date, end: dt.date) -> pd.DataFrame:
        if failures:
            raise failures.pop(0)
        result: pd.DataFrame = inner(symbol, start, end)
        return result

    result = yfs.fetch_history(
        ["PETR4"], FIRST, LAST, downloader=flaky, retries=3, backoff=0.5, sleep=sleeps.append
    )
    assert sleeps == [0.5, 1.0]
    assert result.table.num_rows == 247


def test_retries_exhausted_raise_fetch_error() -> None:
    sleeps: list[float] = []
    attempts: list[str] = []

    def down(symbol: str, start: dt.date, end: dt.date) -> pd.DataFrame:
        attempts.append(symbol)
        raise ConnectionError("Temporary failure in name resolution")

    with pytest.raises(FetchError, match="after 3 attempts: Temporary failure") as info:
        yfs.fetch_history(["PETR4"], FIRST, LAST, downloader=down, retries=2, sleep=sleeps.append)
    assert "yfinance:PETR4.SA" in str(info.value)
    assert len(attempts) == 3
    assert sleeps == [1.0, 2.0]


def test_adjusted_only_frame_is_rejected() -> None:
    def adjusted(symbol: str, start: dt.date, end: dt.date) -> pd.DataFrame:
        return download_frame(symbol).drop(columns="Adj Close", level=0)

    with pytest.raises(ParseError, match="auto_adjust=False"):
        yfs.fetch_history(["PETR4"], FIRST, LAST, downloader=adjusted)


def test_default_downloader_asks_for_unadjusted_prices(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_download(symbol: str, **kwargs: Any) -> pd.DataFrame:
        seen.update(kwargs, symbol=symbol)
        return pd.DataFrame()  # what yfinance returns offline

    monkeypatch.setitem(sys.modules, "yfinance", types.SimpleNamespace(download=fake_download))
    result = yfs.fetch_history(["PETR4"], dt.date(2019, 3, 1), dt.date(2019, 3, 7))
    assert result.missing == ["PETR4"]
    assert seen["symbol"] == "PETR4.SA"
    assert seen["auto_adjust"] is False
    assert seen["start"] == "2019-03-01"
    assert seen["end"] == "2019-03-08"  # yfinance's end is exclusive


def _chart_json(ticker: str) -> dict[str, Any]:
    """Yahoo's v8 chart response for the recorded CSV (timestamps at the 10:00 open, UTC-3)."""
    frame = pd.read_csv(io.BytesIO(_csv(ticker)), na_values=["null"])
    sp = dt.timezone(dt.timedelta(hours=-3))
    stamps = [
        int(dt.datetime.fromisoformat(d).replace(hour=10, tzinfo=sp).timestamp())
        for d in frame["Date"]
    ]

    def col(name: str) -> list[float | None]:
        return [None if math.isnan(v) else v for v in frame[name].astype(float)]

    meta = {
        "currency": "BRL",
        "symbol": f"{ticker}.SA",
        "exchangeName": "SAO",
        "instrumentType": "EQUITY",
        "gmtoffset": -10800,
        "timezone": "BRT",
        "exchangeTimezoneName": "America/Sao_Paulo",
        "regularMarketTime": stamps[-1],
        "dataGranularity": "1d",
        "priceHint": 2,
    }
    quote = {k.lower(): col(k) for k in ("Open", "High", "Low", "Close", "Volume")}
    result = {
        "meta": meta,
        "timestamp": stamps,
        "indicators": {"quote": [quote], "adjclose": [{"adjclose": col("Adj Close")}]},
    }
    return {"chart": {"result": [result], "error": None}}


@pytest.mark.parametrize("ticker", ["PETR4", "BOVA11"])
def test_real_yfinance_parsing_replayed(
    ticker: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default downloader through yfinance's own HTTP parsing, Yahoo replayed by responses."""
    yf = pytest.importorskip("yfinance")
    monkeypatch.setenv("YF_DISABLE_CURL_CFFI", "1")
    yf.set_tz_cache_location(str(tmp_path))  # no writes to ~/.cache, no warm cache
    yahoo = r"https://query\d\.finance\.yahoo\.com"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(re.compile(r"https://fc\.yahoo\.com/.*"), body="")
        rsps.get(re.compile(yahoo + r"/v1/test/getcrumb.*"), body="crumb")
        rsps.get(re.compile(yahoo + rf"/v8/finance/chart/{ticker}\.SA.*"), json=_chart_json(ticker))
        downloader = yfs.make_yfinance_downloader(requests.Session())
        result = yfs.fetch_history([ticker], FIRST, LAST, downloader=downloader)
    assert result.missing == []
    parsed = yfs.parse_yfinance_csv(_csv(ticker), ticker=ticker, source_name="x")
    assert result.table.num_rows == ROWS[ticker]
    fetched = result.table.select(VALUES).to_pylist()
    expected = parsed.select(VALUES).to_pylist()
    for got, want in zip(fetched, expected, strict=True):
        assert got["date"] == want["date"] and got["volume"] == want["volume"]
        for key in ("open", "high", "low", "close", "adj_close"):
            assert got[key] == pytest.approx(want[key], rel=1e-9), (got["date"], key)
