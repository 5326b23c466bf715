"""Deploying the visual job against moto's Glue (in-process): create_job then get_job returns the
same DAG; a second deploy changes nothing; the update path (moto 5.2.5 has no UpdateJob) is
driven through botocore's Stubber, which validates the request against the service model.

moto drops ``JobMode`` (it is not in its GetJob answer): a member the service does not return
is not compared, so it is never taken for a difference."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from typer.testing import CliRunner

from b3lake.jobs.visual import dag
from b3lake.jobs.visual.deploy import deploy, diff, load_job_json

pytestmark = pytest.mark.aws

ROLE = "arn:aws:iam::123456789012:role/LabRole"
SCRIPT = "s3://b3lake-dev-scripts/glue/visual/b3lake-visual.py"
LAKE = "s3://b3lake-dev-lake/lake"
CONFIG = dag.VisualJobConfig(lake=LAKE, role=ROLE, script_location=SCRIPT)


@pytest.fixture
def glue() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("glue", region_name="us-east-1")


def test_visual_job_round_trip_through_moto(glue: Any) -> None:
    request = dag.job_request(CONFIG)
    result = deploy(request, client=glue)
    assert result.action == "created"
    job = glue.get_job(JobName=CONFIG.name)["Job"]
    assert job["CodeGenConfigurationNodes"] == request["CodeGenConfigurationNodes"]
    for member in ("Command", "DefaultArguments", "GlueVersion", "WorkerType", "NumberOfWorkers"):
        assert job[member] == request[member], member
    assert "JobMode" not in job  # moto 5.2.5 drops it (AWS returns "VISUAL")
    # Idempotent: nothing to change, no UpdateJob sent (moto has none: it would raise).
    again = deploy(request, client=glue)
    assert (again.action, again.changed) == ("unchanged", [])
    assert diff(request, job) == ""


def test_visual_job_update_sends_the_whole_dag(glue: Any) -> None:
    request = dag.job_request(CONFIG)
    deployed = copy.deepcopy(request)
    deployed["JobMode"] = "VISUAL"
    # An edit in Glue Studio: the count became a countDistinct.
    aggs = deployed["CodeGenConfigurationNodes"][dag.DAILY]["Aggregate"]["Aggs"]
    aggs[-1]["AggFunc"] = "countDistinct"
    update = {k: v for k, v in request.items() if k != "Name"}
    with Stubber(glue) as stub:
        stub.add_response("get_job", {"Job": deployed}, {"JobName": CONFIG.name})
        stub.add_response(
            "update_job", {"JobName": CONFIG.name}, {"JobName": CONFIG.name, "JobUpdate": update}
        )
        result = deploy(request, client=glue)
        stub.assert_no_pending_responses()
    assert (result.action, result.changed) == ("updated", ["CodeGenConfigurationNodes"])


def test_visual_job_diff_shows_a_console_edit(tmp_path: Path, glue: Any) -> None:
    from b3lake.cli import app

    request = dag.job_request(CONFIG)
    deploy(request, client=glue)
    saved = glue.get_job(JobName=CONFIG.name)
    # `aws glue get-job > job.json`, then an edit made in the console: a renamed column.
    mapping = saved["Job"]["CodeGenConfigurationNodes"][dag.RENAME]["ApplyMapping"]["Mapping"]
    mapping[2]["ToKey"] = "quantity"
    path = tmp_path / "job.json"
    path.write_text(json.dumps(saved, default=str))
    text = diff(request, load_job_json(path.read_text()))
    changed = [line.replace(" ", "") for line in text.splitlines() if line[:1] in "+-"]
    assert changed[2:] == ['-"ToKey":"quantity",', '+"ToKey":"volume",'], text
    args = ["--lake", LAKE, "glue", "diff-visual-job", "--from-file", str(path)]
    args += ["--role", ROLE, "--script-location", SCRIPT]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert '"ToKey": "quantity"' in result.output
    # Against the deployed job itself (GetJob): the same as the generator.
    result = CliRunner().invoke(app, args[:4] + args[6:])
    assert result.exit_code == 0, result.output
    assert "is what the generator makes" in result.output


def test_visual_deploy_cli_creates_then_leaves_the_job_and_prints_the_console_link(
    glue: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from b3lake.cli import app

    monkeypatch.setenv("B3LAKE_VISUAL__ROLE_ARN", ROLE)
    monkeypatch.setenv("B3LAKE_VISUAL__SCRIPT_LOCATION", SCRIPT)
    monkeypatch.setenv("B3LAKE_AWS_REGION", "us-east-1")
    args = ["--lake", LAKE, "--backend", "aws", "glue", "deploy-visual-job"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "created: Glue job b3lake-visual" in first.output
    assert (
        "https://us-east-1.console.aws.amazon.com/gluestudio/home?region=us-east-1"
        "#/editor/job/b3lake-visual/graph"
    ) in first.output
    second = CliRunner().invoke(app, args)
    assert "unchanged: Glue job b3lake-visual" in second.output
    assert glue.get_job(JobName="b3lake-visual")["Job"]["Role"] == ROLE
