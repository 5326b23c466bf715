"""refined_curves: landed from the real TaxaSwap files, refined through the registry; one day's
rates equal the file's, vertex by vertex."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "curves"


def _file_rates(path: Path) -> dict[tuple[str, int], tuple[int, Decimal]]:
    out = {}
    for line in path.read_text(encoding="latin-1").splitlines():
        rate = (-1 if line[51] == "-" else 1) * Decimal(line[52:66]) / Decimal(10**7)
        out[(line[21:26].strip(), int(line[41:46]))] = (int(line[46:51]), rate)
    return out


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from b3lake.pipeline import Pipeline
    from b3lake.settings import Settings

    pipeline = Pipeline(Settings(lake=str(tmp_path_factory.mktemp("curves") / "lake")))
    pipeline.extract("curves", files=[FIXTURES / "TaxaSwap.txt", FIXTURES / "TaxaSwap-sample.txt"])
    pipeline.refine(mode="full")
    return pipeline


@pytest.mark.parametrize(
    ("day", "name"), [("2014-12-12", "TaxaSwap.txt"), ("2026-09-11", "TaxaSwap-sample.txt")]
)
def test_a_days_rates_are_the_files(lake: Any, day: str, name: str) -> None:
    rows = (
        lake.backend.query_engine()
        .query(
            "SELECT curve, business_days, calendar_days, rate FROM refined_curves "
            f"WHERE dt = DATE '{day}' ORDER BY curve, calendar_days"
        )
        .to_pylist()
    )
    expected = _file_rates(FIXTURES / name)
    assert len(rows) == len(expected)
    for r in rows:
        business, rate = expected[(r["curve"], r["calendar_days"])]
        assert r["business_days"] == business and r["rate"] == float(rate)


def test_catalogued_by_session(lake: Any) -> None:
    info = lake.backend.catalog.get_table("refined_curves")
    assert sorted(p["dt"] for p in info.partitions) == ["2014-12-12", "2026-09-11"]
    pre = (
        lake.backend.query_engine()
        .query("SELECT dt, rate FROM refined_curves WHERE curve = 'PRE' ORDER BY calendar_days")
        .to_pylist()
    )
    assert pre == [
        {"dt": dt.date(2026, 9, 11), "rate": 13.9},
        {"dt": dt.date(2026, 9, 11), "rate": 13.811},
    ]
