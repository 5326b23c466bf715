"""Incremental equals full, as a new user lands real files: one annual COTAHIST file and three
issuers' GetListedCashDividends bodies, each through ``extract`` (``Pipeline.extract``, what
``b3lake extract cotahist --file F`` and ``extract corporate-actions --issuer X --file F`` call),
in four orders. After the event-started runs the lake equals a ``refine --mode full`` of the
same raw data byte for byte, catalog included, and the adjusted closes of every ticker with
events equal the rebuilt ones.

Inputs: the bundled annual file (16 sessions of January 2021), ABEV's real body (29 events) and
the bodies of ITUB (256) and BBDC (224) derived from the real export in
``tests/fixtures/corporate_actions/`` (PROVENANCE.md): events on both sides of the sample, some
of them inside it (ABEV 2021-01-13, ITUB 2021-01-22, BBDC 2021-01-04).
"""

from __future__ import annotations

from pathlib import Path

import lake_compare
import pytest

from b3lake.pipeline import Pipeline
from b3lake.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
ANNUAL = ROOT / "data" / "sample" / "COTAHIST_A2021.ZIP"
FIXTURES = ROOT / "tests" / "fixtures" / "corporate_actions"
ISSUERS = {
    "ABEV": FIXTURES / "GetListedCashDividends_ABEV.json",
    "ITUB": FIXTURES / "GetListedCashDividends_ITUB_derived.json",
    "BBDC": FIXTURES / "GetListedCashDividends_BBDC_derived.json",
}
# The tickers with events and a few others (the invariant does not depend on the universe).
TICKERS = ["ABEV3", "ITUB3", "ITUB4", "BBDC3", "BBDC4", "PETR4", "VALE3", "MGLU3"]
ORDERS = {
    "quotes first": ["COTAHIST", "ABEV", "ITUB", "BBDC"],
    "events first": ["ABEV", "ITUB", "BBDC", "COTAHIST"],
    "interleaved": ["ABEV", "COTAHIST", "ITUB", "BBDC"],
    "interleaved, last issuer first": ["BBDC", "ITUB", "COTAHIST", "ABEV"],
}
ADJUSTED = (
    "SELECT ticker, dt, source, close, adj_factor, adj_close FROM adjusted_quotes "
    "WHERE ticker IN ('ABEV3', 'ITUB3', 'ITUB4', 'BBDC3', 'BBDC4') ORDER BY ticker, dt, source"
)


def _land(pipeline: Pipeline, name: str) -> None:
    if name == "COTAHIST":
        pipeline.extract("cotahist", files=[ANNUAL])
    else:
        pipeline.extract("corporate_actions", files=[ISSUERS[name]], issuer=[name])


@pytest.mark.slow
@pytest.mark.parametrize("order", list(ORDERS), ids=list(ORDERS))
def test_every_landing_order_leaves_what_a_rebuild_leaves(tmp_path: Path, order: str) -> None:
    settings = Settings(lake=str(tmp_path / "lake"), universe={"tickers": TICKERS})
    pipeline = Pipeline(settings)
    for name in ORDERS[order]:
        _land(pipeline, name)
    runs = pipeline.runs()
    assert runs and all(r.state == "SUCCEEDED" for r in runs), [r.error for r in runs]
    full = lake_compare.assert_equals_rebuild(settings, tmp_path / "full")
    # Every issuer's events are refined, whatever the order (509 = 29 + 256 + 224).
    ours = pipeline.backend.query_engine()
    rebuilt = Pipeline(settings.model_copy(update={"lake": full.root})).backend.query_engine()
    count = "SELECT issuer, count(*) AS n FROM refined_corporate_actions GROUP BY 1 ORDER BY 1"
    assert ours.query(count).to_pylist() == [
        {"issuer": "ABEV", "n": 29},
        {"issuer": "BBDC", "n": 224},
        {"issuer": "ITUB", "n": 256},
    ]
    adjusted = ours.query(ADJUSTED)
    assert adjusted.num_rows > 0 and adjusted.equals(rebuilt.query(ADJUSTED))
    # The events inside the sample do adjust the closes before them.
    factors = {(r["ticker"], r["dt"].isoformat()): r["adj_factor"] for r in adjusted.to_pylist()}
    assert factors[("ABEV3", "2021-01-04")] < 1.0 and factors[("ABEV3", "2021-01-26")] == 1.0
