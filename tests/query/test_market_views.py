"""The views over the new market tables (index_history, quality_index_closes, di_pre_curve,
options_chain): one Athena SQL text each, run locally by DuckDB over a lake landed from the real
files, and created by the Athena engine before the first query naming them (moto)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from b3lake.query import views

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REPORT = FIXTURES / "index_report" / "IR210423.zip"
SAMPLE = FIXTURES / "curves" / "TaxaSwap-sample.txt"
DAILY = FIXTURES / "cotahist" / "COTAHIST_D04012016.TXT"
NEW_VIEWS = ("index_history", "quality_index_closes", "di_pre_curve", "options_chain")


def _levels_2021(closes: dict[tuple[int, int], str]) -> dict[str, Any]:
    """A 2021 index statistics grid holding ``closes`` ((month, day) -> pt-br text) only."""
    rows = [{"day": d, **{f"rateValue{m}": None for m in range(1, 13)}} for d in range(1, 32)]
    for (month, day), text in closes.items():
        rows[day - 1][f"rateValue{month}"] = text
    return {"results": rows}


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """B3's real index report of 2021-04-23 and curves of 2026-09-11, the daily COTAHIST of
    2016-01-04, and 2021 index statistics derived from the report's own numbers: IBOV's previous
    close (119.371,48 on 04-22) and close (120.530,06 on 04-23), SMLL's close one cent off."""
    from b3lake.pipeline import Pipeline
    from b3lake.settings import Settings

    tmp = tmp_path_factory.mktemp("market_views")
    ibov = tmp / "ibov_2021.json"
    ibov.write_text(json.dumps(_levels_2021({(4, 22): "119.371,48", (4, 23): "120.530,06"})))
    smll = tmp / "smll_2021.json"
    smll.write_text(json.dumps(_levels_2021({(4, 23): "2.953,57"})))  # the report says 2953.58
    pipeline = Pipeline(Settings(lake=str(tmp / "lake")))
    pipeline.extract("index_report", files=[REPORT])
    for path, index in ((ibov, "IBOV"), (smll, "SMLL")):
        pipeline.extract("index_levels", files=[path], index=[index], year=["2021"])
    pipeline.extract("curves", files=[SAMPLE])
    pipeline.extract("cotahist", files=[DAILY])
    pipeline.refine(mode="full")
    return pipeline.backend.query_engine()


def test_the_index_report_and_the_statistics_are_cross_checked(lake: Any) -> None:
    found = lake.query('SELECT * FROM quality_index_closes ORDER BY dt, "index"').to_pylist()
    assert len(found) == 1
    row = found[0]
    assert (row["dt"], row["index"], row["report_close"], row["levels_close"], row["rule"]) == (
        dt.date(2021, 4, 23),
        "SMLL",
        2953.58,
        2953.57,
        "close_mismatch",
    )
    assert row["difference"] == pytest.approx(0.01)
    history = lake.query(
        "SELECT dt, close, pct_change, report_close, report_previous_close, open, high "
        "FROM index_history WHERE \"index\" = 'IBOV' ORDER BY dt"
    ).to_pylist()
    assert [r["dt"] for r in history] == [dt.date(2021, 4, 22), dt.date(2021, 4, 23)]
    day = history[1]
    assert day["close"] == day["report_close"] == 120530.06  # IBOV agrees: no finding
    assert day["report_previous_close"] == history[0]["close"] == 119371.48
    assert day["pct_change"] == pytest.approx(120530.06 / 119371.48 - 1)
    assert (day["open"], day["high"]) == (119372.04, 120814.83)


def test_the_di_pre_curve(lake: Any) -> None:
    rows = lake.query(
        "SELECT dt, business_days, rate, rate_decimal, years, discount_factor FROM di_pre_curve "
        "ORDER BY business_days"
    ).to_pylist()
    assert [(r["dt"], r["business_days"], r["rate"]) for r in rows] == [
        (dt.date(2026, 9, 11), 1, 13.9),
        (dt.date(2026, 9, 11), 2, 13.811),
    ]
    assert rows[0]["discount_factor"] == pytest.approx(1.139 ** (-1 / 252))
    assert rows[1]["years"] == pytest.approx(2 / 252)


def test_the_options_chain_has_the_underlyings_close(lake: Any) -> None:
    row = lake.query(
        "SELECT underlying, strike, underlying_close, moneyness FROM options_chain "
        "WHERE ticker = 'ABEVA1' AND dt = DATE '2016-01-04'"
    ).to_pylist()[0]
    spot = lake.query(
        "SELECT close FROM refined_quotes_history WHERE ticker = 'ABEV3' AND dt = DATE '2016-01-04'"
    ).to_pylist()[0]["close"]
    assert (row["underlying"], row["strike"], row["underlying_close"]) == ("ABEV3", 17.25, spot)
    assert row["moneyness"] == pytest.approx(spot / 17.25)
    counts = lake.query(
        "SELECT underlying_source, count(*) AS n, count(underlying_close) AS with_close "
        "FROM options_chain GROUP BY underlying_source ORDER BY 1"
    ).to_pylist()
    # Every stock option finds its underlying's close; the 15 BOVA11 options do not (an ETF,
    # BDI 14, outside the default universe of the quote tables), nor IBOV's (no 2016 level here).
    assert counts == [
        {"underlying_source": "index", "n": 56, "with_close": 0},
        {"underlying_source": "session", "n": 905, "with_close": 890},
    ]


@pytest.mark.aws
def test_athena_creates_the_views_before_the_first_query_naming_them(athena: Any) -> None:
    from b3lake.query.athena import AthenaQueryEngine

    engine = AthenaQueryEngine(workgroup="b3lake", database="default", poll_interval=0)
    for name in NEW_VIEWS:
        engine.query(f"SELECT count(*) FROM {name}")
    ids = athena.list_query_executions(WorkGroup="b3lake")["QueryExecutionIds"]
    statements = [
        athena.get_query_execution(QueryExecutionId=i)["QueryExecution"]["Query"] for i in ids
    ]
    ddl = [s for s in statements if s.startswith("CREATE OR REPLACE VIEW")]
    assert sorted(ddl) == sorted(views.create_statement(views.by_name(n)) for n in NEW_VIEWS)  # type: ignore[arg-type]
