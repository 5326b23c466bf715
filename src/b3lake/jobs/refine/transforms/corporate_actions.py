"""Corporate actions in the refine: B3's events, price-adjustment factors, cross-checks (PySpark API).

Pure ``DataFrame -> DataFrame`` functions, like ``transform.py``; the job (``corporate_actions_job``)
does the I/O. Decisions:

* **Kinds.** ``DIVIDENDO``, ``JRS CAP PROPRIO`` (gross, as B3 publishes it), ``RENDIMENTO`` and
  ``REST CAP DIN`` are cash per share; ``DESDOBRAMENTO`` (split), ``BONIFICACAO`` (bonus shares)
  and ``GRUPAMENTO`` (reverse split) change the share count; ``SUBSCRICAO`` (rights) is kept and
  never adjusts prices. Any other label is quarantined (rule ``unknown_label``), as is a row with
  no ticker (``no_ticker``), a last date prior that is not a B3 session (``not_a_session``) or a
  value that is not positive (``bad_value``). The supplement endpoint repeats the recent cash
  events of ``GetListedCashDividends``: the repeat is quarantined as ``duplicate`` (the cash
  endpoint's row carries B3's closing price and percentage), so raw rows = refined + quarantined.
* **Ex-date** = the B3 session after ``lastDatePrior``/``lastDatePriorEx`` (the calendar's, so an
  event is dated right even when the lake does not hold that session).
* **Factors, backward, the latest close unchanged.** Per ticker and ex-date: the cash amounts are
  summed; ``cash_factor = 1 - cash / close of the lake session before the ex-date``; a split or
  bonus of ``f`` % multiplies earlier prices by ``1 / (1 + f/100)``, a reverse split of ``f`` (new
  shares per old) by ``1 / f``; ``factor`` is their product. An event applies only when its
  ex-date is one of the lake's sessions and (for cash) the ticker has a close on the session
  before. A quote on ``dt`` is multiplied by ``adj_factor`` = the product of the factors of every
  later ex-date, stored as ranges ``valid_from <= dt < valid_to`` per ticker (one row per
  ex-date), so the adjusted history is a join, not a rewrite. Volumes are divided by the share
  factors only (cash does not change the share count).
* Cumulative products are ``exp(sum(ln))`` over a window (every engine has them); one event is
  its own factor exactly; several differ from the exact product by ~1e-15 relative.
* **Cross-check.** For each applied cash event the percentage we apply (``100 * cash / close``) is
  compared with B3's ``corporateActionPrice``: beyond its printed rounding (5e-7) it is a finding
  (``percent_mismatch``), as is a close that differs from B3's ``closingPricePriorExDate`` by
  more than half a cent (``close_mismatch``) and an event inside the lake with no close to apply
  it to (``no_close``).
"""

from __future__ import annotations

from typing import Any

from b3lake.engines import DataFrame, sql_api

CASH_LABELS = ("DIVIDENDO", "JRS CAP PROPRIO", "RENDIMENTO", "REST CAP DIN")
STOCK_LABELS = {
    "DESDOBRAMENTO": "split",
    "BONIFICACAO": "bonus",
    "BONIFICAÇÃO": "bonus",
    "GRUPAMENTO": "reverse_split",
}
SUBSCRIPTION_LABELS = ("SUBSCRICAO", "SUBSCRIÇÃO")
STOCK_KINDS = ("split", "bonus", "reverse_split")
#: corporateActionPrice is printed with 6 decimals: half a unit of the last one.
PERCENT_TOLERANCE = 5e-7 + 1e-9
#: Closes are printed in cents.
CLOSE_TOLERANCE = 0.005 + 1e-9

#: Columns of ``refined_corporate_actions`` (and, with rule and reason, of its quarantine).
EVENT_COLUMNS = (
    "ticker",
    "ex_date",
    "kind",
    "label",
    "last_date_prior",
    "value_cash",
    "factor",
    "share_factor",
    "issuer",
    "type_stock",
    "isin",
    "approved_on",
    "payment_date",
    "closing_price_prior_ex_date",
    "date_closing_price_prior_ex_date",
    "corporate_action_price",
    "ratio",
    "quoted_per_shares",
    "subscription_percentage",
    "subscription_price",
    "subscription_date",
    "related_to",
    "remarks",
    "endpoint",
    "section",
    "source_file",
    "line_number",
)


def _kind(F: Any, label: Any) -> Any:  # noqa: N803
    expr = F.when(label.isin(list(CASH_LABELS)), F.lit("cash"))
    for text, kind in STOCK_LABELS.items():
        expr = expr.when(label == F.lit(text), F.lit(kind))
    return expr.when(label.isin(list(SUBSCRIPTION_LABELS)), F.lit("subscription"))


def flag_events(raw: DataFrame, calendar: DataFrame) -> DataFrame:
    """Raw corporate-action rows as events (``EVENT_COLUMNS``) plus ``rule``/``reason``
    (null for a clean row). ``calendar`` has ``session`` and ``next_session`` (B3's)."""
    api = sql_api(raw)
    F, Window = api.F, api.Window  # noqa: N806
    c = F.col
    cal = calendar.select(c("session").alias("_session"), c("next_session").alias("_next"))
    joined = raw.join(cal, raw["last_date_prior"] == cal["_session"], "left")
    kind = _kind(F, c("label"))
    share = (
        F.when(kind.isin("split", "bonus"), F.lit(1.0) / (F.lit(1.0) + c("factor") / F.lit(100.0)))
        .when(kind == F.lit("reverse_split"), F.lit(1.0) / c("factor"))
        .cast("double")
    )
    events = joined.select(
        c("ticker"),
        c("_next").alias("ex_date"),
        kind.alias("kind"),
        *[c(n) for n in EVENT_COLUMNS[3:7]],
        share.alias("share_factor"),
        *[c(n) for n in EVENT_COLUMNS[8:]],
    )
    k = c("kind")
    bad_value = (
        ((k == F.lit("cash")) & ~(c("value_cash") > 0))
        | (k.isin(*STOCK_KINDS) & ~(c("factor") > 0))
        | ((k == F.lit("subscription")) & ~(c("subscription_percentage") > 0))
    )
    rule = (
        F.when(k.isNull(), F.lit("unknown_label"))
        .when(c("ticker").isNull(), F.lit("no_ticker"))
        .when(c("ex_date").isNull(), F.lit("not_a_session"))
        .when(bad_value, F.lit("bad_value"))
    )
    reason = (
        F.when(k.isNull(), F.concat(F.lit("unknown label "), c("label")))
        .when(
            c("ticker").isNull(),
            F.concat(
                F.lit("no ticker for issuer "),
                c("issuer"),
                F.lit(" share class "),
                F.coalesce(c("type_stock"), c("isin"), F.lit("?")),
            ),
        )
        .when(
            c("ex_date").isNull(),
            F.concat(
                F.lit("last date prior "),
                c("last_date_prior").cast("string"),
                F.lit(" is not a B3 session (or outside the calendar)"),
            ),
        )
        .when(bad_value, F.concat(F.lit("value not positive for "), c("label")))
    )
    # The supplement repeats cash events of GetListedCashDividends: keep the cash endpoint's row.
    priority = F.when(c("endpoint") == F.lit("GetListedCashDividends"), F.lit(1)).otherwise(
        F.lit(2)
    )
    flagged = events.select(
        "*",
        rule.alias("rule"),
        reason.alias("reason"),
        priority.alias("_p"),
        F.round(c("value_cash"), 8).alias("_v8"),
    )
    best = Window.partitionBy("ticker", "last_date_prior", "label", "_v8")
    clean = c("rule").isNull()
    ranked = flagged.select(
        "*",
        F.min(F.when(clean, c("_p"))).over(best).alias("_best"),
        F.min(
            F.when(
                clean & (c("_p") == F.lit(1)),
                F.concat(c("source_file"), F.lit(" row "), c("line_number").cast("string")),
            )
        )
        .over(best)
        .alias("_first"),
    )
    duplicate = c("rule").isNull() & (k == F.lit("cash")) & (c("_p") > c("_best"))
    return ranked.select(
        *[c(n) for n in EVENT_COLUMNS],
        F.when(duplicate, F.lit("duplicate")).otherwise(c("rule")).alias("rule"),
        F.when(
            duplicate,
            F.concat(F.lit("the same event as GetListedCashDividends "), c("_first")),
        )
        .otherwise(c("reason"))
        .alias("reason"),
    )


def clean_events(flagged: DataFrame) -> DataFrame:
    """``refined_corporate_actions`` rows: the flagged rows that broke no rule."""
    F = sql_api(flagged).F  # noqa: N806
    return flagged.filter(F.col("rule").isNull()).select(*EVENT_COLUMNS)


def bad_events(flagged: DataFrame) -> DataFrame:
    F = sql_api(flagged).F  # noqa: N806
    return flagged.filter(F.col("rule").isNotNull())


def event_closes(events: DataFrame, lake_sessions: DataFrame) -> DataFrame:
    """The closes the factors need: ``(ticker, close_date)`` per adjusting event whose ex-date is
    a lake session with one before it. ``lake_sessions`` has ``dt`` and ``prev_dt``."""
    F = sql_api(events).F  # noqa: N806
    c = F.col
    s = lake_sessions.select(c("dt").alias("_dt"), c("prev_dt").alias("close_date"))
    adjusting = events.filter(c("kind") != F.lit("subscription"))
    return (
        adjusting.join(s, adjusting["ex_date"] == s["_dt"], "inner")
        .filter(c("close_date").isNotNull())
        .select(c("ticker"), c("close_date"))
        .distinct()
    )


def _applied_events(events: DataFrame, lake_sessions: DataFrame, closes: DataFrame) -> DataFrame:
    """Adjusting events inside the lake, with ``close_date`` and ``close_prior`` (may be null)."""
    F = sql_api(events).F  # noqa: N806
    c = F.col
    s = lake_sessions.select(c("dt").alias("_dt"), c("prev_dt").alias("close_date"))
    cl = closes.select(
        c("ticker").alias("_t"), c("close_date").alias("_cd"), c("close").alias("close_prior")
    )
    adjusting = events.filter(c("kind") != F.lit("subscription"))
    inside = adjusting.join(s, adjusting["ex_date"] == s["_dt"], "inner").filter(
        c("close_date").isNotNull()
    )
    return inside.join(
        cl, (inside["ticker"] == cl["_t"]) & (inside["close_date"] == cl["_cd"]), "left"
    ).drop("_dt", "_t", "_cd")


def factors(events: DataFrame, lake_sessions: DataFrame, closes: DataFrame) -> DataFrame:
    """``corporate_action_factors``: one row per ticker and applied ex-date (module docstring)."""
    api = sql_api(events)
    F, Window = api.F, api.Window  # noqa: N806
    c = F.col
    applied = _applied_events(events, lake_sessions, closes)
    is_cash = c("kind") == F.lit("cash")
    per_day = applied.groupBy("ticker", "ex_date").agg(
        F.max("close_date").alias("close_date"),
        F.max("close_prior").cast("double").alias("close_prior"),
        F.sum(F.when(is_cash, c("value_cash").cast("decimal(38,12)"))).cast("double").alias("cash"),
        F.sum(F.when(is_cash, F.lit(1)).otherwise(F.lit(0))).cast("int").alias("cash_events"),
        F.sum(F.when(is_cash, F.lit(0)).otherwise(F.lit(1))).cast("int").alias("stock_events"),
        F.max(F.when(~is_cash, c("share_factor"))).cast("double").alias("_one_share"),
        F.sum(F.when(~is_cash, F.ln(c("share_factor")))).cast("double").alias("_ln_share"),
        F.sum(F.when(is_cash, c("corporate_action_price").cast("decimal(38,12)")))
        .cast("double")
        .alias("b3_percent"),
    )
    share = (
        F.when(c("stock_events") == 0, F.lit(1.0))
        .when(c("stock_events") == 1, c("_one_share"))
        .otherwise(F.exp(c("_ln_share")))
    )
    cash_factor = F.when(c("cash_events") == 0, F.lit(1.0)).otherwise(
        F.lit(1.0) - c("cash") / c("close_prior")
    )
    day = per_day.select(
        c("ticker"),
        c("ex_date"),
        c("close_date"),
        c("close_prior"),
        c("cash"),
        c("cash_events"),
        c("stock_events"),
        cash_factor.cast("double").alias("cash_factor"),
        share.cast("double").alias("share_factor"),
        c("b3_percent"),
    )
    # A cash event with no close (or a cash amount not below the close) cannot apply.
    usable = day.filter(
        (c("cash_events") == 0) | (c("close_prior").isNotNull() & (c("cash_factor") > 0))
    )
    later = Window.partitionBy("ticker").orderBy(c("ex_date").desc())
    upto = later.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    earlier = Window.partitionBy("ticker").orderBy(c("ex_date").asc())
    factor = (c("cash_factor") * c("share_factor")).cast("double")
    with_factor = usable.select("*", factor.alias("factor"))
    n_later = F.count(F.lit(1)).over(upto)

    def cumulative(col: str) -> Any:
        return (F.when(n_later == 1, c(col)).otherwise(F.exp(F.sum(F.ln(c(col))).over(upto)))).cast(
            "double"
        )

    return with_factor.select(
        c("ticker"),
        c("ex_date"),
        F.lag("ex_date", 1).over(earlier).alias("valid_from"),
        c("ex_date").alias("valid_to"),
        c("close_date"),
        c("close_prior"),
        c("cash"),
        c("cash_events"),
        c("stock_events"),
        c("cash_factor"),
        c("share_factor"),
        c("factor"),
        cumulative("factor").alias("adj_factor"),
        cumulative("share_factor").alias("share_adj_factor"),
        F.when(c("b3_percent").isNotNull(), (F.lit(1.0) - c("b3_percent") / F.lit(100.0)))
        .cast("double")
        .alias("b3_cash_factor"),
    )


def percent_mismatch(value_cash: Any, close: Any, percent: Any, F: Any) -> Any:  # noqa: N803
    """True when ``100 * value_cash / close`` differs from B3's percentage beyond its rounding."""
    return F.abs(F.lit(100.0) * value_cash / close - percent) > F.lit(PERCENT_TOLERANCE)


def findings(events: DataFrame, lake_sessions: DataFrame, closes: DataFrame) -> DataFrame:
    """``quality_corporate_actions``: each cash event's cross-check against B3 that failed."""
    F = sql_api(events).F  # noqa: N806
    c = F.col
    applied = _applied_events(events, lake_sessions, closes).filter(c("kind") == F.lit("cash"))
    ours = F.lit(100.0) * c("value_cash") / c("close_prior")
    no_close = c("close_prior").isNull()
    close_off = c("closing_price_prior_ex_date").isNotNull() & (
        F.abs(c("close_prior") - c("closing_price_prior_ex_date")) > F.lit(CLOSE_TOLERANCE)
    )
    percent_off = c("corporate_action_price").isNotNull() & percent_mismatch(
        c("value_cash"), c("close_prior"), c("corporate_action_price"), F
    )
    rule = (
        F.when(no_close, F.lit("no_close"))
        .when(close_off, F.lit("close_mismatch"))
        .when(percent_off, F.lit("percent_mismatch"))
    )
    reason = (
        F.when(
            no_close,
            F.concat(
                F.lit("no close of "),
                c("ticker"),
                F.lit(" on "),
                c("close_date").cast("string"),
                F.lit(", the session before the ex-date: the event is not applied"),
            ),
        )
        .when(
            close_off,
            F.concat(
                F.lit("the lake's close "),
                c("close_prior").cast("string"),
                F.lit(" differs from B3's closingPricePriorExDate "),
                c("closing_price_prior_ex_date").cast("string"),
            ),
        )
        .when(
            percent_off,
            F.concat(
                F.lit("100 * cash / close = "),
                F.round(ours, 6).cast("string"),
                F.lit(" differs from B3's corporateActionPrice "),
                c("corporate_action_price").cast("string"),
            ),
        )
    )
    return applied.select(
        c("ticker"),
        c("ex_date"),
        c("label"),
        c("value_cash"),
        c("close_date"),
        c("close_prior"),
        c("closing_price_prior_ex_date"),
        c("corporate_action_price"),
        ours.cast("double").alias("applied_percent"),
        rule.alias("rule"),
        reason.alias("reason"),
        c("source_file"),
        c("line_number"),
    ).filter(c("rule").isNotNull())
