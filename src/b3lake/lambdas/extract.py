"""Extract Lambda: scheduled after the B3 close on weekdays, lands D-1 from the configured sources.

Writing raw objects to S3 is all it does; S3's notification then fires the trigger Lambda. Its
settings come from the same ``B3LAKE_*`` variables as everywhere else (``B3LAKE_SOURCES``,
``B3LAKE_TICKERS``, ``B3LAKE_INDEXES``, ``B3LAKE_LAKE``).

The scheduler event may carry ``{"date": "YYYY-MM-DD"}`` to re-extract a given session.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from b3lake.errors import B3LakeError, SourceError

log = logging.getLogger("b3lake.extract")
log.setLevel(logging.INFO)


def handler(event: dict[str, Any] | None, context: Any = None) -> dict[str, Any]:
    from b3lake.pipeline import Pipeline
    from b3lake.settings import load_settings
    from b3lake.sources import calendar

    event = event or {}
    settings = getattr(context, "b3lake_settings", None) or load_settings()
    if event.get("date"):
        try:
            day = dt.date.fromisoformat(str(event["date"]))
        except ValueError:
            raise SourceError(
                "event date is not YYYY-MM-DD", field="date", value=event["date"]
            ) from None
    else:
        day = calendar.last_completed_session()
    if not calendar.is_session(day):
        log.info(json.dumps({"skipped": day.isoformat(), "reason": "not a B3 session"}))
        return {"date": day.isoformat(), "skipped": "not a B3 session", "sources": {}}

    pipeline = getattr(context, "b3lake_pipeline", None) or Pipeline(settings)
    results: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for source in settings.sources:
        try:
            if source == "cotahist":
                report = pipeline.extract_cotahist(year=day.year, day=day)
                results[source] = report.line()
            elif source == "ibov":
                for index in settings.indexes:
                    results[f"ibov:{index}"] = pipeline.extract_ibov(index=index).line()
            elif source == "yfinance":
                report = pipeline.extract_yfinance(tickers=settings.tickers, start=day, end=day)
                results[source] = report.line()
        except B3LakeError as exc:  # one failing source does not stop the others
            errors[source] = str(exc)
            log.error(json.dumps({"source": source, "error": str(exc)}))
    outcome = {"date": day.isoformat(), "sources": results, "errors": errors}
    log.info(json.dumps(outcome))
    if errors:
        # Failing the invocation makes the scheduler's retry policy try again.
        raise SourceError(f"{len(errors)} source(s) failed for {day}: {errors}")
    return outcome
