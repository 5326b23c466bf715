"""A burst of raw objects through the AWS path on moto's server, with Glue's job-run queue
played by the test: moto's Glue records every StartJobRun but runs nothing, and has no queue.

``GlueQueue`` is the trigger's launcher: each ``start_job_run`` is a real StartJobRun on moto,
then waits (``WAITING``) until the harness executes it, one at a time, as a Glue job with
``max_concurrent_runs = 1`` and run queuing does; ``waiting_runs`` reports the runs not yet
executing. A run executes the refine entry point with Glue's argv (the job's default arguments
under the run's) on S3Storage and the Glue catalog at moto, embedded engine.

``Counter`` counts requests at the boto3 clients (every S3 and Glue API call, by operation) and
at the Storage port's pyarrow filesystem (files opened for reading by the engines): the counts
the cost table of docs/deploy.md is computed from.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter as _Counter
from dataclasses import dataclass
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs

from b3lake.catalog.glue import GlueCatalog
from b3lake.jobs.refine.job import RefineReport, main
from b3lake.launchers import JobRun
from b3lake.launchers.glue import GlueLauncher
from b3lake.launchers.local import glue_argv
from b3lake.storage.s3 import S3Storage

JOB = "b3lake-refine"
TICKERS = "PETR4,VALE3,ITUB4,BBDC4,ABEV3,MGLU3,BOVA11,B3SA3,WEGE3,SUZB3"


def business_days(n: int, start: dt.date = dt.date(2021, 1, 4)) -> list[dt.date]:
    out, day = [], start
    while len(out) < n:
        if day.weekday() < 5:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def synthetic_sessions(real: dict[dt.date, pa.Table], n: int) -> dict[dt.date, pa.Table]:
    """``n`` sessions: the real sample's sessions (the test's tickers only) cycled over ``n``
    business days, each re-dated (``datpre``)."""
    wanted = pa.array(TICKERS.split(","))
    tables = [t.filter(pc.is_in(t["codneg"], value_set=wanted)) for _, t in sorted(real.items())]
    out = {}
    for i, day in enumerate(business_days(n)):
        table = tables[i % len(tables)]
        cols = {name: table[name] for name in table.column_names}
        cols["datpre"] = pa.array([day] * table.num_rows, pa.date32())
        out[day] = pa.table(cols).cast(table.schema)
    return out


class Counter:
    """Requests by service and operation (boto3 clients) and Parquet files opened (pyarrow)."""

    def __init__(self) -> None:
        self.calls: _Counter[str] = _Counter()
        self._lock = threading.Lock()

    def hook(self, client: Any) -> Any:
        service = client.meta.service_model.service_name

        def count(**_: Any) -> None:
            with self._lock:
                self.calls[f"{service}:{_['model'].name}"] += 1

        client.meta.events.register("before-call.*.*", count)
        return client

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.calls[name] += n

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.calls)


class _CountingHandler(pyarrow.fs.FileSystemHandler):
    """A pyarrow filesystem that counts the files opened for reading (each a GET or more)."""

    def __init__(self, inner: pyarrow.fs.FileSystem, counter: Counter) -> None:
        self.inner, self.counter = inner, counter

    def get_type_name(self) -> str:
        return "counting"

    def equals(self, other: Any) -> bool:
        return self is other

    def get_file_info(self, paths: list[str]) -> list[pyarrow.fs.FileInfo]:
        self.counter.add("s3:HeadObject(pyarrow)", len(paths))
        return self.inner.get_file_info(paths)  # type: ignore[no-any-return]

    def get_file_info_selector(self, selector: Any) -> list[pyarrow.fs.FileInfo]:
        self.counter.add("s3:ListObjectsV2(pyarrow)")
        return self.inner.get_file_info(selector)  # type: ignore[no-any-return]

    def open_input_file(self, path: str) -> Any:
        self.counter.add("s3:GetObject(pyarrow file)")
        return self.inner.open_input_file(path)

    def open_input_stream(self, path: str) -> Any:
        self.counter.add("s3:GetObject(pyarrow file)")
        return self.inner.open_input_stream(path)

    def normalize_path(self, path: str) -> str:
        return path

    def create_dir(self, path: str, recursive: bool) -> None:
        self.inner.create_dir(path, recursive=recursive)

    def delete_dir(self, path: str) -> None:
        self.inner.delete_dir(path)

    def delete_dir_contents(self, path: str, missing_dir_ok: bool = False) -> None:
        self.inner.delete_dir_contents(path, missing_dir_ok=missing_dir_ok)

    def delete_root_dir_contents(self) -> None:
        self.inner.delete_root_dir_contents()

    def delete_file(self, path: str) -> None:
        self.inner.delete_file(path)

    def move(self, src: str, dest: str) -> None:
        self.inner.move(src, dest)

    def copy_file(self, src: str, dest: str) -> None:
        self.inner.copy_file(src, dest)

    def open_output_stream(self, path: str, metadata: Any) -> Any:
        self.counter.add("s3:PutObject(pyarrow)")
        return self.inner.open_output_stream(path, metadata=metadata)

    def open_append_stream(self, path: str, metadata: Any) -> Any:
        return self.inner.open_append_stream(path, metadata=metadata)


class CountingS3Storage(S3Storage):
    """S3Storage whose boto3 client and pyarrow filesystem count their requests."""

    def __init__(self, lake: str, *, endpoint_url: str, counter: Counter) -> None:
        super().__init__(lake, endpoint_url=endpoint_url)
        self.counter = counter
        self._client = counter.hook(boto3.client("s3", endpoint_url=endpoint_url))

    def arrow_filesystem(self) -> tuple[pyarrow.fs.FileSystem, str]:
        fs, base = super().arrow_filesystem()
        return pyarrow.fs.PyFileSystem(_CountingHandler(fs, self.counter)), base


@dataclass
class Executed:
    run: JobRun
    report: RefineReport

    @property
    def partitions(self) -> int:
        return sum(self.report.partitions_written.values())


class GlueQueue(GlueLauncher):
    """The trigger's launcher: StartJobRun on moto, then Glue's queue played here."""

    def __init__(self, endpoint: str, counter: Counter, defaults: dict[str, str]) -> None:
        super().__init__(counter.hook(boto3.client("glue", endpoint_url=endpoint)))
        self.counter = counter
        self.defaults = defaults
        self.queue: list[JobRun] = []
        self.executed: list[Executed] = []
        self._lock = threading.Lock()

    def start_job_run(self, *, JobName: str, Arguments: dict[str, str]) -> dict[str, str]:  # noqa: N803
        response = super().start_job_run(JobName=JobName, Arguments=Arguments)
        run = JobRun(response["JobRunId"], JobName, {**self.defaults, **Arguments}, "WAITING")
        with self._lock:
            self.queue.append(run)
        return response

    def waiting_runs(self, job_name: str) -> list[JobRun]:
        # What GetJobRuns would say (the call is made and counted; moto's states are not Glue's).
        super().waiting_runs(job_name)
        with self._lock:
            return [r for r in self.queue if r.job_name == job_name]

    def execute_next(self, storage: S3Storage, catalog: GlueCatalog) -> Executed | None:
        """Run the oldest waiting run to completion (its script lists raw/ when it starts)."""
        with self._lock:
            if not self.queue:
                return None
            run = self.queue.pop(0)
            run.state = "RUNNING"
        self.counter.add("glue:JobRun")
        report = main(
            glue_argv(run.job_name, run.id, run.arguments), storage=storage, catalog=catalog
        )
        run.state = "SUCCEEDED"
        done = Executed(run, report)
        self.executed.append(done)
        return done


def glue_job(endpoint: str, lake_bucket: str, defaults: dict[str, str]) -> None:
    """What infra/ creates, through boto3: the lake bucket, the database, the Glue job."""
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=lake_bucket)
    glue = boto3.client("glue", endpoint_url=endpoint)
    glue.create_database(DatabaseInput={"Name": "default"})
    glue.create_job(
        Name=JOB,
        Role="arn:aws:iam::123456789012:role/b3lake-glue",
        Command={"Name": "glueetl", "ScriptLocation": "s3://scripts/glue_refine.py"},
        GlueVersion="5.0",
        DefaultArguments=defaults,
        ExecutionProperty={"MaxConcurrentRuns": 1},
    )
