"""The lake's invariant, as a property: whatever the landing history, the event-started runs leave
exactly what ``refine --mode full`` of the same raw data leaves (every table's bytes, and the
catalog).

A history is a random list of steps over every source, each landing through the real event path
(raw writer → S3-shaped event → the trigger handler → the local launcher → the refine job):

* an *item* landed alone or several in one *burst* (one batch of events, as one extract): a real
  COTAHIST session of the bundled sample (or its *corrected* file: a ticker gone, a price fixed),
  real yfinance bars, the real IBOV portfolios, a real (or derived-from-real) corporate-actions
  body of one issuer (ABEV, ITUB, KRSA), real index levels (two months of IBOV 2022), the real
  TaxaSwap curves and BVBG.087 index report, each split into its raw objects as the extract
  splits it (the options come from the COTAHIST sessions);
* out of order and with *duplicates* (an item landed again: same bytes, nothing fires; or an S3
  event delivered twice);
* a raw object *removed* (S3 sends no ObjectCreated: the next run sees it gone);
* a *killed* run: the next run fails after its first table write (a crash, a lost executor); the
  runs after it find the same objects pending (nothing was recorded in the manifest).

After the history, the daily schedule's run (an incremental run with nothing named: it refines
what is pending, e.g. a removal no event announced) and then the comparison with a rebuild
(``lake_compare``). In CI hypothesis runs ``B3LAKE_PROPERTY_EXAMPLES`` (default 6) examples,
derandomised (the same histories every run); ``make property`` runs many more with a random
seed (``B3LAKE_PROPERTY_EXAMPLES=200 B3LAKE_PROPERTY_SEED=random``).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lake_compare
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import refine_helpers as H
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from b3lake.errors import JobError
from b3lake.jobs.refine import outputs
from b3lake.pipeline import Pipeline
from b3lake.settings import Settings
from b3lake.sources import registry
from b3lake.sources.base import Request

FIXTURES = H.FIXTURES
SESSIONS = sorted(H.sample_sessions())[:8]
TICKERS = ["ABEV3", "ITUB3", "ITUB4", "PETR4", "VALE3", "MGLU3", "BBAS3", "KRSA3"]
EXAMPLES = int(os.environ.get("B3LAKE_PROPERTY_EXAMPLES", "5"))
SEED = os.environ.get("B3LAKE_PROPERTY_SEED", "20261203")

#: One raw object as the extract lands it: (raw source, session, rows, object name).
Write = tuple[str, dt.date, pa.Table, str]


def _source_writes(source: str, path: Path, **options: Any) -> list[Write]:
    """What ``Pipeline.extract(source, files=[path])`` lands: parsed, grouped, split by session."""
    src = registry.get(source)
    request = Request(files=(path,), options=options)
    table = src.parse(path, request)
    return [
        (src.raw, day, rows, src.object_name(day, rows, request))
        for group in src.groups(table)
        for day, rows in sorted(src.split(group).items())
    ]


def _issuers_rows(session: pa.Table) -> pa.Table:
    """A sample session narrowed to the rows of the universe's issuers (the first four letters of
    the tickers): their shares, units and options; the rest of the market would be read and
    dropped by every run (the universe), at six times the cost."""
    roots = pa.array(sorted({t[:4] for t in TICKERS}))
    return session.filter(pc.is_in(pc.utf8_slice_codeunits(session["codneg"], 0, 4), roots))


@functools.cache
def items() -> dict[str, list[Write]]:
    """Every item a history draws from, by name."""
    sample = {day: _issuers_rows(table) for day, table in H.sample_sessions().items()}
    out: dict[str, list[Write]] = {}
    for day in SESSIONS:
        out[f"cotahist {day}"] = [("cotahist", day, sample[day], "part-0")]
    day = SESSIONS[2]
    table = sample[day]
    out[f"cotahist {day} corrected (VALE3 gone)"] = [
        ("cotahist", day, table.filter(pc.not_equal(table["codneg"], "VALE3")), "part-0")
    ]
    day = SESSIONS[5]
    table = sample[day]
    petr = pc.equal(table["codneg"], "PETR4")
    fixed = pc.if_else(petr, pc.multiply(table["preult"], 2), table["preult"])
    out[f"cotahist {day} corrected (PETR4 close)"] = [
        (
            "cotahist",
            day,
            table.set_column(table.schema.get_field_index("preult"), "preult", fixed),
            "part-0",
        )
    ]
    bars = H.yfinance_fixtures()
    for ticker in ("PETR4", "BBAS3"):
        days = sorted(d for t, d in bars if t == ticker)[:3]
        out[f"yfinance {ticker}"] = [("yfinance", d, bars[(ticker, d)], ticker) for d in days]
    out["ibov csv"] = _source_writes("ibov", FIXTURES / "ibov" / "IBOVDia_03-10-25.csv")
    out["ibov json"] = _source_writes(
        "ibov", FIXTURES / "ibov" / "GetPortfolioDay_IBOV_2025-04-07.json"
    )
    ca = FIXTURES / "corporate_actions"
    out["issuer ABEV"] = _source_writes(
        "corporate_actions", ca / "GetListedCashDividends_ABEV.json", issuer=["ABEV"]
    ) + _source_writes("corporate_actions", ca / "GetListedSupplementCompany_ABEV.json")
    out["issuer ITUB"] = _source_writes(
        "corporate_actions", ca / "GetListedCashDividends_ITUB_derived.json", issuer=["ITUB"]
    )
    out["issuer KRSA"] = _source_writes(
        "corporate_actions", ca / "GetListedSupplementCompany_KRSA_extracted.json"
    )
    # Index levels (a year partition rebuilt from every object of its year), two months of 2022.
    levels = _source_writes(
        "index_levels", FIXTURES / "index_levels" / "GetPortfolioDay_IndexStatistics_IBOV_2022.yml"
    )
    out["index_levels IBOV 2022-01"] = [w for w in levels if w[1].month == 1][:8]
    out["index_levels IBOV 2022-02"] = [w for w in levels if w[1].month == 2][:8]
    for name in ("TaxaSwap.txt", "TaxaSwap-sample.txt"):
        out[f"curves {name}"] = _source_writes("curves", FIXTURES / "curves" / name)
    out["index_report 2021-04-23"] = _source_writes(
        "index_report", FIXTURES / "index_report" / "IR210423.zip"
    )
    return out


# ------------------------------------------------------------------------------- the history


@dataclass(frozen=True)
class Land:
    names: tuple[str, ...]  # one item, or several in one burst


@dataclass(frozen=True)
class Redeliver:
    pass  # the last landed object's event, delivered again


@dataclass(frozen=True)
class Remove:
    pick: int  # which raw object (modulo how many there are)


@dataclass(frozen=True)
class Kill:
    pass  # the next run fails after its first table write


@st.composite
def histories(draw: st.DrawFn) -> list[Any]:
    """Items landed in a random order, one by one or in bursts, with noise between: an item
    landed again, an event delivered again, a raw object removed, a run killed."""
    by_source: dict[str, list[str]] = {}
    for name in sorted(items()):
        by_source.setdefault(name.split()[0], []).append(name)
    # A few items of every source (several objects of one source is the common case), shuffled.
    chosen: list[str] = []
    for source, names in sorted(by_source.items()):
        most = 4 if source == "cotahist" else len(names)
        least = 1 if source in ("cotahist", "issuer") else 0
        chosen += draw(st.lists(st.sampled_from(names), min_size=least, max_size=most, unique=True))
    chosen = draw(st.permutations(chosen))
    noise = st.one_of(
        st.just(Redeliver()),
        st.builds(Remove, st.integers(min_value=0, max_value=10_000)),
        st.just(Kill()),
        st.builds(Land, st.tuples(st.sampled_from(chosen))),  # a duplicate (or a re-landing)
    )
    history: list[Any] = []
    i = 0
    while i < len(chosen):
        size = draw(st.integers(min_value=1, max_value=3))
        history.append(Land(tuple(chosen[i : i + size])))
        history += draw(st.lists(noise, max_size=2))
        i += size
    return history


class _Crash(RuntimeError):
    """What a killed run dies of."""


class Harness:
    """A lake built by the event path only."""

    def __init__(self, lake: Path, patch: pytest.MonkeyPatch) -> None:
        self.settings = Settings(lake=str(lake), universe={"tickers": TICKERS})
        self.pipeline = Pipeline(self.settings)
        self.armed = False
        self.last: tuple[str, int] | None = None
        real = outputs.write

        def write(*args: Any, **kwargs: Any) -> Any:
            result = real(*args, **kwargs)
            if self.armed:
                self.armed = False
                raise _Crash("killed after its first table write")
            return result

        patch.setattr(outputs, "write", write)

    def apply(self, step: Any) -> None:
        storage = self.pipeline.backend.storage
        bus = self.pipeline.bus
        assert bus is not None
        if isinstance(step, Land):
            with bus.batch():
                for name in step.names:
                    for source, day, rows, object_name in items()[name]:
                        w = self.pipeline.writer.write(source, day, rows, object_name)
                        self.last = (w.key, w.size)
        elif isinstance(step, Redeliver) and self.last is not None:
            bus.notify(*self.last)
        elif isinstance(step, Remove):
            keys = storage.list_keys("raw/")
            if keys:
                storage.delete_keys([keys[step.pick % len(keys)]])
        elif isinstance(step, Kill):
            self.armed = True

    def settle(self) -> None:
        """The daily schedule's run: whatever is pending (a removal no event announced)."""
        self.armed = False
        try:
            self.pipeline.refine()
        except JobError:  # pragma: no cover - the run's error is the test's failure below
            raise
        failed = [r for r in self.pipeline.runs() if r.state == "FAILED"]
        assert all("killed after" in (r.error or "") for r in failed), [r.error for r in failed]


@pytest.mark.slow
@settings(
    max_examples=EXAMPLES,
    derandomize=SEED != "random",
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(history=histories())
def test_any_landing_history_leaves_what_a_rebuild_leaves(history: list[Any]) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="b3lake-property-") as tmp,
        pytest.MonkeyPatch.context() as patch,
    ):
        harness = Harness(Path(tmp) / "lake", patch)
        for step in history:
            harness.apply(step)
        harness.settle()
        lake_compare.assert_equals_rebuild(harness.settings, Path(tmp) / "full")


if SEED not in ("random", ""):
    test_any_landing_history_leaves_what_a_rebuild_leaves = seed(int(SEED))(
        test_any_landing_history_leaves_what_a_rebuild_leaves
    )
