"""``refined_index_report``: B3's index report (BVBG.087) per session: open, low, high, close.

Refined by the job generically from ``raw/index_report/`` by ``dt`` (a few dozen indices a
session: 250 small files a year, as ``refined_index_levels``). Its closes are cross-checked
against the index statistics' (``refined_index_levels``) by the ``quality_index_closes`` view.
"""

from __future__ import annotations

from typing import Any

from b3lake.tables.spec import TableSpec

RAW = "index_report"
PRICES = ("open", "low", "high", "average", "previous_close", "close", "index_value")


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


REFINED_INDEX_REPORT = TableSpec(
    name="refined_index_report",
    prefix="index_report",
    description="B3's index report (BVBG.087) per session: open, low, high, average, previous "
    "close, close, change and constituents' breadth of each index.",
    partition_keys=(("dt", "date"),),
    columns=(
        ("index", "string"),
        ("description", "string"),
        *((c, "double") for c in PRICES),
        ("oscillation", "double"),
        ("settlement_value", "double"),
        ("rising", "int"),
        ("falling", "int"),
        ("stable", "int"),
        ("security_id", "bigint"),
    ),
    sort_by=("index",),
    inputs=(RAW,),
    refine=refine_index_report,
)
