"""refined_index_levels and quality_index_levels: landed from the recorded IBOV 2022 grid,
refined by the job through the registry, catalogued and queried; every raw row is in exactly
one of the two tables."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CASSETTE = ROOT / "fixtures" / "index_levels" / "GetPortfolioDay_IndexStatistics_IBOV_2022.yml"


def _recorded() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "b3lake_index_levels_source_tests", ROOT / "sources" / "test_index_levels.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The recorded 2022 grid plus a derived SMLL-like year with one value on a holiday and one
    session without a value, landed and refined once (full mode)."""
    from b3lake.pipeline import Pipeline
    from b3lake.settings import Settings

    tmp = tmp_path_factory.mktemp("index_levels")
    body = _recorded().recorded_body()
    body["results"][0]["rateValue1"] = "100,000.00"  # 2022-01-01, not a session
    body["results"][9]["rateValue1"] = None  # 2022-01-10, a session
    body["min"]["rateValue1"] = "100,000.00"
    derived = tmp / "derived.json"
    derived.write_text(json.dumps(body))
    pipeline = Pipeline(Settings(lake=str(tmp / "lake")))
    pipeline.extract("index_levels", files=[CASSETTE])
    pipeline.extract("index_levels", files=[derived], index=["TEST"], year=["2022"])
    pipeline.refine(mode="full")
    return pipeline


def test_the_refined_closes_are_the_recorded_ones_exactly(lake: Any) -> None:
    closes = _recorded().recorded_closes()
    engine = lake.backend.query_engine()
    rows = engine.query(
        "SELECT dt, close FROM refined_index_levels WHERE \"index\" = 'IBOV' ORDER BY dt"
    ).to_pylist()
    assert len(rows) == 250
    assert {r["dt"]: Decimal(repr(r["close"])) for r in rows} == closes
    assert rows[-1] == {"dt": dt.date(2022, 12, 29), "close": 109734.6}


def test_off_calendar_values_and_missing_sessions_go_to_quality(lake: Any) -> None:
    engine = lake.backend.query_engine()
    found = engine.query(
        'SELECT dt, "index", close, rule, cell, line_number FROM quality_index_levels ORDER BY dt'
    ).to_pylist()
    assert found == [
        {
            "dt": dt.date(2022, 1, 1),
            "index": "TEST",
            "close": 100000.0,
            "rule": "not_a_session",
            "cell": "rateValue1",
            "line_number": 1,
        },
        {
            "dt": dt.date(2022, 1, 10),
            "index": "TEST",
            "close": None,
            "rule": "missing_session",
            "cell": "rateValue1",
            "line_number": 10,
        },
    ]
    counts = engine.query(
        'SELECT "index", count(*) AS n FROM refined_index_levels GROUP BY "index" ORDER BY 1'
    ).to_pylist()
    raw = engine.query(
        'SELECT "index", count(*) AS n FROM raw_index_levels GROUP BY "index" ORDER BY 1'
    ).to_pylist()
    # Nothing lost, nothing duplicated: raw = refined + quality, per index.
    assert counts == [{"index": "IBOV", "n": 250}, {"index": "TEST", "n": 249}]
    assert raw == [{"index": "IBOV", "n": 250}, {"index": "TEST", "n": 251}]


def test_catalogued_with_one_partition_a_year(lake: Any) -> None:
    """One file a year (``dt`` a column, rows by index and dt): a long history of few rows a day
    is 20 files at 20 years, not 5,000."""
    storage, catalog = lake.backend.storage, lake.backend.catalog
    info = catalog.get_table("refined_index_levels")
    assert info.partitions == [{"year": "2022"}]
    keys = storage.list_keys("refined/index_levels/")
    assert keys == ["refined/index_levels/year=2022/part-0.parquet"]
    assert storage.list_keys("refined/quality_index_levels/") == [
        "refined/quality_index_levels/year=2022/part-0.parquet"
    ]
    # Re-running gives the same bytes.
    before = {k: storage.get_bytes(k) for k in keys[:5]}
    lake.refine(mode="full")
    assert {k: storage.get_bytes(k) for k in keys[:5]} == before
