"""Which job the trigger starts (B3LAKE_TRIGGER_JOBS): the script job, the visual job, or both,
against moto's Glue with both jobs defined."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from b3lake.errors import EventError
from b3lake.events.s3_event import object_created_event
from b3lake.jobs.visual import dag
from b3lake.lambdas.trigger import TriggerConfig, handler

pytestmark = pytest.mark.aws

BUCKET = "b3lake-lake"
LAKE = f"s3://{BUCKET}/lake"
COTAHIST = "lake/raw/cotahist/dt=2021-01-04/part-0.parquet"
IBOV = "lake/raw/ibov_portfolio/dt=2021-01-04/IBOV.parquet"


@pytest.fixture
def glue(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("B3LAKE_LAKE", LAKE)
    with mock_aws():
        client = boto3.client("glue", region_name="us-east-1")
        client.create_job(
            Name="b3lake-refine",
            Role="arn:aws:iam::123456789012:role/glue",
            Command={"Name": "glueetl", "ScriptLocation": "s3://scripts/glue/glue_refine.py"},
        )
        request = dag.job_request(
            dag.VisualJobConfig(
                lake=LAKE,
                role="arn:aws:iam::123456789012:role/glue",
                script_location="s3://scripts/glue/visual/b3lake-visual.py",
            )
        )
        client.create_job(**request)
        yield client


def _runs(glue: Any, job: str) -> list[dict[str, Any]]:
    return list(glue.get_job_runs(JobName=job)["JobRuns"])


@pytest.mark.parametrize(
    ("jobs", "script_runs", "visual_runs"), [("script", 1, 0), ("visual", 0, 1), ("both", 1, 1)]
)
def test_trigger_starts_the_jobs_the_setting_names(
    glue: Any, monkeypatch: pytest.MonkeyPatch, jobs: str, script_runs: int, visual_runs: int
) -> None:
    monkeypatch.setenv("B3LAKE_TRIGGER_JOBS", jobs)
    result = handler(object_created_event(BUCKET, COTAHIST, 10))
    assert len(_runs(glue, "b3lake-refine")) == script_runs
    visual = _runs(glue, "b3lake-visual")
    assert len(visual) == visual_runs
    if visual_runs:
        assert {"job": "b3lake-visual", "dts": ["2021-01-04"]}.items() <= result["started"][
            -1
        ].items()


def test_trigger_does_not_start_the_visual_job_for_other_sources(
    glue: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("B3LAKE_TRIGGER_JOBS", "both")
    handler(object_created_event(BUCKET, IBOV, 10))
    assert len(_runs(glue, "b3lake-refine")) == 1
    assert _runs(glue, "b3lake-visual") == []


def test_trigger_jobs_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("B3LAKE_LAKE", LAKE)
    assert TriggerConfig.from_env().jobs == "script"  # the default: unchanged behaviour
    monkeypatch.setenv("B3LAKE_TRIGGER_JOBS", "visual-only")
    with pytest.raises(EventError, match="B3LAKE_TRIGGER_JOBS"):
        TriggerConfig.from_env()


def test_settings_know_the_trigger_jobs_and_the_visual_job(monkeypatch: pytest.MonkeyPatch) -> None:
    from b3lake.errors import ConfigError
    from b3lake.settings import load_settings

    monkeypatch.setenv("B3LAKE_TRIGGER_JOBS", "both")
    monkeypatch.setenv("B3LAKE_VISUAL__JOB_NAME", "my-visual")
    s = load_settings()
    assert (s.trigger_jobs, s.visual.job_name, s.visual.worker_type) == (
        "both",
        "my-visual",
        "G.1X",
    )
    monkeypatch.setenv("B3LAKE_TRIGGER_JOBS", "neither")
    with pytest.raises(ConfigError, match="trigger_jobs"):
        load_settings()


def test_trigger_raises_for_a_refused_visual_run_after_starting_the_script_job(
    glue: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from b3lake.errors import JobError

    monkeypatch.setenv("B3LAKE_TRIGGER_JOBS", "both")
    glue.delete_job(JobName="b3lake-visual")  # e.g. not deployed yet: the event is retried
    with pytest.raises(JobError, match="b3lake-visual"):
        handler(object_created_event(BUCKET, COTAHIST, 10))
    assert len(_runs(glue, "b3lake-refine")) == 1
