"""The refine job's entry point: ``main(argv)`` with exactly the argv Glue passes.

Reads raw Parquet through the Storage port, runs the transform on an engine, checks rows,
writes ``refined/…`` and ``quarantine/…`` partitions (one ``part-0.parquet`` each) and
registers tables and partitions in the catalog.

Incremental (``--mode incremental``, the default; one session ``D`` from ``--dt`` or the
``--raw_key`` of the event):

* quote targets: ``D`` and the up to 21 sessions after it (their windows include ``D``; when
  ``D`` is the newest session that is just ``D``);
* month targets: the months of those sessions;
* read: every raw session from 21 sessions before the first target month's first session to
  the last target month's last session (the windows of every row the job writes are complete);
* write: the target sessions' quote partitions, the target months, ``D``'s portfolio and the
  quarantine partitions of the same dates; objects under those partitions that this run did not
  write (a ticker that vanished from a corrected session) are deleted.

``--mode full`` reads everything, rewrites everything and deletes every other refined object.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from b3lake import tables
from b3lake.jobs.refine import quality, schemas, transform
from b3lake.jobs.refine.args import RefineArgs
from b3lake.jobs.refine.lake_io import conform
from b3lake.jobs.refine.lake_io import raw_index as _raw_index
from b3lake.lake import layout, manifest
from b3lake.tables import TableSpec, arrow

if TYPE_CHECKING:
    import pyarrow as pa

    from b3lake.catalog import Catalog
    from b3lake.engines import Engine
    from b3lake.storage import Storage

# The arguments the job reads (Glue passes each as ``--name value``), declared by RefineArgs.
JOB_ARGUMENTS: tuple[str, ...] = RefineArgs.names()
#: The quote transform's raw sources, as the refined_quotes spec declares them.
QUOTE_SOURCES = tables.table("refined_quotes").inputs


@dataclass(frozen=True)
class RefineOptions:
    lake: str
    run_date: dt.date
    mode: str = "incremental"
    day: dt.date | None = None
    raw_key: str | None = None
    catalog_database: str = "default"
    universe: transform.Universe = transform.Universe()
    run_id: str | None = None  # Glue's --JOB_RUN_ID: the build recorded in the raw manifest
    # The tickers the R6 table (refined/quotes/dt=…/ticker=…/) holds; () = the whole universe.
    # The history layer and the other tables always hold the whole universe.
    r6_tickers: tuple[str, ...] = ()


def parse_args(argv: list[str]) -> RefineOptions:
    """Options from Glue's argv (``script --JOB_ID … --dt … --lake …``); Glue's own are ignored."""
    args = RefineArgs.from_argv(argv)
    # Glue adds its own --JOB_RUN_ID; the run records it in the manifest of what it consumed.
    glue = argparse.ArgumentParser(prog="refine", add_help=False, allow_abbrev=False)
    glue.add_argument("--JOB_RUN_ID", dest="job_run_id", default=None)
    known, _ = glue.parse_known_args(argv[1:])
    # run_date is an argument so a re-run is reproducible; without one, the UTC date at start.
    return RefineOptions(
        lake=args.lake,
        run_date=args.run_date or dt.datetime.now(dt.UTC).date(),
        mode=args.mode,
        day=args.dt,
        raw_key=args.raw_key,
        catalog_database=args.catalog_database,
        universe=args.universe,
        run_id=known.job_run_id,
        r6_tickers=args.r6_tickers,
    )


# ----------------------------------------------------------------------------------- planning


@dataclass(frozen=True)
class Plan:
    """What one run reads and rewrites (sorted dates)."""

    read_sessions: list[dt.date]
    quote_sessions: list[dt.date]
    months: list[str]
    portfolio_dates: list[dt.date]
    #: Sessions whose raw objects are all gone: their refined partitions are deleted.
    removed_sessions: list[dt.date] = field(default_factory=list)
    #: ``(first, last)`` of each run of consecutive target (or removed) sessions; empty: one run
    #: from the first quote session to the last (a plan of ``plan_run``).
    ranges: list[tuple[dt.date, dt.date]] = field(default_factory=list)

    def target_ranges(self) -> list[tuple[dt.date, dt.date]]:
        if self.ranges:
            return list(self.ranges)
        days = sorted([*self.quote_sessions, *self.removed_sessions])
        return [(days[0], days[-1])] if days else []


def _month(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def plan_run(
    sessions: list[dt.date],
    portfolio_dates: list[dt.date],
    *,
    mode: str,
    day: dt.date | None,
    lookback: int = transform.LOOKBACK_SESSIONS,
) -> Plan:
    """The sessions to read and the partitions to rewrite (see the module docstring)."""
    if mode == "full":
        return Plan(
            list(sessions),
            list(sessions),
            sorted({_month(s) for s in sessions}),
            list(portfolio_dates),
        )
    assert day is not None
    portfolio = [day] if day in portfolio_dates else []
    if day not in sessions:
        return Plan([], [], [], portfolio)
    i = sessions.index(day)
    targets = sessions[i : i + 1 + lookback]
    months = sorted({_month(s) for s in targets})
    first = bisect.bisect_left(sessions, dt.date.fromisoformat(months[0] + "-01"))
    last_month = months[-1]
    last = max(j for j, s in enumerate(sessions) if _month(s) == last_month)
    read = sessions[max(0, first - lookback) : last + 1]
    return Plan(read, targets, months, portfolio)


def plan_changes(
    sessions: list[dt.date],
    portfolio_dates: list[dt.date],
    *,
    changed: set[dt.date],
    changed_portfolio: set[dt.date],
    lookback: int = transform.LOOKBACK_SESSIONS,
) -> Plan:
    """One plan over every changed session (a coalesced run; see the module docstring).

    Quote targets: each changed session and the up to ``lookback`` sessions after it (for a
    session whose raw objects are gone: the sessions after it, and its partitions are removed).
    Months: the targets' (and removed sessions') months. Read: for each target month, its
    sessions and the ``lookback`` sessions before it; the union may have gaps, which is safe:
    the session number ``_s`` is the dense rank of the dates read, so a row whose previous one
    lies beyond a gap is more than ``lookback`` sessions away and its windows are null, as they
    are in a full run.
    """
    targets: set[dt.date] = set()
    removed: list[dt.date] = []
    for day in sorted(changed):
        i = bisect.bisect_left(sessions, day)
        if i < len(sessions) and sessions[i] == day:
            targets.update(sessions[i : i + 1 + lookback])
        else:
            removed.append(day)
            targets.update(sessions[i : i + lookback])
    quote_sessions = sorted(targets)
    months = sorted({_month(s) for s in [*quote_sessions, *removed]})
    read = _read_for_months(months, sessions, lookback)
    portfolio = sorted(d for d in changed_portfolio if d in set(portfolio_dates))
    ranges = _consecutive_ranges(sorted({*quote_sessions, *removed}), sessions)
    return Plan(read, quote_sessions, months, portfolio, removed, ranges)


def _read_for_months(months: list[str], sessions: list[dt.date], lookback: int) -> list[dt.date]:
    """The sessions of each month and the ``lookback`` sessions before it (sorted, unique)."""
    read: set[dt.date] = set()
    for month in months:
        first = bisect.bisect_left(sessions, dt.date.fromisoformat(month + "-01"))
        last = first
        while last < len(sessions) and _month(sessions[last]) == month:
            last += 1
        if last > first:
            read.update(sessions[max(0, first - lookback) : last])
    return sorted(read)


def _consecutive_ranges(
    days: list[dt.date], sessions: list[dt.date]
) -> list[tuple[dt.date, dt.date]]:
    """``(first, last)`` of each run of ``days`` with no lake session between two of them."""
    ranges: list[tuple[dt.date, dt.date]] = []
    for day in days:
        if ranges and bisect.bisect_right(sessions, ranges[-1][1]) >= bisect.bisect_left(
            sessions, day
        ):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


# ------------------------------------------------------------------------------------- report


@dataclass
class RefineReport:
    mode: str
    dt: str | None
    run_date: str
    engine: str
    raw_rows_read: dict[str, int] = field(default_factory=dict)
    sessions_read: int = 0
    universe_rows: int = 0
    refined_input_rows: int = 0
    refined_rows: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, dict[str, int]] = field(default_factory=dict)
    partitions_written: dict[str, int] = field(default_factory=dict)
    objects_deleted: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    pending_objects: int = 0  # raw objects new, replaced or removed since the manifest
    manifest_shards_written: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@contextmanager
def _stage(report: RefineReport, name: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        report.seconds[name] = round(report.seconds.get(name, 0.0) + time.perf_counter() - start, 4)


# ---------------------------------------------------------------------------------- helpers


def _between(table: pa.Table, first: dt.date, last: dt.date) -> pa.Table:
    """Rows of ``table`` with ``first <= dt <= last``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    day = table.column("dt")
    low, high = pc.min_max(day).values()
    if table.num_rows and low.as_py() >= first and high.as_py() <= last:
        return table  # the whole table (a full rebuild): no filtered copy
    return table.filter(
        pc.and_(
            pc.greater_equal(day, pa.scalar(first, pa.date32())),
            pc.less_equal(day, pa.scalar(last, pa.date32())),
        )
    )


def _count_by_rule(table: pa.Table) -> dict[str | None, int]:
    """``rule -> rows`` from rows of ``rule, n`` (summed over any other column, e.g. ``dt``)."""
    counts: dict[str | None, int] = {}
    for row in table.select(["rule", "n"]).to_pylist():
        counts[row["rule"]] = counts.get(row["rule"], 0) + int(row["n"])
    return counts


def _on_dates(table: pa.Table, days: list[dt.date], column: str = "dt") -> pa.Table:
    """Rows of ``table`` whose ``column`` is one of ``days`` (the table itself if all are)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if table.num_rows == 0:
        return table
    wanted = pa.array(days, pa.date32())
    present = pc.unique(table.column(column))
    if pc.all(pc.is_in(present, value_set=wanted)).as_py():
        return table  # e.g. a full rebuild: no filtered copy
    return table.filter(pc.is_in(table.column(column), value_set=wanted))


def _in_months(table: pa.Table, months: list[str]) -> pa.Table:
    """Rows of ``table`` whose ``dt`` lies in one of ``months`` (``YYYY-MM``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if table.num_rows == 0:
        return table
    month = pc.strftime(table.column("dt"), format="%Y-%m")
    keep = pc.is_in(month, value_set=pa.array(months, pa.string()))
    if pc.all(keep).as_py():
        return table
    return table.filter(keep)


def _index_keys(listed: dict[str, str]) -> dict[dt.date, list[str]]:
    """``dt -> keys`` of one raw source's listing."""
    found: dict[dt.date, list[str]] = defaultdict(list)
    for key in listed:
        found[layout.parse_raw_key(key).dt].append(key)
    return dict(found)


def _plan(
    options: RefineOptions,
    raw: dict[str, dict[dt.date, list[str]]],
    listed: dict[str, dict[str, str]],
    storage: Storage,
    report: RefineReport,
) -> tuple[Plan, dict[str, str], list[str]]:
    """The run's plan, the raw objects it consumes (``key -> ETag``) and the manifest entries
    of objects that are gone.

    ``--mode full``: everything. Incremental: every session whose raw objects changed since the
    manifest last recorded them (new, replaced or removed), and, for a run started by hand with
    ``--dt D`` (no ``--raw_key``), ``D`` itself. A run started by an event (``--raw_key``) does
    not force its session: if an earlier run of the same burst consumed it, nothing is pending
    and the run ends without writing.
    """
    sessions = sorted({d for s in QUOTE_SOURCES for d in raw[s]})
    portfolio_dates = sorted(raw["ibov_portfolio"])
    every = {k: e for source in listed.values() for k, e in source.items()}
    previous = manifest.load(storage)
    changed, removed = manifest.changes(every, previous)
    report.pending_objects = len(changed) + len(removed)
    if options.mode == "full":
        plan = plan_run(sessions, portfolio_dates, mode="full", day=None)
        return plan, every, removed
    quote_days: set[dt.date] = set()
    portfolio_days: set[dt.date] = set()
    for key in [*changed, *removed]:
        obj = layout.parse_raw_key(key)
        (portfolio_days if obj.source == "ibov_portfolio" else quote_days).add(obj.dt)
    if options.day is not None and options.raw_key is None:
        if any(options.day in raw[s] for s in QUOTE_SOURCES):
            quote_days.add(options.day)
        portfolio_days.add(options.day)
    plan = plan_changes(
        sessions, portfolio_dates, changed=quote_days, changed_portfolio=portfolio_days
    )
    written_days = {*plan.quote_sessions, *plan.portfolio_dates}
    consumed = {k: e for k, e in every.items() if layout.parse_raw_key(k).dt in written_days}
    return plan, consumed, removed


def _removal_outputs(plan: Plan) -> list[_Output]:
    """Empty outputs that own the partitions of sessions whose raw data are all gone."""
    gone = [f"dt={d.isoformat()}/" for d in plan.removed_sessions]
    quotes = tables.table("refined_quotes")
    assert quotes.quarantine is not None
    owned = [
        (quotes, gone),
        (tables.table("refined_monthly"), [f"month={m}/" for m in plan.months]),
        (quotes.quarantine, gone),
    ]
    outputs = [
        _Output(spec, arrow.full_schema(spec).empty_table(), rewritten) for spec, rewritten in owned
    ]
    return outputs


@dataclass
class _Output:
    spec: TableSpec  # the table (name, location, keys, schema, sort order)
    table: pa.Table
    rewritten: list[str]  # partition prefixes (relative) this run owns
    # The R6 table's universe when narrowed: its catalog properties (partition projection).
    r6_tickers: tuple[str, ...] | None = None


def _write(
    storage: Storage,
    catalog: Catalog,
    out: _Output,
    report: RefineReport,
    full: bool,
    *,
    engine: Engine | None = None,
) -> None:
    from b3lake.lake import parquet_io

    spec = out.spec
    full_schema = arrow.full_schema(spec)
    owned = [spec.location] if full else [spec.location + p for p in out.rewritten]
    if _is_frame(out.table):
        # Spark's own writer on the executors (engines/spark.py): one file per partition,
        # dynamic overwrite of exactly these partitions; stale = partitions it did not replace.
        frame = engine.check_schema(out.table, full_schema, spec.name)  # type: ignore[union-attr]
        written, stale = engine.write_partitions(  # type: ignore[union-attr]
            frame, storage, spec.location, spec.keys, sort_by=list(spec.sort_by), owned=owned
        )
    else:
        table = conform(out.table, full_schema, spec.name)
        written = parquet_io.write_partitions(
            storage, spec.location, table, spec.keys, sort_by=list(spec.sort_by)
        )
        stale = parquet_io.stale_keys(storage, owned, [w.key for w in written])
    if stale:
        storage.delete_keys(stale)
    report.objects_deleted += len(stale)
    report.partitions_written[spec.name] = len(written)
    parameters = None
    if out.r6_tickers is not None:
        from b3lake.catalog import projection
        from b3lake.errors import CatalogError

        try:
            existing = catalog.get_table(spec.name, partitions=False).parameters
        except CatalogError:
            existing = {}
        parameters = projection.r6_parameters(
            existing,
            sorted({w.values["dt"] for w in written}),
            sorted({w.values["ticker"] for w in written}),
            out.r6_tickers,
        )
    # Cheap and idempotent on every catalog: the local one writes only shards (and table.json)
    # whose bytes change, Glue skips a same-definition table update and ignores partitions that
    # exist already.
    catalog.upsert_table(
        spec.name,
        location=spec.location,
        columns=list(spec.columns),
        partition_keys=list(spec.partition_keys),
        parameters=parameters,
    )
    kept = {tuple(sorted(w.values.items())) for w in written}
    gone = []
    for key in stale:
        values = parquet_io.partition_values(key[len(spec.location) :])
        if tuple(sorted(values.items())) not in kept and values not in gone:
            gone.append(values)
    if gone:
        catalog.drop_partitions(spec.name, gone)
    if written:
        catalog.add_partitions(spec.name, [w.values for w in written])


def _r6_rows(quotes: pa.Table, tickers: tuple[str, ...]) -> pa.Table:
    """The rows of the R6 table: every quote, or those of ``--r6_tickers``."""
    if not tickers:
        return quotes
    import pyarrow as pa
    import pyarrow.compute as pc

    return quotes.filter(pc.is_in(quotes.column("ticker"), value_set=pa.array(tickers)))


def _write_history(
    storage: Storage,
    catalog: Catalog,
    quotes: pa.Table,
    plan: Plan,
    report: RefineReport,
    full: bool,
    *,
    engine: Engine | None = None,
) -> None:
    """The history layer (``refined_quotes_history``) from the rows the R6 table gets."""
    from b3lake.lake import history

    spec = tables.table(history.TABLE)
    name, prefix, schema = spec.name, spec.location, arrow.file_schema(spec)
    if _is_frame(quotes):
        _write_history_frame(engine, storage, catalog, quotes, plan, report, full)
        return
    # One write per run of consecutive target sessions (a coalesced plan's targets may have
    # gaps, whose rows must stay).
    ranges: list[tuple[dt.date, dt.date] | None] = [None] if full else [*plan.target_ranges()]
    results = [
        history.write(
            storage,
            prefix,
            quotes if r is None else _between(quotes, r[0], r[1]),
            schema,
            replace=r,
        )
        for r in ranges
    ]
    # A partition written by two ranges is one partition (the last write holds both).
    last_write = {w[0]: w for res in results for w in res.written}
    result = history.HistoryWrite(
        list(last_write.values()),
        [d for res in results for d in res.deleted if d[0] not in last_write],
        sum(res.requests for res in results),
    )
    deleted = list(result.deleted)
    if full:  # every other year file goes (years no longer in the raw data)
        kept = {key for _, key, _ in result.written}
        found = history.partitions_in(storage.list_keys(prefix), prefix)
        stale = {v: k for v, k in found.items() if k not in kept}
        others = [k for k in storage.list_keys(prefix) if k not in kept and k not in stale.values()]
        storage.delete_keys(sorted([*stale.values(), *others]))
        report.objects_deleted += len(others)
        deleted += sorted(stale.items())
    report.objects_deleted += len(deleted)
    report.partitions_written[name] = len(result.written)
    catalog.upsert_table(
        name,
        location=prefix,
        columns=list(spec.columns),
        partition_keys=list(spec.partition_keys),
    )
    if deleted:
        catalog.drop_partitions(name, [{"year": v} for v, _ in deleted])
    if result.written:
        catalog.add_partitions(name, [{"year": v} for v, _, _ in result.written])


def _is_frame(table: Any) -> bool:
    """True for an engine DataFrame (Spark writes it), False for an Arrow table."""
    return not hasattr(table, "num_rows")


def _engine_writes(engine: Engine, storage: Storage) -> bool:
    """True when the engine writes the refined tables itself (Spark, where its writer reaches
    the lake); the embedded engine's tables are written by ``parquet_io`` from Arrow."""
    writes_to = getattr(engine, "writes_to", None)
    return bool(writes_to is not None and writes_to(storage))


def _dates_filter(df: Any, days: list[dt.date], read: list[dt.date], column: str = "dt") -> Any:
    """Rows of ``df`` on one of ``days`` (no filter when ``days`` covers every date read)."""
    if set(read) <= set(days):
        return df
    F = _functions(df)  # noqa: N806
    return df.filter(F.col(column).isin(*[F.lit(d) for d in days]))


def _quotes_as_frames(
    engine: Engine,
    plan: Plan,
    quotes: Any,
    targets: Any,
    counts: dict[str | None, int],
    report: RefineReport,
    r6_tickers: tuple[str, ...] = (),
) -> list[_Output]:
    """The quote outputs as DataFrames (every refined quote, for the history layer, then the
    R6 table, monthly, quarantine), reconciled on aggregates: only counts reach the driver."""
    F = _functions(quotes)  # noqa: N806
    quotes_out = engine.persist(_dates_filter(quotes, plan.quote_sessions, plan.read_sessions))
    month = F.date_format(F.col("dt"), "yyyy-MM")
    months = set(plan.months)
    in_months = (
        quotes
        if {_month(d) for d in plan.read_sessions} <= months
        else quotes.filter(month.isin(*sorted(months)))
    )
    monthly = engine.persist(transform.refine_monthly(in_months))
    bad = _dates_filter(
        targets.filter(F.col("rule").isNotNull()), plan.quote_sessions, plan.read_sessions
    )
    totals = engine.to_arrow(
        quotes_out.agg(
            F.count(F.lit(1)).cast("bigint").alias("rows"),
            F.sum(transform.INPUT_ROWS).cast("bigint").alias("inputs"),
        )
    ).to_pylist()[0]
    _reconcile_quotes(report, counts, int(totals["inputs"] or 0))
    report.refined_rows["refined_quotes"] = int(totals["rows"])
    report.refined_rows["refined_monthly"] = int(monthly.count())
    days = [f"dt={d.isoformat()}/" for d in [*plan.quote_sessions, *plan.removed_sessions]]
    r6 = quotes_out.filter(F.col("ticker").isin(*r6_tickers)) if r6_tickers else quotes_out
    quotes_spec = tables.table("refined_quotes")
    assert quotes_spec.quarantine is not None
    every = _Output(quotes_spec, quotes_out, [])  # the history layer's rows (every ticker)
    return [
        every,
        _Output(quotes_spec, r6, days, r6_tickers),
        _Output(tables.table("refined_monthly"), monthly, [f"month={m}/" for m in plan.months]),
        _Output(quotes_spec.quarantine, bad, days),
    ]


def _write_history_frame(
    engine: Any,
    storage: Storage,
    catalog: Catalog,
    quotes: Any,
    plan: Plan,
    report: RefineReport,
    full: bool,
) -> None:
    """The history layer written by Spark (``SparkEngine.write_history``)."""
    from b3lake.catalog.schema import columns_from_arrow
    from b3lake.lake import history, parquet_io

    name = history.TABLE
    prefix = layout.refined_prefix(name)
    schema = schemas.REFINED_SCHEMAS[name]
    written, stale = engine.write_history(
        quotes, storage, prefix, schema, replace=None if full else plan.target_ranges()
    )
    if stale:
        storage.delete_keys(stale)
    report.objects_deleted += len(stale)
    report.partitions_written[name] = len(written)
    catalog.upsert_table(
        name,
        location=prefix,
        columns=columns_from_arrow(schema),
        partition_keys=columns_from_arrow(schemas.partition_schema(layout.REFINED_TABLES[name][1])),
    )
    kept = {w.values.get("year") for w in written}
    gone = sorted(
        {parquet_io.partition_values(k[len(prefix) :]).get("year", "") for k in stale} - kept
    )
    if gone:
        catalog.drop_partitions(name, [{"year": v} for v in gone if v])
    if written:
        catalog.add_partitions(name, [{"year": w.values["year"]} for w in written])


# --------------------------------------------------------------------------------------- run


def run(
    options: RefineOptions,
    *,
    engine: Engine,
    storage: Storage,
    catalog: Catalog,
) -> RefineReport:
    """One refine run over ``storage`` on ``engine`` (``main`` and the Glue script call it)."""
    report = RefineReport(
        mode=options.mode,
        dt=options.day.isoformat() if options.day else None,
        run_date=options.run_date.isoformat(),
        engine=engine.name,
    )
    full = options.mode == "full"
    with _stage(report, "plan"):
        listed = {s: manifest.list_raw(storage, s) for s in (*QUOTE_SOURCES, "ibov_portfolio")}
        raw = {s: _index_keys(listed[s]) for s in listed}
        plan, consumed, removed = _plan(options, raw, listed, storage, report)
        report.sessions_read = len(plan.read_sessions)
        sessions = sorted({d for s in QUOTE_SOURCES for d in raw[s]})
        large = len(plan.quote_sessions) > INCREMENTAL_CHUNK_SESSIONS
        chunks = year_chunks(plan, sessions) if full or large else []
    if len(chunks) > 1:
        _run_chunks(options, report, chunks, plan, raw, engine, storage, catalog, full=full)
    else:
        _run_plan(options, report, plan, raw, engine, storage, catalog, full)
    _run_registered(options, report, engine, storage, catalog)
    # Corporate actions and adjustment factors: small tables, after the quotes they read.
    with _stage(report, "corporate_actions"):
        from b3lake.jobs.refine import corporate_actions_job

        corporate_actions_job.run_step(
            engine=engine,
            storage=storage,
            catalog=catalog,
            options=options,
            sessions=sessions,
            rewritten=plan.quote_sessions,
            report=report,
        )
    release = getattr(engine, "release", None)
    if release is not None:  # a later run on the same engine starts from nothing cached
        release()
    with _stage(report, "manifest"):
        # Last: what this run refined is consumed only once every partition is written.
        report.manifest_shards_written = manifest.record(
            storage, consumed, removed, run_id=options.run_id or f"run-{report.run_date}"
        )
    return report


def _run_registered(
    options: RefineOptions,
    report: RefineReport,
    engine: Engine,
    storage: Storage,
    catalog: Catalog,
) -> None:
    """The registered tables that refine themselves (``TableSpec.refine``, by ``dt``): each
    reads its raw inputs of the run's session (every session in full mode), refines them on the
    engine and is written like every table (conformed, sorted, stale partitions dropped)."""
    from b3lake.sources import registry as sources

    for spec in tables.refined_tables():
        if spec.refine is None:
            continue
        index = {name: _raw_index(storage, name) for name in spec.inputs}
        days = sorted({d for found in index.values() for d in found})
        if options.mode != "full":
            days = [d for d in days if d == options.day]
        if not days and options.mode != "full":
            continue
        with _stage(report, "read"):
            frames = {
                name: engine.read_parquet(
                    storage,
                    [k for d in days for k in found.get(d, [])],
                    sources.get(name).raw_schema(),
                )
                for name, found in index.items()
            }
        with _stage(report, "transform"):
            rows = engine.to_arrow(spec.refine(frames))
        report.refined_rows[spec.name] = rows.num_rows
        with _stage(report, "write"):
            out = _Output(spec, rows, [f"dt={d.isoformat()}/" for d in days])
            _write(storage, catalog, out, report, options.mode == "full")


def _run_plan(
    options: RefineOptions,
    report: RefineReport,
    plan: Plan,
    raw: dict[str, dict[dt.date, list[str]]],
    engine: Engine,
    storage: Storage,
    catalog: Catalog,
    full: bool,
) -> RefineReport:
    """Read, transform and write one plan (``full``: every other refined object goes)."""
    import pyarrow.compute as pc

    outputs: list[_Output] = []
    if plan.quote_sessions:
        with _stage(report, "read"):
            frames: dict[str, Any] = {}
            for source in QUOTE_SOURCES:
                keys = [k for d in plan.read_sessions for k in raw[source].get(d, [])]
                if not keys and source != "cotahist":
                    # No rows to add: leave the source out of the plan (one union fewer).
                    frames[source] = None
                    report.raw_rows_read[source] = 0
                    continue
                frames[source] = engine.read_parquet(storage, keys, schemas.RAW_INPUTS[source])
                report.raw_rows_read[source] = int(frames[source].count())
        with _stage(report, "transform"):
            first, last = plan.quote_sessions[0], plan.quote_sessions[-1]
            normalized = transform.normalize_quotes(
                frames["cotahist"], frames["yfinance"], options.universe
            )
            flagged = engine.persist(quality.flag_quotes(normalized))
            F = _functions(flagged)  # noqa: N806
            targets = transform.between(flagged, first, last)
            # By date, then cut to the target sessions in Arrow: a coalesced plan's targets may
            # have gaps (each filter step would grow the engine's plan).
            counts = _count_by_rule(
                _on_dates(
                    engine.to_arrow(
                        targets.groupBy("dt", "rule").agg(F.count(F.lit(1)).alias("n"))
                    ),
                    plan.quote_sessions,
                )
            )
            clean = quality.clean_rows(flagged)
            # Never older than the newest session written: days_since_trade is not negative.
            incremental = options.mode != "full"
            run_date = max(options.run_date, last) if incremental else options.run_date
            quotes = transform.refine_quotes(clean, run_date)
        if _engine_writes(engine, storage):
            # Spark: the refined tables stay DataFrames and Spark's writer writes them.
            with _stage(report, "transform"):
                outputs += _quotes_as_frames(
                    engine, plan, quotes, targets, counts, report, options.r6_tickers
                )
            quotes_out = outputs.pop(0).table  # the history layer's rows (every ticker)
        else:
            with _stage(report, "transform"):
                bad = _on_dates(
                    engine.to_arrow(targets.filter(F.col("rule").isNotNull())),
                    plan.quote_sessions,
                )
                # Date ranges are cut in Arrow: each filter step would grow the engine's plan.
                quotes_arrow = engine.to_arrow(quotes)
                monthly_arrow = engine.to_arrow(
                    transform.refine_monthly(
                        engine.from_arrow(_in_months(quotes_arrow, plan.months))
                    )
                )
                quotes_out = _on_dates(quotes_arrow, plan.quote_sessions)
                del quotes_arrow  # the write holds quotes_out only (peak memory of a backfill)
            inputs = int(pc.sum(quotes_out.column(transform.INPUT_ROWS)).as_py() or 0)
            _reconcile_quotes(report, counts, inputs)
            report.refined_rows["refined_quotes"] = quotes_out.num_rows
            report.refined_rows["refined_monthly"] = monthly_arrow.num_rows
            sessions_written = [
                f"dt={d.isoformat()}/" for d in [*plan.quote_sessions, *plan.removed_sessions]
            ]
            quotes_spec = tables.table("refined_quotes")
            assert quotes_spec.quarantine is not None
            outputs += [
                _Output(
                    quotes_spec,
                    _r6_rows(quotes_out, options.r6_tickers),
                    sessions_written,
                    options.r6_tickers,
                ),
                _Output(
                    tables.table("refined_monthly"),
                    monthly_arrow,
                    [f"month={m}/" for m in plan.months],
                ),
                _Output(quotes_spec.quarantine, bad, sessions_written),
            ]

    if plan.portfolio_dates:
        with _stage(report, "read"):
            keys = [k for d in plan.portfolio_dates for k in raw["ibov_portfolio"].get(d, [])]
            frame = engine.read_parquet(storage, keys, schemas.RAW_IBOV_PORTFOLIO)
            report.raw_rows_read["ibov_portfolio"] = int(frame.count())
        with _stage(report, "transform"):
            flagged = engine.persist(quality.flag_portfolio(transform.normalize_portfolio(frame)))
            F = _functions(flagged)  # noqa: N806
            counts = _count_by_rule(
                engine.to_arrow(flagged.groupBy("rule").agg(F.count(F.lit(1)).alias("n")))
            )
            bad = flagged.filter(F.col("rule").isNotNull())
            clean = quality.clean_rows(flagged)
            portfolio = transform.refine_portfolio(clean)
            if _engine_writes(engine, storage):  # Spark writes them: no rows to the driver
                portfolio = engine.persist(portfolio)
            else:
                bad, portfolio = engine.to_arrow(bad), engine.to_arrow(portfolio)
        quarantined = {k: v for k, v in counts.items() if k is not None}
        report.quarantined["quarantine_ibov_portfolio"] = dict(sorted(quarantined.items()))
        clean_rows = counts.get(None, 0)
        # Segments of one ticker collapse into one row: reconcile on rows in, not rows out.
        quality.reconcile(
            "refined_ibov_portfolio",
            sum(counts.values()),
            clean_rows,
            sum(quarantined.values()),
            clean_rows,
        )
        report.refined_rows["refined_ibov_portfolio"] = (
            int(portfolio.count()) if _is_frame(portfolio) else portfolio.num_rows
        )
        rewritten = [f"dt={d.isoformat()}/" for d in plan.portfolio_dates]
        portfolio_spec = tables.table("refined_ibov_portfolio")
        assert portfolio_spec.quarantine is not None
        outputs += [
            _Output(portfolio_spec, portfolio, rewritten),
            _Output(portfolio_spec.quarantine, bad, rewritten),
        ]

    if not plan.quote_sessions and plan.removed_sessions:
        outputs += _removal_outputs(plan)

    with _stage(report, "write"):
        if plan.quote_sessions:
            _write_history(storage, catalog, quotes_out, plan, report, full, engine=engine)
        while outputs:  # each output's table is released once it is written
            _write(storage, catalog, outputs.pop(0), report, full, engine=engine)
    return report


# A full rebuild runs in chunks of this many years (each with its 21-session look-back): the
# transform's memory grows with the rows it holds (1.6 GB at five years in one piece), a chunk's
# does not grow with the lake. The rows are the same: a row depends on 21 sessions back at most.
# One year: 0.9 GB peak for a year of the whole market read natively, 1.4 GB through the Storage
# port's Arrow path (S3); the look-back re-read costs ~8 % of a year's raw reads.
FULL_CHUNK_YEARS = 1
# An incremental plan rewriting more sessions than this runs in the same chunks of years: a lake
# whose raw manifest is lost or was copied to another store (S3's ETags are not the local ones),
# or years of raw landed as one burst, make every session pending at once; in one piece such a
# run held 12 GB at 20 years of the whole market.
INCREMENTAL_CHUNK_SESSIONS = 500


def year_chunks(
    plan: Plan, sessions: list[dt.date], *, years: int | None = None, lookback: int = 21
) -> list[Plan]:
    """A plan cut into plans of ``years`` whole years of its targets (no portfolio): each with
    its targets, removed sessions and months of those years, the sessions those months read, and
    its own ranges (a range across a new year is cut there). For a full plan (every session a
    target) a chunk reads its years' sessions and the look-back before them."""
    per = years or FULL_CHUNK_YEARS
    found = sorted({d.year for d in [*plan.quote_sessions, *plan.removed_sessions]})
    out = []
    for i in range(0, len(found), per):
        group = set(found[i : i + per])
        targets = [d for d in plan.quote_sessions if d.year in group]
        removed = [d for d in plan.removed_sessions if d.year in group]
        months = sorted({_month(d) for d in [*targets, *removed]})
        read = _read_for_months(months, sessions, lookback)
        ranges = _consecutive_ranges(sorted({*targets, *removed}), sessions)
        out.append(Plan(read, targets, months, [], removed, ranges))
    return out


def _merge_reports(total: RefineReport, part: RefineReport) -> None:
    """Add a chunk's counts to ``total`` (sums of every count and time)."""

    def add(into: dict[Any, Any], more: dict[Any, Any]) -> None:
        for key, value in more.items():
            if isinstance(value, dict):
                add(into.setdefault(key, {}), value)
            else:
                into[key] = round(into.get(key, 0) + value, 4)

    add(total.raw_rows_read, part.raw_rows_read)
    add(total.refined_rows, part.refined_rows)
    add(total.quarantined, part.quarantined)
    add(total.partitions_written, part.partitions_written)
    add(total.seconds, part.seconds)
    total.universe_rows += part.universe_rows
    total.refined_input_rows += part.refined_input_rows
    total.objects_deleted += part.objects_deleted


def _reconcile_quotes(report: RefineReport, counts: dict[str | None, int], inputs: int) -> None:
    """Record the quote counts by rule and check that the universe's rows = the refined rows'
    inputs + the quarantined rows (``counts``: rows by rule, None = clean)."""
    quarantined = {k: v for k, v in counts.items() if k is not None}
    report.universe_rows = sum(counts.values())
    report.refined_input_rows = counts.get(None, 0)
    report.quarantined["quarantine_quotes"] = dict(sorted(quarantined.items()))
    quality.reconcile(
        "refined_quotes",
        report.universe_rows,
        report.refined_input_rows,
        sum(quarantined.values()),
        inputs,
    )


def _run_chunks(
    options: RefineOptions,
    report: RefineReport,
    chunks: list[Plan],
    plan: Plan,
    raw: dict[str, dict[dt.date, list[str]]],
    engine: Engine,
    storage: Storage,
    catalog: Catalog,
    *,
    full: bool,
) -> RefineReport:
    """``plan`` as incremental runs of whole years (``chunks``), then its portfolio dates, each
    released before the next: a chunk's memory, the bytes of the plan in one piece (a row reads
    21 sessions back at most, and each chunk reads its months' look-back).

    ``full``: a full rebuild; the portfolio piece replaces every portfolio object, and every
    quote object outside the sessions and months written goes (as one full run would).
    Incremental: every chunk stores the run date the plan in one piece would (see _run_plan).
    """
    from dataclasses import replace

    if not full and plan.quote_sessions:
        options = replace(options, run_date=max(options.run_date, plan.quote_sessions[-1]))
    portfolio = Plan([], [], [], plan.portfolio_dates)
    for chunk in [*chunks, portfolio]:
        part = RefineReport(report.mode, report.dt, report.run_date, report.engine)
        _run_plan(options, part, chunk, raw, engine, storage, catalog, full and chunk is portfolio)
        _merge_reports(report, part)
        release = getattr(engine, "release", None)
        if release is not None:  # the chunk's tables and views: memory does not add up
            release()
    if not full:
        return report
    with _stage(report, "write"):
        days = {f"dt={d.isoformat()}" for d in plan.quote_sessions}
        months = {f"month={m}" for m in plan.months}
        years = {f"year={d.year:04d}" for d in plan.quote_sessions}
        for name, prefix, keep in (
            ("refined_quotes", layout.refined_prefix("refined_quotes"), days),
            ("refined_monthly", layout.refined_prefix("refined_monthly"), months),
            ("quarantine_quotes", layout.quarantine_prefix("refined_quotes"), days),
            ("refined_quotes_history", layout.refined_prefix("refined_quotes_history"), years),
        ):
            _drop_outside(storage, catalog, name, prefix, keep, report)
    return report


def _drop_outside(
    storage: Storage,
    catalog: Catalog,
    name: str,
    prefix: str,
    keep: set[str],
    report: RefineReport,
) -> None:
    """Delete objects under ``prefix`` whose first partition (``dt=…``) is not in ``keep``."""
    from b3lake.lake import parquet_io

    stale = [k for k in storage.list_keys(prefix) if k[len(prefix) :].split("/")[0] not in keep]
    if not stale:
        return
    storage.delete_keys(stale)
    report.objects_deleted += len(stale)
    gone: list[dict[str, str]] = []
    for key in stale:
        values = parquet_io.partition_values(key[len(prefix) :])
        if values and values not in gone:
            gone.append(values)
    if gone:
        catalog.drop_partitions(name, gone)


def _functions(df: Any) -> Any:
    from b3lake.engines import sql_api

    return sql_api(df).F


def main(
    argv: list[str],
    *,
    engine: Engine | None = None,
    storage: Storage | None = None,
    catalog: Catalog | None = None,
) -> RefineReport:
    """Run the job for Glue-style ``argv``; adapters default from ``--lake``/``--catalog_database``."""
    from b3lake.catalog import catalog_for
    from b3lake.storage import storage_for

    options = parse_args(argv)
    # Built from the lake's address (the job is a leaf: it never imports the backends).
    storage = storage or storage_for(options.lake)
    catalog = catalog or catalog_for(storage, options.catalog_database)
    own_engine = engine is None
    if engine is None:
        from b3lake.engines import default_engine

        engine = default_engine()
    try:
        return run(options, engine=engine, storage=storage, catalog=catalog)
    finally:
        if own_engine:
            engine.close()
