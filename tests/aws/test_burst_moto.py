"""A burst through the AWS path on moto's server: 60 raw sessions land at once through the S3
adapter, every object's S3 event goes to the trigger handler, Glue's queue runs the job while the
objects are still landing. At most 3 runs do work, and the partitions written by all runs add up
to at most 1.1x the distinct partitions (see burst_harness for what moto does not model)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import burst_harness as B  # noqa: E402

from b3lake.catalog.glue import GlueCatalog  # noqa: E402
from b3lake.events.s3_event import object_created_event  # noqa: E402
from b3lake.keyspace import lake_location  # noqa: E402
from b3lake.lake import raw_manifest  # noqa: E402
from b3lake.lake.raw_writer import RawWriter  # noqa: E402
from b3lake.lambdas.trigger import TriggerConfig, handler  # noqa: E402

pytestmark = [pytest.mark.aws, pytest.mark.slow]

BUCKET = "b3lake-lake"
LAKE = f"s3://{BUCKET}/lake"
SESSIONS = 60


def test_a_burst_of_60_sessions_is_refined_by_at_most_3_runs(
    moto_endpoint: str, sample_cotahist: Any
) -> None:
    from b3lake.sources.cotahist import parse_cotahist, split_by_session

    defaults = {"--lake": LAKE, "--catalog_database": "default", "--tickers": B.TICKERS}
    B.glue_job(moto_endpoint, BUCKET, defaults)
    counter = B.Counter()
    storage = B.CountingS3Storage(LAKE, endpoint_url=moto_endpoint, counter=counter)
    catalog = GlueCatalog(
        "default", lake=LAKE, client=counter.hook(boto3.client("glue", endpoint_url=moto_endpoint))
    )
    queue = B.GlueQueue(moto_endpoint, counter, defaults)
    context = SimpleNamespace(
        b3lake_config=TriggerConfig(lake=LAKE, job_name=B.JOB),
        b3lake_launcher=queue,
        b3lake_storage=storage,
    )
    bucket, prefix = lake_location(LAKE)
    s3 = boto3.client("s3", endpoint_url=moto_endpoint)  # not counted: S3 sends the ETag
    results: list[dict[str, Any]] = []

    def notify(key: str, size: int) -> None:
        etag = s3.head_object(Bucket=bucket, Key=prefix + key)["ETag"].strip('"')
        event = object_created_event(bucket, prefix + key, size, etag=etag)
        results.append(handler(event, context))

    sessions = B.synthetic_sessions(split_by_session(parse_cotahist(sample_cotahist)), SESSIONS)
    writer = RawWriter(storage, notify=notify)
    # Glue picks up the first run after 10 objects have landed and runs it while the rest land.
    worker: threading.Thread | None = None
    for i, (day, table) in enumerate(sorted(sessions.items())):
        assert writer.write("cotahist", day, table).written
        if i == 9:
            worker = threading.Thread(target=queue.execute_next, args=(storage, catalog))
            worker.start()
    assert worker is not None
    worker.join()
    while queue.execute_next(storage, catalog):  # the queued runs, one at a time
        pass
    # Duplicate deliveries of every event after the burst: nothing starts.
    started_before = sum(len(r["started"]) for r in results)
    for key in storage.list_keys("raw/"):
        notify(key, 1)
    assert sum(len(r["started"]) for r in results) == started_before
    assert len(results) == 2 * SESSIONS  # every object's event reached the handler

    worked = [e for e in queue.executed if e.partitions]
    assert 1 <= len(worked) <= 3, [e.report.partitions_written for e in queue.executed]
    written = sum(e.partitions for e in queue.executed)
    distinct = len(storage.list_keys("refined/")) + len(storage.list_keys("quarantine/"))
    assert written <= 1.1 * distinct, (written, distinct)
    # Every session refined, nothing pending, every partition in the catalog.
    days = {k.split("/")[2] for k in storage.list_keys("refined/quotes/")}
    assert days == {f"dt={d}" for d in sessions}
    listed = raw_manifest.list_raw(storage, "cotahist")
    assert raw_manifest.changes(listed, raw_manifest.load(storage, ["cotahist"])) == ([], [])
    assert len(catalog.get_table("refined_quotes").partitions) == len(
        storage.list_keys("refined/quotes/")
    )
    print(
        f"\nburst of {SESSIONS}: {len(queue.executed)} runs started, {len(worked)} did work, "
        f"partitions written {written} for {distinct} distinct; requests {counter.snapshot()}"
    )
