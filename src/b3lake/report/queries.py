"""The report's SQL, in Athena's dialect (Trino), and the loader the HTML report and notebook share.

Every query goes through the QueryEngine port, so the same strings run on DuckDB locally
(transpiled) and on Athena. A table that is missing or empty never stops the report: its
:class:`Fetched` carries ``table=None`` and the reason, and the panel says "no data".
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from b3lake.errors import B3LakeError, ConfigError

if TYPE_CHECKING:
    import pyarrow as pa

    from b3lake.query import QueryEngine

# The history layer: the rows of refined_quotes in one file a year (Athena scans 20 partitions
# for 20 years instead of ~5 M; DuckDB reads a few row groups for a ticker). Date ranges also
# bound its ``year`` partition (see :func:`quotes_range`).
QUOTES = "refined_quotes_history"
MONTHLY = "refined_monthly"
PORTFOLIO = "refined_ibov_portfolio"
QUARANTINE = ("quarantine_quotes", "quarantine_ibov_portfolio")
DEFAULT_TOP = 6
DEFAULT_INDEX = "IBOV"

# B3 tickers (PETR4, BOVA11, 1234) and index codes; anything else never reaches a SQL string.
_CODE = re.compile(r"^[A-Z0-9]{1,16}$")


def code_literal(code: str) -> str:
    """A ticker or index code as a SQL string literal (validated, never interpolated raw)."""
    value = code.strip().upper()
    if not _CODE.match(value):
        raise ConfigError("not a ticker code (letters and digits only)", field="ticker", value=code)
    return f"'{value}'"


def _date(day: dt.date) -> str:
    return f"DATE '{day.isoformat()}'"


def _where(*clauses: str) -> str:
    kept = [c for c in clauses if c]
    return f" WHERE {' AND '.join(kept)}" if kept else ""


def dt_range(start: dt.date | None, end: dt.date | None, column: str = "dt") -> str:
    """``dt`` bounds (inclusive) as a predicate; empty when open on both sides."""
    parts = []
    if start is not None:
        parts.append(f"{column} >= {_date(start)}")
    if end is not None:
        parts.append(f"{column} <= {_date(end)}")
    return " AND ".join(parts)


def quotes_range(start: dt.date | None, end: dt.date | None) -> str:
    """:func:`dt_range` plus the same bounds on the history layer's ``year`` partition (Athena
    prunes partitions on partition keys only)."""
    parts = [dt_range(start, end)] if (start or end) else []
    if start is not None:
        parts.append(f"year >= '{start.year:04d}'")
    if end is not None:
        parts.append(f"year <= '{end.year:04d}'")
    return " AND ".join(parts)


def month_range(start: dt.date | None, end: dt.date | None) -> str:
    """The months touching ``start..end`` (``month`` is a 'YYYY-MM' string partition)."""
    parts = []
    if start is not None:
        parts.append(f"month >= '{start:%Y-%m}'")
    if end is not None:
        parts.append(f"month <= '{end:%Y-%m}'")
    return " AND ".join(parts)


def _in(tickers: list[str]) -> str:
    return f"ticker IN ({', '.join(code_literal(t) for t in tickers)})"


def top_tickers_sql(
    start: dt.date | None, end: dt.date | None, limit: int = DEFAULT_TOP, min_sessions: int = 1
) -> str:
    """The most traded tickers in the range that traded in at least ``min_sessions`` sessions
    (the report's default selection: a one-off block trade should not crowd out the blue chips)."""
    return (
        "SELECT ticker, sum(traded_value) AS traded_value, count(DISTINCT dt) AS sessions "
        f"FROM {QUOTES}{_where(quotes_range(start, end))} GROUP BY ticker "
        f"HAVING count(DISTINCT dt) >= {int(min_sessions)} "
        f"ORDER BY traded_value DESC, ticker LIMIT {int(limit)}"
    )


def quotes_sql(tickers: list[str], start: dt.date | None, end: dt.date | None) -> str:
    """Daily bars with the refine job's moving averages, for the price panels."""
    return (
        "SELECT dt, ticker, source, name, open, high, low, close, volume, traded_value, "
        "trades, ma_5, ma_7, ma_21, pct_change "
        f"FROM {QUOTES}{_where(_in(tickers), quotes_range(start, end))} "
        "ORDER BY ticker, dt, source"
    )


def monthly_sql(tickers: list[str], start: dt.date | None, end: dt.date | None) -> str:
    """Monthly aggregates for the selected tickers."""
    return (
        "SELECT month, ticker, source, sessions, total_volume, total_traded_value, "
        "first_close, last_close, monthly_return "
        f"FROM {MONTHLY}{_where(_in(tickers), month_range(start, end))} "
        "ORDER BY month, ticker, source"
    )


def portfolio_sql(end: dt.date | None = None, index: str = DEFAULT_INDEX) -> str:
    """The index's latest theoretical portfolio (on or before ``end``), one row per constituent."""
    idx = code_literal(index)
    inner = _where(f'"index" = {idx}', dt_range(None, end))
    return (
        'SELECT dt, "index", ticker, asset, sector, share_type, weight, theoretical_quantity, '
        f'sector_weight FROM {PORTFOLIO} WHERE "index" = {idx} '
        f"AND dt = (SELECT max(dt) FROM {PORTFOLIO}{inner}) ORDER BY weight DESC, ticker"
    )


def sessions_sql(start: dt.date | None, end: dt.date | None) -> str:
    """Rows and tickers per session: the coverage the data-quality panel shows."""
    return (
        "SELECT dt, count(*) AS n_rows, count(DISTINCT ticker) AS tickers "
        f"FROM {QUOTES}{_where(quotes_range(start, end))} GROUP BY dt ORDER BY dt"
    )


def quarantine_sql(table: str, start: dt.date | None, end: dt.date | None) -> str:
    """Rejected rows by rule for one quarantine table."""
    if table not in QUARANTINE:
        raise ConfigError("not a quarantine table", field="table", value=table)
    return (
        "SELECT rule, count(*) AS n_rows, min(dt) AS first_dt, max(dt) AS last_dt "
        f"FROM {table}{_where(dt_range(start, end))} GROUP BY rule ORDER BY n_rows DESC, rule"
    )


# Corporate actions (issue 15): the adjusted view, its factors and the jumps nobody explained.
ADJUSTED = "adjusted_quotes"
FACTORS = "corporate_action_factors"
JUMPS = "quality_unexplained_jumps"
CA_FINDINGS = "quality_corporate_actions"
ADJUSTED_TOP = 6


def adjusted_sql(start: dt.date | None, end: dt.date | None, limit: int = ADJUSTED_TOP) -> str:
    """Unadjusted and adjusted closes of the tickers with the most applied events in the range,
    for the adjusted-prices panel (the charts keep one source per ticker)."""
    events = _where(dt_range(start, end, "ex_date"))
    rows = _where(dt_range(start, end, "a.dt"))
    return (
        "SELECT a.dt, a.ticker, a.source, a.close, a.adj_close, a.adj_factor "
        f"FROM {ADJUSTED} a JOIN (SELECT ticker, count(*) AS n FROM {FACTORS}{events} "
        f"GROUP BY ticker ORDER BY n DESC, ticker LIMIT {int(limit)}) t ON t.ticker = a.ticker"
        f"{rows} "
        "ORDER BY a.ticker, a.dt, a.source"
    )


def factors_sql(start: dt.date | None, end: dt.date | None) -> str:
    """The applied events (one row per ticker and ex-date) in the range."""
    return (
        "SELECT ticker, ex_date, cash, cash_factor, share_factor, factor, adj_factor "
        f"FROM {FACTORS}{_where(dt_range(start, end, 'ex_date'))} ORDER BY ticker, ex_date"
    )


def jumps_sql(start: dt.date | None, end: dt.date | None, limit: int = 200) -> str:
    """Close-to-close moves beyond the thresholds that no event explains."""
    return (
        "SELECT dt, ticker, source, prev_close, close, ratio, adj_ratio, events_on_date "
        f"FROM {JUMPS}{_where(dt_range(start, end))} ORDER BY dt, ticker, source LIMIT {int(limit)}"
    )


def ca_findings_sql() -> str:
    """Cash events whose factor disagrees with B3's own numbers, by rule."""
    return f"SELECT rule, count(*) AS n_rows FROM {CA_FINDINGS} GROUP BY rule ORDER BY rule"


# More of the market (issue 23): index closes, the DI x pré curve, options.
INDEX_HISTORY = "index_history"
INDEX_QUALITY = "quality_index_levels"
INDEX_CLOSES = "quality_index_closes"
CURVE = "di_pre_curve"
OPTIONS = "refined_options"
OPTIONS_TOP = 10


def _codes_in(column: str, codes: list[str] | None) -> str:
    return f"{column} IN ({', '.join(code_literal(c) for c in codes)})" if codes else ""


def index_history_sql(indexes: list[str] | None, start: dt.date | None, end: dt.date | None) -> str:
    """Each index's close (index statistics) and the index report's close, over the range."""
    where = _where(_codes_in('"index"', indexes), dt_range(start, end))
    return (
        'SELECT dt, "index", close, pct_change, report_close '
        f'FROM {INDEX_HISTORY}{where} ORDER BY "index", dt'
    )


def index_quality_sql(start: dt.date | None, end: dt.date | None) -> str:
    """Index statistics rows that are not a session's close, by rule."""
    return (
        "SELECT rule, count(*) AS n_rows, min(dt) AS first_dt, max(dt) AS last_dt "
        f"FROM {INDEX_QUALITY}{_where(dt_range(start, end))} GROUP BY rule ORDER BY rule"
    )


def index_closes_sql(start: dt.date | None, end: dt.date | None, limit: int = 100) -> str:
    """Sessions where the index report and the index statistics disagree on a close."""
    return (
        'SELECT dt, "index", report_close, levels_close, difference '
        f'FROM {INDEX_CLOSES}{_where(dt_range(start, end))} ORDER BY dt, "index" LIMIT {int(limit)}'
    )


def curve_sql(start: dt.date | None, end: dt.date | None) -> str:
    """The DI x pré curve of the last session in the range and of the first, vertex by vertex."""
    bounds = _where(dt_range(start, end))
    return (
        "SELECT dt, business_days, calendar_days, rate, discount_factor "
        f"FROM {CURVE} WHERE dt IN ((SELECT min(dt) FROM {CURVE}{bounds}), "
        f"(SELECT max(dt) FROM {CURVE}{bounds})) ORDER BY dt, business_days"
    )


def options_sql(end: dt.date | None, limit: int = OPTIONS_TOP) -> str:
    """The last session's options (on or before ``end``) per underlying: series, trades, value
    of calls and puts, the most traded underlyings first."""
    last = f"(SELECT max(dt) FROM {OPTIONS}{_where(dt_range(None, end))})"
    return (
        "SELECT dt, underlying, count(*) AS series, sum(trades) AS trades, "
        "sum(CASE WHEN type = 'call' THEN traded_value ELSE 0 END) AS call_value, "
        "sum(CASE WHEN type = 'put' THEN traded_value ELSE 0 END) AS put_value, "
        "sum(traded_value) AS traded_value "
        f"FROM {OPTIONS} WHERE dt = {last} GROUP BY dt, underlying "
        f"ORDER BY traded_value DESC, underlying LIMIT {int(limit)}"
    )


@dataclass
class Fetched:
    """A query's result, or why there is none (missing table, no rows, engine error)."""

    name: str
    sql: str
    table: pa.Table | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.table is not None and self.table.num_rows > 0


def fetch(engine: QueryEngine, name: str, sql: str) -> Fetched:
    """Run one query; a B3LakeError (QueryError on a missing table, ...) becomes a reason."""
    try:
        table = engine.query(sql)
    except B3LakeError as exc:
        # The engine's own words (e.g. "Table with name quarantine_quotes does not exist"),
        # without the SQL the error's source repeats.
        return Fetched(name, sql, None, exc.message)
    if table.num_rows == 0:
        return Fetched(name, sql, table, "no rows")
    return Fetched(name, sql, table, None)


@dataclass
class ReportData:
    """Everything the report draws, fetched once; the notebook inspects the same object."""

    tickers: list[str]
    start: dt.date | None
    end: dt.date | None
    quotes: Fetched
    monthly: Fetched
    portfolio: Fetched
    sessions: Fetched
    quarantine: dict[str, Fetched]
    session_dates: list[dt.date] = field(default_factory=list)
    # Sessions of the B3 calendar in the range with no refined quote; None when not computed.
    missing_sessions: list[dt.date] | None = None
    calendar_note: str | None = None
    notes: list[str] = field(default_factory=list)
    # Corporate actions: adjusted closes, applied factors, unexplained jumps, B3 cross-checks.
    adjusted: Fetched | None = None
    factors: Fetched | None = None
    jumps: Fetched | None = None
    ca_findings: Fetched | None = None
    # Index closes and their checks, the DI x pré curve, options (issue 23).
    index_history: Fetched | None = None
    index_quality: Fetched | None = None
    index_closes: Fetched | None = None
    curve: Fetched | None = None
    options: Fetched | None = None

    @property
    def first_session(self) -> dt.date | None:
        return self.session_dates[0] if self.session_dates else None

    @property
    def last_session(self) -> dt.date | None:
        return self.session_dates[-1] if self.session_dates else None


def pick_tickers(
    engine: QueryEngine,
    tickers: list[str] | None,
    default: list[str] | None,
    start: dt.date | None,
    end: dt.date | None,
    top: int = DEFAULT_TOP,
    min_sessions: int = 1,
) -> tuple[list[str], str | None]:
    """Explicit tickers, else the configured ones, else the top ``top`` by traded value."""
    for chosen in (tickers, default):
        if chosen:
            names = [t.strip().upper() for t in chosen if t.strip()]
            for t in names:
                code_literal(t)
            return list(dict.fromkeys(names)), None
    ranked = fetch(engine, "top tickers", top_tickers_sql(start, end, top, min_sessions))
    if not ranked.ok or ranked.table is None:
        return [], ranked.reason
    return [str(t) for t in ranked.table.column("ticker").to_pylist()], None


def missing_in_calendar(
    dates: list[dt.date], start: dt.date, end: dt.date
) -> tuple[list[dt.date] | None, str | None]:
    """B3 sessions in ``start..end`` with no data; (None, why) when the calendar cannot say."""
    from b3lake.sources.calendar import missing_sessions

    try:
        return missing_sessions(dates, start, end), None
    except B3LakeError as exc:
        return None, str(exc)


def load(
    engine: QueryEngine,
    *,
    tickers: list[str] | None = None,
    default_tickers: list[str] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    index: str = DEFAULT_INDEX,
    top: int = DEFAULT_TOP,
    indexes: list[str] | None = None,
) -> ReportData:
    """Run every report query once; nothing here raises for a missing or empty table."""
    if start is not None and end is not None and start > end:
        raise ConfigError("start is after end", field="start", value=f"{start}..{end}")
    sessions = fetch(engine, "sessions", sessions_sql(start, end))
    dates: list[dt.date] = []
    if sessions.ok and sessions.table is not None:
        dates = sorted(sessions.table.column("dt").to_pylist())
    # Default tickers must have traded in at least half the sessions of the range.
    chosen, why = pick_tickers(
        engine, tickers, default_tickers, start, end, top, max(1, (len(dates) + 1) // 2)
    )
    notes = [f"no tickers to chart: {why}"] if why else []
    if chosen:
        quotes = fetch(engine, QUOTES, quotes_sql(chosen, start, end))
        monthly = fetch(engine, MONTHLY, monthly_sql(chosen, start, end))
    else:
        quotes = Fetched(QUOTES, "", None, why or "no tickers")
        monthly = Fetched(MONTHLY, "", None, why or "no tickers")
    portfolio = fetch(engine, PORTFOLIO, portfolio_sql(end, index))
    quarantine = {t: fetch(engine, t, quarantine_sql(t, start, end)) for t in QUARANTINE}
    missing: list[dt.date] | None = None
    calendar_note: str | None = None
    lo, hi = start or (dates[0] if dates else None), end or (dates[-1] if dates else None)
    if lo is not None and hi is not None:
        missing, calendar_note = missing_in_calendar(dates, lo, hi)
    else:
        calendar_note = "no sessions in the lake to check against the B3 calendar"
    adjusted = fetch(engine, ADJUSTED, adjusted_sql(start, end))
    factors = fetch(engine, FACTORS, factors_sql(start, end))
    jumps = fetch(engine, JUMPS, jumps_sql(start, end))
    ca_findings = fetch(engine, CA_FINDINGS, ca_findings_sql())
    market = {
        "index_history": fetch(engine, INDEX_HISTORY, index_history_sql(indexes, start, end)),
        "index_quality": fetch(engine, INDEX_QUALITY, index_quality_sql(start, end)),
        "index_closes": fetch(engine, INDEX_CLOSES, index_closes_sql(start, end)),
        "curve": fetch(engine, CURVE, curve_sql(start, end)),
        "options": fetch(engine, OPTIONS, options_sql(end)),
    }
    return ReportData(
        **market,
        adjusted=adjusted,
        factors=factors,
        jumps=jumps,
        ca_findings=ca_findings,
        tickers=chosen,
        start=start,
        end=end,
        quotes=quotes,
        monthly=monthly,
        portfolio=portfolio,
        sessions=sessions,
        quarantine=quarantine,
        session_dates=dates,
        missing_sessions=missing,
        calendar_note=calendar_note,
        notes=notes,
    )
