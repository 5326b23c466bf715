"""``refined_curves``: every vertex of every B3 curve of a session (TaxaSwap), by ``dt``.

Refined by the job generically from ``raw/taxa_swap/`` (``TableSpec.inputs``/``refine``). The
rate is B3's, as B3 prints it: percent a year on the curve's own basis (252 business days for
``PRE``, ``DIC``; 360 calendar days linear for ``DOC`` ...; the ``description`` names the curve),
as a double (the nearest double to B3's 7-decimal value; the raw layer keeps it exact,
``decimal(16,7)``). One file a session: ~120 curves x their vertices, a few thousand rows.
"""

from __future__ import annotations

from typing import Any

from b3lake.tables.spec import TableSpec

RAW = "taxa_swap"


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


REFINED_CURVES = TableSpec(
    name="refined_curves",
    prefix="curves",
    description="B3's yield curves per session (TaxaSwap): curve, business and calendar days to "
    "the vertex, rate in % a year as B3 prints it.",
    partition_keys=(("dt", "date"),),
    columns=(
        ("curve", "string"),
        ("description", "string"),
        ("business_days", "int"),
        ("calendar_days", "int"),
        ("rate", "double"),
        ("vertex_type", "string"),
        ("vertex", "string"),
    ),
    sort_by=("curve", "calendar_days"),
    inputs=(RAW,),
    refine=refine_curves,
)
