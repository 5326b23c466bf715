"""In-process job launcher: runs the refine entry point with the argv Glue would pass.

Every run is recorded under ``_b3lake/job_runs/<job>/<run id>.json`` in the lake, so
``b3lake runs`` lists them like ``glue get-job-runs`` would.

Like the Glue job (``max_concurrent_runs = 1`` with run queuing), one run executes at a time: a
run started while another executes, or inside :meth:`LocalLauncher.batch` (the pipeline lands a
whole extract in one batch), is recorded ``WAITING`` and executed after it, in order. The trigger
sees such a run through :meth:`LocalLauncher.waiting_runs` and starts no other: landing N
sessions at once executes one run, which refines them all (the raw manifest, ``lake/raw_manifest.py``).
"""

from __future__ import annotations

import datetime as dt
import json
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from b3lake.errors import JobError
from b3lake.keyspace import SYSTEM
from b3lake.launchers import JobRun
from b3lake.storage import Storage

JobMain = Callable[[list[str]], dict[str, Any]]


def glue_argv(job_name: str, run_id: str, arguments: dict[str, str]) -> list[str]:
    """``sys.argv`` as Glue builds it for a job run: its own options, then each ``--key value``."""
    argv = [
        "glue_refine.py",
        "--JOB_ID",
        f"j_{job_name}",
        "--JOB_RUN_ID",
        run_id,
        "--JOB_NAME",
        job_name,
        "--job-bookmark-option",
        "job-bookmark-disable",
    ]
    for key, value in arguments.items():
        argv += [key if key.startswith("--") else f"--{key}", str(value)]
    return argv


def _default_job_main(argv: list[str]) -> dict[str, Any]:
    from b3lake.jobs.refine.job import main

    report = main(argv)
    return report if isinstance(report, dict) else getattr(report, "to_dict", lambda: {})()


class LocalLauncher:
    def __init__(
        self,
        storage: Storage,
        *,
        job_main: JobMain | None = None,
        default_arguments: dict[str, str] | None = None,
    ) -> None:
        self.storage = storage
        self.job_main = job_main or _default_job_main
        self.default_arguments = default_arguments or {}
        self._queue: list[JobRun] = []
        self._executing = False
        self._batches = 0

    def _key(self, job_name: str, run_id: str) -> str:
        return f"{SYSTEM}/job_runs/{job_name}/{run_id}.json"

    def _save(self, run: JobRun) -> None:
        self.storage.put_bytes(
            self._key(run.job_name, run.id), json.dumps(run.to_json(), indent=1).encode()
        )

    def start_job_run(self, *, JobName: str, Arguments: dict[str, str]) -> dict[str, str]:  # noqa: N803
        run_id = "jr_" + uuid.uuid4().hex
        arguments = {**self.default_arguments, **Arguments}
        run = JobRun(
            id=run_id,
            job_name=JobName,
            arguments=arguments,
            state="WAITING",
            started_on=dt.datetime.now(dt.UTC),
        )
        self._save(run)
        self._queue.append(run)
        if not self._executing and not self._batches:
            self._drain()
        return {"JobRunId": run_id}

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Runs started inside wait, and execute (in order) when the outermost batch ends."""
        self._batches += 1
        try:
            yield
        finally:
            self._batches -= 1
        if not self._batches and not self._executing:
            self._drain()

    def waiting_runs(self, job_name: str) -> list[JobRun]:
        """Runs started but not executed yet (``WAITING``), oldest first."""
        return [r for r in self._queue if r.job_name == job_name]

    def _drain(self) -> None:
        self._executing = True
        try:
            while self._queue:
                self._execute(self._queue.pop(0))
        finally:
            self._executing = False

    def _execute(self, run: JobRun) -> None:
        run.state = "RUNNING"
        run.started_on = dt.datetime.now(dt.UTC)
        self._save(run)
        try:
            run.summary = self.job_main(glue_argv(run.job_name, run.id, run.arguments)) or {}
            run.state = "SUCCEEDED"
        except Exception as exc:  # noqa: BLE001 - a failed run is recorded, as Glue does
            run.state = "FAILED"
            run.error = f"{type(exc).__name__}: {exc}"
            run.summary = {"traceback": traceback.format_exc()}
        run.completed_on = dt.datetime.now(dt.UTC)
        self._save(run)

    def get_job_run(self, job_name: str, run_id: str) -> JobRun:
        """One recorded run; JobError if there is none (as Glue's EntityNotFoundException)."""
        key = self._key(job_name, run_id)
        if "/" in run_id or not self.storage.exists(key):
            raise JobError(f"no run {run_id} of job {job_name}", source=job_name)
        return JobRun.from_json(json.loads(self.storage.get_bytes(key)))

    def list_runs(self, job_name: str) -> list[JobRun]:
        runs = [
            JobRun.from_json(json.loads(self.storage.get_bytes(key)))
            for key in self.storage.list_keys(f"{SYSTEM}/job_runs/{job_name}/")
        ]
        return sorted(runs, key=lambda r: r.started_on or dt.datetime.min.replace(tzinfo=dt.UTC))
