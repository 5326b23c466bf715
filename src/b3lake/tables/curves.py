"""``refined_curves``: every vertex of every B3 curve of a session (TaxaSwap), by ``dt``.

Refined by the job generically from ``raw/taxa_swap/`` (``TableSpec.inputs``/``refine``). The
rate is B3's, as B3 prints it: percent a year on the curve's own basis (252 business days for
``PRE``, ``DIC``; 360 calendar days linear for ``DOC`` ...; the ``description`` names the curve),
as a double (the nearest double to B3's 7-decimal value; the raw layer keeps it exact,
``decimal(16,7)``). One file a session: ~120 curves x their vertices, a few thousand rows.
"""

from __future__ import annotations

from b3lake.tables.spec import TableSpec

RAW = "taxa_swap"


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
    refine="b3lake.tables.transforms.curves:refine_curves",
)
