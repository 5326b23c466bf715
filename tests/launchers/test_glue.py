"""GlueLauncher against moto's Glue (in-process): start, get, list, and the refusals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.moto_api import state_manager

from b3lake.backends import build_backend
from b3lake.errors import JobError
from b3lake.launchers import JobLauncher
from b3lake.launchers.glue import GlueJobError, GlueLauncher, is_retryable
from b3lake.settings import Settings

pytestmark = pytest.mark.aws

JOB = "b3lake-refine"


@pytest.fixture
def glue() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("glue", region_name="us-east-1")
        client.create_job(
            Name=JOB,
            Role="arn:aws:iam::123456789012:role/b3lake-glue",
            Command={"Name": "glueetl", "ScriptLocation": "s3://b3lake-code/glue_refine.py"},
            DefaultArguments={"--job-language": "python", "--mode": "incremental"},
            ExecutionProperty={"MaxConcurrentRuns": 2},
        )
        yield client


@pytest.fixture
def runs_stay_running() -> Iterator[None]:
    """Keep moto's job runs RUNNING (by default they jump to SUCCEEDED at once)."""
    state_manager.set_transition("glue::job_run", {"progression": "manual", "times": 10_000})
    yield
    state_manager.unset_transition("glue::job_run")


def test_start_get_and_list_runs(glue: Any) -> None:
    launcher = GlueLauncher()
    assert isinstance(launcher, JobLauncher)
    first = launcher.start_job_run(JobName=JOB, Arguments={"--dt": "2021-01-04"})
    second = launcher.start_job_run(JobName=JOB, Arguments={"--dt": "2021-01-05", "--n": 3})  # type: ignore[dict-item]
    assert first["JobRunId"].startswith("jr_")
    run = launcher.get_job_run(JOB, first["JobRunId"])
    assert run.state == "SUCCEEDED"
    assert run.arguments["--dt"] == "2021-01-04"
    assert run.arguments["--mode"] == "incremental"  # the job's default arguments, as Glue merges
    runs = launcher.list_runs(JOB)
    assert [r.id for r in runs] == [first["JobRunId"], second["JobRunId"]]
    assert runs[1].arguments["--n"] == "3"  # Glue arguments are strings
    assert runs[0].started_on is not None and runs[0].started_on.tzinfo is not None


def test_list_runs_is_paginated(glue: Any) -> None:
    launcher = GlueLauncher(client=glue)
    ids = [launcher.start_job_run(JobName=JOB, Arguments={})["JobRunId"] for _ in range(230)]
    pages: list[int] = []
    glue.meta.events.register("after-call.glue.GetJobRuns", lambda **kw: pages.append(1))
    assert sorted(r.id for r in launcher.list_runs(JOB)) == sorted(ids)
    assert len(pages) >= 2


def test_concurrent_runs_exceeded_is_a_retryable_job_error(
    glue: Any, runs_stay_running: None
) -> None:
    launcher = GlueLauncher()
    launcher.start_job_run(JobName=JOB, Arguments={"--dt": "2021-01-04"})
    launcher.start_job_run(JobName=JOB, Arguments={"--dt": "2021-01-05"})
    with pytest.raises(GlueJobError) as caught:
        launcher.start_job_run(JobName=JOB, Arguments={"--dt": "2021-01-06"})
    assert caught.value.code == "ConcurrentRunsExceededException"
    assert caught.value.retryable and is_retryable(caught.value)
    assert str(caught.value).startswith(f"{JOB}: ConcurrentRunsExceededException")
    assert [r.state for r in launcher.list_runs(JOB)] == ["STARTING", "STARTING"]


def test_missing_job_is_a_job_error_not_retryable(glue: Any) -> None:
    launcher = GlueLauncher()
    with pytest.raises(JobError, match="EntityNotFoundException") as caught:
        launcher.start_job_run(JobName="nope", Arguments={})
    assert not is_retryable(caught.value)
    with pytest.raises(JobError, match="EntityNotFoundException"):
        launcher.list_runs("nope")


def test_backend_aws_builds_the_glue_launcher(glue: Any) -> None:
    settings = Settings(backend="aws", lake="s3://b3lake-lake/lake", aws_region="sa-east-1")
    backend = build_backend(settings)
    assert isinstance(backend.launcher, GlueLauncher)
    assert backend.launcher.client.meta.region_name == "sa-east-1"
    assert type(backend.storage).__name__ == "S3Storage"
    assert type(backend.catalog).__name__ == "GlueCatalog"
    engine = backend.query_engine()
    assert type(engine).__name__ == "AthenaQueryEngine"
    # One AWS context (session, endpoint, region) reaches every adapter.
    for adapter in (backend.storage, backend.catalog, backend.launcher, engine):
        assert adapter.region == "sa-east-1", type(adapter).__name__  # type: ignore[attr-defined]
    assert backend.storage.client.meta.region_name == "sa-east-1"  # type: ignore[attr-defined]
    assert backend.catalog.client.meta.region_name == "sa-east-1"  # type: ignore[attr-defined]
    assert engine.client.meta.region_name == "sa-east-1"  # type: ignore[attr-defined]


def test_endpoint_override_reaches_the_client() -> None:
    launcher = GlueLauncher(endpoint_url="http://127.0.0.1:5999", region="sa-east-1")
    assert launcher.client.meta.endpoint_url == "http://127.0.0.1:5999"
    assert launcher.client.meta.region_name == "sa-east-1"
