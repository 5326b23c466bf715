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

from b3lake.errors import ConfigError, JobError
from b3lake.jobs.refine import quality, schemas, transform
from b3lake.lake import layout

if TYPE_CHECKING:
    import pyarrow as pa

    from b3lake.catalog import Catalog
    from b3lake.engines import Engine
    from b3lake.storage import Storage

# The arguments the job reads (Glue passes each as ``--name value``); the first six are the contract.
JOB_ARGUMENTS: tuple[str, ...] = (
    "dt",
    "raw_key",
    "lake",
    "run_date",
    "mode",
    "catalog_database",
    "tpmerc",
    "codbdi",
    "tickers",
    "exclude_especi",
    "r6_tickers",
)
QUOTE_SOURCES = ("cotahist", "yfinance")


@dataclass(frozen=True)
class RefineOptions:
    lake: str
    run_date: dt.date
    mode: str = "incremental"
    day: dt.date | None = None
    raw_key: str | None = None
    catalog_database: str = "default"
    universe: transform.Universe = transform.Universe()
    # The tickers the R6 table (refined/quotes/dt=…/ticker=…/) holds; () = the whole universe.
    # The history layer and the other tables always hold the whole universe.
    r6_tickers: tuple[str, ...] = ()


def _date_arg(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError("expected YYYY-MM-DD", field=name, value=value) from None


def _codes(value: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if value is None:
        return default
    return tuple(v.strip() for v in value.split(",") if v.strip())


def parse_args(argv: list[str]) -> RefineOptions:
    """Options from Glue's argv (``script --JOB_ID … --dt … --lake …``); Glue's own are ignored."""
    parser = argparse.ArgumentParser(prog="refine", add_help=False, allow_abbrev=False)
    for name in JOB_ARGUMENTS:
        parser.add_argument(f"--{name}", default=None)
    known, _ = parser.parse_known_args(argv[1:])
    if not known.lake:
        raise ConfigError("--lake is required", field="lake")
    mode = known.mode or "incremental"
    if mode not in ("incremental", "full"):
        raise ConfigError("--mode must be incremental or full", field="mode", value=mode)
    day = _date_arg(known.dt, "dt") if known.dt else None
    if known.raw_key:
        key_day = layout.parse_raw_key(known.raw_key).dt
        if day is not None and day != key_day:
            raise ConfigError(
                "--dt and --raw_key name different sessions", field="dt", value=known.dt
            )
        day = key_day
    if mode == "incremental" and day is None:
        raise ConfigError("incremental mode needs --dt or --raw_key", field="dt")
    # run_date is an argument so a re-run is reproducible; without one, the UTC date at start.
    run_date = (
        _date_arg(known.run_date, "run_date") if known.run_date else dt.datetime.now(dt.UTC).date()
    )
    default = transform.Universe()
    universe = transform.Universe(
        tpmerc=_codes(known.tpmerc, default.tpmerc),
        codbdi=_codes(known.codbdi, default.codbdi),
        tickers=_codes(known.tickers, default.tickers),
        exclude_especi=_codes(known.exclude_especi, default.exclude_especi),
    )
    return RefineOptions(
        lake=known.lake,
        run_date=run_date,
        mode=mode,
        day=day,
        raw_key=known.raw_key,
        catalog_database=known.catalog_database or "default",
        universe=universe,
        r6_tickers=_codes(known.r6_tickers, ()),
    )


# ----------------------------------------------------------------------------------- planning


@dataclass(frozen=True)
class Plan:
    """What one run reads and rewrites (sorted dates)."""

    read_sessions: list[dt.date]
    quote_sessions: list[dt.date]
    months: list[str]
    portfolio_dates: list[dt.date]


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


def _raw_index(storage: Storage, source: str) -> dict[dt.date, list[str]]:
    """``dt -> keys`` of a raw source, from a listing of ``raw/<source>/``."""
    found: dict[dt.date, list[str]] = defaultdict(list)
    for key in storage.list_keys(layout.raw_prefix(source)):
        try:
            obj = layout.parse_raw_key(key)
        except Exception:  # noqa: BLE001 - stray objects (markers, temp files) are not raw data
            continue
        found[obj.dt].append(key)
    return dict(found)


def conform(table: pa.Table, schema: pa.Schema, what: str) -> pa.Table:
    """``table`` in ``schema``'s column order and types; JobError if a type drifted."""
    missing = [n for n in schema.names if n not in table.column_names]
    if missing:
        raise JobError(f"engine output lacks columns {missing}", source=what)
    table = table.select(schema.names)
    for f in schema:
        got = table.schema.field(f.name).type
        if got != f.type:
            raise JobError(f"column {f.name} is {got}, the contract says {f.type}", source=what)
    return table.cast(schema)


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
    return {row["rule"]: int(row["n"]) for row in table.to_pylist()}


@dataclass
class _Output:
    name: str  # catalog table name
    prefix: str  # key prefix
    keys: tuple[str, ...]
    file_schema: pa.Schema
    table: pa.Table
    rewritten: list[str]  # partition prefixes (relative) this run owns
    sort_by: list[str]
    # The R6 table's universe when narrowed: its catalog properties (partition projection).
    r6_tickers: tuple[str, ...] | None = None


def _write(
    storage: Storage, catalog: Catalog, out: _Output, report: RefineReport, full: bool
) -> None:
    from b3lake.catalog.schema import columns_from_arrow
    from b3lake.lake import parquet_io

    full_schema = schemas.full_schema(out.file_schema, out.keys)
    table = conform(out.table, full_schema, out.name)
    written = parquet_io.write_partitions(storage, out.prefix, table, out.keys, sort_by=out.sort_by)
    owned = [out.prefix] if full else [out.prefix + p for p in out.rewritten]
    stale = parquet_io.stale_keys(storage, owned, [w.key for w in written])
    if stale:
        storage.delete_keys(stale)
    report.objects_deleted += len(stale)
    report.partitions_written[out.name] = len(written)
    columns = columns_from_arrow(out.file_schema)
    partition_keys = columns_from_arrow(schemas.partition_schema(out.keys))
    parameters = None
    if out.r6_tickers is not None:
        from b3lake.catalog import projection
        from b3lake.errors import CatalogError

        try:
            existing = catalog.get_table(out.name, partitions=False).parameters
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
        out.name,
        location=out.prefix,
        columns=columns,
        partition_keys=partition_keys,
        parameters=parameters,
    )
    kept = {tuple(sorted(w.values.items())) for w in written}
    gone = []
    for key in stale:
        values = parquet_io.partition_values(key[len(out.prefix) :])
        if tuple(sorted(values.items())) not in kept and values not in gone:
            gone.append(values)
    if gone:
        catalog.drop_partitions(out.name, gone)
    if written:
        catalog.add_partitions(out.name, [w.values for w in written])


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
) -> None:
    """The history layer (``refined_quotes_history``) from the rows the R6 table gets."""
    from b3lake.catalog.schema import columns_from_arrow
    from b3lake.lake import history

    name = history.TABLE
    prefix = layout.refined_prefix(name)
    schema = schemas.REFINED_SCHEMAS[name]
    replace = None if full else (plan.quote_sessions[0], plan.quote_sessions[-1])
    result = history.write(storage, prefix, quotes, schema, replace=replace)
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
        columns=columns_from_arrow(schema),
        partition_keys=columns_from_arrow(schemas.partition_schema(layout.REFINED_TABLES[name][1])),
    )
    if deleted:
        catalog.drop_partitions(name, [{"year": v} for v, _ in deleted])
    if result.written:
        catalog.add_partitions(name, [{"year": v} for v, _, _ in result.written])


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
        raw = {s: _raw_index(storage, s) for s in (*QUOTE_SOURCES, "ibov_portfolio")}
        sessions = sorted({d for s in QUOTE_SOURCES for d in raw[s]})
        plan = plan_run(sessions, sorted(raw["ibov_portfolio"]), mode=options.mode, day=options.day)
        from b3lake.jobs.refine.corporate_actions_job import is_event_run

        if is_event_run(options):  # a corporate action changes no quote partition
            plan = Plan([], [], [], [])
        report.sessions_read = len(plan.read_sessions)
        chunks = full_chunks(plan, sessions) if full else []
    if len(chunks) > 1:
        _run_chunks(options, report, chunks, plan, raw, engine, storage, catalog)
    else:
        _run_plan(options, report, plan, raw, engine, storage, catalog, full)
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
    return report


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
            counts = _count_by_rule(
                engine.to_arrow(targets.groupBy("rule").agg(F.count(F.lit(1)).alias("n")))
            )
            bad = engine.to_arrow(targets.filter(F.col("rule").isNotNull()))
            clean = quality.clean_rows(flagged)
            quotes = transform.refine_quotes(clean, options.run_date)
            month_start = dt.date.fromisoformat(plan.months[0] + "-01")
            # Date ranges are cut in Arrow: each filter step would grow the engine's plan.
            quotes_arrow = engine.to_arrow(quotes)
            monthly_arrow = engine.to_arrow(
                transform.refine_monthly(
                    engine.from_arrow(_between(quotes_arrow, month_start, plan.read_sessions[-1]))
                )
            )
            quotes_out = _between(quotes_arrow, first, last)
            del quotes_arrow  # the write holds quotes_out only (peak memory of a backfill)
        quarantined = {k: v for k, v in counts.items() if k is not None}
        report.universe_rows = sum(counts.values())
        report.refined_input_rows = counts.get(None, 0)
        report.quarantined["quarantine_quotes"] = dict(sorted(quarantined.items()))
        quality.reconcile(
            "refined_quotes",
            report.universe_rows,
            report.refined_input_rows,
            sum(quarantined.values()),
            int(pc.sum(quotes_out.column(transform.INPUT_ROWS)).as_py() or 0),
        )
        report.refined_rows["refined_quotes"] = quotes_out.num_rows
        report.refined_rows["refined_monthly"] = monthly_arrow.num_rows
        outputs += [
            _Output(
                "refined_quotes",
                layout.refined_prefix("refined_quotes"),
                layout.REFINED_TABLES["refined_quotes"][1],
                schemas.REFINED_QUOTES,
                _r6_rows(quotes_out, options.r6_tickers),
                [f"dt={d.isoformat()}/" for d in plan.quote_sessions],
                ["source"],
                options.r6_tickers,
            ),
            _Output(
                "refined_monthly",
                layout.refined_prefix("refined_monthly"),
                layout.REFINED_TABLES["refined_monthly"][1],
                schemas.REFINED_MONTHLY,
                monthly_arrow,
                [f"month={m}/" for m in plan.months],
                ["ticker", "source"],
            ),
            _Output(
                "quarantine_quotes",
                layout.quarantine_prefix("refined_quotes"),
                ("dt",),
                schemas.QUARANTINE_QUOTES,
                bad,
                [f"dt={d.isoformat()}/" for d in plan.quote_sessions],
                ["ticker", "source", "record_key", "source_file", "line_number"],
            ),
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
            bad = engine.to_arrow(flagged.filter(F.col("rule").isNotNull()))
            clean = quality.clean_rows(flagged)
            portfolio = engine.to_arrow(transform.refine_portfolio(clean))
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
        report.refined_rows["refined_ibov_portfolio"] = portfolio.num_rows
        rewritten = [f"dt={d.isoformat()}/" for d in plan.portfolio_dates]
        outputs += [
            _Output(
                "refined_ibov_portfolio",
                layout.refined_prefix("refined_ibov_portfolio"),
                layout.REFINED_TABLES["refined_ibov_portfolio"][1],
                schemas.REFINED_IBOV_PORTFOLIO,
                portfolio,
                rewritten,
                ["index", "ticker"],
            ),
            _Output(
                "quarantine_ibov_portfolio",
                layout.quarantine_prefix("refined_ibov_portfolio"),
                ("dt",),
                schemas.QUARANTINE_IBOV_PORTFOLIO,
                bad,
                rewritten,
                ["index", "ticker", "segment", "source_file", "line_number"],
            ),
        ]

    with _stage(report, "write"):
        if plan.quote_sessions:
            _write_history(storage, catalog, quotes_out, plan, report, full)
        while outputs:  # each output's table is released once it is written
            _write(storage, catalog, outputs.pop(0), report, full)
    return report


# A full rebuild runs in chunks of this many years (each with its 21-session look-back): the
# transform's memory grows with the rows it holds (1.6 GB at five years in one piece), a chunk's
# does not grow with the lake. The rows are the same: a row depends on 21 sessions back at most.
# One year: 0.9 GB peak for a year of the whole market read natively, 1.4 GB through the Storage
# port's Arrow path (S3); the look-back re-read costs ~8 % of a year's raw reads.
FULL_CHUNK_YEARS = 1


def full_chunks(
    plan: Plan, sessions: list[dt.date], *, years: int | None = None, lookback: int = 21
) -> list[Plan]:
    """A full plan's quote sessions cut into runs of ``years`` whole years (no portfolio)."""
    per = years or FULL_CHUNK_YEARS
    found = sorted({s.year for s in plan.quote_sessions})
    out = []
    for i in range(0, len(found), per):
        group = set(found[i : i + per])
        targets = [s for s in plan.quote_sessions if s.year in group]
        first = bisect.bisect_left(sessions, targets[0])
        last = bisect.bisect_left(sessions, targets[-1])
        read = sessions[max(0, first - lookback) : last + 1]
        out.append(Plan(read, targets, sorted({_month(s) for s in targets}), []))
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


def _run_chunks(
    options: RefineOptions,
    report: RefineReport,
    chunks: list[Plan],
    plan: Plan,
    raw: dict[str, dict[dt.date, list[str]]],
    engine: Engine,
    storage: Storage,
    catalog: Catalog,
) -> RefineReport:
    """A full rebuild as incremental runs of whole years, then the portfolio, then the removal
    of every quote object outside the sessions and months written (as one full run would)."""
    for chunk in chunks:
        part = RefineReport(report.mode, report.dt, report.run_date, report.engine)
        _run_plan(options, part, chunk, raw, engine, storage, catalog, False)
        _merge_reports(report, part)
        release = getattr(engine, "release", None)
        if release is not None:  # the chunk's tables and views: memory does not add up
            release()
    part = RefineReport(report.mode, report.dt, report.run_date, report.engine)
    portfolio = Plan([], [], [], plan.portfolio_dates)
    _run_plan(options, part, portfolio, raw, engine, storage, catalog, True)
    _merge_reports(report, part)
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
    from b3lake import backends

    options = parse_args(argv)
    storage = storage or backends.storage_for(options.lake)
    catalog = catalog or backends.catalog_for(storage, options.catalog_database)
    own_engine = engine is None
    if engine is None:
        from b3lake.engines import default_engine

        engine = default_engine()
    try:
        return run(options, engine=engine, storage=storage, catalog=catalog)
    finally:
        if own_engine:
            engine.close()
