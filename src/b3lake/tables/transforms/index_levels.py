"""The refine of ``refined_index_levels`` and ``quality_index_levels`` (PySpark API, any engine;
the specs and their decisions are in ``b3lake.tables.index_levels``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from b3lake.tables.index_levels import RAW

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
