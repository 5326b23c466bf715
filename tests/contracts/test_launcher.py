"""The JobLauncher port's contract, on the in-process launcher and Glue (moto)."""

from __future__ import annotations

import pytest
from contract_adapters import JOB, Adapter

from b3lake.errors import JobError
from b3lake.jobs.refine.args import RefineArgs
from b3lake.launchers import JobLauncher, JobRun

ARGS = RefineArgs(lake="s3://b3lake-contract/lake").for_run(mode="full").to_arguments()


def test_is_a_launcher(launcher_adapter: Adapter) -> None:
    assert isinstance(launcher_adapter.port, JobLauncher)


def test_start_get_list(launcher_adapter: Adapter) -> None:
    launcher = launcher_adapter.port
    first = launcher.start_job_run(JobName=JOB, Arguments=ARGS)["JobRunId"]
    second = launcher.start_job_run(JobName=JOB, Arguments={**ARGS, "--mode": "incremental"})[
        "JobRunId"
    ]
    assert first != second
    run = launcher.get_job_run(JOB, first)
    assert isinstance(run, JobRun)
    assert run.id == first and run.job_name == JOB
    assert ARGS.items() <= run.arguments.items()  # the arguments as sent (over any defaults)
    assert RefineArgs.from_argv(["x", *[v for kv in run.arguments.items() for v in kv]]) == (
        RefineArgs.from_argv(["x", *[v for kv in ARGS.items() for v in kv]])
    )
    assert run.state in {"STARTING", "RUNNING", "SUCCEEDED", "FAILED", "STOPPED", "WAITING"}
    assert {first, second} <= {r.id for r in launcher.list_runs(JOB)}


def test_unknown_run_is_a_job_error(launcher_adapter: Adapter) -> None:
    launcher = launcher_adapter.port
    launcher.start_job_run(JobName=JOB, Arguments=ARGS)
    with pytest.raises(JobError):
        launcher.get_job_run(JOB, "jr_" + "0" * 64)
