"""The refine of ``refined_index_report`` (PySpark API; the spec is ``b3lake.tables.index_report``)."""

from __future__ import annotations

from typing import Any

from b3lake.tables.index_report import PRICES, RAW


def refine_index_report(inputs: dict[str, Any]) -> Any:
    from b3lake.engines import sql_api

    raw = inputs[RAW]
    F = sql_api(raw).F  # noqa: N806
    return raw.select(
        F.col("date").alias("dt"),
        F.col("index"),
        F.col("description"),
        *[F.col(c) for c in PRICES],
        F.col("oscillation"),
        F.col("settlement_value"),
        *[F.col(c).cast("int").alias(c) for c in ("rising", "falling", "stable")],
        F.col("security_id"),
    )
