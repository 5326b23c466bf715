"""``refined_index_report``: B3's index report (BVBG.087) per session: open, low, high, close.

Refined by the job generically from ``raw/index_report/``, one file a year (``year=YYYY/``, ``dt``
a column; a few dozen indices a session), as ``refined_index_levels``. Its closes are cross-checked
against the index statistics' (``refined_index_levels``) by the ``quality_index_closes`` view.
"""

from __future__ import annotations

from b3lake.tables.spec import TableSpec

RAW = "index_report"
PRICES = ("open", "low", "high", "average", "previous_close", "close", "index_value")

REFINED_INDEX_REPORT = TableSpec(
    name="refined_index_report",
    prefix="index_report",
    description="B3's index report (BVBG.087) per session: open, low, high, average, previous "
    "close, close, change and constituents' breadth of each index.",
    partition_keys=(("year", "string"),),
    columns=(
        ("dt", "date"),
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
    sort_by=("index", "dt"),
    inputs=(RAW,),
    refine="b3lake.tables.transforms.index_report:refine_index_report",
)
