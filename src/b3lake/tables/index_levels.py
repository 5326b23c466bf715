"""``refined_index_levels`` (one close per index and session) and ``quality_index_levels``.

Both are refined by the job generically from ``raw/index_levels/`` (``TableSpec.inputs`` and
``refine``, by ``dt``), with the same flagging (:func:`flag_levels`), so every raw row is in
exactly one of them (tests reconcile the counts):

* a row whose close is null is a B3 session inside the published range with an empty cell in
  B3's grid (the parser lands it so): ``missing_session``;
* a row on a day that is not a B3 session (the calendar of ``b3lake.sources.calendar``; dates
  outside its range, before 2000, are not judged): ``not_a_session``;
* every other row is the index's close of that session.

Layout (measured, see docs/architecture.md "Index levels, curves, index report, options"): one
``dt=`` partition per session holding every index (N rows): 250 files a year, 5,000 at 20 years,
where a ``dt`` x ``index`` layout would hold N times more; Athena reads them as 5,000 partitions
(far below its 1 M limit). A 20-year history of one index opens those 5,000 files (0.7-1.6 s in
DuckDB here, against 0.01 s for 20 year files): acceptable for a table this small, and it is what
the generic refine seam (by ``dt``) writes today. Quality rows are rare, so their partitions too.

The calendar check runs on the driver over the distinct dates of the input only (a few hundred
values at most, never the rows), so the refine stays one PySpark-API plan on both engines.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from b3lake.tables.spec import TableSpec

RAW = "index_levels"
MISSING_SESSION = "missing_session"
NOT_A_SESSION = "not_a_session"
REASONS = {
    MISSING_SESSION: "a B3 session inside the published range with no value in B3's grid",
    NOT_A_SESSION: "B3 published a value on a day that is not a B3 session",
}


def non_sessions(days: list[dt.date]) -> list[dt.date]:
    """The days the B3 calendar says are not sessions (days outside its range are not judged)."""
    from b3lake.sources import calendar

    first, last = calendar.calendar_range()
    return sorted(d for d in days if first <= d <= last and not calendar.is_session(d))


def flag_levels(raw: Any) -> Any:
    """The raw rows with ``dt`` and their ``rule``/``reason`` (null for a clean close)."""
    from b3lake.engines import sql_api

    F = sql_api(raw).F  # noqa: N806
    days = [row[0] for row in raw.select("date").distinct().collect()]
    off = non_sessions([d.date() if isinstance(d, dt.datetime) else d for d in days])
    on_off_day = F.col("date").isin(*[F.lit(d) for d in off]) if off else F.lit(False)
    rule = F.when(F.col("close").isNull(), F.lit(MISSING_SESSION)).when(
        on_off_day, F.lit(NOT_A_SESSION)
    )
    reason = F.when(F.col("close").isNull(), F.lit(REASONS[MISSING_SESSION])).when(
        on_off_day, F.lit(REASONS[NOT_A_SESSION])
    )
    return raw.select(
        F.col("date").alias("dt"),
        F.col("index"),
        F.col("close"),
        F.col("close_text"),
        F.col("cell"),
        F.col("source_file"),
        F.col("line_number"),
        rule.alias("rule"),
        reason.alias("reason"),
    )


def refine_levels(inputs: dict[str, Any]) -> Any:
    from b3lake.engines import sql_api

    flagged = flag_levels(inputs[RAW])
    F = sql_api(flagged).F  # noqa: N806
    return flagged.filter(F.col("rule").isNull()).select("dt", "index", "close")


def refine_quality(inputs: dict[str, Any]) -> Any:
    from b3lake.engines import sql_api

    flagged = flag_levels(inputs[RAW])
    F = sql_api(flagged).F  # noqa: N806
    return flagged.filter(F.col("rule").isNotNull())


REFINED_INDEX_LEVELS = TableSpec(
    name="refined_index_levels",
    prefix="index_levels",
    description="Daily close of B3's indices (IBOV, ...) from B3's index statistics, per session.",
    partition_keys=(("dt", "date"),),
    columns=(("index", "string"), ("close", "double")),
    sort_by=("index",),
    inputs=(RAW,),
    refine=refine_levels,
)

QUALITY_INDEX_LEVELS = TableSpec(
    name="quality_index_levels",
    prefix="quality_index_levels",
    description="Index statistics rows that are not a session's close: missing sessions, values "
    "on days that are not sessions (rule, reason, B3's cell).",
    partition_keys=(("dt", "date"),),
    columns=(
        ("index", "string"),
        ("close", "double"),
        ("close_text", "string"),
        ("cell", "string"),
        ("source_file", "string"),
        ("line_number", "bigint"),
        ("rule", "string"),
        ("reason", "string"),
    ),
    sort_by=("index", "rule", "source_file", "line_number"),
    inputs=(RAW,),
    refine=refine_quality,
)
