"""Views over the catalogued tables, written once in Athena's SQL (Trino) and run by both engines.

``adjusted_quotes`` is a view, not a table: the quotes joined with the small
``corporate_action_factors`` table (one row per ticker and ex-date, ranges ``valid_from <= dt <
valid_to``). A new corporate action therefore rewrites the factors object only, never the quote
partitions of the ticker's whole history (the daily run stays O(day)); the price of that is a
join and a window at query time, which is cheap next to rewriting years of partitions. The quotes
are the history layer's (``refined_quotes_history``: the same rows as ``refined_quotes``): it holds
every ticker whatever ``--partitioned_tickers`` keeps in the R6 table, and on Athena a scan of it is 20 year
partitions for 20 years, where the R6 table of the whole market is beyond Athena's 1 M partitions.

Locally the DuckDB engine creates each view (transpiled) after the tables, when the tables it
reads are catalogued; on AWS the Athena engine runs ``CREATE OR REPLACE VIEW`` (the same text)
once per process before the first query that names a view.

Columns of ``adjusted_quotes``: ``dt, ticker, source``, the unadjusted ``open, high, low, close,
volume, ma_5, ma_7, ma_21, pct_change``, then ``adj_factor`` (price multiplier: the product of
the factors of every later ex-date, 1 after the last), ``share_adj_factor`` (the stock events'
part), ``adj_open, adj_high, adj_low, adj_close``, ``adj_volume`` (volume / share_adj_factor),
``adj_ma_5, adj_ma_7, adj_ma_21`` (means of the adjusted closes; null where the refined one is
null, so the lookback rules are the refined table's) and ``adj_pct_change``.

``quality_unexplained_jumps``: the sessions whose *adjusted* close-to-close ratio is above
``JUMP_HIGH`` (1.8) or below ``JUMP_LOW`` (0.55): a raw jump no event explains, or an event whose
factor the prices do not show. ``events_on_date`` counts B3's events of that ticker that day.

More of the market (issue 23):

* ``index_history``: each index's close (index statistics) with its change and, where the lake
  has B3's index report of that session, the report's open, low, high and closes.
* ``quality_index_closes``: sessions where the index report (BVBG.087) and the index statistics
  disagree on an index's close (by more than ``CLOSE_TOLERANCE``), rule ``close_mismatch``. An
  index or session only one of them has is not a finding (the lake fetches levels for the
  indices the settings list, the report lists every index).
* ``di_pre_curve``: the DI x pré curve (``PRE``) of each session with the rate as a fraction, the
  vertex in years of 252 business days and its discount factor ``(1 + r) ** -(du / 252)``.
* ``options_chain``: each option with its underlying's close of the session (the history layer's
  COTAHIST close, or the index level for an index option) and its moneyness (close / strike).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: An adjusted close-to-close ratio outside ``JUMP_LOW..JUMP_HIGH`` is a jump to explain.
JUMP_HIGH = 1.8
JUMP_LOW = 0.55


@dataclass(frozen=True)
class View:
    name: str
    sql: str  # Athena (Trino) SQL
    needs: tuple[str, ...]  # tables (or views) it reads


def _ma(n: int) -> str:
    return (
        f"CASE WHEN ma_{n} IS NULL THEN NULL ELSE avg(adj_close) OVER (PARTITION BY ticker, source "
        f"ORDER BY dt ROWS BETWEEN {n - 1} PRECEDING AND CURRENT ROW) END AS adj_ma_{n}"
    )


ADJUSTED_QUOTES = View(
    "adjusted_quotes",
    f"""
WITH joined AS (
  SELECT q.dt, q.ticker, q.source, q.open, q.high, q.low, q.close, q.volume,
         q.ma_5, q.ma_7, q.ma_21, q.pct_change, q.close_lag_1,
         COALESCE(f.adj_factor, 1.0) AS adj_factor,
         COALESCE(f.share_adj_factor, 1.0) AS share_adj_factor
  FROM refined_quotes_history q
  LEFT JOIN corporate_action_factors f
    ON f.ticker = q.ticker AND q.dt < f.valid_to
   AND q.dt >= COALESCE(f.valid_from, DATE '1900-01-01')
), adjusted AS (
  SELECT *, close * adj_factor AS adj_close FROM joined
)
SELECT dt, ticker, source, open, high, low, close, volume, ma_5, ma_7, ma_21, pct_change,
       close_lag_1, adj_factor, share_adj_factor,
       open * adj_factor AS adj_open, high * adj_factor AS adj_high, low * adj_factor AS adj_low,
       adj_close, volume / share_adj_factor AS adj_volume,
       {_ma(5)},
       {_ma(7)},
       {_ma(21)},
       CASE WHEN pct_change IS NULL THEN NULL
            ELSE adj_close / lag(adj_close) OVER (PARTITION BY ticker, source ORDER BY dt) - 1
       END AS adj_pct_change
FROM adjusted
""",
    ("refined_quotes_history", "corporate_action_factors"),
)

QUALITY_UNEXPLAINED_JUMPS = View(
    "quality_unexplained_jumps",
    f"""
SELECT a.dt, a.ticker, a.source, a.close_lag_1 AS prev_close, a.close,
       1 + a.pct_change AS ratio, a.adj_factor, 1 + a.adj_pct_change AS adj_ratio,
       COALESCE(e.events, 0) AS events_on_date
FROM adjusted_quotes a
LEFT JOIN (
  SELECT ticker, ex_date, count(*) AS events FROM refined_corporate_actions GROUP BY ticker, ex_date
) e ON e.ticker = a.ticker AND e.ex_date = a.dt
WHERE a.adj_pct_change IS NOT NULL
  AND (1 + a.adj_pct_change > {JUMP_HIGH} OR 1 + a.adj_pct_change < {JUMP_LOW})
""",
    ("adjusted_quotes", "refined_corporate_actions"),
)

# --------------------------------------------------------------- more of the market (issue 23)

#: Two closes of one index and session differ by more than this (both are printed with 2
#: decimals; the margin only absorbs the doubles' representation).
CLOSE_TOLERANCE = 0.005

INDEX_HISTORY = View(
    "index_history",
    """
SELECT l.dt, l."index", l.close,
       l.close / lag(l.close) OVER (PARTITION BY l."index" ORDER BY l.dt) - 1 AS pct_change,
       r.open, r.low, r.high, r.previous_close AS report_previous_close, r.close AS report_close
FROM refined_index_levels l
LEFT JOIN refined_index_report r ON r.dt = l.dt AND r."index" = l."index"
""",
    ("refined_index_levels", "refined_index_report"),
)

QUALITY_INDEX_CLOSES = View(
    "quality_index_closes",
    f"""
SELECT r.dt, r."index", r.close AS report_close, l.close AS levels_close,
       r.close - l.close AS difference, 'close_mismatch' AS rule,
       'the index report (BVBG.087) and the index statistics disagree on the close' AS reason
FROM refined_index_report r
JOIN refined_index_levels l ON l.dt = r.dt AND l."index" = r."index"
WHERE abs(r.close - l.close) > {CLOSE_TOLERANCE}
""",
    ("refined_index_report", "refined_index_levels"),
)

DI_PRE_CURVE = View(
    "di_pre_curve",
    """
SELECT dt, business_days, calendar_days, rate, vertex_type,
       rate / 100 AS rate_decimal,
       business_days / 252.0 AS years,
       power(1 + rate / 100, -(business_days / 252.0)) AS discount_factor
FROM refined_curves
WHERE curve = 'PRE'
""",
    ("refined_curves",),
)

OPTIONS_CHAIN = View(
    "options_chain",
    """
SELECT o.dt, o.underlying, o.underlying_source, o.ticker, o.type, o.strike, o.expiry,
       o.days_to_expiry, o.close, o.best_bid, o.best_ask, o.trades, o.volume, o.traded_value,
       COALESCE(q.close, l.close) AS underlying_close,
       CASE WHEN o.strike > 0 THEN COALESCE(q.close, l.close) / o.strike END AS moneyness
FROM refined_options o
LEFT JOIN refined_quotes_history q
  ON q.ticker = o.underlying AND q.dt = o.dt AND q.source = 'cotahist'
 AND q.year = CAST(year(o.dt) AS varchar)
LEFT JOIN refined_index_levels l
  ON o.underlying_source = 'index' AND l."index" = o.underlying AND l.dt = o.dt
""",
    ("refined_options", "refined_quotes_history", "refined_index_levels"),
)

VIEWS: tuple[View, ...] = (
    ADJUSTED_QUOTES,
    QUALITY_UNEXPLAINED_JUMPS,
    INDEX_HISTORY,
    QUALITY_INDEX_CLOSES,
    DI_PRE_CURVE,
    OPTIONS_CHAIN,
)


def available(tables: set[str]) -> list[View]:
    """The views whose inputs exist (in dependency order)."""
    known = set(tables)
    out = []
    for view in VIEWS:
        if all(n in known for n in view.needs):
            out.append(view)
            known.add(view.name)
    return out


def by_name(name: str) -> View | None:
    return next((v for v in VIEWS if v.name == name.lower()), None)


def can_create(view: View, tables: set[str]) -> bool:
    """Whether every table ``view`` reads (through the views it reads) is catalogued."""
    for need in view.needs:
        inner = by_name(need)
        if not (can_create(inner, tables) if inner is not None else need in tables):
            return False
    return True


def named_in(sql: str) -> list[View]:
    """The views a query names, with the views they read first."""
    words = {w.lower() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", sql)}
    wanted: list[View] = []

    def add(view: View) -> None:
        for need in view.needs:
            for other in VIEWS:
                if other.name == need:
                    add(other)
        if view not in wanted:
            wanted.append(view)

    for view in VIEWS:
        if view.name in words:
            add(view)
    return wanted


def create_statement(view: View) -> str:
    return f"CREATE OR REPLACE VIEW {view.name} AS {view.sql.strip()}"
