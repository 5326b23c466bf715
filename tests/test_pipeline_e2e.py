"""The local pipeline end to end on the real bundled sample: layout, counts, catalog, event path."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from b3lake.catalog.local import LocalCatalog
from b3lake.pipeline import Pipeline, run_pipeline
from b3lake.settings import Settings
from b3lake.storage.local import LocalStorage

pytestmark = pytest.mark.slow

SESSIONS = 16  # 2021-01-04 .. 2021-01-26 in COTAHIST_A2021.ZIP
RECORDS = 110_290
IBOV_ROWS = 82


def _rows(storage: LocalStorage, prefix: str) -> int:
    return sum(
        pq.read_metadata(io.BytesIO(storage.get_bytes(k))).num_rows
        for k in storage.list_keys(prefix)
        if k.endswith(".parquet")
    )


def test_partition_layout(sample_lake: tuple[Path, Any]) -> None:
    lake, _ = sample_lake
    storage = LocalStorage(lake)
    quotes = storage.list_keys("refined/quotes/")
    assert quotes, "no refined quotes written"
    pattern = re.compile(r"^refined/quotes/dt=2021-01-\d{2}/ticker=[A-Z0-9]+/part-0\.parquet$")
    assert all(pattern.match(k) for k in quotes), [k for k in quotes if not pattern.match(k)][:5]
    assert len({k.split("/")[2] for k in quotes}) == SESSIONS
    raw = storage.list_keys("raw/cotahist/")
    assert len(raw) == SESSIONS and all(k.endswith("/part-0.parquet") for k in raw)
    assert storage.list_keys("refined/monthly/") == ["refined/monthly/month=2021-01/part-0.parquet"]
    assert storage.list_keys("refined/ibov_portfolio/") == [
        "refined/ibov_portfolio/dt=2025-10-03/part-0.parquet"
    ]


def test_row_counts_reconcile(sample_lake: tuple[Path, Any]) -> None:
    lake, summary = sample_lake
    storage = LocalStorage(lake)
    assert summary.counts["rows read"] == RECORDS + IBOV_ROWS
    assert _rows(storage, "raw/cotahist/") == RECORDS
    # The universe (spot round lots and FIIs, not the index's own IBOV11 record, ESPECI IBO)
    # = refined input rows + quarantined rows.
    raw = pq.read_table(storage.uri("raw/cotahist"))
    market = pc.and_(
        pc.equal(raw["tpmerc"], "010"), pc.is_in(raw["codbdi"], pa.array(["02", "12"]))
    )
    index = pc.equal(raw["especi"], "IBO")
    assert raw.filter(pc.and_(market, index))["codneg"].to_pylist() == ["IBOV11"]
    in_universe = raw.filter(pc.and_(market, pc.invert(index))).num_rows
    refined = _rows(storage, "refined/quotes/")
    quarantined = (
        _rows(storage, "quarantine/refined_quotes/")
        if storage.list_keys("quarantine/refined_quotes/")
        else 0
    )
    assert refined + quarantined == in_universe
    assert summary.counts["sessions"] == SESSIONS
    assert summary.counts["tickers"] > 400
    assert summary.counts["refined_quotes rows"] == refined


def test_catalog_lists_every_partition(sample_lake: tuple[Path, Any]) -> None:
    lake, _ = sample_lake
    storage = LocalStorage(lake)
    catalog = LocalCatalog(storage)
    names = {t.name for t in catalog.list_tables()}
    assert {
        "raw_cotahist",
        "raw_ibov_portfolio",
        "refined_quotes",
        "refined_monthly",
        "refined_ibov_portfolio",
    } <= names
    quotes = catalog.get_table("refined_quotes")
    assert [c.name for c in quotes.partition_keys] == ["dt", "ticker"]
    on_disk = {
        tuple(part.split("=", 1)[1] for part in k.split("/")[2:4])
        for k in storage.list_keys("refined/quotes/")
    }
    assert {(p["dt"], p["ticker"]) for p in quotes.partitions} == on_disk
    assert {c.name for c in quotes.columns} >= {
        "close",
        "volume",
        "ma_7",
        "close_lag_1",
        "days_since_prev_session",
    }
    # No column depends on the run's date (docs/architecture.md, "Incremental equals full").
    assert not {"run_date", "days_since_trade"} & {c.name for c in quotes.columns}


def test_job_runs_were_started_by_the_handler_from_s3_events(sample_lake: tuple[Path, Any]) -> None:
    _, summary = sample_lake
    runs = summary.job_runs
    # Every committed raw object fired its event into the handler (16 sessions + 1 portfolio);
    # the runs of one extract coalesce: the first refines every pending object, the other
    # events find it waiting (one run per extract command).
    assert len(runs) == 2
    assert runs[0].summary["pending_objects"] == SESSIONS
    assert all(r.state == "SUCCEEDED" for r in runs), [(r.id, r.error) for r in runs if r.error]
    assert sorted(r.arguments["--dt"] for r in runs)[0] == "2021-01-04"
    for r in runs:
        assert (
            r.arguments["--raw_key"].startswith("raw/")
            and f"dt={r.arguments['--dt']}" in r.arguments["--raw_key"]
        )
        assert r.arguments["--mode"] == "incremental"


def test_rerun_changes_nothing_and_starts_nothing(
    sample_lake: tuple[Path, Any], sample_cotahist: Path
) -> None:
    lake, _ = sample_lake
    storage = LocalStorage(lake)
    before = {k: storage.get_bytes(k) for k in storage.list_keys("refined/")}
    summary = run_pipeline(Settings(lake=str(lake)), cotahist_files=[sample_cotahist])
    assert summary.job_runs == []
    assert summary.extracts[0].objects_written == 0
    assert {k: storage.get_bytes(k) for k in storage.list_keys("refined/")} == before


def test_full_refine_by_hand_gives_the_same_rows(sample_lake: tuple[Path, Any]) -> None:
    lake, _ = sample_lake
    storage = LocalStorage(lake)
    query = "SELECT * FROM refined_quotes ORDER BY dt, ticker, source"
    pipeline = Pipeline(Settings(lake=str(lake)))
    before = pipeline.backend.query_engine().query(query)
    files = {k: storage.get_bytes(k) for k in storage.list_keys("") if not _lineage(k)}
    run_id = pipeline.refine(mode="full", day=None)
    after = Pipeline(Settings(lake=str(lake))).backend.query_engine().query(query)
    # No stored value depends on which run refined it: the same rows, and every file of the
    # lake (refined, quarantine, catalog, caches) byte for byte; only lineage differs.
    assert before.equals(after)
    assert {k: storage.get_bytes(k) for k in storage.list_keys("") if not _lineage(k)} == files
    assert len(storage.list_keys("refined/quotes/")) == before.num_rows
    # The full run's report: every session of the whole sample refined, every table registered.
    report = pipeline.backend.launcher.get_job_run(pipeline.settings.glue_job_name, run_id).summary
    assert report["raw_rows_read"]["cotahist"] == RECORDS
    assert report["universe_rows"] == 15_846 == report["refined_input_rows"]
    assert report["refined_rows"] == {
        "refined_quotes": 15_846,
        "refined_monthly": 1_342,  # 1,343 tickers less IBOV11 (the index)
        "refined_ibov_portfolio": IBOV_ROWS,
        # Every option of the sample's 16 sessions (markets 070/080): tables/options.py.
        "refined_options": 75_201,
    }
    assert report["partitions_written"]["refined_quotes"] == 15_846
    petr = after.filter(pc.equal(after["ticker"], "PETR4")).sort_by("dt")
    assert petr["close"][0].as_py() == 28.91 and petr["ma_5"][3].as_py() is None
    assert petr["ma_5"][4].as_py() == pytest.approx((28.91 + 30.04 + 30.07 + 31.00 + 31.12) / 5)
    assert after.schema.field("dt").type == pa.date32()
    info = LocalCatalog(storage).get_table("refined_quotes")
    assert [c.name for c in info.partition_keys] == ["dt", "ticker"]
    assert len(info.partitions) == 15_846 and info.location == "refined/quotes/"
    assert "ma_21" in [c.name for c in info.columns] and "dt" not in [c.name for c in info.columns]
    assert all(k.endswith("/part-0.parquet") for k in storage.list_keys("refined/"))


def _lineage(key: str) -> bool:
    """The job-run history and the raw manifest: which run did what, not data."""
    return key.startswith(("_b3lake/job_runs/", "_b3lake/manifest/"))
