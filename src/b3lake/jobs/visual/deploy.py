"""Create or update the visual job with boto3, and diff a deployed job against the generator.

Why boto3 and not Terraform: the AWS provider has ``job_mode`` (6.2.0+) but no
``code_gen_configuration_nodes``, and CloudFormation's ``AWS::Glue::Job`` lacks them too. The
deploy is the step after ``terraform apply`` (docs/deploy.md says why it is not a
``local-exec``).

* :func:`deploy` is idempotent: ``GetJob``; absent -> ``CreateJob``; present and different ->
  ``UpdateJob`` with the whole request (UpdateJob replaces the DAG: it needs all of it);
  present and equal -> nothing.
* Only the members the generator sets are compared; one the service does not return (moto
  5.2.5 drops ``JobMode``) counts as unknown, not as a difference. moto has no ``UpdateJob``:
  the tests drive the update path through botocore's Stubber, which validates the request
  against the service model.
* :func:`diff` renders both sides as sorted JSON and returns a unified diff: what an edit in
  the Glue Studio console changed, to be brought back into the generator.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from b3lake import awsclients
from b3lake.errors import JobError
from b3lake.jobs.visual.validate import validate_request

#: CreateJob members that UpdateJob's JobUpdate does not take.
_CREATE_ONLY = ("Name", "Tags")


@dataclass(frozen=True)
class DeployResult:
    action: str  # created | updated | unchanged
    name: str
    changed: list[str] = field(default_factory=list)  # the members that differed


def compared(request: Mapping[str, Any], job: Mapping[str, Any]) -> dict[str, Any]:
    """The members of a ``GetJob`` ``Job`` that ``request`` sets (absent ones left out)."""
    return {k: job[k] for k in request if k not in _CREATE_ONLY and k in job}


def changed_members(request: Mapping[str, Any], job: Mapping[str, Any]) -> list[str]:
    current = compared(request, job)
    return sorted(k for k, v in current.items() if _canonical(v) != _canonical(request[k]))


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _glue(client: Any, settings: Any = None) -> Any:
    if client is not None:
        return client
    return awsclients.client(
        "glue",
        endpoint_url=getattr(settings, "aws_endpoint_url", None),
        region=getattr(settings, "aws_region", None),
    )


def get_job(client: Any, name: str) -> dict[str, Any] | None:
    """The job as ``GetJob`` returns it, or None when there is none."""
    from botocore.exceptions import ClientError

    try:
        return dict(client.get_job(JobName=name)["Job"])
    except ClientError as exc:
        if awsclients.error_code(exc) == "EntityNotFoundException":
            return None
        raise JobError(f"cannot read the job: {exc}", source=name) from exc


def deploy(request: dict[str, Any], *, client: Any = None, settings: Any = None) -> DeployResult:
    """Create the job, or update it with the whole request when it differs (idempotent)."""
    from botocore.exceptions import BotoCoreError, ClientError

    validate_request(request)
    glue = _glue(client, settings)
    name = str(request["Name"])
    current = get_job(glue, name)
    try:
        if current is None:
            glue.create_job(**request)
            return DeployResult("created", name, sorted(k for k in request if k != "Name"))
        changed = changed_members(request, current)
        if not changed:
            return DeployResult("unchanged", name)
        update = {k: v for k, v in request.items() if k not in _CREATE_ONLY}
        validate_request({"JobName": name, "JobUpdate": update}, "UpdateJob")
        glue.update_job(JobName=name, JobUpdate=update)
        return DeployResult("updated", name, changed)
    except (ClientError, BotoCoreError) as exc:
        raise JobError(f"cannot deploy the visual job: {exc}", source=name) from exc


def diff(request: Mapping[str, Any], job: Mapping[str, Any] | None) -> str:
    """A unified diff from the deployed job (``GetJob``'s ``Job``) to the generator's request;
    empty when they agree on every member the generator sets."""
    desired = {k: v for k, v in request.items() if k not in _CREATE_ONLY}
    current = compared(request, job) if job is not None else {}
    before = json.dumps(current, sort_keys=True, indent=2, default=str).splitlines()
    after = json.dumps(
        {k: v for k, v in desired.items() if job is None or k in current},
        sort_keys=True,
        indent=2,
        default=str,
    ).splitlines()
    name = str(request.get("Name"))
    return "\n".join(
        difflib.unified_diff(
            before, after, fromfile=f"deployed:{name}", tofile="generator", lineterm=""
        )
    )


def load_job_json(text: str) -> dict[str, Any]:
    """A saved ``aws glue get-job`` output (``{"Job": …}``) or the bare job."""
    data = json.loads(text)
    if isinstance(data, dict) and isinstance(data.get("Job"), dict):
        return dict(data["Job"])
    if not isinstance(data, dict):
        raise JobError("not a Glue job JSON object", source="get-job JSON")
    return data
