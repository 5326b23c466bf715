"""refined_options: the options of the landed COTAHIST (no new download), refined through the
registry; strike, expiry and the underlying from B3's fields, checked against the file itself."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

DAILY = Path(__file__).resolve().parents[1] / "fixtures" / "cotahist" / "COTAHIST_D04012016.TXT"


def _file_options() -> dict[str, dict[str, Any]]:
    """The file's options and their spot ISIN matches, read by position alone."""
    records = [
        line for line in DAILY.read_text(encoding="latin-1").splitlines() if line[:2] == "01"
    ]
    spot = {r[230:242]: r[12:24].strip() for r in records if r[24:27] == "010"}
    out = {}
    for r in records:
        if r[24:27] in ("070", "080"):
            out[r[12:24].strip()] = {
                "type": "call" if r[24:27] == "070" else "put",
                "strike": float(Decimal(r[188:201]) / 100),
                "expiry": dt.datetime.strptime(r[202:210], "%Y%m%d").date(),
                "close": float(Decimal(r[108:121]) / 100),
                "spot": spot.get(r[230:242]),
                "isin": r[230:242],
            }
    return out


@pytest.fixture(scope="module")
def options(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    from b3lake.pipeline import Pipeline
    from b3lake.settings import Settings

    pipeline = Pipeline(Settings(lake=str(tmp_path_factory.mktemp("options") / "lake")))
    pipeline.extract("cotahist", files=[DAILY])  # the refine run starts on the landing
    rows: list[dict[str, Any]] = (
        pipeline.backend.query_engine()
        .query("SELECT * FROM refined_options ORDER BY ticker")
        .to_pylist()
    )
    return rows


def test_every_option_of_the_file_with_b3s_strike_expiry_and_close(
    options: list[dict[str, Any]],
) -> None:
    expected = _file_options()
    assert len(options) == len(expected) == 961
    for row in options:
        want = expected[row["ticker"]]
        assert (row["type"], row["strike"], row["expiry"], row["close"]) == (
            want["type"],
            want["strike"],
            want["expiry"],
            want["close"],
        ), row["ticker"]
        assert row["dt"] == dt.date(2016, 1, 4)
        assert row["days_to_expiry"] == (row["expiry"] - row["dt"]).days


def test_the_underlying_comes_from_the_isin(options: list[dict[str, Any]]) -> None:
    expected = _file_options()
    by_source: dict[str | None, int] = {}
    for row in options:
        by_source[row["underlying_source"]] = by_source.get(row["underlying_source"], 0) + 1
        spot = expected[row["ticker"]]["spot"]
        if spot is not None:
            assert (row["underlying"], row["underlying_source"]) == (spot, "session")
        else:
            assert (row["underlying"], row["underlying_source"]) == ("IBOV", "index")
    assert by_source == {"session": 905, "index": 56}
    abev = next(r for r in options if r["ticker"] == "ABEVA1")
    assert (abev["underlying"], abev["underlying_isin"], abev["strike"]) == (
        "ABEV3",
        "BRABEVACNOR1",
        17.25,
    )
    calls = sum(r["type"] == "call" for r in options)
    assert (calls, len(options) - calls) == (596, 365)


def test_the_isin_spells_the_underlying_when_it_did_not_trade() -> None:
    """Without the spot row (here: the file's ABEV3 record left out), the ISIN gives ABEV3."""
    import pyarrow.compute as pc

    from b3lake.engines import default_engine
    from b3lake.sources.cotahist import parse_cotahist
    from b3lake.tables.transforms.options import refine_options

    raw = parse_cotahist(DAILY, source_name=DAILY.name)
    raw = raw.filter(pc.invert(pc.equal(raw["codneg"], "ABEV3")))
    engine = default_engine()
    try:
        out = engine.to_arrow(refine_options({"cotahist": engine.from_arrow(raw)}))
    finally:
        engine.close()
    abev = out.filter(pc.equal(out["underlying_isin"], "BRABEVACNOR1")).to_pylist()
    assert abev and {(r["underlying"], r["underlying_source"]) for r in abev} == {("ABEV3", "isin")}
