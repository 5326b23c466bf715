"""Trigger Lambda: an S3 ``ObjectCreated`` on ``raw/`` starts the refine job, and nothing else.

Imports only the standard library, boto3 (in the Lambda runtime) and light b3lake modules, so its
zip holds just the package source. Locally, the event bus passes a context whose ``b3lake_launcher``
is the in-process launcher; in AWS the launcher is the boto3 Glue client itself.

S3 delivers at least once: a duplicate event may start a redundant run, which is harmless because
the refine job rewrites whole partitions (idempotent).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from typing import Any

from b3lake.errors import EventError, JobError
from b3lake.events.s3_event import parse_s3_event
from b3lake.lake.layout import RAW, lake_location, parse_raw_key

log = logging.getLogger("b3lake.trigger")
log.setLevel(logging.INFO)


@dataclass(frozen=True)
class TriggerConfig:
    """The trigger's settings, from the same ``B3LAKE_*`` variables as ``b3lake.settings``."""

    lake: str
    job_name: str
    catalog_database: str = "default"

    @classmethod
    def from_env(cls) -> TriggerConfig:
        lake = os.environ.get("B3LAKE_LAKE")
        if not lake:
            raise EventError("B3LAKE_LAKE is not set", source="environment")
        return cls(
            lake=lake,
            job_name=os.environ.get("B3LAKE_GLUE_JOB_NAME", "b3lake-refine"),
            catalog_database=os.environ.get("B3LAKE_CATALOG_DATABASE", "default"),
        )


def _default_launcher() -> Any:
    import boto3

    return boto3.client("glue", endpoint_url=os.environ.get("B3LAKE_AWS_ENDPOINT_URL") or None)


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Start one refine run per trading date found in the event's raw objects."""
    config: TriggerConfig = getattr(context, "b3lake_config", None) or TriggerConfig.from_env()
    launcher = getattr(context, "b3lake_launcher", None) or _default_launcher()
    bucket, prefix = lake_location(config.lake)

    keys_by_date: dict[str, list[str]] = {}
    ignored: list[dict[str, str]] = []
    for ref in parse_s3_event(event):
        reason = None
        if not ref.event_name.startswith("ObjectCreated"):
            reason = f"event {ref.event_name} is not an ObjectCreated"
        elif ref.bucket != bucket:
            reason = f"bucket {ref.bucket} is not the lake bucket {bucket}"
        elif not ref.key.startswith(f"{prefix}{RAW}/") or not ref.key.endswith(".parquet"):
            reason = f"not a raw parquet object under {prefix}{RAW}/"
        else:
            try:
                raw = parse_raw_key(ref.key[len(prefix) :])
            except EventError as exc:
                reason = str(exc)
            else:
                keys_by_date.setdefault(raw.dt.isoformat(), []).append(raw.key)
        if reason:
            ignored.append({"bucket": ref.bucket, "key": ref.key, "reason": reason})
            log.info(json.dumps({"ignored": ref.key, "bucket": ref.bucket, "reason": reason}))

    started, failed = [], []
    for day in sorted(keys_by_date):
        arguments = {
            "--dt": day,
            "--raw_key": sorted(keys_by_date[day])[0],
            "--lake": config.lake,
            "--run_date": day,
            "--mode": "incremental",
            "--catalog_database": config.catalog_database,
        }
        try:
            response = launcher.start_job_run(JobName=config.job_name, Arguments=arguments)
        except Exception as exc:  # noqa: BLE001 - e.g. ConcurrentRunsExceededException
            failed.append({"dt": day, "error": f"{type(exc).__name__}: {exc}"})
            log.error(json.dumps({"dt": day, "error": str(exc)}))
            continue
        started.append({"dt": day, "JobRunId": response["JobRunId"], "raw_keys": keys_by_date[day]})
        log.info(json.dumps({"started": response["JobRunId"], "dt": day}))
    if failed:
        # Raising makes Lambda retry the event (and send it to the failure destination at the
        # end): no date is lost; the dates already started run again, harmlessly.
        raise JobError(
            f"{len(failed)} job run(s) could not start: {failed}", source=config.job_name
        )
    return {"started": started, "ignored": ignored}
