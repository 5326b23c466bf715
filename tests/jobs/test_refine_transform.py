"""The transform's rules on small hand-made inputs (SQLFrame/DuckDB; parity covers Spark)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from b3lake.jobs.refine import quality, schemas
from b3lake.jobs.refine.transforms import portfolio as portfolio_transform
from b3lake.jobs.refine.transforms import quotes as transform

D0 = dt.date(2021, 1, 4)


def _days(n: int, start: dt.date = D0) -> list[dt.date]:
    out, day = [], start
    while len(out) < n:
        if day.weekday() < 5:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def cotahist(rows: list[dict[str, Any]]) -> pa.Table:
    """Raw COTAHIST rows with defaults (spot market, BDI 02, FATCOT 1)."""
    base = {
        "codbdi": "02",
        "tpmerc": "010",
        "nomres": "PETROBRAS",
        "especi": "PN",
        "prazot": "",
        "totneg": 10,
        "quatot": 100,
        "voltot": Decimal("1000.00"),
        "fatcot": 1,
        "codisi": "BRPETRACNPR6",
        "source_file": "t.txt",
    }
    full = []
    for i, row in enumerate(rows):
        r = {**base, "line_number": i + 2, **row}
        price = r.pop("price", None)
        if price is not None:
            for col in ("preabe", "premax", "premin", "premed", "preult"):
                r.setdefault(col, Decimal(str(price)))
        full.append(r)
    return pa.Table.from_pylist(full, schema=schemas.RAW_COTAHIST)


def refine(engine: Any, raw: pa.Table) -> list[dict[str, Any]]:
    flagged = quality.flag_quotes(transform.normalize_quotes(engine.from_arrow(raw)))
    clean = flagged.filter(flagged["rule"].isNull()).drop("rule", "reason")
    out = engine.to_arrow(transform.refine_quotes(clean))
    return sorted(out.to_pylist(), key=lambda r: (r["ticker"], r["dt"]))


def test_friendly_names_per_share_prices_and_universe(sqlframe_engine: Any) -> None:
    raw = cotahist(
        [
            {"datpre": D0, "codneg": "PETR4", "price": 28.91},
            {"datpre": D0, "codneg": "XPTO3", "price": 1234.0, "fatcot": 1000},
            {"datpre": D0, "codneg": "PETRA30", "price": 1.0, "tpmerc": "070", "codbdi": "78"},
            {"datpre": D0, "codneg": "PETR4F", "price": 28.9, "tpmerc": "020", "codbdi": "96"},
            {"datpre": D0, "codneg": "HGLG11", "price": 170.0, "codbdi": "12"},
            # The index's own record is in BDI 02 / TPMERC 010 but is not a security.
            {"datpre": D0, "codneg": "IBOV11", "price": 122150.0, "especi": "IBO"},
            {"datpre": D0, "codneg": "VALE3", "price": 60.0, "especi": None},
        ]
    )
    rows = refine(sqlframe_engine, raw)
    assert [r["ticker"] for r in rows] == ["HGLG11", "PETR4", "VALE3", "XPTO3"]
    petr = rows[1]
    assert petr["close"] == 28.91 and petr["open"] == 28.91 and petr["avg_price"] == 28.91
    assert petr["isin"] == "BRPETRACNPR6" and petr["name"] == "PETROBRAS"
    assert (petr["volume"], petr["traded_value"], petr["trades"]) == (100, 1000.0, 10)
    assert rows[3]["close"] == pytest.approx(1.234)  # quoted per 1,000 shares
    # Nothing depends on the run's date: no run_date, no days since the trade.
    assert "run_date" not in petr and "days_since_trade" not in petr


def test_ticker_list_narrows_the_universe(sqlframe_engine: Any) -> None:
    raw = cotahist([{"datpre": D0, "codneg": t, "price": 10} for t in ("PETR4", "VALE3")])
    universe = transform.Universe(tickers=("VALE3",))
    out = sqlframe_engine.to_arrow(
        transform.normalize_quotes(sqlframe_engine.from_arrow(raw), universe=universe)
    )
    assert out.column("ticker").to_pylist() == ["VALE3"]


def test_moving_averages_are_null_until_the_window_is_full(sqlframe_engine: Any) -> None:
    days = _days(25)
    raw = cotahist([{"datpre": d, "codneg": "PETR4", "price": i + 1} for i, d in enumerate(days)])
    rows = refine(sqlframe_engine, raw)
    closes = [float(i + 1) for i in range(25)]
    for i, r in enumerate(rows):
        for n in (5, 7, 21):
            expected = sum(closes[i - n + 1 : i + 1]) / n if i >= n - 1 else None
            assert r[f"ma_{n}"] == expected, (i, n)
        for k in (1, 2, 3):
            assert r[f"close_lag_{k}"] == (closes[i - k] if i >= k else None)
    assert rows[0]["close_delta"] is None and rows[0]["pct_change"] is None
    assert rows[1]["close_delta"] == 1.0 and rows[1]["pct_change"] == 1.0
    assert rows[5]["days_since_prev_session"] == 3  # Monday after Friday


def test_windows_reach_back_at_most_21_sessions(sqlframe_engine: Any) -> None:
    days = _days(30)
    rows = [{"datpre": d, "codneg": "BUSY3", "price": 5} for d in days]  # defines the sessions
    rows += [{"datpre": days[i], "codneg": "RARE3", "price": 10 + i} for i in (0, 21, 22, 29)]
    rare = [r for r in refine(sqlframe_engine, cotahist(rows)) if r["ticker"] == "RARE3"]
    assert rare[1]["close_lag_1"] == 10.0  # 21 sessions back: still within the look-back
    assert rare[1]["days_since_prev_session"] == (days[21] - days[0]).days
    assert rare[2]["close_lag_2"] is None  # 22 sessions back: too old
    assert rare[3]["close_lag_1"] == 32.0 and rare[3]["close_lag_3"] is None


def test_rows_of_one_ticker_and_session_are_grouped(sqlframe_engine: Any) -> None:
    raw = cotahist(
        [
            {
                "datpre": D0,
                "codneg": "ABCD3",
                "price": 10,
                "quatot": 500,
                "voltot": Decimal("5000"),
            },
            {
                "datpre": D0,
                "codneg": "ABCD3",
                "price": 11,
                "premax": Decimal("12"),
                "codbdi": "12",
                "quatot": 100,
                "voltot": Decimal("1100"),
                "totneg": 3,
            },
        ]
    )
    [row] = refine(sqlframe_engine, raw)
    assert (row["volume"], row["traded_value"], row["trades"]) == (600, 6100.0, 13)
    assert (row["close"], row["high"], row["low"]) == (10.0, 12.0, 10.0)  # main row = most volume


def test_monthly_return_is_against_the_close_before_the_month(sqlframe_engine: Any) -> None:
    days = _days(45)
    raw = cotahist([{"datpre": d, "codneg": "PETR4", "price": 10 + i} for i, d in enumerate(days)])
    flagged = quality.flag_quotes(transform.normalize_quotes(sqlframe_engine.from_arrow(raw)))
    quotes = transform.refine_quotes(flagged.drop("rule", "reason"))
    monthly = sorted(
        sqlframe_engine.to_arrow(transform.refine_monthly(quotes)).to_pylist(),
        key=lambda r: r["month"],
    )
    jan, feb = monthly[0], monthly[1]
    assert jan["month"] == "2021-01" and jan["monthly_return"] is None  # no earlier close
    jan_days = [d for d in days if d.month == 1]
    feb_days = [d for d in days if d.month == 2]
    assert jan["sessions"] == len(jan_days) and feb["sessions"] == len(feb_days)
    last_jan = 10.0 + len(jan_days) - 1
    assert feb["first_close"] == last_jan + 1 and feb["last_close"] == last_jan + len(feb_days)
    assert feb["monthly_return"] == pytest.approx(feb["last_close"] / last_jan - 1)
    assert feb["avg_close"] == pytest.approx(last_jan + (len(feb_days) + 1) / 2)
    assert feb["total_volume"] == 100 * len(feb_days)


def test_portfolio_weights_are_summed_per_sector_and_share_type(sqlframe_engine: Any) -> None:
    base = {"index": "IBOV", "portfolio_date": D0, "theoretical_quantity": 10, "segment": 1}
    rows = [
        {"ticker": "PETR4", "share_type": "PN", "sector": "Oil", "participation": 5.0},
        {"ticker": "PETR3", "share_type": "ON", "sector": "Oil", "participation": 3.5},
        {"ticker": "VALE3", "share_type": "ON", "sector": None, "participation": 10.0},
        {
            "ticker": "VALE3",
            "share_type": "ON",
            "sector": "Mining",
            "participation": 10.0,
            "segment": 2,
        },
    ]
    raw = pa.Table.from_pylist(
        [{**base, "source_file": "f", "line_number": i, **r} for i, r in enumerate(rows)],
        schema=schemas.RAW_IBOV_PORTFOLIO,
    )
    flagged = quality.flag_portfolio(
        portfolio_transform.normalize_portfolio(sqlframe_engine.from_arrow(raw))
    )
    out = sqlframe_engine.to_arrow(
        portfolio_transform.refine_portfolio(flagged.drop("rule", "reason"))
    )
    got = {r["ticker"]: r for r in out.to_pylist()}
    assert set(got) == {"PETR4", "PETR3", "VALE3"}
    assert got["PETR4"]["sector_weight"] == 8.5 and got["VALE3"]["sector"] == "Mining"
    assert got["VALE3"]["share_type_weight"] == 13.5 and got["PETR4"]["share_type_weight"] == 5.0
