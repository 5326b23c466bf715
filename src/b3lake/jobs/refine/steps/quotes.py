"""The quote step: ``refined_quotes``, the history layer, ``refined_monthly`` and ``quarantine_quotes``.

Reads the raw quote sources (``refined_quotes``' declared inputs: COTAHIST, yfinance); what it
rewrites is the quote plan of the change set's changed sessions (``jobs/refine/plan.py``): each
changed session and the 21 after it, their months, and the partitions of sessions whose raw
objects are gone. The transforms are ``transforms/quotes.py``; this module does the I/O.

Per chunk of the plan (a whole plan, or one year of a rebuild): read the sessions the plan reads,
flag and refine them once (persisted in the engine), then write, in this order, the history layer
(the rows of the target sessions, every ticker), the R6 table (``refined/quotes/dt=…/ticker=…/``,
narrowed to ``--r6_tickers`` when set), the months and the quarantined rows. Counts reconcile on
aggregates (rows in = refined inputs + quarantined), so on Spark only counts reach the driver.

The R6 table's partition projection (``catalog/projection.py``) is derived from the history
layer's years (their tickers and first session, kept beside it in
``_b3lake/cache/quotes_history_years.json``, read from the year files for years it lacks) and set
with the R6 write, so the catalog is a function of the data alone, as a rebuild would leave it.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from b3lake import tables
from b3lake.engines import sql_api
from b3lake.jobs.refine import outputs, quality, schemas
from b3lake.jobs.refine.plan import Plan, chunked, plan_changes
from b3lake.jobs.refine.report import stage
from b3lake.jobs.refine.transforms import quotes as transform
from b3lake.lake import history, layout, parquet_io

if TYPE_CHECKING:
    import pyarrow as pa

    from b3lake.jobs.refine.changes import ChangeSet
    from b3lake.jobs.refine.context import StepContext
    from b3lake.storage import Storage

QUOTES = "refined_quotes"
MONTHLY = "refined_monthly"
HISTORY = history.TABLE
YEARS_KEY = f"{layout.SYSTEM}/cache/quotes_history_years.json"


def sources() -> tuple[str, ...]:
    """The raw quote sources, as the ``refined_quotes`` spec declares them."""
    return tables.table(QUOTES).inputs


def quote_plan(changes: ChangeSet) -> tuple[list[dt.date], Plan]:
    """The lake's quote sessions and the plan of the run's changed ones (every one in full mode)."""
    names = sources()
    sessions = changes.days(*names)
    return sessions, plan_changes(sessions, changes.changed_days(*names))


def run(ctx: StepContext) -> None:
    sessions, plan = quote_plan(ctx.changes)
    full = ctx.changes.full
    ctx.report.sessions_read = len(plan.read_sessions)
    years = {} if full else _year_summaries(ctx.storage)
    for chunk in chunked(plan, sessions, full=full):
        part = ctx.part()
        _run_chunk(part, chunk, full=full, years=years)
        ctx.report.add(part.report)
        ctx.engine.release()  # the chunk's tables and views: memory does not add up
    if full:
        with stage(ctx.report, "write"):
            days = {f"dt={d.isoformat()}" for d in plan.quote_sessions}
            spec = tables.table(QUOTES)
            assert spec.quarantine is not None
            outputs.drop_outside(ctx, spec, days)
            outputs.drop_outside(ctx, spec.quarantine, days)
            outputs.drop_outside(ctx, tables.table(MONTHLY), {f"month={m}" for m in plan.months})
            outputs.drop_outside(
                ctx, tables.table(HISTORY), {f"year={d.year:04d}" for d in plan.quote_sessions}
            )
    if full or not plan.empty:
        _save_year_summaries(ctx.storage, years)


def _run_chunk(
    ctx: StepContext, plan: Plan, *, full: bool, years: dict[str, dict[str, Any]]
) -> None:
    engine, report = ctx.engine, ctx.report
    spec = tables.table(QUOTES)
    assert spec.quarantine is not None
    with stage(report, "read"):
        frames: dict[str, Any] = {}
        for source in sources():
            keys = ctx.changes.keys_on(source, plan.read_sessions)
            report.raw_rows_read[source] = 0
            if not keys and source != "cotahist":
                frames[source] = None  # no rows to add: one union fewer
                continue
            frames[source] = engine.read_parquet(ctx.storage, keys, schemas.RAW_INPUTS[source])
            report.raw_rows_read[source] = engine.count(frames[source]) if keys else 0
    with stage(report, "transform"):
        normalized = transform.normalize_quotes(
            frames["cotahist"], frames.get("yfinance"), ctx.args.universe
        )
        flagged = engine.persist(quality.flag_quotes(normalized))
        F = sql_api(flagged).F  # noqa: N806
        targets = _on_dates(flagged, plan.quote_sessions, plan.read_sessions)
        counts = _count_by_rule(
            engine.to_arrow(targets.groupBy("rule").agg(F.count(F.lit(1)).alias("n")))
        )
        quotes = engine.persist(transform.refine_quotes(quality.clean_rows(flagged)))
        rows = engine.persist(_on_dates(quotes, plan.quote_sessions, plan.read_sessions))
        months = set(plan.months)
        in_months = (
            quotes
            if {d.strftime("%Y-%m") for d in plan.read_sessions} <= months
            else quotes.filter(F.date_format(F.col("dt"), "yyyy-MM").isin(*sorted(months)))
        )
        monthly = engine.persist(transform.refine_monthly(in_months))
        bad = targets.filter(F.col("rule").isNotNull())
        totals = engine.to_arrow(
            rows.agg(
                F.count(F.lit(1)).cast("bigint").alias("rows"),
                F.sum(transform.INPUT_ROWS).cast("bigint").alias("inputs"),
            )
        ).to_pylist()[0]
        _reconcile(ctx, counts, int(totals["inputs"] or 0))
        report.refined_rows[QUOTES] = int(totals["rows"])
        report.refined_rows[MONTHLY] = engine.count(monthly)
        narrowed = ctx.args.r6_tickers
        r6 = rows.filter(F.col("ticker").isin(*narrowed)) if narrowed else rows
    with stage(report, "write"):
        days = plan.partitions()
        written = outputs.write_history(
            ctx, tables.table(HISTORY), rows, ranges=None if full else plan.ranges
        )
        for key in written.deleted:
            years.pop(parquet_io.partition_values(key).get("year", ""), None)
        for w in written.written:
            years[w.values["year"]] = written.summary[w.values["year"]]
        outputs.write(ctx, spec, r6, partitions=days, parameters=_projection(ctx, years))
        outputs.write(ctx, tables.table(MONTHLY), monthly, partitions=plan.month_partitions())
        outputs.write(ctx, spec.quarantine, bad, partitions=days)


def _on_dates(df: Any, days: list[dt.date], read: list[dt.date]) -> Any:
    """Rows of ``df`` on one of ``days`` (no filter when ``days`` covers every date read)."""
    F = sql_api(df).F  # noqa: N806
    if set(read) <= set(days):
        return df
    if not days:
        return df.filter(F.lit(False))
    return df.filter(F.col("dt").isin(*[F.lit(d) for d in days]))


def _count_by_rule(table: pa.Table) -> dict[str | None, int]:
    """``rule -> rows`` from rows of ``rule, n``."""
    counts: dict[str | None, int] = {}
    for row in table.select(["rule", "n"]).to_pylist():
        counts[row["rule"]] = counts.get(row["rule"], 0) + int(row["n"])
    return counts


def _reconcile(ctx: StepContext, counts: dict[str | None, int], inputs: int) -> None:
    """Record the quote counts by rule and check that the universe's rows = the refined rows'
    inputs + the quarantined rows (``counts``: rows by rule, None = clean)."""
    report = ctx.report
    quarantined = {k: v for k, v in counts.items() if k is not None}
    report.universe_rows = sum(counts.values())
    report.refined_input_rows = counts.get(None, 0)
    report.quarantined["quarantine_quotes"] = dict(sorted(quarantined.items()))
    quality.reconcile(
        QUOTES, report.universe_rows, report.refined_input_rows, sum(quarantined.values()), inputs
    )


# ------------------------------------------------------------------- the R6 table's projection


def _year_summaries(storage: Storage) -> dict[str, dict[str, Any]]:
    """``year -> {"first", "tickers"}`` of every history year file: the cached summaries of the
    years still listed, the others read from their files (two columns)."""
    import io

    import pyarrow.parquet as pq

    prefix = tables.table(HISTORY).location
    found = history.partitions_in(storage.list_keys(prefix), prefix)
    cached: dict[str, dict[str, Any]] = {}
    if storage.exists(YEARS_KEY):
        cached = json.loads(storage.get_bytes(YEARS_KEY)).get("years", {})
    out: dict[str, dict[str, Any]] = {}
    for year, key in sorted(found.items()):
        if year in cached:
            out[year] = cached[year]
        else:
            rows = pq.read_table(io.BytesIO(storage.get_bytes(key)), columns=["dt", "ticker"])
            out[year] = history.summarize(rows)
    return out


def _save_year_summaries(storage: Storage, years: dict[str, dict[str, Any]]) -> None:
    body = {"years": dict(sorted(years.items()))}
    data = (json.dumps(body, sort_keys=True) + "\n").encode()
    if not storage.exists(YEARS_KEY) or storage.get_bytes(YEARS_KEY) != data:
        storage.put_bytes(YEARS_KEY, data)


def _projection(ctx: StepContext, years: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The R6 table's projection from the history layer's years (narrowed to ``--r6_tickers``)."""
    from b3lake.catalog import projection

    firsts = [s["first"] for s in years.values() if s.get("first")]
    tickers = {t for s in years.values() for t in s.get("tickers", [])}
    narrowed = ctx.args.r6_tickers
    if narrowed:
        tickers &= set(narrowed)
    return projection.r6_parameters(min(firsts) if firsts else None, tickers, narrowed)
