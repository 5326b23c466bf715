"""The quote transforms, written once in the PySpark DataFrame API: pure ``DataFrame -> DataFrame``.

``refined_quotes`` (and the history layer's rows), ``refined_monthly``; their I/O is
``steps/quotes.py``.

Runs unchanged on Spark (Glue) and on SQLFrame/DuckDB (local): ``sql_api(df)`` hands back the
``functions``/``Window`` of the engine that built the input. No I/O, no awsglue, no clock: a stored value is a function of the raw rows alone.

Decisions (docs and tests rely on them):

* **Windows count the ticker's own sessions** (``Window.partitionBy(ticker, source).orderBy(dt)``)
  but only rows at most ``LOOKBACK_SESSIONS`` (21) market sessions back are used: a lag or moving
  average whose oldest row lies further back is null. That is what makes an incremental run
  (which reads the 21 sessions before the day) give exactly the rows of a full rebuild.
* **Moving averages are null until the window is full** (``ma_21`` needs 21 rows of the ticker);
  they are computed as the explicit sum ``close + lag1 + … + lag(N-1)`` divided by N, so the
  floating-point result is the same on every engine and for every input size (an engine's
  windowed ``avg`` may add in another order).
* **Several rows of one ticker in one session** (e.g. two market codes in the universe) are
  grouped: volume, traded value and trades summed; high = max, low = min; open, close,
  avg_price, isin and name from the row with the largest volume.
* **Monthly return** = last close of the month / the ticker's close before the month (its
  ``close_lag_1`` on its first session of the month) - 1: the close-to-close return an investor
  sees. Null when the previous close is unknown (first month in the lake, or no trade in the
  21 sessions before). ``first_close``/``last_close`` are kept alongside.
* **Sums that feed outputs are exact**: doubles are summed as decimals and cast back, so the
  result does not depend on the engine's summation order (runs are reproducible).
* Every aggregate and ``datediff`` is cast explicitly (DuckDB widens ``sum(bigint)`` to INT128
  and ``datediff`` to bigint).
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from typing import Any

from b3lake.engines import DataFrame, sql_api
from b3lake.jobs.refine import schemas
from b3lake.jobs.refine.args import Universe

DEFAULT_UNIVERSE = Universe()

LOOKBACK_SESSIONS = 21
MOVING_AVERAGES = (5, 7, 21)
LAGS = (1, 2, 3)
INPUT_ROWS = "input_rows"  # internal: clean rows behind each refined row (for reconciliation)


def _date(F: Any, day: dt.date | str) -> Any:  # noqa: N803
    text = day.isoformat() if isinstance(day, dt.date) else day
    return F.lit(text).cast("date")


# ------------------------------------------------------------------------------ normalisation


def normalize_cotahist(raw: DataFrame, universe: Universe = DEFAULT_UNIVERSE) -> DataFrame:
    """Raw COTAHIST rows in the universe, with friendly names and per-share prices."""
    F = sql_api(raw).F  # noqa: N806
    c = F.col
    cond = c("tpmerc").isin(list(universe.tpmerc)) & c("codbdi").isin(list(universe.codbdi))
    if universe.exclude_especi:
        cond = cond & (c("especi").isNull() | ~c("especi").isin(list(universe.exclude_especi)))
    if universe.tickers:
        cond = cond & c("codneg").isin(list(universe.tickers))
    factor = c("fatcot").cast("double")

    def per_share(col: str) -> Any:
        # FATCOT 1000 means the price is quoted per thousand shares; 0/null yields null (quarantined).
        return F.when(factor > 0, c(col).cast("double") / factor)

    return raw.filter(cond).select(
        c("datpre").alias("dt"),
        c("codneg").alias("ticker"),
        F.lit("cotahist").alias("source"),
        F.concat_ws("/", c("tpmerc"), c("codbdi"), F.coalesce(c("prazot"), F.lit(""))).alias(
            "record_key"
        ),
        c("codisi").alias("isin"),
        c("nomres").alias("name"),
        per_share("preabe").alias("open"),
        per_share("premax").alias("high"),
        per_share("premin").alias("low"),
        per_share("preult").alias("close"),
        per_share("premed").alias("avg_price"),
        c("quatot").cast("bigint").alias("volume"),
        c("voltot").cast("double").alias("traded_value"),
        c("totneg").cast("bigint").alias("trades"),
        c("source_file").alias("source_file"),
        c("line_number").cast("bigint").alias("line_number"),
    )


def normalize_yfinance(raw: DataFrame, universe: Universe = DEFAULT_UNIVERSE) -> DataFrame:
    """Raw yfinance rows in the shape of :func:`normalize_cotahist` (no ISIN, name, trades)."""
    F = sql_api(raw).F  # noqa: N806
    c = F.col
    if universe.tickers:
        raw = raw.filter(c("ticker").isin(list(universe.tickers)))
    return raw.select(
        c("date").alias("dt"),
        c("ticker").alias("ticker"),
        F.lit("yfinance").alias("source"),
        F.lit("yahoo").alias("record_key"),
        F.lit(None).cast("string").alias("isin"),
        F.lit(None).cast("string").alias("name"),
        c("open").cast("double").alias("open"),
        c("high").cast("double").alias("high"),
        c("low").cast("double").alias("low"),
        c("close").cast("double").alias("close"),
        F.lit(None).cast("double").alias("avg_price"),
        c("volume").cast("bigint").alias("volume"),
        F.lit(None).cast("double").alias("traded_value"),
        F.lit(None).cast("bigint").alias("trades"),
        c("source_file").alias("source_file"),
        c("line_number").cast("bigint").alias("line_number"),
    )


def normalize_quotes(
    cotahist: DataFrame, yfinance: DataFrame | None = None, universe: Universe = DEFAULT_UNIVERSE
) -> DataFrame:
    """Both quote sources as one set of normalised rows (the input of the quality checks)."""
    rows = normalize_cotahist(cotahist, universe)
    if yfinance is not None:
        rows = rows.unionByName(normalize_yfinance(yfinance, universe))
    return rows


# ------------------------------------------------------------------------------------- quotes


def group_sessions(clean: DataFrame) -> DataFrame:
    """One row per ticker, session and source (see the module docstring for the rules)."""
    return _group_sessions(clean, session_number=False)


def _group_sessions(clean: DataFrame, *, session_number: bool) -> DataFrame:
    """:func:`group_sessions`, with ``_s`` (the market session number: the dense rank of ``dt``)
    when ``session_number``. The rank is taken before grouping, in the same step as the row
    ranking: grouping keeps the set of sessions, so it is the same number, one plan step fewer."""
    api = sql_api(clean)
    F, Window = api.F, api.Window  # noqa: N806
    c = F.col
    w = Window.partitionBy("dt", "ticker", "source").orderBy(
        c("volume").desc(), c("record_key").asc(), c("line_number").asc()
    )
    extra = [F.dense_rank().over(Window.orderBy("dt")).cast("int").alias("_s")]
    ranked = clean.select(
        "*", (F.row_number().over(w) == 1).alias("_main"), *(extra if session_number else [])
    )

    def main(col: str) -> Any:
        return F.max(F.when(c("_main"), c(col))).alias(col)

    session = [F.max("_s").cast("int").alias("_s")] if session_number else []
    return ranked.groupBy("dt", "ticker", "source").agg(
        main("isin"),
        main("name"),
        main("open"),
        F.max("high").cast("double").alias("high"),
        F.min("low").cast("double").alias("low"),
        main("close"),
        main("avg_price"),
        F.sum("volume").cast("bigint").alias("volume"),
        F.sum(c("traded_value").cast("decimal(38,2)")).cast("double").alias("traded_value"),
        F.sum("trades").cast("bigint").alias("trades"),
        F.count(F.lit(1)).cast("bigint").alias(INPUT_ROWS),
        *session,
    )


def refine_quotes(clean: DataFrame, *, lookback: int = LOOKBACK_SESSIONS) -> DataFrame:
    """``refined_quotes`` rows (partition columns first, plus ``input_rows``) from clean rows.

    Every value is a function of the rows read: nothing depends on the run's date or the clock
    (an incremental run and a rebuild store the same bytes)."""
    api = sql_api(clean)
    F, Window = api.F, api.Window  # noqa: N806
    c = F.col
    # Market session number ``_s``: gaps between a ticker's rows are measured in sessions, not rows.
    grouped = _group_sessions(clean, session_number=True)
    w = Window.partitionBy("ticker", "source").orderBy("dt")
    longest = max(MOVING_AVERAGES)
    gaps = sorted({*LAGS, *(n - 1 for n in MOVING_AVERAGES)})
    # The lags as plain columns first: later expressions refer to them by name, which keeps the
    # plan small (SQLFrame copies expression trees at every step).
    lagged = grouped.select(
        *[c(n) for n in grouped.columns],
        *[F.lag("close", k).over(w).alias(f"_c{k}") for k in range(1, longest)],
        *[F.lag("_s", k).over(w).alias(f"_s{k}") for k in gaps],
        F.lag("dt", 1).over(w).alias("_d1"),
    )

    def within(k: int) -> Any:
        return (c("_s") - c(f"_s{k}")) <= lookback

    lags = {k: F.when(within(k), c(f"_c{k}")).cast("double") for k in LAGS}
    averages = {
        n: F.when(
            within(n - 1),
            functools.reduce(operator.add, [c("close")] + [c(f"_c{k}") for k in range(1, n)])
            / F.lit(float(n)),
        ).cast("double")
        for n in MOVING_AVERAGES
    }
    # One step: close_delta and pct_change use the close_lag_1 expression itself.
    derived = {
        **{f"ma_{n}": averages[n] for n in MOVING_AVERAGES},
        **{f"close_lag_{k}": lags[k] for k in LAGS},
        "close_delta": (c("close") - lags[1]).cast("double"),
        "pct_change": ((c("close") - lags[1]) / lags[1]).cast("double"),
        "days_since_prev_session": F.when(within(1), F.datediff(c("dt"), c("_d1"))).cast("int"),
    }
    return lagged.select(
        *[derived[n].alias(n) if n in derived else c(n) for n in QUOTE_COLUMNS], c(INPUT_ROWS)
    )


QUOTE_COLUMNS = ("dt", "ticker", *schemas.REFINED_QUOTES.names)


def refine_monthly(quotes: DataFrame) -> DataFrame:
    """``refined_monthly`` (``month`` first) from refined quotes covering whole months."""
    F = sql_api(quotes).F  # noqa: N806
    c = F.col
    # A ticker has one row per session, so ``dt`` orders a month's rows without ties. The lag is
    # wrapped in a struct: DuckDB's arg_min skips null values where Spark's min_by keeps them.
    first_close = F.min_by(c("close"), c("dt")).cast("double")
    last_close = F.max_by(c("close"), c("dt")).cast("double")
    prev_close = F.min_by(F.struct(c("close_lag_1").alias("v")), c("dt")).getField("v")
    month = F.date_format(c("dt"), "yyyy-MM").alias("month")
    return quotes.groupBy(month, "ticker", "source").agg(
        F.count(F.lit(1)).cast("int").alias("sessions"),
        F.sum("volume").cast("bigint").alias("total_volume"),
        F.sum(c("traded_value").cast("decimal(38,2)")).cast("double").alias("total_traded_value"),
        (
            F.sum(c("close").cast("decimal(38,12)")).cast("double")
            / F.count(F.lit(1)).cast("double")
        ).alias("avg_close"),
        first_close.alias("first_close"),
        last_close.alias("last_close"),
        (last_close / prev_close.cast("double") - F.lit(1.0))
        .cast("double")
        .alias("monthly_return"),
        F.max("high").cast("double").alias("high"),
        F.min("low").cast("double").alias("low"),
    )


def between(df: DataFrame, first: dt.date, last: dt.date, column: str = "dt") -> DataFrame:
    """Rows with ``first <= column <= last`` (a date range filter both engines push down)."""
    F = sql_api(df).F  # noqa: N806
    return df.filter((F.col(column) >= _date(F, first)) & (F.col(column) <= _date(F, last)))
