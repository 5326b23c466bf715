"""JobLauncher port: starts the refine job the way Glue does.

The trigger Lambda only ever calls ``start_job_run(JobName=…, Arguments={…})``; in AWS that is the
boto3 Glue client itself (``launchers.glue``), locally ``launchers.local.LocalLauncher`` runs the job's
entry point in-process with exactly the argv Glue would pass, and records every run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass
class JobRun:
    """One job run, in the words of Glue's ``GetJobRun`` (``JobRunState`` values)."""

    id: str
    job_name: str
    arguments: dict[str, str]
    state: str = "STARTING"  # STARTING | RUNNING | SUCCEEDED | FAILED
    started_on: dt.datetime | None = None
    completed_on: dt.datetime | None = None
    error: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("started_on", "completed_on"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobRun:
        data = dict(data)
        for key in ("started_on", "completed_on"):
            if data.get(key):
                data[key] = dt.datetime.fromisoformat(data[key])
        return cls(**data)


@runtime_checkable
class JobLauncher(Protocol):
    """Starts refine runs and reports on them, in the words of boto3's Glue client."""

    def start_job_run(self, *, JobName: str, Arguments: dict[str, str]) -> dict[str, str]:  # noqa: N803
        """Start a run; returns ``{"JobRunId": …}`` like boto3's Glue client. The arguments are
        ``RefineArgs.to_arguments()`` (over the job's default arguments)."""
        ...

    def get_job_run(self, job_name: str, run_id: str) -> JobRun:
        """One run (its state, arguments, error); JobError if unknown."""
        ...

    def list_runs(self, job_name: str) -> list[JobRun]:
        """Run history, oldest first."""
        ...
