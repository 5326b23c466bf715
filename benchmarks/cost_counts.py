"""Request counts of the AWS path, measured on moto's server, for docs/deploy.md's cost table.

Counted at the boto3 clients (every S3 and Glue API call, by operation, through botocore's
``before-call`` event) and at the Storage port's pyarrow filesystem (objects opened for reading
by the engines), with ``tests/aws/burst_harness.py``: raw objects land through the S3 adapter
(the raw writer), every object's S3 event goes to the trigger handler, the harness plays Glue's
job-run queue (one run at a time) and executes each run's refine entry point on moto.

Scenarios, each in a fresh moto:

* ``burst``: ``--sessions`` sessions land at once (an annual file); Glue starts the first run
  after 10 objects and runs it while the rest land (new code), or, before this change, every
  event's run executes in order after the burst (each sees the whole burst in raw/);
* ``daily``: on a lake holding those sessions, consumed, one more session lands;
* ``full``: ``refine --mode full`` over the same sessions.

``--src`` runs another checkout's code (``git worktree add /tmp/before 6a65cd2`` for the code
before this change): the harness only needs its Storage, catalog, trigger and job entry point.
Prints one JSON line per scenario.

Usage: ``python benchmarks/cost_counts.py [--sessions 60] [--tickers 10] [--src DIR]``
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "COTAHIST_A2021.ZIP"
BUCKET = "b3lake-lake"
LAKE = f"s3://{BUCKET}/lake"


def _moto() -> tuple[Any, str]:
    import logging
    import socket

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    # moto's backends live in this process, shared by every server: start from empty.
    import urllib.request

    request = urllib.request.Request(endpoint + "/moto-api/reset", data=b"{}", method="POST")
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - loopback only
        pass
    return server, endpoint


def scenario(name: str, sessions: int, tickers: int, new_code: bool) -> dict[str, Any]:
    import boto3
    import burst_harness as B

    from b3lake.catalog.glue import GlueCatalog
    from b3lake.events.s3_event import object_created_event
    from b3lake.lake.layout import lake_location
    from b3lake.lake.raw_writer import RawWriter
    from b3lake.lambdas.trigger import TriggerConfig, handler
    from b3lake.sources.cotahist import parse_cotahist, split_by_session

    server, endpoint = _moto()
    try:
        universe = ",".join(_tickers(tickers))
        B.TICKERS = universe
        defaults = {"--lake": LAKE, "--catalog_database": "default", "--tickers": universe}
        B.glue_job(endpoint, BUCKET, defaults)
        counter = B.Counter()
        storage = B.CountingS3Storage(LAKE, endpoint_url=endpoint, counter=counter)
        catalog = GlueCatalog(
            "default", lake=LAKE, client=counter.hook(boto3.client("glue", endpoint_url=endpoint))
        )
        queue = B.GlueQueue(endpoint, counter, defaults)
        context = SimpleNamespace(
            b3lake_config=TriggerConfig(lake=LAKE, job_name=B.JOB),
            b3lake_launcher=queue,
            b3lake_storage=storage,
        )
        bucket, prefix = lake_location(LAKE)
        s3 = boto3.client("s3", endpoint_url=endpoint)  # not counted: S3 sends the ETag

        def notify(key: str, size: int) -> None:
            etag = s3.head_object(Bucket=bucket, Key=prefix + key)["ETag"].strip('"')
            handler(object_created_event(bucket, prefix + key, size, etag=etag), context)

        real = split_by_session(parse_cotahist(SAMPLE))
        days = B.synthetic_sessions(real, sessions + 1)
        ordered = sorted(days.items())
        writer = RawWriter(storage, notify=notify)

        def land(items: list[Any], *, overlap: bool) -> None:
            worker = None
            for i, (day, table) in enumerate(items):
                writer.write("cotahist", day, table)
                if overlap and i == 9:
                    worker = threading.Thread(target=queue.execute_next, args=(storage, catalog))
                    worker.start()
            if worker is not None:
                worker.join()
            while queue.execute_next(storage, catalog):
                pass

        if name == "full":
            quiet = RawWriter(storage)
            for day, table in ordered[:sessions]:
                quiet.write("cotahist", day, table)
        else:
            land(ordered[:sessions], overlap=new_code)
        before = counter.snapshot()
        runs_before = len(queue.executed)
        start = time.perf_counter()
        if name == "daily":
            land(ordered[sessions:], overlap=False)
        elif name == "full":
            from b3lake.jobs.refine.job import main
            from b3lake.launchers.local import glue_argv

            counter.add("glue:JobRun")
            args = {**defaults, "--mode": "full"}
            queue.executed.append(
                B.Executed(
                    SimpleNamespace(id="full"),  # type: ignore[arg-type]
                    main(glue_argv(B.JOB, "jr_full", args), storage=storage, catalog=catalog),
                )
            )
        seconds = time.perf_counter() - start
        if name == "burst":
            before, runs_before = {}, 0
        after = counter.snapshot()
        delta = {k: after.get(k, 0) - before.get(k, 0) for k in sorted(after)}
        executed = queue.executed[runs_before:]
        return {
            "scenario": name,
            "code": "after" if new_code else "before",
            "sessions": sessions,
            "tickers": tickers,
            "runs": len(executed),
            "runs_with_work": sum(1 for e in executed if e.partitions),
            "partitions_written": sum(e.partitions for e in executed),
            "seconds": round(seconds, 1),
            "requests": {k: v for k, v in delta.items() if v},
        }
    finally:
        server.stop()


def _tickers(n: int) -> list[str]:
    base = [
        "PETR4", "VALE3", "ITUB4", "BBDC4", "ABEV3", "MGLU3", "BOVA11", "B3SA3", "WEGE3",
        "SUZB3", "PETR3", "BBAS3", "ITSA4", "RENT3", "GGBR4", "JBSS3", "ELET3", "LREN3",
        "RADL3", "HYPE3",
    ]  # fmt: skip
    return base[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=60)
    parser.add_argument("--tickers", type=int, default=10)
    parser.add_argument("--src", type=Path, default=None, help="another checkout's root")
    parser.add_argument("--scenarios", default="burst,daily,full")
    args = parser.parse_args()
    import os

    # moto accepts any credentials; none of the host's are used.
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }.items():
        os.environ[key] = value
    sys.path.insert(0, str(ROOT / "tests" / "aws"))
    if args.src is not None:
        sys.path.insert(0, str(args.src / "src"))
    import b3lake.launchers.glue as glue

    new_code = hasattr(glue.GlueLauncher, "waiting_runs")
    for name in args.scenarios.split(","):
        print(json.dumps(scenario(name, args.sessions, args.tickers, new_code)), flush=True)


if __name__ == "__main__":
    main()
