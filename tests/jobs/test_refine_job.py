"""The refine job end to end on the real sample: arguments, plan, writes, quarantine, catalog,
idempotence and incremental = full (SQLFrame/DuckDB; Spark in test_refine_parity)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
import refine_helpers as H

from b3lake.catalog.local import LocalCatalog
from b3lake.errors import ConfigError, QualityError
from b3lake.jobs.refine.args import RefineArgs
from b3lake.jobs.refine.job import JOB_ARGUMENTS, main
from b3lake.jobs.refine.plan import plan_changes
from b3lake.jobs.refine.steps import quotes as quote_step
from b3lake.lake import layout

SESSIONS = sorted(H.sample_sessions())
# A slice of the universe keeps the many-run tests quick; every session is still processed.
SOME = "PETR4,VALE3,ITUB4,BBDC4,ABEV3,MGLU3,HGLG11,KNRI11,BOVA11,B3SA3,WEGE3,SUZB3"


def test_job_arguments_are_the_contract() -> None:
    assert JOB_ARGUMENTS[:5] == ("dt", "raw_key", "lake", "mode", "catalog_database")


def test_parse_args_reads_glue_argv_and_ignores_glue_options(tmp_path: Path) -> None:
    parse_args = RefineArgs.from_argv
    opts = parse_args(H.argv(tmp_path, dt="2021-01-05", mode="incremental", tickers="PETR4, VALE3"))
    assert opts.dt == dt.date(2021, 1, 5)
    assert opts.universe.tickers == ("PETR4", "VALE3") and opts.universe.tpmerc == ("010",)
    assert opts.universe.exclude_especi == ("IBO",)
    every = parse_args(H.argv(tmp_path, dt="2021-01-05", exclude_especi=""))
    assert every.universe.exclude_especi == ()
    key = "raw/cotahist/dt=2021-01-06/part-0.parquet"
    assert parse_args(H.argv(tmp_path, raw_key=key)).dt == dt.date(2021, 1, 6)
    # Incremental without a day: the run refines what is pending since the manifest.
    assert parse_args(H.argv(tmp_path)).dt is None
    with pytest.warns(DeprecationWarning, match="retired"):
        parse_args(H.argv(tmp_path, run_date="2021-02-01"))  # an older trigger's argument
    with pytest.raises(ConfigError):
        parse_args(H.argv(tmp_path, dt="2021-01-05", raw_key=key))
    with pytest.raises(ConfigError):
        parse_args(H.argv(tmp_path, mode="sometimes"))


def test_plan_reads_the_lookback_and_rewrites_later_sessions() -> None:
    days = [dt.date(2021, 1, 1) + dt.timedelta(days=i) for i in range(60)]
    newest = plan_changes(days, {days[-1]})
    assert newest.quote_sessions == [days[-1]] and newest.months == ["2021-03"]
    # The month's first session minus 21 sessions .. the newest.
    assert newest.read_sessions[0] == dt.date(2021, 3, 1) - dt.timedelta(days=21)
    late = plan_changes(days, {days[10]})
    assert late.quote_sessions == days[10:32] and late.months == ["2021-01", "2021-02"]
    assert late.read_sessions == days[: days.index(dt.date(2021, 2, 28)) + 1]
    full = plan_changes(days, set(days))
    assert full.quote_sessions == full.read_sessions == days and full.ranges == [
        (days[0], days[-1])
    ]


# The full run on the whole sample (its report, partitions and catalog) is checked on the
# pipeline's own lake: tests/test_pipeline_e2e.py::test_full_refine_by_hand_gives_the_same_rows.


def _bad_session(day: dt.date) -> pa.Table:
    """A real session with three broken spot rows and one duplicated record."""
    table = H.sample_sessions()[day]
    spot = pc.and_(pc.equal(table["tpmerc"], "010"), pc.equal(table["codbdi"], "02"))
    idx = pc.indices_nonzero(spot).to_pylist()[:4]
    cols = {n: table[n].to_pylist() for n in table.column_names}
    zero = type(cols["preult"][idx[0]])(0)
    cols["preult"][idx[0]] = zero  # price_not_positive
    cols["premax"][idx[1]] = cols["premin"][idx[1]] - 1  # ohlc_inconsistent
    cols["quatot"][idx[2]] = -5  # negative_volume
    broken = pa.table(cols, schema=table.schema)
    return pa.concat_tables([broken, broken.take([idx[3]])])  # duplicate_key


def test_bad_rows_go_to_quarantine_with_their_rule_and_counts_reconcile(tmp_path: Path) -> None:
    day = SESSIONS[0]
    storage = H.sample_lake(tmp_path, days=[])
    H.write_cotahist(storage, day, _bad_session(day))
    report = main(H.argv(tmp_path, dt=day.isoformat(), tickers="")).to_dict()
    rules = {
        "price_not_positive": 1,
        "ohlc_inconsistent": 1,
        "negative_volume": 1,
        "duplicate_key": 1,
    }
    assert report["quarantined"]["quarantine_quotes"] == rules
    assert report["universe_rows"] == report["refined_input_rows"] + 4
    assert report["refined_rows"]["refined_quotes"] == report["refined_input_rows"]
    bad = H.read_quarantine(storage, "refined_quotes")
    assert sorted(bad["rule"].to_pylist()) == sorted(rules)
    assert bad["dt"].to_pylist() == [day] * 4 and all(bad["reason"].to_pylist())
    assert storage.list_keys("quarantine/refined_quotes/") == [
        f"quarantine/refined_quotes/dt={day}/part-0.parquet"
    ]


def test_counts_that_do_not_reconcile_raise() -> None:
    from b3lake.jobs.refine.quality import reconcile

    with pytest.raises(QualityError):
        reconcile("t", 10, 8, 1, 8)
    with pytest.raises(QualityError):
        reconcile("t", 10, 9, 1, 8)
    reconcile("t", 10, 9, 1, 9)


def _refined(storage: Any) -> dict[str, pa.Table]:
    return {t: H.read_refined(storage, t) for t in H.TABLE_KEYS}


def _assert_same(a: dict[str, pa.Table], b: dict[str, pa.Table]) -> None:
    for table, keys in H.TABLE_KEYS.items():
        if a[table].num_rows or b[table].num_rows:
            H.assert_same_rows(a[table], b[table], keys, tol=0.0)


def test_rerun_leaves_byte_identical_objects(tmp_path: Path) -> None:
    storage = H.sample_lake(tmp_path, ibov=True)
    main(H.argv(tmp_path, mode="full", tickers=SOME))
    before = H.object_bytes(storage, "refined/")
    main(H.argv(tmp_path, mode="full", tickers=SOME))
    assert H.object_bytes(storage, "refined/") == before
    main(H.argv(tmp_path, dt=SESSIONS[-1].isoformat(), tickers=SOME))
    assert H.object_bytes(storage, "refined/") == before


@pytest.mark.slow
def test_sessions_one_by_one_equal_one_full_run_and_late_arrival_too(tmp_path: Path) -> None:
    # The sessions narrowed to the tickers the runs refine (the other rows are read and dropped).
    some = tuple(SOME.split(","))
    full = H.sample_lake(tmp_path / "full", tickers=some)
    main(H.argv(tmp_path / "full", mode="full", tickers=SOME))
    expected = _refined(full)

    def land(storage: Any, day: dt.date) -> str:
        return H.write_cotahist(storage, day, H.narrowed(H.sample_sessions()[day], some))

    in_order = H.sample_lake(tmp_path / "in_order", days=[])
    for day in SESSIONS:  # as the events arrive
        main(H.argv(tmp_path / "in_order", raw_key=land(in_order, day), tickers=SOME))
    _assert_same(_refined(in_order), expected)
    assert H.object_bytes(in_order, "refined/") == H.object_bytes(full, "refined/")

    # Late arrival: the other sessions landed and refined (one coalesced run: the one-by-one
    # path is checked above), then the late one, whose run rewrites the later sessions it feeds.
    late_day = SESSIONS[3]
    late = H.sample_lake(tmp_path / "late", days=[])
    for day in [d for d in SESSIONS if d != late_day]:
        land(late, day)
    main(H.argv(tmp_path / "late", tickers=SOME))
    report = main(H.argv(tmp_path / "late", raw_key=land(late, late_day), tickers=SOME))
    assert report.partitions_written["refined_monthly"] == 1
    _assert_same(_refined(late), expected)
    assert H.object_bytes(late, "refined/") == H.object_bytes(full, "refined/")


def test_a_ticker_that_vanishes_from_a_corrected_session_is_deleted(tmp_path: Path) -> None:
    day = SESSIONS[-1]
    storage = H.sample_lake(tmp_path, days=SESSIONS[-3:])
    main(H.argv(tmp_path, dt=day.isoformat(), tickers=SOME))
    gone = f"refined/quotes/dt={day}/ticker=VALE3/part-0.parquet"
    assert storage.exists(gone)
    table = H.sample_sessions()[day]
    H.write_cotahist(storage, day, table.filter(pc.not_equal(table["codneg"], "VALE3")))
    report = main(H.argv(tmp_path, dt=day.isoformat(), tickers=SOME))
    assert not storage.exists(gone) and report.objects_deleted >= 1
    parts = LocalCatalog(storage).get_table("refined_quotes").partitions
    assert {"dt": day.isoformat(), "ticker": "VALE3"} not in parts
    assert {"dt": day.isoformat(), "ticker": "PETR4"} in parts


def test_a_day_without_raw_quotes_writes_nothing(tmp_path: Path) -> None:
    H.sample_lake(tmp_path, days=SESSIONS[:1])
    main(H.argv(tmp_path, dt=SESSIONS[0].isoformat(), tickers=SOME))  # consumes the lake
    report = main(H.argv(tmp_path, dt="2021-01-02"))
    assert report.partitions_written == {} and report.refined_rows == {}


def test_the_launcher_runs_the_job_with_glue_argv(tmp_path: Path) -> None:
    from b3lake.launchers.local import LocalLauncher

    storage = H.sample_lake(tmp_path, days=SESSIONS[:2])
    launcher = LocalLauncher(storage)
    arguments = {
        "--raw_key": layout.raw_key("cotahist", SESSIONS[1]),
        "--lake": str(tmp_path),
        "--mode": "incremental",
        "--catalog_database": "default",
        "--tickers": SOME,
    }
    run_id = launcher.start_job_run(JobName="b3lake-refine", Arguments=arguments)["JobRunId"]
    run = launcher.get_job_run("b3lake-refine", run_id)
    assert run.state == "SUCCEEDED", run.error
    assert run.summary["refined_rows"]["refined_quotes"] > 0
    assert quote_step.sources() == ("cotahist", "yfinance")


def test_no_stored_value_reads_the_clock() -> None:
    """The refine's code never asks the time (stored values are a function of the raw data
    alone): no now/today/current_date/time in the job, its engines, the lake writers or specs.
    Timing a stage (perf_counter) is not data."""
    import re

    root = H.ROOT / "src" / "b3lake"
    clock = re.compile(r"\b(now|today|utcnow)\(|current_(date|timestamp)\b|time\.time\(")
    found = [
        f"{path.relative_to(root)}:{i}: {line.strip()}"
        for folder in ("jobs/refine", "engines", "lake", "tables")
        for path in sorted((root / folder).rglob("*.py"))
        for i, line in enumerate(path.read_text().splitlines(), start=1)
        if clock.search(line.split("#")[0])
    ]
    assert found == []


def test_a_rebuild_on_another_day_writes_the_same_bytes(tmp_path: Path) -> None:
    """Two rebuilds of the same raw data, the second as a run of another day would be started
    (an older trigger's --run_date included), leave the same files."""
    storage = H.sample_lake(tmp_path, days=SESSIONS[:3])
    main(H.argv(tmp_path, mode="full", tickers=SOME))
    first = H.object_bytes(storage, "refined/")
    with pytest.warns(DeprecationWarning):
        main(H.argv(tmp_path, mode="full", tickers=SOME, run_date="2031-07-01"))
    assert H.object_bytes(storage, "refined/") == first
