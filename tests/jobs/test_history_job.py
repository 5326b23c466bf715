"""The refine job's history layer (refined_quotes_history) on the real sample: the same rows as
the R6 table, incremental runs and a late session across a year boundary equal a full rebuild
byte for byte, a re-run writes the same bytes; both catalogs' view of it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import refine_helpers as H

from b3lake.catalog.local import LocalCatalog
from b3lake.jobs.refine.job import main
from b3lake.lake import layout, parquet_io
from b3lake.storage import Storage

SOME = "PETR4,VALE3,ITUB4,BBDC4,ABEV3,MGLU3,HGLG11,BOVA11"
HISTORY = "refined_quotes_history"
# The 16 sample sessions moved onto dates around a new year: windows cross the year files.
DATES = [
    dt.date(2020, 12, 17),
    dt.date(2020, 12, 18),
    dt.date(2020, 12, 21),
    dt.date(2020, 12, 22),
    dt.date(2020, 12, 23),
    dt.date(2020, 12, 28),
    dt.date(2020, 12, 29),
    dt.date(2020, 12, 30),
    dt.date(2021, 1, 4),
    dt.date(2021, 1, 5),
    dt.date(2021, 1, 6),
    dt.date(2021, 1, 7),
    dt.date(2021, 1, 8),
    dt.date(2021, 1, 11),
    dt.date(2021, 1, 12),
    dt.date(2021, 1, 13),
]


def history_rows(storage: Storage) -> pa.Table:
    """The history layer's rows in the R6 table's shape (its ``year`` partition dropped)."""
    table = parquet_io.read_partitioned(storage, layout.refined_prefix(HISTORY), ("year",))
    return table.drop_columns(["year"])


def assert_history_is_r6(storage: Storage) -> None:
    r6 = H.read_refined(storage, "refined_quotes")
    hist = history_rows(storage)
    assert hist.num_rows == r6.num_rows > 0
    H.assert_same_rows(hist, r6.select(hist.column_names), ("dt", "ticker", "source"), tol=0.0)


def _write_moved(storage: Storage, index: int) -> str:
    """Sample session ``index`` stored as the session of ``DATES[index]``, narrowed to the
    tickers the runs refine (``tickers=SOME``): the other rows would only be read and dropped."""
    sample = H.sample_sessions()
    table = H.narrowed(sample[sorted(sample)[index]], tuple(SOME.split(",")))
    day = DATES[index]
    column = table.schema.get_field_index("datpre")
    table = table.set_column(column, "datpre", pa.array([day] * table.num_rows, pa.date32()))
    return H.write_cotahist(storage, day, table)


def _lake(path: Path, order: list[int], *, runs: bool) -> Storage:
    storage = H.sample_lake(path, days=[])
    for i in order:
        key = _write_moved(storage, i)
        if runs:
            main(H.argv(path, raw_key=key, tickers=SOME))
    return storage


def test_full_run_writes_the_r6_rows_once_a_year_and_registers_them(tmp_path: Path) -> None:
    storage = _lake(tmp_path, list(range(16)), runs=False)
    report = main(H.argv(tmp_path, mode="full", tickers=SOME))
    assert report.partitions_written[HISTORY] == 2
    assert storage.list_keys(layout.refined_prefix(HISTORY)) == [
        "refined/quotes_history/year=2020/part-0.parquet",
        "refined/quotes_history/year=2021/part-0.parquet",
    ]
    assert_history_is_r6(storage)
    table = LocalCatalog(storage).get_table(HISTORY)
    assert [c.name for c in table.partition_keys] == ["year"]
    assert {p["year"] for p in table.partitions} == {"2020", "2021"}
    assert [c.name for c in table.columns][:3] == ["dt", "ticker", "source"]


@pytest.mark.slow
def test_incremental_late_session_and_rerun_equal_a_full_rebuild(tmp_path: Path) -> None:
    full = _lake(tmp_path / "full", list(range(16)), runs=False)
    main(H.argv(tmp_path / "full", mode="full", tickers=SOME))
    expected = H.object_bytes(full, "refined/quotes_history/")

    in_order = _lake(tmp_path / "in_order", list(range(16)), runs=True)
    assert H.object_bytes(in_order, "refined/quotes_history/") == expected
    assert_history_is_r6(in_order)

    # A December session arriving last rewrites the windows of the January sessions too (the
    # others landed and refined in one coalesced run: one by one is checked just above).
    late = _lake(tmp_path / "late", [i for i in range(16) if i != 5], runs=False)
    main(H.argv(tmp_path / "late", tickers=SOME))
    main(H.argv(tmp_path / "late", raw_key=_write_moved(late, 5), tickers=SOME))
    assert H.object_bytes(late, "refined/quotes_history/") == expected
    assert_history_is_r6(late)

    # A re-run of any session changes no byte.
    main(H.argv(tmp_path / "late", dt=DATES[5].isoformat(), tickers=SOME))
    main(H.argv(tmp_path / "late", dt=DATES[-1].isoformat(), tickers=SOME))
    assert H.object_bytes(late, "refined/quotes_history/") == expected


def test_a_daily_run_rewrites_only_its_year(tmp_path: Path) -> None:
    storage = _lake(tmp_path, list(range(15)), runs=False)
    main(H.argv(tmp_path, mode="full", tickers=SOME))
    december = storage.uri("refined/quotes_history/year=2020/part-0.parquet")
    before = Path(december).stat().st_mtime_ns
    key = _write_moved(storage, 15)
    report = main(H.argv(tmp_path, raw_key=key, tickers=SOME))
    assert report.partitions_written[HISTORY] == 1
    assert Path(december).stat().st_mtime_ns == before
    assert_history_is_r6(storage)


@pytest.mark.spark
@pytest.mark.slow
def test_history_holds_the_r6_rows_on_spark(tmp_path: Path, spark_engine: Any) -> None:
    _lake(tmp_path, list(range(16)), runs=False)
    storage = H.sample_lake(tmp_path, days=[])
    main(H.argv(tmp_path, mode="full", tickers=SOME), engine=spark_engine)
    assert_history_is_r6(storage)
    main(H.argv(tmp_path, dt=DATES[5].isoformat(), tickers=SOME), engine=spark_engine)
    assert_history_is_r6(storage)


def test_a_full_rebuild_in_chunks_of_years_writes_the_same_lake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from b3lake.jobs.refine import plan as plan_module

    one = _lake(tmp_path / "one", list(range(16)), runs=False)
    H.sample_lake(tmp_path / "one", days=[], ibov=True)
    monkeypatch.setattr(plan_module, "CHUNK_YEARS", 10)  # both years in one piece
    main(H.argv(tmp_path / "one", mode="full", tickers=SOME))
    chunked = _lake(tmp_path / "chunked", list(range(16)), runs=False)
    H.sample_lake(tmp_path / "chunked", days=[], ibov=True)
    # Objects a full rebuild must remove: a session and a year no longer in the raw data.
    stray = H.sample_lake(tmp_path / "stray", days=[])
    _write_moved(stray, 0)
    main(H.argv(tmp_path / "stray", mode="full", tickers=SOME))
    for key, data in H.object_bytes(stray, "refined/").items():
        chunked.put_bytes(key.replace("2020-12-17", "2019-12-17").replace("2020", "2019"), data)
    monkeypatch.setattr(plan_module, "CHUNK_YEARS", 1)
    report = main(H.argv(tmp_path / "chunked", mode="full", tickers=SOME))
    assert report.partitions_written[HISTORY] == 2 and report.objects_deleted > 0
    assert H.object_bytes(chunked, "refined/") == H.object_bytes(one, "refined/")
    assert H.object_bytes(chunked, "quarantine/") == H.object_bytes(one, "quarantine/")
    for name in ("refined_quotes", "refined_monthly", HISTORY, "refined_ibov_portfolio"):
        a = LocalCatalog(one).get_table(name).partitions
        b = LocalCatalog(chunked).get_table(name).partitions
        assert a == b, name


def test_a_large_incremental_plan_runs_in_chunks_of_years_with_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lost raw manifest makes every session pending: that incremental run is cut into runs of
    whole years (its memory is a year's) and writes what the plan in one piece, and a full
    rebuild, write."""
    from b3lake.jobs.refine import plan as plan_module
    from b3lake.jobs.refine.steps import quotes as quote_step

    one = _lake(tmp_path / "one", list(range(16)), runs=False)
    H.sample_lake(tmp_path / "one", days=[], ibov=True)
    main(H.argv(tmp_path / "one", mode="full", tickers=SOME))
    chunked = _lake(tmp_path / "chunked", list(range(16)), runs=False)
    H.sample_lake(tmp_path / "chunked", days=[], ibov=True)
    main(H.argv(tmp_path / "chunked", mode="full", tickers=SOME))
    chunked.delete_keys(chunked.list_keys("_b3lake/manifest/"))  # lost (or copied from elsewhere)
    # What the run must write again (a year file is merged when it exists: here it does not).
    chunked.delete_keys(chunked.list_keys("refined/quotes_history/"))
    chunked.delete_keys(chunked.list_keys("refined/monthly/"))

    plans: list[plan_module.Plan] = []
    run_chunk = quote_step._run_chunk
    monkeypatch.setattr(
        quote_step,
        "_run_chunk",
        lambda ctx, plan, **kw: plans.append(plan) or run_chunk(ctx, plan, **kw),
    )
    monkeypatch.setattr(plan_module, "CHUNK_SESSIONS", 4)
    report = main(H.argv(tmp_path / "chunked", dt=DATES[-1].isoformat(), tickers=SOME))
    assert report.mode == "incremental"
    assert [sorted({d.year for d in p.quote_sessions}) for p in plans] == [[2020], [2021]]
    assert plans[1].read_sessions[0] < dt.date(2021, 1, 1)
    assert H.object_bytes(chunked, "refined/") == H.object_bytes(one, "refined/")
    assert H.object_bytes(chunked, "quarantine/") == H.object_bytes(one, "quarantine/")
