"""Row checks before anything is written: failing rows are flagged, never dropped.

:func:`flag_rows` adds ``rule`` and ``reason`` (null for a clean row) in the PySpark API, so it
runs on either engine. The job writes flagged rows to ``quarantine/<table>/dt=…/`` and checks
that rows in = refined input rows + quarantined rows (:func:`reconcile`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from b3lake.engines import DataFrame, sql_api
from b3lake.errors import QualityError

Condition = Callable[[Any], Any]  # F -> Column that is true when the row breaks the rule

QUOTE_RULES: dict[str, str] = {
    "missing_key": "dt or ticker is null",
    "price_not_positive": "open, high, low, close (and avg_price when given) must be > 0",
    "ohlc_inconsistent": "needs low <= open <= high and low <= close <= high",
    "negative_volume": "volume must be given and >= 0; traded_value and trades >= 0",
    "duplicate_key": "a second row with the same source, dt, ticker and record_key",
}
PORTFOLIO_RULES: dict[str, str] = {
    "missing_key": "index, dt or ticker is null",
    "weight_invalid": "participation must be given and within 0..100",
    "quantity_negative": "theoretical_quantity must be given and >= 0",
    "duplicate_key": "a second row with the same index, dt, ticker and segment",
}


def _quote_checks(F: Any) -> list[tuple[str, Any]]:  # noqa: N803
    c = F.col
    prices = [c(p) for p in ("open", "high", "low", "close")]
    bad_price = prices[0].isNull() | (prices[0] <= 0)
    for p in prices[1:]:
        bad_price = bad_price | p.isNull() | (p <= 0)
    bad_price = bad_price | (c("avg_price").isNotNull() & (c("avg_price") <= 0))
    ohlc_ok = (
        (c("low") <= c("open"))
        & (c("open") <= c("high"))
        & (c("low") <= c("close"))
        & (c("close") <= c("high"))
        & (c("low") <= c("high"))
    )
    return [
        ("missing_key", c("dt").isNull() | c("ticker").isNull()),
        ("price_not_positive", bad_price),
        ("ohlc_inconsistent", ~ohlc_ok),
        (
            "negative_volume",
            c("volume").isNull()
            | (c("volume") < 0)
            | (c("traded_value").isNotNull() & (c("traded_value") < 0))
            | (c("trades").isNotNull() & (c("trades") < 0)),
        ),
    ]


def _portfolio_checks(F: Any) -> list[tuple[str, Any]]:  # noqa: N803
    c = F.col
    return [
        ("missing_key", c("index").isNull() | c("dt").isNull() | c("ticker").isNull()),
        (
            "weight_invalid",
            c("participation").isNull() | (c("participation") < 0) | (c("participation") > 100),
        ),
        (
            "quantity_negative",
            c("theoretical_quantity").isNull() | (c("theoretical_quantity") < 0),
        ),
    ]


def flag_rows(
    df: DataFrame,
    checks: Sequence[tuple[str, Any]],
    *,
    key: Sequence[str],
    order: Sequence[str],
    reasons: Mapping[str, str],
) -> DataFrame:
    """Add ``rule``/``reason``: the first failed check, else ``duplicate_key`` for every row
    after the first (by ``order``) among the clean rows sharing ``key``, else null."""
    api = sql_api(df)
    F, Window = api.F, api.Window  # noqa: N806
    rule = None
    for name, failed in checks:
        rule = F.when(failed, F.lit(name)) if rule is None else rule.when(failed, F.lit(name))
    first_failed = rule.otherwise(F.lit(None).cast("string"))  # type: ignore[union-attr]
    ok = F.col("rule").isNull()
    w = Window.partitionBy(*key, ok).orderBy(*[F.col(o).asc_nulls_last() for o in order])
    flagged = df.select("*", first_failed.alias("rule"))
    duplicate = ok & (F.row_number().over(w) > 1)
    final = F.when(duplicate, F.lit("duplicate_key")).otherwise(F.col("rule"))
    # The reason of the final rule, in the same step (the plan grows with every step).
    reason = F.when(duplicate, F.lit(reasons["duplicate_key"]))
    for name, text in reasons.items():
        if name != "duplicate_key":
            reason = reason.when(F.col("rule") == F.lit(name), F.lit(text))
    columns = [F.col(n) for n in df.columns]
    return flagged.select(
        *columns,
        final.alias("rule"),
        reason.otherwise(F.lit(None).cast("string")).alias("reason"),
    )


def clean_rows(flagged: DataFrame) -> DataFrame:
    """The rows that broke no rule. ``rule``/``reason`` stay (all null): the refine functions
    name the columns they use, and a drop would cost SQLFrame one more plan step."""
    return flagged.filter(sql_api(flagged).F.col("rule").isNull())


def flag_quotes(normalized: DataFrame) -> DataFrame:
    """Quote rows with ``rule``/``reason`` (see QUOTE_RULES)."""
    F = sql_api(normalized).F  # noqa: N806
    return flag_rows(
        normalized,
        _quote_checks(F),
        key=("source", "dt", "ticker", "record_key"),
        order=("source_file", "line_number", "open", "high", "low", "close", "volume"),
        reasons=QUOTE_RULES,
    )


def flag_portfolio(normalized: DataFrame) -> DataFrame:
    """Portfolio rows with ``rule``/``reason`` (see PORTFOLIO_RULES)."""
    F = sql_api(normalized).F  # noqa: N806
    return flag_rows(
        normalized,
        _portfolio_checks(F),
        key=("index", "dt", "ticker", "segment"),
        order=("source_file", "line_number", "participation", "theoretical_quantity"),
        reasons=PORTFOLIO_RULES,
    )


def reconcile(table: str, rows_in: int, clean: int, quarantined: int, refined_input: int) -> None:
    """Raise QualityError unless every row is either refined input or quarantined."""
    if rows_in != clean + quarantined:
        raise QualityError(
            f"{rows_in} rows in but {clean} clean + {quarantined} quarantined", source=table
        )
    if refined_input != clean:
        raise QualityError(
            f"{clean} clean rows but the refined rows were built from {refined_input}",
            source=table,
        )
