"""The portfolio transforms (PySpark DataFrame API, pure): ``refined_ibov_portfolio`` from an
index's theoretical portfolio; their I/O is ``steps/portfolio.py``.

One row per index, date and ticker; weights summed as decimals (the result does not depend on the
engine's summation order).
"""

from __future__ import annotations

from typing import Any

from b3lake.engines import DataFrame, sql_api


def normalize_portfolio(raw: DataFrame) -> DataFrame:
    """Raw index portfolio rows with ``dt`` (the portfolio date)."""
    F = sql_api(raw).F  # noqa: N806
    c = F.col
    return raw.select(
        c("portfolio_date").alias("dt"),
        c("index").alias("index"),
        c("ticker").alias("ticker"),
        c("asset").alias("asset"),
        c("share_type").alias("share_type"),
        c("sector").alias("sector"),
        c("theoretical_quantity").cast("bigint").alias("theoretical_quantity"),
        c("participation").cast("double").alias("participation"),
        c("segment").alias("segment"),
        c("source_file").alias("source_file"),
        c("line_number").cast("bigint").alias("line_number"),
    )


def refine_portfolio(clean: DataFrame) -> DataFrame:
    """``refined_ibov_portfolio`` (``dt`` first) from clean portfolio rows.

    One row per index, date and ticker (segment 1, by ticker, preferred; the sector filled from
    any segment that gives it). ``weight`` is the participation in percent; ``sector_weight`` and
    ``share_type_weight`` are its window sums per sector and per share type on that date.
    """
    api = sql_api(clean)
    F, Window = api.F, api.Window  # noqa: N806
    c = F.col
    per_ticker = Window.partitionBy("index", "dt", "ticker")
    one = (
        clean.withColumn("_n", F.row_number().over(per_ticker.orderBy("segment", "line_number")))
        .withColumn("_sector", F.max("sector").over(per_ticker))
        .filter(c("_n") == 1)
        .select(
            "dt",
            "index",
            "ticker",
            "asset",
            F.coalesce(c("sector"), c("_sector")).alias("sector"),
            "share_type",
            c("participation").cast("double").alias("weight"),
            c("theoretical_quantity").cast("bigint").alias("theoretical_quantity"),
        )
    )

    def share(*by: str) -> Any:
        exact = F.sum(c("weight").cast("decimal(38,12)")).over(Window.partitionBy(*by))
        return exact.cast("double")

    return one.select(
        "dt",
        "index",
        "ticker",
        "asset",
        "sector",
        "share_type",
        "weight",
        "theoretical_quantity",
        share("index", "dt", "sector").alias("sector_weight"),
        share("index", "dt", "share_type").alias("share_type_weight"),
    )
