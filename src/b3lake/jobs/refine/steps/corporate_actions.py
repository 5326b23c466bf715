"""The corporate-actions step: I/O around ``transforms/corporate_actions.py`` (the PySpark logic).

Runs after the quote step (the factors read its closes) when ``raw/corporate_actions/`` or the
quotes changed, and in ``--mode full``. It writes four small, unpartitioned objects, each replaced
whole (they hold one row per event, not per quote):

* ``refined/corporate_actions/part-0.parquet`` (``refined_corporate_actions``) and its quarantine
  ``quarantine/refined_corporate_actions/part-0.parquet``. A raw object lives under the date its
  events' last date prior (``dt=…``), and the rows of a date depend on that date's objects alone
  (the ex-date from the calendar, duplicates within one ticker and date), so the step re-reads
  the objects of every date the change set names (changed or removed objects, of any issuer and
  endpoint: a run coalesces many) and merges them by ``last_date_prior`` with the stored rows of
  the other dates. Every date in full mode, or when the table is missing.
* ``refined/corporate_action_factors/part-0.parquet``: the adjustment factors, recomputed when
  events changed, or when the quote sessions the run rewrote hold (or precede) an ex-date (its
  close, or whether it is a lake session, changed), or when the object is missing.
* ``refined/quality_corporate_actions/part-0.parquet``: the cross-check findings, with them.

``adjusted_quotes`` is a view over the history layer and the factors (``b3lake.query.views``), so
a new event rewrites none of the quote partitions: cost O(events), not O(lake).

The factors need the close of the session before each ex-date. They are looked up in the history
layer (``refined/quotes_history/year=Y/``, which holds every ticker whatever ``--r6_tickers`` keeps
in the R6 table; one object per year, row groups pruned by ticker) and cached in
``_b3lake/cache/corporate_action_closes.parquet``; a run looks up again only the closes of the
sessions it rewrote and of events it has not seen, so it reads a handful of objects. A close is
a function of its session's raw objects, so the cache holds what a rebuild would look up.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from b3lake.jobs.refine import outputs
from b3lake.jobs.refine.report import stage
from b3lake.jobs.refine.steps import quotes
from b3lake.jobs.refine.transforms import corporate_actions as logic
from b3lake.lake import layout
from b3lake.sources.corporate_actions.parse import SCHEMA as RAW_SCHEMA
from b3lake.sources.corporate_actions.parse import SOURCE
from b3lake.tables import arrow
from b3lake.tables import corporate_actions as specs
from b3lake.tables.arrow import conform

if TYPE_CHECKING:
    from b3lake.jobs.refine.context import StepContext
    from b3lake.storage import Storage

RAW_INPUT = pa.schema([f for f in RAW_SCHEMA if f.name != "ingested_at"])

# The tables are declared once, in b3lake.tables.corporate_actions; their Arrow schemas follow.
_SPECS = (
    specs.REFINED_CORPORATE_ACTIONS,
    specs.QUARANTINE_CORPORATE_ACTIONS,
    specs.CORPORATE_ACTION_FACTORS,
    specs.QUALITY_CORPORATE_ACTIONS,
)
REFINED_CORPORATE_ACTIONS = arrow.file_schema(specs.REFINED_CORPORATE_ACTIONS)
QUARANTINE_CORPORATE_ACTIONS = arrow.file_schema(specs.QUARANTINE_CORPORATE_ACTIONS)
CORPORATE_ACTION_FACTORS = arrow.file_schema(specs.CORPORATE_ACTION_FACTORS)
QUALITY_CORPORATE_ACTIONS = arrow.file_schema(specs.QUALITY_CORPORATE_ACTIONS)
CLOSES = pa.schema([("ticker", pa.string()), ("close_date", pa.date32()), ("close", pa.float64())])

#: Catalog name -> file schema of each table (unpartitioned, one object each).
SCHEMAS: dict[str, pa.Schema] = {spec.name: arrow.file_schema(spec) for spec in _SPECS}
PART = "part-0.parquet"
CLOSES_KEY = f"{layout.SYSTEM}/cache/corporate_action_closes.parquet"


def _key(name: str) -> str:
    from b3lake import tables

    return tables.table(name).location + PART


def _read(storage: Storage, key: str) -> pa.Table | None:
    import pyarrow.parquet as pq

    if not storage.exists(key):
        return None
    return pq.read_table(io.BytesIO(storage.get_bytes(key)))


def _write_whole(ctx: StepContext, name: str, table: pa.Table) -> None:
    """Replace a small unpartitioned table's one object (deleted when empty); catalog it."""
    from b3lake import tables

    spec = tables.table(name)
    outputs.write(
        ctx, spec, ctx.engine.from_arrow(conform(table, SCHEMAS[name], name)), partitions=None
    )


def _merged(storage: Storage, name: str, new: pa.Table, days: set[dt.date]) -> pa.Table:
    """The stored rows of ``name`` whose last date prior is not in ``days``, plus ``new``."""
    import pyarrow.compute as pc

    schema = SCHEMAS[name]
    new = conform(new, schema, name)
    old = _read(storage, _key(name))
    if old is None:
        return new
    old = conform(old, schema, name)
    gone = pc.is_in(old["last_date_prior"], value_set=pa.array(sorted(days), pa.date32()))
    return pa.concat_tables([old.filter(pc.invert(gone)), new])


def _calendar_table() -> pa.Table:
    """B3's sessions with the next one (what an ex-date is computed from)."""
    from b3lake.sources import calendar

    first, last = calendar.calendar_range()
    days = calendar.sessions(first, last)
    return pa.table(
        {
            "session": pa.array(days[:-1], pa.date32()),
            "next_session": pa.array(days[1:], pa.date32()),
        }
    )


def _lake_sessions(sessions: list[dt.date]) -> pa.Table:
    return pa.table(
        {
            "dt": pa.array(sessions, pa.date32()),
            "prev_dt": pa.array([None, *sessions[:-1]] if sessions else [], pa.date32()),
        }
    )


def _lookup_closes(storage: Storage, wanted: list[tuple[str, dt.date]]) -> list[dict[str, Any]]:
    """Closes of ``(ticker, session)`` from the history layer (cotahist first); ``close`` is None
    where the ticker has no row that session.

    The history layer, not the R6 table: it always holds the whole universe (the R6 table may be
    narrowed by ``--r6_tickers``), and one year file answers every close of that year: one
    object opened per year, the row groups of other tickers skipped by their statistics."""
    import pyarrow.compute as pc
    import pyarrow.dataset as pads

    from b3lake.lake import history

    prefix = layout.refined_prefix(history.TABLE)
    by_year: dict[str, set[tuple[str, dt.date]]] = defaultdict(set)
    for ticker, day in set(wanted):
        by_year[history.partition_of(day)].add((ticker, day))
    found: dict[tuple[str, dt.date], float | None] = {}
    fs, base = storage.arrow_filesystem()
    for year, pairs in sorted(by_year.items()):
        key = history.key_of(prefix, year)
        if not storage.exists(key):
            continue
        tickers = sorted({t for t, _ in pairs})
        rows = (
            pads.dataset(f"{base.rstrip('/')}/{key}", filesystem=fs, format="parquet")
            .to_table(
                columns=["ticker", "source", "dt", "close"],
                filter=pc.field("ticker").isin(tickers),
            )
            .to_pylist()
        )
        # cotahist first, then the other sources by name (the order the R6 lookup used).
        for r in sorted(rows, key=lambda r: (r["source"] != "cotahist", r["source"]), reverse=True):
            if (r["ticker"], r["dt"]) in pairs:
                found[(r["ticker"], r["dt"])] = r["close"]
    return [
        {"ticker": t, "close_date": d, "close": found.get((t, d))} for t, d in sorted(set(wanted))
    ]


def _touches_events(events: pa.Table, sessions: list[dt.date], rewritten: list[dt.date]) -> bool:
    """Whether rewritten sessions can change a factor: an ex-date among them or just after
    them (its close, or whether it is a lake session, changed)."""
    if not rewritten or events.num_rows == 0:
        return False
    touched = set(rewritten)
    later = [s for s in sessions if s > max(rewritten)]
    if later:
        touched.add(later[0])
    return any(d in touched for d in events.column("ex_date").to_pylist())


def sources() -> tuple[str, ...]:
    """The events, and the quotes whose closes and sessions the factors read."""
    return (SOURCE, *quotes.sources())


def run(ctx: StepContext) -> None:
    """Refresh the corporate-action tables (see the module docstring)."""
    with stage(ctx.report, "corporate_actions"):
        _refresh(ctx)


def _refresh(ctx: StepContext) -> None:
    from b3lake.jobs.refine import quality

    engine, storage, report, changes = ctx.engine, ctx.storage, ctx.report, ctx.changes
    raw = changes.index(SOURCE)
    stored = storage.exists(_key("refined_corporate_actions"))
    if not raw and not stored:
        return  # a lake without corporate actions gets none of their tables (nor the views)
    sessions, plan = quotes.quote_plan(changes)
    rewritten = plan.quote_sessions
    # The raw dates whose events are re-read: None = every date.
    refresh: set[dt.date] | None = (
        None if changes.full or not stored else changes.changed_days(SOURCE)
    )
    if refresh is None or refresh:
        # Rows of a date depend on that date's objects only (ex-date from the calendar,
        # duplicates within one ticker and date), so a refresh merges by last_date_prior.
        days = sorted(raw) if refresh is None else sorted(refresh)
        keys = changes.keys_on(SOURCE, days)
        frame = engine.read_parquet(storage, keys, RAW_INPUT)
        raw_rows = engine.count(frame) if keys else 0
        report.raw_rows_read[SOURCE] = raw_rows
        flagged = engine.persist(logic.flag_events(frame, engine.from_arrow(_calendar_table())))
        events = engine.to_arrow(logic.clean_events(flagged))
        bad = engine.to_arrow(logic.bad_events(flagged))
        counts: dict[str, int] = defaultdict(int)
        for rule in bad.column("rule").to_pylist():
            counts[rule] += 1
        report.quarantined["quarantine_corporate_actions"] = dict(sorted(counts.items()))
        quality.reconcile(
            "refined_corporate_actions", raw_rows, events.num_rows, bad.num_rows, events.num_rows
        )
        if refresh is not None:
            events = _merged(storage, "refined_corporate_actions", events, refresh)
            bad = _merged(storage, "quarantine_corporate_actions", bad, refresh)
        _write_whole(ctx, "refined_corporate_actions", events)
        _write_whole(ctx, "quarantine_corporate_actions", bad)
    else:
        events = _read(storage, _key("refined_corporate_actions"))
        if events is None:
            events = REFINED_CORPORATE_ACTIONS.empty_table()
    report.refined_rows["refined_corporate_actions"] = events.num_rows
    if (
        refresh is not None
        and not refresh
        and storage.exists(_key("corporate_action_factors"))
        and not _touches_events(events, sessions, rewritten)
    ):
        return  # the daily run of a session no event looks at: nothing to recompute

    events_df = engine.from_arrow(events)
    lake_df = engine.from_arrow(_lake_sessions(sessions))
    needed = engine.to_arrow(logic.event_closes(events_df, lake_df))
    cache = None if changes.full else _read(storage, CLOSES_KEY)
    known: dict[tuple[str, dt.date], Any] = {}
    if cache is not None:
        known = {(r["ticker"], r["close_date"]): r["close"] for r in cache.to_pylist()}
    fresh = set(rewritten)
    pairs = list(zip(needed["ticker"].to_pylist(), needed["close_date"].to_pylist(), strict=True))
    lookup = [(t, d) for t, d in pairs if d in fresh or (t, d) not in known]
    looked = set(lookup)
    rows = [
        {"ticker": t, "close_date": d, "close": known[(t, d)]}
        for t, d in pairs
        if (t, d) not in looked
    ]
    rows += _lookup_closes(storage, lookup)
    closes = pa.Table.from_pylist(rows, schema=CLOSES).sort_by(
        [("ticker", "ascending"), ("close_date", "ascending")]
    )
    from b3lake.lake import parquet_io

    storage.put_bytes(CLOSES_KEY, parquet_io.serialize(closes))
    closes_df = engine.from_arrow(closes)
    factor_rows = engine.to_arrow(logic.factors(events_df, lake_df, closes_df))
    finding_rows = engine.to_arrow(logic.findings(events_df, lake_df, closes_df))
    report.refined_rows["corporate_action_factors"] = factor_rows.num_rows
    report.refined_rows["quality_corporate_actions"] = finding_rows.num_rows
    _write_whole(ctx, "corporate_action_factors", factor_rows)
    _write_whole(ctx, "quality_corporate_actions", finding_rows)
