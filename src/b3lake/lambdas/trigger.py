"""Trigger Lambda: an S3 ``ObjectCreated`` on ``raw/`` starts the refine job, and nothing else
(or the Glue Studio visual job, or both: ``B3LAKE_TRIGGER_JOBS``, see ``TriggerConfig.jobs``).

Imports only the standard library, boto3 (in the Lambda runtime) and light b3lake modules, so its
zip holds just the package source. Locally, the event bus passes a context whose ``b3lake_launcher``
is the in-process launcher; in AWS the launcher is the boto3 Glue client itself.

S3 delivers at least once: a duplicate event may start a redundant run, which is harmless because
the refine job rewrites whole partitions (idempotent).

No event is lost when Glue refuses a run (``ConcurrentRunsExceededException``, throttling that
outlasts botocore's own retries, a missing job): the handler still tries every other date of the
event, then raises, so Lambda retries the whole event (async invocations: twice, then the
failure destination). A retry starts every date again; the ones that had started run twice,
harmlessly. S3 sends one record per notification, so in practice a retry re-starts one date.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from typing import Any

from b3lake.errors import EventError, JobError
from b3lake.events.s3_event import S3ObjectRef, parse_s3_event
from b3lake.lake.layout import RAW, RAW_SOURCES, RawObject, lake_location, parse_raw_key

log = logging.getLogger("b3lake.trigger")
log.setLevel(logging.INFO)


TRIGGER_JOBS = ("script", "visual", "both")


@dataclass(frozen=True)
class TriggerConfig:
    """The trigger's settings, from the same ``B3LAKE_*`` variables as ``b3lake.settings``."""

    lake: str
    job_name: str
    catalog_database: str = "default"
    # Which job(s) new raw objects start (B3LAKE_TRIGGER_JOBS): "script" (the refine job, one run
    # per date), "visual" (the Glue Studio job, one run per event: it rebuilds from all of raw),
    # or "both".
    jobs: str = "script"
    visual_job_name: str = "b3lake-visual"

    @classmethod
    def from_env(cls) -> TriggerConfig:
        lake = os.environ.get("B3LAKE_LAKE")
        if not lake:
            raise EventError("B3LAKE_LAKE is not set", source="environment")
        jobs = os.environ.get("B3LAKE_TRIGGER_JOBS", "script")
        if jobs not in TRIGGER_JOBS:
            raise EventError(
                f"B3LAKE_TRIGGER_JOBS must be one of {', '.join(TRIGGER_JOBS)}", value=jobs
            )
        return cls(
            lake=lake,
            job_name=os.environ.get("B3LAKE_GLUE_JOB_NAME", "b3lake-refine"),
            catalog_database=os.environ.get("B3LAKE_CATALOG_DATABASE", "default"),
            jobs=jobs,
            visual_job_name=os.environ.get("B3LAKE_VISUAL__JOB_NAME", "b3lake-visual"),
        )


def _default_launcher() -> Any:
    """Glue at ``B3LAKE_AWS_ENDPOINT_URL`` (moto, LocalStack) or the real one."""
    from b3lake.launchers.glue import GlueLauncher

    return GlueLauncher(endpoint_url=os.environ.get("B3LAKE_AWS_ENDPOINT_URL") or None)


def _is_test_event(event: Any) -> bool:
    """``s3:TestEvent``: what S3 sends once when a notification is configured (no Records)."""
    return (
        isinstance(event, dict) and event.get("Event") == "s3:TestEvent" and "Records" not in event
    )


def _unwrap_sqs(event: Any) -> Any:
    """S3 notifications delivered through an SQS queue (S3 → SQS → Lambda): one S3 event.

    A queue in front of the trigger keeps refused events for days (Lambda's own async retries
    stop after two); raising then returns the whole batch to the queue. Other events pass as is.
    """
    records = event.get("Records") if isinstance(event, dict) else None
    if not records or not all(
        isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records
    ):
        return event
    inner: list[Any] = []
    for i, record in enumerate(records):
        try:
            body = json.loads(record["body"])
        except (KeyError, TypeError, ValueError) as exc:
            raise EventError("SQS record body is not JSON", source=f"event.Records[{i}]") from exc
        if _is_test_event(body):
            continue
        if not isinstance(body, dict) or not isinstance(body.get("Records"), list):
            raise EventError(
                "SQS record body is not an S3 notification", source=f"event.Records[{i}]"
            )
        inner.extend(body["Records"])
    return {"Records": inner}


def _raw_object(ref: S3ObjectRef, bucket: str, prefix: str) -> tuple[RawObject | None, str]:
    """The raw object a record announces, or None and why the record is ignored."""
    if not ref.event_name.startswith("ObjectCreated"):
        return None, f"event {ref.event_name} is not an ObjectCreated"
    if ref.bucket != bucket:
        return None, f"bucket {ref.bucket} is not the lake bucket {bucket}"
    if not ref.key.startswith(f"{prefix}{RAW}/") or not ref.key.endswith(".parquet"):
        return None, f"not a raw parquet object under {prefix}{RAW}/"
    try:
        raw = parse_raw_key(ref.key[len(prefix) :])
    except EventError as exc:
        return None, str(exc)
    if raw.source not in RAW_SOURCES:
        return None, f"unknown raw source {raw.source} (known: {', '.join(RAW_SOURCES)})"
    return raw, ""


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Start one refine run per trading date found in the event's raw objects."""
    if _is_test_event(event):
        log.info(json.dumps({"ignored": "s3:TestEvent", "bucket": event.get("Bucket")}))
        return {"started": [], "ignored": [{"event": "s3:TestEvent", "reason": "test event"}]}
    config: TriggerConfig = getattr(context, "b3lake_config", None) or TriggerConfig.from_env()
    refs = parse_s3_event(
        _unwrap_sqs(event)
    )  # EventError before any run starts: a malformed event starts none
    launcher = getattr(context, "b3lake_launcher", None) or _default_launcher()
    bucket, prefix = lake_location(config.lake)

    keys_by_date: dict[str, set[str]] = {}
    ignored: list[dict[str, str]] = []
    for ref in refs:
        raw, reason = _raw_object(ref, bucket, prefix)
        if raw is not None:
            keys_by_date.setdefault(raw.dt.isoformat(), set()).add(raw.key)
        else:
            ignored.append({"bucket": ref.bucket, "key": ref.key, "reason": reason})
            log.info(json.dumps({"ignored": ref.key, "bucket": ref.bucket, "reason": reason}))

    started: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for day in sorted(keys_by_date) if config.jobs != "visual" else []:
        keys = sorted(keys_by_date[day])
        arguments = {
            "--dt": day,
            "--raw_key": keys[0],
            "--lake": config.lake,
            "--run_date": day,
            "--mode": "incremental",
            "--catalog_database": config.catalog_database,
        }
        try:
            response = launcher.start_job_run(JobName=config.job_name, Arguments=arguments)
        except Exception as exc:  # noqa: BLE001 - e.g. ConcurrentRunsExceededException
            failed.append({"dt": day, "error": f"{type(exc).__name__}: {exc}"})
            log.error(json.dumps({"dt": day, "error": str(exc), "will_retry": True}))
            continue
        started.append({"dt": day, "JobRunId": response["JobRunId"], "raw_keys": keys})
        log.info(json.dumps({"started": response["JobRunId"], "dt": day}))
    # The visual job reads raw COTAHIST only: other sources' objects do not start it.
    visual_days = sorted(
        d for d, ks in keys_by_date.items() if any(k.startswith(f"{RAW}/cotahist/") for k in ks)
    )
    if config.jobs in ("visual", "both") and visual_days:
        _start_visual(config, launcher, visual_days, started, failed)
    if failed:
        # Raising makes Lambda retry the event (and send it to the failure destination at the
        # end): no date is lost; the dates already started run again, harmlessly.
        raise JobError(
            f"{len(failed)} job run(s) could not start: {failed}", source=config.job_name
        )
    return {"started": started, "ignored": ignored}


def _start_visual(
    config: TriggerConfig,
    launcher: Any,
    days: list[str],
    started: list[dict[str, Any]],
    failed: list[dict[str, Any]],
) -> None:
    """One run of the visual job for the whole event (its DAG reads all of raw/cotahist/)."""
    try:
        response = launcher.start_job_run(JobName=config.visual_job_name, Arguments={})
    except Exception as exc:  # noqa: BLE001 - the same retry rule as the script job's runs
        failed.append({"job": config.visual_job_name, "error": f"{type(exc).__name__}: {exc}"})
        log.error(json.dumps({"job": config.visual_job_name, "error": str(exc)}))
        return
    started.append({"job": config.visual_job_name, "JobRunId": response["JobRunId"], "dts": days})
    log.info(json.dumps({"started": response["JobRunId"], "job": config.visual_job_name}))
