"""The JobLauncher port on AWS Glue: ``start_job_run`` as boto3 spells it, plus run history.

The trigger Lambda imports this module, so boto3 is imported lazily (through ``awsclients``).
Errors become ``JobError`` whose message starts with the AWS error code
(``ConcurrentRunsExceededException: …``), so callers and logs can tell a retryable refusal from
a missing job.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from b3lake import awsclients
from b3lake.errors import JobError
from b3lake.launchers import JobRun

#: Refusals that go away by themselves: the event must be retried, not dropped.
RETRYABLE_CODES = frozenset(
    {
        "ConcurrentRunsExceededException",
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "OperationTimeoutException",
        "InternalServiceException",
        "ResourceNumberLimitExceededException",
        "ServiceUnavailableException",
    }
)


def is_retryable(exc: BaseException) -> bool:
    """True for a refusal that a later attempt can overcome (concurrency, throttling, 5xx)."""
    return getattr(exc, "code", None) in RETRYABLE_CODES or (
        awsclients.error_code(exc) in RETRYABLE_CODES
    )


class GlueJobError(JobError):
    """A Glue API refusal; ``code`` is the AWS error code."""

    def __init__(self, message: str, *, code: str | None, source: str | None = None) -> None:
        self.code = code
        super().__init__(message, source=source)

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE_CODES


def _as_utc(value: Any) -> dt.datetime | None:
    if not isinstance(value, dt.datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def job_run_from_glue(data: dict[str, Any]) -> JobRun:
    """A Glue ``JobRun`` structure as the port's ``JobRun``."""
    summary: dict[str, Any] = {
        key: data[key]
        for key in ("Attempt", "ExecutionTime", "WorkerType", "NumberOfWorkers", "GlueVersion")
        if key in data
    }
    return JobRun(
        id=str(data["Id"]),
        job_name=str(data.get("JobName", "")),
        arguments=dict(data.get("Arguments") or {}),
        state=str(data.get("JobRunState", "STARTING")),
        started_on=_as_utc(data.get("StartedOn")),
        completed_on=_as_utc(data.get("CompletedOn")),
        error=data.get("ErrorMessage") or None,
        summary=summary,
    )


class GlueLauncher:
    """Starts and lists runs of a Glue job; a drop-in for ``LocalLauncher`` in the CLI."""

    def __init__(
        self,
        client: Any = None,
        *,
        session: Any = None,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        self._client = client
        self.session = session
        self.endpoint_url = endpoint_url
        self.region = region

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = awsclients.client(
                "glue", endpoint_url=self.endpoint_url, session=self.session, region=self.region
            )
        return self._client

    @staticmethod
    def _error(action: str, job_name: str, exc: Exception) -> GlueJobError:
        code = awsclients.error_code(exc)
        message = exc.response.get("Error", {}).get("Message", str(exc)) if code else str(exc)  # type: ignore[attr-defined]
        return GlueJobError(
            f"{code or type(exc).__name__}: cannot {action}: {message}", code=code, source=job_name
        )

    def start_job_run(self, *, JobName: str, Arguments: dict[str, str]) -> dict[str, str]:  # noqa: N803
        """Start a run; ``{"JobRunId": …}`` like boto3. GlueJobError (``.retryable``) if refused."""
        from botocore.exceptions import BotoCoreError, ClientError

        arguments = {str(k): str(v) for k, v in Arguments.items()}
        try:
            response = self.client.start_job_run(JobName=JobName, Arguments=arguments)
        except (ClientError, BotoCoreError) as exc:
            raise self._error("start a run", JobName, exc) from exc
        return {"JobRunId": str(response["JobRunId"])}

    def get_job_run(self, job_name: str, run_id: str) -> JobRun:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.get_job_run(JobName=job_name, RunId=run_id)
        except (ClientError, BotoCoreError) as exc:
            raise self._error(f"get run {run_id}", job_name, exc) from exc
        return job_run_from_glue(response["JobRun"])

    def waiting_runs(self, job_name: str) -> list[JobRun]:
        """Runs that have not started their script (``WAITING`` in the job-run queue, or
        ``STARTING``), from one ``GetJobRuns`` page (Glue lists the newest runs first)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.get_job_runs(JobName=job_name, MaxResults=50)
        except (ClientError, BotoCoreError) as exc:
            raise self._error("list runs", job_name, exc) from exc
        runs = [job_run_from_glue(item) for item in response.get("JobRuns", [])]
        return [r for r in runs if r.state in ("WAITING", "STARTING")]

    def list_runs(self, job_name: str) -> list[JobRun]:
        """Every run Glue keeps for the job (paginated ``GetJobRuns``), oldest first."""
        from botocore.exceptions import BotoCoreError, ClientError

        runs: list[JobRun] = []
        try:
            for page in self.client.get_paginator("get_job_runs").paginate(JobName=job_name):
                runs.extend(job_run_from_glue(item) for item in page.get("JobRuns", []))
        except (ClientError, BotoCoreError) as exc:
            raise self._error("list runs", job_name, exc) from exc
        oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
        return sorted(runs, key=lambda r: r.started_on or oldest)
