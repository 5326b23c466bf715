"""Corporate actions in the refine: the real ABEV bodies on the bundled sample, KRSA's reverse split
on synthetic prices, the derived CSV as a wide check, quarantine, re-runs and incremental runs."""

from __future__ import annotations

import datetime as dt
import math
import shutil
from pathlib import Path
from typing import Any

import corporate_actions_helpers as cah
import pyarrow as pa
import pytest
from refine_helpers import argv, narrowed, object_bytes, sample_lake, sample_sessions

from b3lake import backends
from b3lake.jobs.refine import job
from b3lake.jobs.refine.transforms import corporate_actions as logic
from b3lake.lake import layout
from b3lake.query.duckdb import DuckDBQueryEngine
from b3lake.storage import Storage
from b3lake.storage.local import LocalStorage

EX_DATE = dt.date(2021, 1, 14)
# The sample's sessions narrowed to the event's ticker and three without events: what these
# tests check (ABEV3's factors and adjusted closes, other tickers' partitions untouched) holds on
# them as on the whole market, at a tenth of the time (tests/test_pipeline_e2e.py and the
# incremental-equals-full tests run the whole sample).
TICKERS = ("ABEV3", "PETR4", "VALE3", "ITUB4")
CA_PREFIXES = (
    "refined/corporate_actions/",
    "refined/corporate_action_factors/",
    "refined/quality_corporate_actions/",
    "quarantine/refined_corporate_actions/",
)


def _query(storage: Storage, sql: str) -> list[dict[str, Any]]:
    engine = DuckDBQueryEngine(storage, backends.catalog_for(storage, "default"))
    return engine.query(sql).to_pylist()


def _ca_bytes(storage: Storage) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for prefix in CA_PREFIXES:
        out.update(object_bytes(storage, prefix))
    return out


@pytest.fixture(scope="module")
def abev_lake(tmp_path_factory: pytest.TempPathFactory) -> LocalStorage:
    """The 16 sample sessions and ABEV's two real bodies, refined in full once."""
    storage = sample_lake(tmp_path_factory.mktemp("abev"), tickers=TICKERS)
    cah.land(storage, cah.abev_raw())
    job.main(argv(storage.root, mode="full"))
    return storage


def test_abev_adjusted_closes_are_exact(abev_lake: LocalStorage) -> None:
    rows = _query(
        abev_lake,
        "SELECT dt, close, adj_close FROM adjusted_quotes WHERE ticker = 'ABEV3' ORDER BY dt",
    )
    closes = {r["dt"]: r["close"] for r in rows}
    assert len(rows) == 16
    prior = closes[dt.date(2021, 1, 13)]
    assert prior == 16.17  # B3's closingPricePriorExDate: the lake agrees
    factor = 1 - 0.0767 / prior
    for row in rows:
        expected = row["close"] * factor if row["dt"] < EX_DATE else row["close"]
        assert abs(row["adj_close"] - expected) < 1e-6, row
    assert rows[-1]["adj_close"] == rows[-1]["close"]  # the latest close is unchanged
    # The event's factor agrees with B3's own percentage: no finding.
    assert _query(abev_lake, "SELECT * FROM quality_corporate_actions") == []
    (f,) = _query(abev_lake, "SELECT * FROM corporate_action_factors")
    assert f["ex_date"] == EX_DATE and f["close_date"] == dt.date(2021, 1, 13)
    assert abs(f["cash_factor"] - f["b3_cash_factor"]) < 5e-9


def test_factors_do_not_depend_on_the_partitioned_tickers(
    abev_lake: LocalStorage, tmp_path: Path
) -> None:
    """The closes come from the history layer, which holds every ticker: an R6 table narrowed
    to other tickers (``--partitioned_tickers``) gives the same factors and findings."""
    storage = sample_lake(tmp_path / "narrow", tickers=TICKERS)
    cah.land(storage, cah.abev_raw())
    job.main(argv(storage.root, mode="full", partitioned_tickers="PETR4,VALE3"))
    assert not storage.list_keys("refined/quotes/dt=2021-01-13/ticker=ABEV3/")
    for prefix in ("refined/corporate_action_factors/", "refined/quality_corporate_actions/"):
        assert object_bytes(storage, prefix) == object_bytes(abev_lake, prefix), prefix
    # adjusted_quotes reads the history layer: ABEV3 is adjusted although the R6 table lacks it.
    sql = "SELECT dt, adj_close FROM adjusted_quotes WHERE ticker = 'ABEV3' ORDER BY dt"
    assert _query(storage, sql) == _query(abev_lake, sql) and len(_query(storage, sql)) == 16


def test_refined_events_and_their_quarantine(abev_lake: LocalStorage) -> None:
    events = _query(abev_lake, "SELECT * FROM refined_corporate_actions ORDER BY ex_date")
    assert len(events) == 30  # 29 cash events + the subscription; 2 repeats quarantined
    jan = [e for e in events if e["last_date_prior"] == dt.date(2021, 1, 13)]
    assert [(e["ticker"], e["ex_date"], e["kind"], e["value_cash"]) for e in jan] == [
        ("ABEV3", EX_DATE, "cash", 0.0767)
    ]
    assert jan[0]["corporate_action_price"] == 0.474335  # B3's fields kept
    dec = {e["label"] for e in events if e["ex_date"] == dt.date(2021, 12, 20)}
    assert dec == {"DIVIDENDO", "JRS CAP PROPRIO"}  # 17/12/2021 was a Friday
    assert {e["kind"] for e in events} == {"cash", "subscription"}
    bad = _query(abev_lake, "SELECT rule, reason, endpoint FROM quarantine_corporate_actions")
    assert len(bad) == 2
    assert {b["rule"] for b in bad} == {"duplicate"}
    assert {b["endpoint"] for b in bad} == {"GetListedSupplementCompany"}
    assert all("GetListedCashDividends_ABEV.yml row" in b["reason"] for b in bad)


def test_adjusted_windows_and_volume(abev_lake: LocalStorage) -> None:
    rows = _query(
        abev_lake,
        "SELECT * FROM adjusted_quotes WHERE ticker = 'ABEV3' AND source = 'cotahist' ORDER BY dt",
    )
    adj = [r["adj_close"] for r in rows]
    for i, row in enumerate(rows):
        assert row["adj_volume"] == row["volume"]  # cash changes no share count
        assert math.isclose(row["adj_open"], row["open"] * row["adj_factor"], rel_tol=1e-12)
        for n in (5, 7):
            if row[f"ma_{n}"] is None:
                assert row[f"adj_ma_{n}"] is None
            else:
                assert math.isclose(
                    row[f"adj_ma_{n}"], sum(adj[i - n + 1 : i + 1]) / n, rel_tol=1e-12
                )
        if i and row["pct_change"] is not None:
            assert math.isclose(row["adj_pct_change"], adj[i] / adj[i - 1] - 1, rel_tol=1e-9)
    on_ex = next(r for r in rows if r["dt"] == EX_DATE)
    assert on_ex["adj_pct_change"] > on_ex["pct_change"]  # the dividend no longer reads as a loss


def test_rerun_gives_the_same_bytes(abev_lake: LocalStorage, tmp_path: Path) -> None:
    copy = LocalStorage(shutil.copytree(abev_lake.root, tmp_path / "lake"))
    before = _ca_bytes(copy)
    assert len(before) == 3  # nothing in quality_corporate_actions: no object
    job.main(argv(copy.root, mode="full"))
    assert _ca_bytes(copy) == before
    job.main(argv(copy.root, dt="2021-01-13"))  # a daily run over the event's sessions
    assert _ca_bytes(copy) == before
    key = "raw/corporate_actions/dt=2021-01-13/ABEV_GetListedCashDividends.parquet"
    job.main(argv(copy.root, dt="2021-01-13", raw_key=key))  # the event's own trigger
    assert _ca_bytes(copy) == before


def test_an_event_changes_no_quote_partition(tmp_path: Path) -> None:
    storage = sample_lake(tmp_path / "lake", tickers=TICKERS)
    job.main(argv(storage.root, mode="full"))
    quotes = object_bytes(storage, "refined/quotes/")
    keys = cah.land(storage, cah.abev_raw())
    for key in keys:  # what the trigger does for each new object
        report = job.main(argv(storage.root, raw_key=key))
        assert report.partitions_written.get("refined_quotes", 0) == 0
    assert object_bytes(storage, "refined/quotes/") == quotes
    full = LocalStorage(shutil.copytree(storage.root, tmp_path / "full"))
    job.main(argv(full.root, mode="full"))
    assert _ca_bytes(storage) == _ca_bytes(full)
    assert len(_query(storage, "SELECT * FROM corporate_action_factors")) == 1


def test_event_before_its_ex_date_session_applies_when_the_session_lands(tmp_path: Path) -> None:
    days = sorted(sample_sessions())
    storage = sample_lake(tmp_path / "lake", [d for d in days if d < EX_DATE], tickers=TICKERS)
    job.main(argv(storage.root, mode="full"))
    for key in cah.land(storage, cah.abev_raw()):
        job.main(argv(storage.root, raw_key=key))
    # The ex-date is not a lake session yet: the event does not apply.
    assert _query(storage, "SELECT * FROM corporate_action_factors") == []
    rows = _query(storage, "SELECT close, adj_close FROM adjusted_quotes WHERE ticker = 'ABEV3'")
    assert all(r["adj_close"] == r["close"] for r in rows)
    # The ex-date's session lands (its own trigger): now it applies, as a full rebuild says.
    from refine_helpers import write_cotahist

    key = write_cotahist(storage, EX_DATE, narrowed(sample_sessions()[EX_DATE], TICKERS))
    report = job.main(argv(storage.root, raw_key=key))
    assert report.refined_rows["corporate_action_factors"] == 1
    full = LocalStorage(shutil.copytree(storage.root, tmp_path / "full"))
    job.main(argv(full.root, mode="full"))
    assert _ca_bytes(storage) == _ca_bytes(full)
    # A later daily run of a session no event looks at recomputes nothing.
    key = write_cotahist(storage, days[-1], narrowed(sample_sessions()[days[-1]], TICKERS))
    report = job.main(argv(storage.root, raw_key=key))
    assert "corporate_action_factors" not in report.refined_rows


def _krsa_closes() -> dict[dt.date, float]:
    from b3lake.sources import calendar

    days = calendar.sessions(dt.date(2024, 9, 23), dt.date(2024, 10, 31))
    # Ten shares became one after 10/10/2024: the price is ten times higher from the ex-date.
    return {
        d: (1.00 + 0.01 * (i % 3)) * (10 if d > dt.date(2024, 10, 10) else 1)
        for i, d in enumerate(days)
    }


@pytest.fixture(scope="module")
def krsa_lake(tmp_path_factory: pytest.TempPathFactory) -> LocalStorage:
    from refine_helpers import put_table

    storage = LocalStorage(tmp_path_factory.mktemp("krsa"))
    krsa = cah.yfinance_rows("KRSA3", _krsa_closes(), volume=5000)
    # A ticker whose price halves with no event behind it.
    other = cah.yfinance_rows(
        "ZZZZ3", {d: 20.0 if d < dt.date(2024, 10, 21) else 9.0 for d in _krsa_closes()}
    )
    both = pa.concat_tables([krsa, other])
    for day in sorted(_krsa_closes()):
        rows = both.filter(pa.compute.equal(both["date"], pa.scalar(day, pa.date32())))
        put_table(storage, layout.raw_key("yfinance", day), rows)
    cah.land(storage, cah.krsa_raw())
    job.main(argv(storage.root, mode="full"))
    return storage


def test_krsa_reverse_split_on_synthetic_prices(krsa_lake: LocalStorage) -> None:
    rows = _query(
        krsa_lake,
        "SELECT dt, close, volume, adj_factor, adj_close, adj_volume, pct_change, adj_pct_change "
        "FROM adjusted_quotes WHERE ticker = 'KRSA3' ORDER BY dt",
    )
    ex = dt.date(2024, 10, 11)
    for row in rows:
        if row["dt"] < ex:
            assert row["adj_factor"] == 10.0 and row["adj_close"] == row["close"] * 10
            assert row["adj_volume"] == row["volume"] / 10
        else:
            assert row["adj_close"] == row["close"] and row["adj_volume"] == row["volume"]
    on_ex = next(r for r in rows if r["dt"] == ex)
    assert on_ex["pct_change"] > 8  # as traded: a 10x jump
    assert abs(on_ex["adj_pct_change"]) < 0.05  # adjusted: the split is gone
    (event,) = _query(krsa_lake, "SELECT * FROM refined_corporate_actions")
    assert (event["kind"], event["factor"], event["share_factor"]) == ("reverse_split", 0.1, 10.0)
    assert event["ex_date"] == ex


def test_unexplained_jumps_are_listed(krsa_lake: LocalStorage) -> None:
    jumps = _query(krsa_lake, "SELECT * FROM quality_unexplained_jumps ORDER BY dt")
    assert [(j["ticker"], j["dt"]) for j in jumps] == [("ZZZZ3", dt.date(2024, 10, 21))]
    (jump,) = jumps
    assert jump["prev_close"] == 20.0 and jump["close"] == 9.0
    assert math.isclose(jump["ratio"], 0.45) and jump["events_on_date"] == 0


def test_quarantine_names_each_rule(tmp_path: Path) -> None:
    raw = cah.abev_raw().to_pylist()
    cash = [r for r in raw if r["endpoint"] == "GetListedCashDividends"]
    # Rows 3-6 (rows 1-2 have repeats in the supplement, which stay duplicates).
    cash[2]["label"] = "AMORTIZACAO NOVA"
    cash[3]["ticker"] = None
    cash[3]["type_stock"] = "XX"
    cash[4]["last_date_prior"] = dt.date(2021, 1, 16)  # a Saturday
    cash[5]["value_cash"] = 0.0
    from b3lake.sources.corporate_actions import SCHEMA

    storage = sample_lake(tmp_path / "lake", [])
    cah.land(storage, pa.Table.from_pylist(raw, schema=SCHEMA))
    report = job.main(argv(storage.root, mode="full"))
    assert report.quarantined["quarantine_corporate_actions"] == {
        "bad_value": 1,
        "duplicate": 2,
        "no_ticker": 1,
        "not_a_session": 1,
        "unknown_label": 1,
    }
    bad = {
        r["rule"]: r["reason"]
        for r in _query(storage, "SELECT * FROM quarantine_corporate_actions")
    }
    assert bad["unknown_label"] == "unknown label AMORTIZACAO NOVA"
    assert "share class XX" in bad["no_ticker"]
    assert "2021-01-16 is not a B3 session" in bad["not_a_session"]
    events = _query(storage, "SELECT count(*) AS n FROM refined_corporate_actions")[0]["n"]
    quarantined = sum(report.quarantined["quarantine_corporate_actions"].values())
    assert events + quarantined == len(raw)  # nothing lost, nothing duplicated


# ------------------------------------------------------------------ the derived CSV, a wide check


def _csv_check(engine: Any) -> tuple[pa.Table, pa.Table, pa.Table]:
    raw = cah.derived_csv_raw()
    flagged = engine.persist(
        logic.flag_events(engine.from_arrow(raw), engine.from_arrow(cah.calendar_table()))
    )
    events = engine.to_arrow(logic.clean_events(flagged))
    # The lake's close before each ex-date is B3's own closingPricePriorExDate here.
    pairs = sorted(
        set(zip(events["ex_date"].to_pylist(), events["last_date_prior"].to_pylist(), strict=True))
    )
    sessions = pa.table(
        {
            "dt": pa.array([p[0] for p in pairs], pa.date32()),
            "prev_dt": pa.array([p[1] for p in pairs], pa.date32()),
        }
    )
    closes = (
        pa.table(
            {
                "ticker": events["ticker"],
                "close_date": events["last_date_prior"],
                "close": events["closing_price_prior_ex_date"],
            }
        )
        .group_by(["ticker", "close_date"])
        .aggregate([("close", "max")])
        .rename_columns(["ticker", "close_date", "close"])
    )
    ev, s, c = engine.from_arrow(events), engine.from_arrow(sessions), engine.from_arrow(closes)
    return (
        events,
        engine.to_arrow(logic.factors(ev, s, c)),
        engine.to_arrow(logic.findings(ev, s, c)),
    )


def test_derived_csv_factor_arithmetic_matches_b3(sqlframe_engine: Any) -> None:
    events, factors, findings = _csv_check(sqlframe_engine)
    assert events.num_rows == 3054  # every row an event: known labels, sessions, tickers
    assert len(
        set(zip(events["ex_date"].to_pylist(), events["last_date_prior"].to_pylist(), strict=True))
    ) == len(set(events["ex_date"].to_pylist()))
    # B3's percentage = value / closing price x 100 to its printed rounding, but for five rows
    # (those B3 served without the closing price's date), which are findings.
    found = sorted((r["ticker"], r["ex_date"].isoformat(), r["rule"]) for r in findings.to_pylist())
    assert found == [
        ("ITSA4", "2018-06-01", "percent_mismatch"),
        ("PCAR3", "2015-04-27", "percent_mismatch"),
        ("PCAR3", "2015-05-19", "percent_mismatch"),
        ("PCAR3", "2018-05-04", "percent_mismatch"),
        ("PCAR3", "2018-10-03", "percent_mismatch"),
    ]
    flagged = {(t, d) for t, d, _ in found}
    checked = 0
    for row in factors.to_pylist():
        if (row["ticker"], row["ex_date"].isoformat()) in flagged or row["b3_cash_factor"] is None:
            continue
        tolerance = row["cash_events"] * 5e-9 + 1e-12
        assert abs(row["cash_factor"] - row["b3_cash_factor"]) <= tolerance, row
        checked += 1
    # The 3,054 events form 2,616 ticker/ex-date groups that carry B3's price (cash summed).
    assert checked == 2616


@pytest.mark.spark
def test_both_engines_give_the_same_rows(sqlframe_engine: Any, spark_engine: Any) -> None:
    from refine_helpers import assert_same_rows

    for ours, theirs in zip(_csv_check(sqlframe_engine), _csv_check(spark_engine), strict=True):
        keys = tuple(
            n for n in ("ticker", "ex_date", "label", "line_number") if n in ours.column_names
        )
        assert_same_rows(ours, theirs, keys)
    raw = pa.concat_tables([cah.abev_raw(), cah.krsa_raw()])
    calendar = cah.calendar_table()

    def flagged(engine: Any) -> pa.Table:
        return engine.to_arrow(
            logic.flag_events(engine.from_arrow(raw), engine.from_arrow(calendar))
        )

    assert_same_rows(
        flagged(sqlframe_engine),
        flagged(spark_engine),
        ("endpoint", "source_file", "section", "line_number"),
    )
