"""The trigger invoked from many threads at once, as S3 invokes it for a burst of objects.

S3 invokes the trigger asynchronously, once per object, and Lambda runs as many copies at once as
the function's concurrency allows: unreserved, each copy can check for a WAITING run before any
other has started one, and each starts its own (moto runs Lambda invocations one at a time, so
the burst test never saw it). The deployment reserves a concurrency of 1 for the trigger
(infra/envs/dev ``trigger_reserved_concurrency``): Lambda then runs one copy at a time, and an
event that finds the function busy is throttled and retried by Lambda's asynchronous event queue
(with backoff, for up to ``maximum_event_age_in_seconds``, 6 hours, set on the function). Each
invocation sees the run the previous one started, so a burst starts one run, or two when Glue
picks the first one up meanwhile.

``AsyncLambda`` plays that part of Lambda: every event is handed to its own thread at once (the
threads start together at a barrier); an execution slot is taken per invocation (a semaphore
of the reserved concurrency; none when unreserved), a throttled event waits a short backoff and
retries, and an invocation that raises is retried twice (Lambda's async retries), its event
then lost to the dead-letter queue, which the test requires to stay empty. The trigger talks
HTTP to moto's server (manifest GETs, StartJobRun, GetJobRuns); Glue's job-run queue is
burst_harness.GlueQueue's.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import burst_harness as B  # noqa: E402

from b3lake.catalog.glue import GlueCatalog  # noqa: E402
from b3lake.events.s3_event import object_created_event  # noqa: E402
from b3lake.lake import manifest  # noqa: E402
from b3lake.lake.layout import lake_location  # noqa: E402
from b3lake.lake.raw_writer import RawWriter  # noqa: E402
from b3lake.lambdas.trigger import TriggerConfig, handler  # noqa: E402

pytestmark = [pytest.mark.aws]

BUCKET = "b3lake-lake"
LAKE = f"s3://{BUCKET}/lake"
SESSIONS = 24
TICKERS = "PETR4,VALE3,ITUB4"


class AsyncLambda:
    """Lambda's asynchronous invocation of one function, reduced to what concurrency changes."""

    RETRIES = 2  # function errors: Lambda retries an async event twice, then the DLQ

    def __init__(self, function: Callable[[dict[str, Any]], Any], reserved: int | None) -> None:
        self.function = function
        self.slots = threading.BoundedSemaphore(reserved) if reserved else None
        self.throttles = 0
        self.dead_letters: list[dict[str, Any]] = []
        self.peak = 0
        self._running = 0
        self._lock = threading.Lock()

    def _invoke(self, event: dict[str, Any]) -> None:
        errors = 0
        while True:
            if self.slots is not None and not self.slots.acquire(blocking=False):
                with self._lock:
                    self.throttles += 1
                time.sleep(0.005)  # Lambda's event queue backs off and retries the event
                continue
            with self._lock:
                self._running += 1
                self.peak = max(self.peak, self._running)
            try:
                self.function(event)
                return
            except Exception:  # noqa: BLE001 - Lambda retries the event
                errors += 1
                if errors > self.RETRIES:
                    with self._lock:
                        self.dead_letters.append(event)
                    return
            finally:
                with self._lock:
                    self._running -= 1
                if self.slots is not None:
                    self.slots.release()

    def deliver_at_once(self, events: list[dict[str, Any]]) -> None:
        barrier = threading.Barrier(len(events))

        def run(event: dict[str, Any]) -> None:
            barrier.wait()
            self._invoke(event)

        threads = [threading.Thread(target=run, args=(e,)) for e in events]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)


def _land(endpoint: str, sample: Any) -> tuple[B.CountingS3Storage, list[dict[str, Any]]]:
    """SESSIONS raw sessions in the lake, and the S3 event of each (with its real ETag)."""
    from b3lake.sources.cotahist import parse_cotahist, split_by_session

    counter = B.Counter()
    storage = B.CountingS3Storage(LAKE, endpoint_url=endpoint, counter=counter)
    writer = RawWriter(storage)
    sessions = B.synthetic_sessions(split_by_session(parse_cotahist(sample)), SESSIONS)
    for day, table in sorted(sessions.items()):
        assert writer.write("cotahist", day, table).written
    bucket, prefix = lake_location(LAKE)
    events = [
        object_created_event(bucket, prefix + key, 1, etag=etag)
        for key, etag in storage.list_etags("raw/").items()
    ]
    return storage, events


def _burst(endpoint: str, sample: Any, reserved: int | None) -> dict[str, Any]:
    defaults = {"--lake": LAKE, "--catalog_database": "default", "--tickers": TICKERS}
    B.glue_job(endpoint, BUCKET, defaults)
    storage, events = _land(endpoint, sample)
    queue = B.GlueQueue(endpoint, B.Counter(), defaults)
    context = SimpleNamespace(
        b3lake_config=TriggerConfig(lake=LAKE, job_name=B.JOB, region="us-east-1"),
        b3lake_launcher=queue,
        b3lake_storage=storage,
    )
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def trigger(event: dict[str, Any]) -> None:
        out = handler(event, context)
        with lock:
            results.append(out)

    function = AsyncLambda(trigger, reserved)
    started = time.perf_counter()
    function.deliver_at_once(events)
    seconds = time.perf_counter() - started
    return {
        "queue": queue,
        "storage": storage,
        "function": function,
        "results": results,
        "events": events,
        "seconds": seconds,
    }


def test_unreserved_a_burst_starts_a_run_per_racing_invocation(
    moto_endpoint: str, sample_cotahist: Any
) -> None:
    """What the reservation fixes: copies running at once each start their own run."""
    burst = _burst(moto_endpoint, sample_cotahist, reserved=None)
    started = len(burst["queue"].queue)
    print(f"\nunreserved: {SESSIONS} events, {started} runs started, peak {burst['function'].peak}")
    assert burst["function"].peak > 1
    assert started > 2, started


def test_reserved_concurrency_1_starts_one_run_and_loses_nothing(
    moto_endpoint: str, sample_cotahist: Any
) -> None:
    burst = _burst(moto_endpoint, sample_cotahist, reserved=1)
    function: AsyncLambda = burst["function"]
    queue: B.GlueQueue = burst["queue"]
    storage = burst["storage"]
    assert function.peak == 1
    assert function.dead_letters == []
    assert len(burst["results"]) == SESSIONS  # every event was handled, none dropped
    # Glue has not picked the first run up yet, so every later invocation coalesced into it.
    assert len(queue.queue) == 1, [r.id for r in queue.queue]
    coalesced = [c for r in burst["results"] for c in r["coalesced"]]
    assert len(coalesced) == SESSIONS - 1
    # The one run refines every session; nothing is left pending.
    catalog = GlueCatalog(
        "default", lake=LAKE, client=boto3.client("glue", endpoint_url=moto_endpoint)
    )
    while queue.execute_next(storage, catalog):
        pass
    worked = [e for e in queue.executed if e.partitions]
    assert len(worked) == 1
    days = {k.split("/")[2] for k in storage.list_keys("refined/quotes/")}
    assert len(days) == SESSIONS
    listed = manifest.list_raw(storage, "cotahist")
    assert manifest.changes(listed, manifest.load(storage)) == ([], [])
    print(
        f"\nreserved 1: {SESSIONS} events in {burst['seconds']:.2f} s, "
        f"{function.throttles} throttled retries, {len(queue.executed)} run(s), "
        f"{len(worked)} with work"
    )
