"""Every AWS call of the deployed components, authorised as AWS would authorise it, offline.

The moto end-to-end flow with IAM enforced (``iam_harness``): the extract Lambda's handler lands a
session (its download replayed), the S3 events of the new objects go to the trigger Lambda's
handler, the Glue runs it started execute the refine through the Glue entry script's own
adapters, a duplicate delivery and an event of a year with no manifest shard reach the trigger
again. Each component runs with its own credentials; every request it sends is evaluated by
@cloud-copilot/iam-simulate against the policy Terraform renders for its role
(tests/aws/iam/rendered_policies.json) and refused with AccessDenied if not allowed; S3's
missing-key rule (403 without ``s3:ListBucket``) applies to moto's 404s. The calls AWS makes with
the roles itself (Lambda's logs, X-Ray and DLQ, Glue loading its script and modules, the
scheduler invoking the extract) are evaluated too.

A call not allowed fails the test with the component, the action and the resource; a second
test shows that removing one action from a policy makes the same recorded calls fail.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import os
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import responses

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "iam"))

import iam_harness as H  # noqa: E402
import render_policies  # noqa: E402

from moto_support import free_port, reset_moto  # noqa: E402

pytestmark = [pytest.mark.aws]

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "cotahist" / "COTAHIST_D04012016.TXT"
INPUTS = render_policies.INPUTS
BUCKET = INPUTS["lake_bucket_arn"].split(":::")[1]
SCRIPTS = INPUTS["scripts_bucket_arn"].split(":::")[1]
LAKE = f"s3://{BUCKET}/{INPUTS['lake_prefix']}"
JOB = INPUTS["glue_job_name"]
VISUAL = INPUTS["visual_job_name"]
REGION = INPUTS["region"]
TICKERS = ["PETR4", "VALE3", "ITUB4"]
DAY = dt.date(2016, 1, 4)
WHEEL = "b3lake-0.1.0-py3-none-any.whl"


def _snapshot() -> dict[str, Any]:
    snapshot = render_policies.load()
    assert snapshot["module_sha256"] == render_policies.module_digest(), (
        "tests/aws/iam/rendered_policies.json is stale (infra/modules/iam changed): run "
        ".venv/bin/python tests/aws/iam/render_policies.py"
    )
    return snapshot


@pytest.fixture(scope="module")
def evaluator() -> Iterator[H.Evaluator]:
    missing = H.simulator_missing()
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the IAM evaluator cannot run: {missing}")
        pytest.skip(f"the IAM evaluator cannot run: {missing}")
    ev = H.Evaluator()
    yield ev
    ev.close()


@pytest.fixture(scope="module")
def guarded(evaluator: H.Evaluator) -> Iterator[H.GuardedMotoServer]:
    roles = _snapshot()["roles"]
    guard = H.Guard(roles=roles, evaluator=evaluator)
    server = H.GuardedMotoServer(guard, free_port())
    server.start()
    reset_moto(server.url)  # moto's state is the process's: start from none
    yield server
    server.stop()


def _job_defaults() -> dict[str, str]:
    """The Glue job's default arguments as infra/modules/glue_job sets them."""
    return {
        "--lake": LAKE,
        "--catalog_database": "default",
        "--mode": "incremental",
        "--aws_region": REGION,
        "--tickers": ",".join(TICKERS),
        "--job-language": "python",
        "--enable-glue-datacatalog": "true",
        "--additional-python-modules": f"s3://{SCRIPTS}/glue/{WHEEL}",
        "--TempDir": f"s3://{SCRIPTS}/glue/tmp/",
        "--job-bookmark-option": "job-bookmark-disable",
    }


def _deploy(endpoint: str) -> None:
    """What Terraform creates, made with the harness's own (unchecked) credentials."""
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
    for bucket in (BUCKET, SCRIPTS):
        s3.create_bucket(Bucket=bucket)
    glue = boto3.client("glue", endpoint_url=endpoint, region_name=REGION)
    glue.create_database(DatabaseInput={"Name": "default"})
    for name in (JOB, VISUAL):
        glue.create_job(
            Name=name,
            Role=f"arn:aws:iam::{H.ACCOUNT}:role/b3lake-dev-glue-refine",
            Command={"Name": "glueetl", "ScriptLocation": f"s3://{SCRIPTS}/glue/glue_refine.py"},
            GlueVersion="5.0",
            DefaultArguments=_job_defaults() if name == JOB else {},
            ExecutionProperty={"MaxConcurrentRuns": 1},
        )


def _lambda_env(endpoint: str) -> dict[str, str]:
    """Both Lambdas' environment as infra/envs/dev sets it (plus the endpoint override)."""
    return {
        "B3LAKE_BACKEND": "aws",
        "B3LAKE_LAKE": LAKE,
        "B3LAKE_GLUE_JOB_NAME": JOB,
        "B3LAKE_CATALOG_DATABASE": "default",
        "B3LAKE_SOURCES": '["cotahist"]',
        "B3LAKE_ATHENA_WORKGROUP": "b3lake-dev",
        "B3LAKE_AWS_REGION": REGION,
        "B3LAKE_UNIVERSE__TICKERS": json.dumps(TICKERS),
        "B3LAKE_TRIGGER_JOBS": "both",
        "B3LAKE_VISUAL__JOB_NAME": VISUAL,
        "B3LAKE_AWS_ENDPOINT_URL": endpoint,
    }


def _daily_zip() -> bytes:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w") as zf:
        zf.writestr("COTAHIST_D04012016.TXT", FIXTURE.read_bytes())
    return sink.getvalue()


def _events(endpoint: str, prefix: str) -> list[dict[str, Any]]:
    """The S3 ObjectCreated events of the raw objects under ``prefix`` (what S3 would send)."""
    from b3lake.events.s3_event import object_created_event

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return [
        object_created_event(BUCKET, o["Key"], o["Size"], etag=o["ETag"].strip('"')) for o in listed
    ]


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """A Lambda invocation or a job run: its result, or the error it ended with."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the test reports it after the IAM findings
        return {"exception": f"{type(exc).__name__}: {exc}"}


@pytest.fixture(scope="module")
def flow(guarded: H.GuardedMotoServer) -> dict[str, Any]:
    """The whole flow once, with IAM enforced; returns what it did."""
    from b3lake.jobs import glue_refine
    from b3lake.jobs.refine.job import main as refine
    from b3lake.lambdas import extract, trigger
    from b3lake.launchers.local import glue_argv
    from b3lake.sources.cotahist import DEFAULT_BASE_URL

    endpoint = guarded.url
    _deploy(endpoint)
    mp = pytest.MonkeyPatch()
    for key, value in _lambda_env(endpoint).items():
        mp.setenv(key, value)
    out: dict[str, Any] = {"extract": [], "trigger": [], "runs": []}
    try:
        # 1. The scheduler's event reaches the extract Lambda (twice: the second lands nothing).
        with responses.RequestsMock(assert_all_requests_are_fired=False) as b3:
            b3.get(f"{DEFAULT_BASE_URL}COTAHIST_D04012016.ZIP", body=_daily_zip())
            b3.get(f"{DEFAULT_BASE_URL}COTAHIST_D04012016.ZIP", body=_daily_zip())
            for _ in range(2):
                with H.as_component("extract"):
                    out["extract"].append(_call(extract.handler, {"date": DAY.isoformat()}, None))
        # 2. S3's events of the new raw objects reach the trigger Lambda.
        raw_prefix = f"{INPUTS['lake_prefix']}raw/"
        events = _events(endpoint, raw_prefix)
        for event in events:
            with H.as_component("trigger"):
                out["trigger"].append(_call(trigger.handler, event, None))
        # 3. Glue runs what the trigger started: the entry script's adapters, Glue's argv.
        glue = boto3.client("glue", endpoint_url=endpoint, region_name=REGION)
        runs = glue.get_job_runs(JobName=JOB)["JobRuns"]
        for run in runs:
            argv = glue_argv(JOB, run["Id"], {**_job_defaults(), **run["Arguments"]})
            with H.as_component("glue"):
                storage, catalog = glue_refine.lake_adapters(argv)
                out["runs"].append(_call(refine, argv, storage=storage, catalog=catalog))
        # 4. A duplicate delivery (consumed: nothing starts) and an object of a year whose
        #    manifest shard does not exist (403 without s3:ListBucket: read as missing).
        from b3lake.events.s3_event import object_created_event

        late = object_created_event(
            BUCKET, f"{raw_prefix}cotahist/dt=2015-12-30/part-0.parquet", 1, etag="0" * 32
        )
        for event in [*events, late]:
            with H.as_component("trigger"):
                out["trigger"].append(_call(trigger.handler, event, None))
    finally:
        mp.undo()
    out["guard"] = guarded.guard
    out["endpoint"] = endpoint
    return out


def test_every_call_of_the_moto_flow_is_allowed(flow: dict[str, Any]) -> None:
    guard: H.Guard = flow["guard"]
    assert guard.unmapped == [], f"requests the guard cannot map: {guard.unmapped}"
    denied = guard.denied()
    assert not denied, "calls the roles' policies do not allow:\n" + "\n".join(
        d.line() for d in denied
    )
    # The flow did its work under enforcement.
    assert [e["errors"] for e in flow["extract"]] == [{}, {}], flow["extract"]
    assert "1 raw object(s) written" in flow["extract"][0]["sources"]["cotahist"]
    assert "0 raw object(s) written" in flow["extract"][1]["sources"]["cotahist"]
    started = [s for r in flow["trigger"][:1] for s in r["started"]]
    assert {s.get("job", JOB) for s in started} == {JOB, VISUAL}, flow["trigger"]
    assert flow["runs"] and flow["runs"][0].partitions_written, flow["runs"]
    duplicate, late = flow["trigger"][-2], flow["trigger"][-1]
    assert duplicate["coalesced"] and duplicate["coalesced"][0]["into"] == "consumed", duplicate
    assert [s["dt"] for s in late["started"] if "dt" in s] == ["2015-12-30"], late
    glue = boto3.client("glue", endpoint_url=flow["endpoint"], region_name=REGION)
    raw = glue.get_partitions(DatabaseName="default", TableName="raw_cotahist")["Partitions"]
    assert [p["Values"] for p in raw] == [[DAY.isoformat()]]  # the extract catalogued it

    summary = guard.summary()
    print("\nauthorisations asked, by component:", json.dumps(summary, indent=1))
    print(f"missing keys answered 403: {guard.missing_key_403}")
    print(f"distinct questions to the evaluator: {guard.evaluator.questions}")
    assert {"s3:PutObject", "glue:CreateTable", "glue:BatchCreatePartition"} <= set(
        summary["extract"]
    )
    assert {"glue:StartJobRun", "glue:GetJobRuns", "s3:GetObject"} <= set(summary["trigger"])
    assert {"s3:PutObject", "s3:ListBucket", "glue:BatchCreatePartition"} <= set(summary["glue"])
    # The S3 rule was met, not assumed away: keys that were missing answered 403.
    assert guard.missing_key_403


def test_what_aws_does_with_the_roles_is_allowed(evaluator: H.Evaluator) -> None:
    roles = _snapshot()["roles"]
    guard = H.Guard(roles=roles, evaluator=evaluator)
    arguments = {**_job_defaults(), "script_location": f"s3://{SCRIPTS}/glue/glue_refine.py"}
    decisions = [
        (what, guard.decide(component, what, authz))
        for component, what, authz in H.platform_calls(INPUTS, arguments)
    ]
    refused = [f"{what}: {d.line()}" for what, d in decisions if not d.allowed]
    assert not refused, "\n".join(refused)
    assert {d.component for _, d in decisions} == {"extract", "trigger", "glue", "scheduler"}


def _without(policy: dict[str, Any], action: str) -> dict[str, Any]:
    policy = copy.deepcopy(policy)
    kept = []
    for statement in policy["Statement"]:
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        rest = [a for a in actions if a != action]
        if rest:
            kept.append({**statement, "Action": rest})
    policy["Statement"] = kept
    return policy


@pytest.mark.parametrize(
    ("component", "action"),
    [
        ("extract", "glue:BatchCreatePartition"),
        ("extract", "s3:ListBucket"),
        ("trigger", "glue:StartJobRun"),
        ("glue", "s3:PutObject"),
    ],
)
def test_removing_an_action_fails_the_same_calls(
    flow: dict[str, Any], evaluator: H.Evaluator, component: str, action: str
) -> None:
    """The recorded calls of the flow, evaluated against a policy without ``action``: at least
    one is refused, and the failure names the component, the action and the resource."""
    roles = copy.deepcopy(_snapshot()["roles"])
    roles[component]["policy"] = _without(roles[component]["policy"], action)
    strict = H.Guard(roles=roles, evaluator=evaluator)
    recorded: H.Guard = flow["guard"]
    replayed = [
        strict.decide(d.component, d.operation, d.authz)
        for d in recorded.decisions
        if d.component == component
    ]
    refused = [d for d in replayed if not d.allowed]
    assert refused, f"removing {action} from {component}'s policy refused nothing"
    assert all(d.authz.action == action for d in refused)
    line = refused[0].line()
    assert line.startswith(f"{component}: {action} on arn:aws:"), line
