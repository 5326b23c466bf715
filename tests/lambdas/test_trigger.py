"""The trigger Lambda against moto's Glue (in-process): real S3 event JSON in, job runs out.

The handler runs exactly as Lambda calls it (``handler(event, context)``) with its default
launcher (GlueLauncher), configured from the environment as the Terraform sets it.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from moto.moto_api import state_manager

from b3lake.errors import EventError, JobError
from b3lake.events.s3_event import object_created_event
from b3lake.lambdas import trigger
from b3lake.lambdas.trigger import TriggerConfig, handler
from b3lake.launchers.glue import GlueLauncher

pytestmark = pytest.mark.aws

JOB = "b3lake-refine"
BUCKET = "b3lake-lake"
LAKE = f"s3://{BUCKET}/lake"

# The example of https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
# (event structure 2.1), with the bucket and key of a raw object: the key is URL-encoded as S3
# sends it ("=" as %3D, a space in the lake prefix as "+").
AWS_DOCS_EVENT = json.loads(
    """
{
   "Records":[
      {
         "eventVersion":"2.1",
         "eventSource":"aws:s3",
         "awsRegion":"us-west-2",
         "eventTime":"1970-01-01T00:00:00.000Z",
         "eventName":"ObjectCreated:Put",
         "userIdentity":{
            "principalId":"AIDAJDPLRKLG7UEXAMPLE"
         },
         "requestParameters":{
            "sourceIPAddress":"127.0.0.1"
         },
         "responseElements":{
            "x-amz-request-id":"C3D13FE58DE4C810",
            "x-amz-id-2":"FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"
         },
         "s3":{
            "s3SchemaVersion":"1.0",
            "configurationId":"testConfigRule",
            "bucket":{
               "name":"b3lake-lake",
               "ownerIdentity":{
                  "principalId":"A3NL1KOZZKExample"
               },
               "arn":"arn:aws:s3:::b3lake-lake"
            },
            "object":{
               "key":"b3+lake/raw/cotahist/dt%3D2021-01-04/part-0.parquet",
               "size":1024,
               "eTag":"d41d8cd98f00b204e9800998ecf8427e",
               "versionId":"096fKKXTRTtl3on89fVO.nfljtsv6qko",
               "sequencer":"0055AED6DCD90281E5"
            }
         }
      }
   ]
}
"""
)

# What S3 sends once when a notification configuration is saved.
TEST_EVENT = {
    "Service": "Amazon S3",
    "Event": "s3:TestEvent",
    "Time": "2014-10-13T15:57:02.089Z",
    "Bucket": BUCKET,
    "RequestId": "5582815E1AEA5ADF",
    "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
}


@pytest.fixture
def glue(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's Glue with the refine job, and the Lambda's environment as Terraform sets it."""
    monkeypatch.setenv("B3LAKE_LAKE", LAKE)
    monkeypatch.setenv("B3LAKE_GLUE_JOB_NAME", JOB)
    monkeypatch.setenv("B3LAKE_CATALOG_DATABASE", "default")
    with mock_aws():
        client = boto3.client("glue", region_name="us-east-1")
        _create_job(client, max_concurrent_runs=3)
        yield client


def _create_job(client: Any, *, max_concurrent_runs: int) -> None:
    client.create_job(
        Name=JOB,
        Role="arn:aws:iam::123456789012:role/b3lake-glue",
        Command={"Name": "glueetl", "ScriptLocation": "s3://b3lake-code/glue_refine.py"},
        ExecutionProperty={"MaxConcurrentRuns": max_concurrent_runs},
    )


def _runs(glue: Any) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    for page in glue.get_paginator("get_job_runs").paginate(JobName=JOB):
        runs.extend(page["JobRuns"])
    return runs


def _event(*records: tuple[str, str] | tuple[str, str, str]) -> dict[str, Any]:
    """One notification with a record per (bucket, key[, eventName])."""
    out: list[dict[str, Any]] = []
    for bucket, key, *name in records:
        record = object_created_event(bucket, key, 100)["Records"][0]
        if name:
            record["eventName"] = name[0]
        out.append(record)
    return {"Records": out}


def _key(day: str, source: str = "cotahist", name: str = "part-0") -> str:
    return f"lake/raw/{source}/dt={day}/{name}.parquet"


def test_the_aws_docs_event_with_an_encoded_key_starts_one_run(
    glue: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("B3LAKE_LAKE", f"s3://{BUCKET}/b3 lake")
    result = handler(copy.deepcopy(AWS_DOCS_EVENT), None)
    assert result["ignored"] == []
    (run,) = _runs(glue)
    assert run["Arguments"] == {
        "--dt": "2021-01-04",
        "--raw_key": "raw/cotahist/dt=2021-01-04/part-0.parquet",
        "--lake": f"s3://{BUCKET}/b3 lake",
        "--mode": "incremental",
        "--catalog_database": "default",
        # The universe travels with every run (defaults here: no B3LAKE_UNIVERSE__* set).
        "--tpmerc": "010",
        "--codbdi": "02,12",
        "--tickers": "none",
        "--exclude_especi": "IBO",
    }
    assert result["started"] == [
        {
            "dt": "2021-01-04",
            "JobRunId": run["Id"],
            "raw_keys": ["raw/cotahist/dt=2021-01-04/part-0.parquet"],
        }
    ]


def test_config_from_the_context_hook(glue: Any) -> None:
    context = SimpleNamespace(
        b3lake_config=TriggerConfig(lake=LAKE, job_name=JOB, catalog_database="b3"),
        aws_request_id="req-1",
    )
    handler(_event((BUCKET, _key("2021-01-04"))), context)
    (run,) = _runs(glue)
    assert run["Arguments"]["--catalog_database"] == "b3"


def test_one_run_per_date_for_several_records_and_dates(glue: Any) -> None:
    event = _event(
        (BUCKET, _key("2021-01-05")),
        (BUCKET, _key("2021-01-04")),
        (BUCKET, _key("2021-01-04", "yfinance", "PETR4")),
        (BUCKET, _key("2021-01-04")),  # the same object twice (at-least-once delivery)
        (BUCKET, _key("2021-01-06", "ibov_portfolio", "IBOV")),
    )
    result = handler(event, None)
    runs = sorted(_runs(glue), key=lambda r: r["Arguments"]["--dt"])
    assert [r["Arguments"]["--dt"] for r in runs] == ["2021-01-04", "2021-01-05", "2021-01-06"]
    assert [r["Arguments"]["--raw_key"] for r in runs] == [
        "raw/cotahist/dt=2021-01-04/part-0.parquet",
        "raw/cotahist/dt=2021-01-05/part-0.parquet",
        "raw/ibov_portfolio/dt=2021-01-06/IBOV.parquet",
    ]
    assert all(r["Arguments"]["--lake"] == LAKE for r in runs)
    assert result["started"][0]["raw_keys"] == [
        "raw/cotahist/dt=2021-01-04/part-0.parquet",
        "raw/yfinance/dt=2021-01-04/PETR4.parquet",
    ]


@pytest.mark.parametrize(
    ("bucket", "key", "event_name", "why"),
    [
        (BUCKET, _key("2021-01-04"), "ObjectRemoved:Delete", "not an ObjectCreated"),
        (BUCKET, _key("2021-01-04"), "ObjectRestore:Completed", "not an ObjectCreated"),
        ("other-bucket", _key("2021-01-04"), "ObjectCreated:Put", "not the lake bucket"),
        (
            BUCKET,
            "raw/cotahist/dt=2021-01-04/part-0.parquet",
            "ObjectCreated:Put",
            "under lake/raw/",
        ),
        (BUCKET, "lake/refined/quotes/dt=2021-01-04/part-0.parquet", "ObjectCreated:Put", "under"),
        (BUCKET, "lake/raw/cotahist/dt=2021-01-04/part-0.csv", "ObjectCreated:Put", "under"),
        (
            BUCKET,
            "lake/raw/cotahist/dt=2021-01-04/part-0.parquet.tmp",
            "ObjectCreated:Put",
            "under",
        ),
        (BUCKET, "lake/raw/../x.parquet", "ObjectCreated:Put", "plain relative key"),
        (
            BUCKET,
            "lake/raw/cotahist/dt=2021-01-04/../../../x.parquet",
            "ObjectCreated:Put",
            "plain",
        ),
        (
            BUCKET,
            "lake/raw/cotahist/dt=2021-13-45/x.parquet",
            "ObjectCreated:Put",
            "impossible date",
        ),
        (BUCKET, "lake/raw/cotahist/dt=2021-1-4/x.parquet", "ObjectCreated:Put", "does not match"),
        (BUCKET, "lake/raw/cotahist//dt=2021-01-04/x.parquet", "ObjectCreated:Put", "plain"),
        (BUCKET, "/lake/raw/cotahist/dt=2021-01-04/x.parquet", "ObjectCreated:Put", "under"),
        (BUCKET, "lake/raw/cotahist/dt=2021-01-04/a b.parquet", "ObjectCreated:Put", "not match"),
        (BUCKET, "lake/raw/secrets/dt=2021-01-04/x.parquet", "ObjectCreated:Put", "unknown raw"),
    ],
)
def test_records_that_start_nothing(
    glue: Any, bucket: str, key: str, event_name: str, why: str
) -> None:
    result = handler(_event((bucket, key, event_name)), None)
    assert result["started"] == []
    (ignored,) = result["ignored"]
    assert why in ignored["reason"]
    assert ignored["key"] == key
    assert _runs(glue) == []


def test_hostile_key_encoded_by_s3_is_decoded_then_refused(glue: Any) -> None:
    event = _event((BUCKET, _key("2021-01-04")))
    event["Records"][0]["s3"]["object"]["key"] = "lake/raw/%2E%2E/x.parquet"
    result = handler(event, None)
    assert result["ignored"][0]["key"] == "lake/raw/../x.parquet"
    assert _runs(glue) == []


def test_a_batch_of_1000_records(glue: Any) -> None:
    days = [f"2021-01-{d:02d}" for d in range(4, 14)]
    records = [(BUCKET, _key(days[i % 10], "yfinance", f"T{i:04d}")) for i in range(990)]
    records += [(BUCKET, f"lake/raw/x/dt=2021-01-04/{i}.csv") for i in range(10)]
    event = _event(*records)
    assert len(event["Records"]) == 1000
    started = time.perf_counter()
    result = handler(event, None)
    elapsed = time.perf_counter() - started
    assert len(result["started"]) == 10 and len(result["ignored"]) == 10
    assert sorted(r["Arguments"]["--dt"] for r in _runs(glue)) == days
    assert elapsed < 10


def test_s3_test_event_is_acknowledged_without_a_run(glue: Any) -> None:
    assert handler(TEST_EVENT, None)["started"] == []
    assert _runs(glue) == []


@pytest.mark.parametrize(
    "event",
    [
        None,
        [],
        {},
        {"Records": None},
        {"Records": [{"eventSource": "aws:sqs", "body": "{}"}]},
        {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}]},
        {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": BUCKET}}}]},
        {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {}, "object": {"key": "k"}}}]},
        {"Records": ["not a record"]},
    ],
)
def test_malformed_events_raise_event_error_and_start_nothing(glue: Any, event: Any) -> None:
    good = object_created_event(BUCKET, _key("2021-01-04"), 1)["Records"][0]
    if isinstance(event, dict) and event.get("Records"):
        event = {"Records": [good, *event["Records"]]}  # even next to a good record
    with pytest.raises(EventError):
        handler(event, None)
    assert _runs(glue) == []


def test_missing_lake_setting_is_an_event_error(glue: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("B3LAKE_LAKE")
    with pytest.raises(EventError, match="B3LAKE_LAKE"):
        handler(_event((BUCKET, _key("2021-01-04"))), None)


def _hold(glue: Any, state: str) -> None:
    """Put moto's (only) job run in ``state`` (moto has no job-run queue to do it)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.glue.models import glue_backends

    (run,) = glue_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].jobs[JOB].job_runs
    run.status = state


def test_a_run_not_started_yet_absorbs_the_other_dates_and_refusals_lose_none(glue: Any) -> None:
    """moto enforces MaxConcurrentRuns; runs are held in a state by moto's state manager."""
    glue.delete_job(JobName=JOB)
    _create_job(glue, max_concurrent_runs=1)
    event = _event(*[(BUCKET, _key(d)) for d in ("2021-01-04", "2021-01-05", "2021-01-06")])
    state_manager.set_transition("glue::job_run", {"progression": "manual", "times": 10_000})
    try:
        result = handler(event, None)  # the first date's run is STARTING: it will see them all
        assert [s["dt"] for s in result["started"]] == ["2021-01-04"]
        assert [c["dt"] for c in result["coalesced"]] == ["2021-01-05", "2021-01-06"]
        assert {c["into"] for c in result["coalesced"]} == {result["started"][0]["JobRunId"]}
        assert len(_runs(glue)) == 1
        # Once it is RUNNING it may have listed raw/ already: a new event must start a run;
        # Glue refuses (MaxConcurrentRuns=1, no queuing) and the handler raises, so Lambda
        # retries the event.
        _hold(glue, "RUNNING")
        with pytest.raises(JobError, match="3 job run.s. could not start") as caught:
            handler(event, None)
        assert "ConcurrentRunsExceededException" in str(caught.value)
        assert "2021-01-05" in str(caught.value) and "2021-01-06" in str(caught.value)
        assert len(_runs(glue)) == 1
    finally:
        state_manager.unset_transition("glue::job_run")  # the run finishes
    # The retry after the run finished: every date starts (moto's runs are SUCCEEDED at once,
    # so none is seen waiting); each finds only what is still pending.
    result = handler(event, None)
    assert [s["dt"] for s in result["started"]] == ["2021-01-04", "2021-01-05", "2021-01-06"]
    assert len(_runs(glue)) == 4


def test_waiting_runs_fail_open(glue: Any) -> None:
    """A launcher that cannot list runs (e.g. no glue:GetJobRuns) still starts the run."""
    client = boto3.client("glue", region_name="us-east-1")
    stub = Stubber(client)
    stub.add_client_error("get_job_runs", "AccessDeniedException", "no")
    stub.add_response("start_job_run", {"JobRunId": "jr_1"})
    context = SimpleNamespace(b3lake_launcher=GlueLauncher(client))
    with stub:
        result = handler(_event((BUCKET, _key("2021-01-04"))), context)
    assert result["started"][0]["JobRunId"] == "jr_1"


def test_throttling_on_one_date_still_tries_the_others_then_raises(glue: Any) -> None:
    """Stubbed: moto never throttles. botocore retries throttling itself in real use (standard
    mode); this is what happens when it still fails after those retries."""
    client = boto3.client("glue", region_name="us-east-1")
    stub = Stubber(client)
    stub.add_response("get_job_runs", {"JobRuns": []})
    stub.add_client_error("start_job_run", "ThrottlingException", "Rate exceeded")
    stub.add_response("get_job_runs", {"JobRuns": []})
    stub.add_response("start_job_run", {"JobRunId": "jr_2"})
    context = SimpleNamespace(b3lake_launcher=GlueLauncher(client))
    event = _event((BUCKET, _key("2021-01-04")), (BUCKET, _key("2021-01-05")))
    with stub, pytest.raises(JobError, match="ThrottlingException") as caught:
        handler(event, context)
    stub.assert_no_pending_responses()
    assert "2021-01-04" in str(caught.value) and "2021-01-05" not in str(caught.value)


def test_missing_job_raises_so_the_event_goes_to_the_failure_destination(glue: Any) -> None:
    glue.delete_job(JobName=JOB)
    with pytest.raises(JobError, match="EntityNotFoundException"):
        handler(_event((BUCKET, _key("2021-01-04"))), None)


def test_default_launcher_follows_the_endpoint_and_region_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("B3LAKE_AWS_ENDPOINT_URL", "http://127.0.0.1:5999")
    monkeypatch.setenv("B3LAKE_LAKE", "s3://bucket/lake/")
    monkeypatch.setenv("B3LAKE_AWS_REGION", "sa-east-1")
    launcher = trigger._default_launcher(trigger.TriggerConfig.from_env())
    assert isinstance(launcher, GlueLauncher)
    assert launcher.client.meta.endpoint_url == "http://127.0.0.1:5999"
    assert launcher.client.meta.region_name == "sa-east-1"


def test_no_region_is_an_error_not_us_east_1(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lambda sets AWS_REGION; without it or B3LAKE_AWS_REGION nothing guesses one."""
    from b3lake.errors import ConfigError

    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "B3LAKE_AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("B3LAKE_LAKE", "s3://bucket/lake/")
    config = trigger.TriggerConfig.from_env()
    assert config.region is None
    with pytest.raises(ConfigError, match="no AWS region"):
        _ = trigger._default_launcher(config).client


def test_the_module_imports_neither_boto3_nor_pyarrow_eagerly() -> None:
    import subprocess
    import sys

    code = (
        "import sys, b3lake.lambdas.trigger; "
        "print([m for m in ('boto3', 'pyarrow', 'duckdb', 'pandas') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _sqs(*bodies: Any) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{i}",
                "receiptHandle": "rh",
                "body": body if isinstance(body, str) else json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "x",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:b3lake-raw-events",
                "awsRegion": "us-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


def test_s3_events_through_an_sqs_queue(glue: Any) -> None:
    event = _sqs(
        _event((BUCKET, _key("2021-01-04"))),
        TEST_EVENT,
        _event((BUCKET, _key("2021-01-05")), (BUCKET, _key("2021-01-04", "yfinance", "VALE3"))),
    )
    result = handler(event, None)
    assert [s["dt"] for s in result["started"]] == ["2021-01-04", "2021-01-05"]
    assert sorted(r["Arguments"]["--dt"] for r in _runs(glue)) == ["2021-01-04", "2021-01-05"]


@pytest.mark.parametrize("body", ["not json", json.dumps({"no": "records"}), json.dumps([1])])
def test_sqs_body_that_is_not_an_s3_event(glue: Any, body: str) -> None:
    with pytest.raises(EventError, match="SQS record body"):
        handler(_sqs(body), None)
    assert _runs(glue) == []


def test_the_universe_of_the_environment_travels_with_every_run(
    glue: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """B3LAKE_UNIVERSE__* (as Terraform sets them from the [universe] of b3lake.toml) mean for
    the trigger what they mean for the settings, and reach the run's arguments."""
    from b3lake.jobs.refine.args import RefineArgs
    from b3lake.settings import load_settings

    monkeypatch.setenv("B3LAKE_UNIVERSE__TICKERS", '["PETR4", "VALE3"]')
    monkeypatch.setenv("B3LAKE_UNIVERSE__EXCLUDE_ESPECI", "[]")
    monkeypatch.setenv("B3LAKE_UNIVERSE__CODBDI", '["02"]')
    monkeypatch.delenv("B3LAKE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # no b3lake.toml around
    config = TriggerConfig.from_env()
    settings = load_settings(lake=LAKE)
    assert config.universe == settings.refine_args().universe
    handler(_event((BUCKET, _key("2021-01-04"))), None)
    (run,) = _runs(glue)
    assert run["Arguments"]["--tickers"] == "PETR4,VALE3"
    assert run["Arguments"]["--exclude_especi"] == "none"
    assert run["Arguments"]["--codbdi"] == "02"
    argv = ["glue_refine.py", *[x for kv in run["Arguments"].items() for x in kv]]
    assert RefineArgs.from_argv(argv).universe == config.universe


def test_the_r6_tickers_of_the_environment_travel_with_every_run(
    glue: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """``[universe] r6_tickers`` (B3LAKE_UNIVERSE__R6_TICKERS, as Terraform sets it) narrows the
    R6 table of every run the trigger starts, as it does locally; unset, no argument is sent."""
    from b3lake.jobs.refine.args import RefineArgs
    from b3lake.settings import load_settings

    monkeypatch.delenv("B3LAKE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("B3LAKE_UNIVERSE__R6_TICKERS", '["PETR4", "VALE3"]')
    settings = load_settings(lake=LAKE)
    assert settings.deployment_environment()["B3LAKE_UNIVERSE__R6_TICKERS"] == '["PETR4", "VALE3"]'
    assert TriggerConfig.from_env().r6_tickers == settings.refine_args().r6_tickers
    handler(_event((BUCKET, _key("2021-01-04"))), None)
    (run,) = _runs(glue)
    assert run["Arguments"]["--r6_tickers"] == "PETR4,VALE3"
    argv = ["glue_refine.py", *[x for kv in run["Arguments"].items() for x in kv]]
    assert RefineArgs.from_argv(argv).r6_tickers == ("PETR4", "VALE3")

    monkeypatch.setenv("B3LAKE_UNIVERSE__R6_TICKERS", "PETR4")
    with pytest.raises(EventError, match="B3LAKE_UNIVERSE__R6_TICKERS"):
        TriggerConfig.from_env()


def test_a_malformed_universe_variable_is_an_event_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("B3LAKE_LAKE", LAKE)
    for bad in ("[PETR4", "PETR4,VALE3", '"PETR4"'):  # pydantic-settings refuses these too
        monkeypatch.setenv("B3LAKE_UNIVERSE__TICKERS", bad)
        with pytest.raises(EventError, match="B3LAKE_UNIVERSE__TICKERS"):
            TriggerConfig.from_env()
