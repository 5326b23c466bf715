"""refined_index_report: landed from B3's real IR210423.zip, refined through the registry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

REPORT = Path(__file__).resolve().parents[1] / "fixtures" / "index_report" / "IR210423.zip"


def test_the_report_refines_one_row_per_index(tmp_path: Path) -> None:
    from b3lake.pipeline import Pipeline
    from b3lake.settings import Settings

    pipeline = Pipeline(Settings(lake=str(tmp_path / "lake")))
    pipeline.extract("index_report", files=[REPORT])
    pipeline.refine(day=dt.date(2021, 4, 23))
    engine = pipeline.backend.query_engine()
    ibov = engine.query(
        "SELECT dt, open, low, high, close, previous_close, rising FROM refined_index_report "
        "WHERE \"index\" = 'IBOV'"
    ).to_pylist()
    assert ibov == [
        {
            "dt": dt.date(2021, 4, 23),
            "open": 119372.04,
            "low": 119372.04,
            "high": 120814.83,
            "close": 120530.06,
            "previous_close": 119371.48,
            "rising": 61,
        }
    ]
    assert engine.query("SELECT count(*) AS n FROM refined_index_report").to_pylist() == [{"n": 25}]
    assert pipeline.backend.storage.list_keys("refined/index_report/") == [
        "refined/index_report/year=2021/part-0.parquet"
    ]
