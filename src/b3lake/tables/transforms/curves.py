"""The refine of ``refined_curves`` (PySpark API; the spec is ``b3lake.tables.curves``)."""

from __future__ import annotations

from typing import Any

from b3lake.tables.curves import RAW


def refine_curves(inputs: dict[str, Any]) -> Any:
    from b3lake.engines import sql_api

    raw = inputs[RAW]
    F = sql_api(raw).F  # noqa: N806
    return raw.select(
        F.col("date").alias("dt"),
        F.col("curve"),
        F.col("description"),
        F.col("business_days").cast("int").alias("business_days"),
        F.col("calendar_days").cast("int").alias("calendar_days"),
        F.col("rate").cast("double").alias("rate"),
        F.col("vertex_type"),
        F.col("vertex"),
    )
