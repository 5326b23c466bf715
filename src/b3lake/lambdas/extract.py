"""Extract Lambda: scheduled after the B3 close on weekdays, lands D-1 from the configured sources.

Writing raw objects to S3 is all it does; S3's notification then fires the trigger Lambda. Its
settings come from the same ``B3LAKE_*`` variables as everywhere else (``B3LAKE_SOURCES``,
``B3LAKE_TICKERS``, ``B3LAKE_INDEXES``, ``B3LAKE_LAKE``).

The scheduler event may carry ``{"date": "YYYY-MM-DD"}`` to re-extract a given session. What each
source lands for a session is its own declaration (``Source.scheduled``, see b3lake.sources.registry).
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
    from b3lake.sources import calendar, registry

    event = event or {}
    settings = getattr(context, "b3lake_settings", None) or load_settings()
    registry.check_names(settings.sources)  # a wrong name fails before anything is extracted
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
    for name in settings.sources:
        try:
            source = registry.get(name)
            for label, options in source.scheduled(day, settings):
                results[label] = pipeline.extract(source, **options).line()
        except B3LakeError as exc:  # one failing source does not stop the others
            errors[name] = str(exc)
            log.error(json.dumps({"source": name, "error": str(exc)}))
    outcome = {"date": day.isoformat(), "sources": results, "errors": errors}
    log.info(json.dumps(outcome))
    if errors:
        # Failing the invocation makes the scheduler's retry policy try again.
        raise SourceError(f"{len(errors)} source(s) failed for {day}: {errors}")
    return outcome
