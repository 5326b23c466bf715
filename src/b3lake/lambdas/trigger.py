"""Trigger Lambda: an S3 ``ObjectCreated`` on ``raw/`` starts the refine job, and nothing else
(or the Glue Studio visual job, or both: ``B3LAKE_TRIGGER_JOBS``, see ``TriggerConfig.jobs``).

Imports only the standard library, boto3 (in the Lambda runtime) and light b3lake modules, so its
zip holds just the package source. Locally, the event bus passes a context whose ``b3lake_launcher``
is the in-process launcher; in AWS the launcher is the boto3 Glue client itself.

Coalescing (a burst of raw objects starts one or two runs, not one per object). A run refines
every raw object that changed since the raw manifest (``lake/manifest.py``) recorded it, so a run
that has not yet started its script will see every object that has already landed. For each date
of an event the handler therefore starts no run when

* the manifest already holds the event's objects with their ETags (a duplicate delivery, or an
  object an earlier run of the burst consumed): one GET of the object's manifest shard; or
* a run of the job is ``WAITING`` (Glue's job-run queue) or ``STARTING``: it has not listed the raw
  objects yet, so it will refine this one (one ``GetJobRuns`` call, newest runs first).

A run that is ``RUNNING`` may have listed already, so a new run is started (with
``max_concurrent_runs = 1`` it waits in the queue; the next events coalesce into it). A burst of
250 objects thus starts: the first run, one queued while it runs, and at most one more. Both
checks fail open (a refused read starts the run, as before): a redundant run finds nothing
pending and ends in seconds without writing; an object is never left behind. The alternative,
S3 → SQS → Lambda with a batching window, still starts one run per batch (and Lambda may poll
several batches at once) and adds a queue to deploy; the two checks need no new resource.

No event is lost when Glue refuses a run (``ConcurrentRunsExceededException``, throttling that
outlasts botocore's own retries, a missing job): the handler still tries every other date of the
event, then raises, so Lambda retries the whole event (async invocations: twice, then the
failure destination). A retry starts every date again; the ones that had started run twice,
harmlessly. S3 sends one record per notification, so in practice a retry re-starts one date.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass, fields
from typing import Any

from b3lake.errors import EventError, JobError
from b3lake.events.s3_event import S3ObjectRef, parse_s3_event
from b3lake.jobs.refine.args import RefineArgs, Universe
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
    # Which records the refine keeps: sent with every run, so no run depends on job defaults.
    universe: Universe = Universe()
    # The tickers the R6 table holds (B3LAKE_UNIVERSE__R6_TICKERS); () = the whole universe.
    r6_tickers: tuple[str, ...] = ()
    # The region of the job and the lake (B3LAKE_AWS_REGION, which Terraform sets; else the
    # AWS_REGION Lambda's runtime sets). None only locally, where no AWS client is made.
    region: str | None = None

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
            universe=_universe_from_env(),
            r6_tickers=tuple(_list_from_env("B3LAKE_UNIVERSE__R6_TICKERS") or ()),
            region=os.environ.get("B3LAKE_AWS_REGION") or os.environ.get("AWS_REGION") or None,
        )

    def run_arguments(self, day: str, raw_key: str) -> dict[str, str]:
        """The job arguments of the run for one session (``RefineArgs.to_arguments()``)."""
        session = dt.date.fromisoformat(day)
        args = RefineArgs(
            lake=self.lake,
            dt=session,
            raw_key=raw_key,
            mode="incremental",
            catalog_database=self.catalog_database,
            universe=self.universe,
            r6_tickers=self.r6_tickers,
        )
        return args.to_arguments()


def _universe_from_env() -> Universe:
    """``B3LAKE_UNIVERSE__TPMERC`` … as pydantic-settings reads them (JSON lists, what
    Terraform's ``jsonencode`` writes); unset ones keep the defaults."""
    lists: dict[str, list[str]] = {}
    for f in fields(Universe):
        value = _list_from_env(f"B3LAKE_UNIVERSE__{f.name.upper()}")
        if value is not None:
            lists[f.name] = value
    return Universe.of(**lists) if lists else Universe()


def _list_from_env(name: str) -> list[str] | None:
    """A JSON list of strings from the environment (None when unset); EventError naming it."""
    text = os.environ.get(name)
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise EventError("not a JSON list", source="environment", field=name) from exc
    if not isinstance(value, list):
        raise EventError("not a JSON list", source="environment", field=name, value=text)
    return [str(v).strip() for v in value if str(v).strip()]


def _default_launcher(config: TriggerConfig) -> Any:
    """Glue at ``B3LAKE_AWS_ENDPOINT_URL`` (moto, LocalStack) or the real one, in the config's
    region (``awsclients`` refuses to guess one)."""
    from b3lake.launchers.glue import GlueLauncher

    return GlueLauncher(
        endpoint_url=os.environ.get("B3LAKE_AWS_ENDPOINT_URL") or None, region=config.region
    )


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


#: Glue states of a run that has not yet run its script (it will list the raw objects later).
NOT_STARTED_STATES = frozenset({"WAITING", "STARTING"})


def _waiting_run(launcher: Any, job_name: str) -> str | None:
    """The id of a run of ``job_name`` that has not started its script yet, or None.

    Fails open: a launcher that cannot tell (no ``waiting_runs``, a refused ``GetJobRuns``)
    gives None, and the caller starts a run as before."""
    waiting = getattr(launcher, "waiting_runs", None)
    if waiting is None:
        return None
    try:
        runs = waiting(job_name)
    except Exception as exc:  # noqa: BLE001 - fail open: starting a run is always safe
        log.info(json.dumps({"waiting_runs": "unknown", "error": str(exc)}))
        return None
    for run in runs:
        if getattr(run, "state", None) in NOT_STARTED_STATES:
            return str(run.id)
    return None


class _Consumed:
    """The raw manifest's entries, one shard read per (source, year) an event touches.

    Read with the Lambda's own boto3 (``s3:GetObject`` on ``_b3lake/manifest/*``; a shard not
    written yet answers 403 to a role without an unconditioned ``s3:ListBucket``, told from a
    refusal by ``awsclients.s3_key_missing``, which lists exactly that key under the role's
    ``s3:prefix`` condition), or from the local lake's directory; a context's ``b3lake_storage``
    (tests) is read through the port."""

    def __init__(self, config: TriggerConfig, context: Any) -> None:
        self.config = config
        self.storage = getattr(context, "b3lake_storage", None)
        self._failed = False
        self._shards: dict[str, dict[str, str]] = {}
        self._s3: Any = None

    def _get(self, key: str) -> bytes | None:
        """A lake object's bytes, or None if it does not exist."""
        from b3lake.errors import StorageError

        if self.storage is not None:
            try:
                return bytes(self.storage.get_bytes(key))
            except StorageError:
                return None
        if not self.config.lake.startswith("s3://"):
            path = os.path.join(self.config.lake, key)
            if not os.path.isfile(path):
                return None
            with open(path, "rb") as fh:
                return fh.read()
        from b3lake import awsclients

        if self._s3 is None:
            self._s3 = awsclients.client("s3", region=self.config.region)
        bucket, prefix = lake_location(self.config.lake)
        try:
            return bytes(self._s3.get_object(Bucket=bucket, Key=prefix + key)["Body"].read())
        except Exception as exc:
            if awsclients.s3_key_missing(self._s3, bucket, prefix + key, exc):
                return None
            raise

    def holds(self, key: str, etag: str) -> bool:
        """True when ``key`` was consumed with exactly this ETag (fails open: False)."""
        if not etag or self._failed:
            return False
        from b3lake.lake import manifest

        try:
            shard = manifest.shard_key(key)
            if shard not in self._shards:
                data = self._get(shard)
                entries = manifest.parse_shard(data) if data is not None else {}
                self._shards[shard] = {k: v.get("etag", "") for k, v in entries.items()}
            return self._shards[shard].get(key) == etag
        except Exception as exc:  # noqa: BLE001 - fail open: an unknown object is refined
            self._failed = True
            log.info(json.dumps({"manifest": "unreadable", "error": str(exc)}))
            return False


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Start one refine run per trading date found in the event's raw objects."""
    if _is_test_event(event):
        log.info(json.dumps({"ignored": "s3:TestEvent", "bucket": event.get("Bucket")}))
        return {"started": [], "ignored": [{"event": "s3:TestEvent", "reason": "test event"}]}
    config: TriggerConfig = getattr(context, "b3lake_config", None) or TriggerConfig.from_env()
    refs = parse_s3_event(
        _unwrap_sqs(event)
    )  # EventError before any run starts: a malformed event starts none
    launcher = getattr(context, "b3lake_launcher", None) or _default_launcher(config)
    bucket, prefix = lake_location(config.lake)

    keys_by_date: dict[str, set[str]] = {}
    ignored: list[dict[str, str]] = []
    consumed = _Consumed(config, context)
    coalesced: list[dict[str, Any]] = []
    for ref in refs:
        raw, reason = _raw_object(ref, bucket, prefix)
        if raw is not None and consumed.holds(raw.key, ref.etag):
            coalesced.append({"dt": raw.dt.isoformat(), "raw_key": raw.key, "into": "consumed"})
            log.info(json.dumps({"consumed": raw.key, "etag": ref.etag}))
        elif raw is not None:
            keys_by_date.setdefault(raw.dt.isoformat(), set()).add(raw.key)
        else:
            ignored.append({"bucket": ref.bucket, "key": ref.key, "reason": reason})
            log.info(json.dumps({"ignored": ref.key, "bucket": ref.bucket, "reason": reason}))

    started: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for day in sorted(keys_by_date) if config.jobs != "visual" else []:
        keys = sorted(keys_by_date[day])
        waiting = _waiting_run(launcher, config.job_name)
        if waiting is not None:
            coalesced.extend({"dt": day, "raw_key": k, "into": waiting} for k in keys)
            log.info(json.dumps({"coalesced_into": waiting, "dt": day}))
            continue
        arguments = config.run_arguments(day, keys[0])
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
    return {"started": started, "ignored": ignored, "coalesced": coalesced}


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
