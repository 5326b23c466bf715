"""Terraform itself: fmt, init + validate with the provider mirror, and a real plan/apply/destroy of envs/dev
against moto's server on 127.0.0.1 (no AWS account, no network).

Skips (visible) where there is no terraform binary or no hashicorp/aws provider mirror. Timings are printed
(run with -s) and attached to the test report as user properties.
"""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from infra_support import (
    INFRA,
    MotoServer,
    Terraform,
    copy_infra,
    require_provider,
    require_terraform,
    write_cli_config,
)

from b3lake import tables as table_specs
from b3lake.jobs.refine.args import RefineArgs
from b3lake.sources import registry as source_registry

pytestmark = pytest.mark.terraform

REGION = "us-east-1"
UNIVERSE = {"tickers": ["PETR4", "VALE3"], "exclude_especi": []}
LAB_ROLE = "LabRole"

# moto differences from AWS that show up as a diff on the plan right after apply (not drift of ours).
MOTO_DRIFT_ALLOWED = {
    # moto's GetFunction does not return DeadLetterConfig.
    "aws_lambda_function": {"dead_letter_config"},
    # moto's GetJob does not return JobRunQueuingEnabled (it stores and enforces MaxConcurrentRuns).
    "aws_glue_job": {"job_run_queuing_enabled"},
}


def _report(record_property: Any, tf: Terraform) -> None:
    for step, seconds in tf.timings.items():
        record_property(f"terraform_{step}_seconds", seconds)
    print("\nterraform timings (s):", json.dumps(tf.timings))


def test_fmt() -> None:
    """`terraform fmt -check -recursive infra/` (no provider needed)."""
    binary = require_terraform()
    tf = Terraform(binary=binary, workdir=INFRA.parent, cli_config=Path("/dev/null"))
    result = tf.run("fmt", "-check", "-recursive", "-diff", str(INFRA))
    assert result.returncode == 0, f"terraform fmt would change:\n{result.stdout}\n{result.stderr}"


@pytest.fixture
def workspace(tmp_path: Path) -> tuple[Terraform, Path]:
    binary = require_terraform()
    mirror = require_provider()
    infra = copy_infra(tmp_path / "infra")
    tf = Terraform(
        binary=binary, workdir=infra / "envs" / "dev", cli_config=write_cli_config(tmp_path, mirror)
    )
    return tf, tmp_path


def test_init_and_validate(workspace: tuple[Terraform, Path], record_property: Any) -> None:
    tf, _ = workspace
    tf.ok("init", "-input=false", "-backend=false", step="init")
    out = tf.ok("validate", step="validate")
    assert "Success" in out
    _report(record_property, tf)


def test_the_universe_old_name_r6_tickers(workspace: tuple[Terraform, Path]) -> None:
    """``universe.r6_tickers`` (tfvars written before the rename) is read as
    ``universe.partitioned_tickers``: the Lambdas get B3LAKE_UNIVERSE__PARTITIONED_TICKERS and
    the Glue job ``--partitioned_tickers``; both given and different is refused, naming them.
    (A plan also warns: check "universe_old_names".)"""
    tf, tmp_path = workspace
    _fake_dist(tmp_path / "dist")
    tf.ok("init", "-input=false", "-backend=false", step="init")
    expression = "jsonencode([local.universe_environment, local.universe_arguments])"

    def console(universe: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                tf.binary,
                "console",
                f"-var=dist_dir={tmp_path / 'dist'}",
                f"-var=universe={universe}",
            ],
            cwd=tf.workdir,
            env=tf.env(),
            input=expression + "\n",
            capture_output=True,
            text=True,
            timeout=300,
        )

    for universe in ('{r6_tickers=["PETR4"]}', '{partitioned_tickers=["PETR4"]}'):
        out = console(universe)
        assert out.returncode == 0, out.stderr
        env, arguments = json.loads(json.loads(out.stdout.strip().splitlines()[-1]))
        assert env == {"B3LAKE_UNIVERSE__PARTITIONED_TICKERS": '["PETR4"]'}, universe
        assert arguments == {"--partitioned_tickers": "PETR4"}, universe
    refused = console('{r6_tickers=["PETR4"],partitioned_tickers=["VALE3"]}')
    assert refused.returncode != 0
    assert "universe.r6_tickers is the old name of universe.partitioned_tickers" in refused.stderr


# ---------------------------------------------------------------------------------------------------------------------
# plan / apply / destroy against moto
# ---------------------------------------------------------------------------------------------------------------------
SERVICES = ("athena", "glue", "iam", "lambda", "logs", "s3", "scheduler", "sqs", "sts")


def _write_moto_overrides(infra: Path, endpoint: str) -> None:
    """Test-only override files in the private copy: the provider points at moto; the repo's .tf stay as they are."""
    endpoints = "\n".join(f'    {service:<9} = "{endpoint}"' for service in SERVICES)
    (infra / "envs" / "dev" / "moto_override.tf").write_text(
        f"""provider "aws" {{
  region                      = "{REGION}"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true
  # The account-id lookup (STS) stays on: ARNs are built from it.

  endpoints {{
{endpoints}
  }}
}}
"""
    )
    # moto ignores the Condition of bucket-policy statements, so the TLS-only Deny (aws:SecureTransport = false)
    # would deny every object call. Here the policy denies an action the stack never uses; the real statement is
    # checked by test_infra_structure.py and by checkov.
    (infra / "modules" / "lake_storage" / "moto_override.tf").write_text(
        """data "aws_iam_policy_document" "tls_only" {
  for_each = aws_s3_bucket.this

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:PutBucketAcl"]
    resources = [each.value.arn]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}
"""
    )


def _zip_bytes(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buffer.getvalue()


def _fake_dist(dist: Path) -> dict[str, Any]:
    """A dist/ shaped like scripts/package.py's output (the real build is tested in test_infra_package.py)."""
    manifest = {
        "name": "b3lake",
        "version": "0.0.0",
        "wheel": "b3lake-0.0.0-py3-none-any.whl",
        "glue_script": "glue/glue_refine.py",
        "lambda": {"trigger": "lambda/trigger.zip", "extract": "lambda/extract.zip"},
        # The real tables, as scripts/package.py writes them from the specs (b3lake.tables).
        "tables": table_specs.manifest(),
        "refine_arguments": RefineArgs.universe_arguments(),
        "sources": list(source_registry.names()),
        # What scripts/package.py resolves for Glue 5.0 (names as pip reports them).
        "glue_python_modules": [
            "exchange_calendars==4.11.1",
            "pydantic==2.12.5",
            "pydantic-settings==2.12.0",
        ],
    }
    (dist / "glue").mkdir(parents=True)
    (dist / "lambda").mkdir()
    (dist / "glue" / "glue_refine.py").write_text("# fake Glue entry script for the moto test\n")
    (dist / manifest["wheel"]).write_bytes(
        _zip_bytes({"b3lake/__init__.py": "__version__ = '0.0.0'\n"})
    )
    handler = "def handler(event, context):\n    return {}\n"
    for name in ("trigger", "extract"):
        (dist / "lambda" / f"{name}.zip").write_bytes(
            _zip_bytes({"b3lake/__init__.py": "", f"b3lake/lambdas/{name}.py": handler})
        )
    (dist / "manifest.json").write_text(json.dumps(manifest))
    return manifest


def _changed_attributes(change: dict[str, Any]) -> set[str]:
    before, after = change["change"].get("before") or {}, change["change"].get("after") or {}
    return {k for k in set(before) | set(after) if before.get(k) != after.get(k)}


def _planned(tf: Terraform, *args: str, step: str) -> dict[str, Any]:
    tf.ok("plan", "-input=false", "-out=tfplan", *args, step=step)
    return tf.json("show", "-json", "tfplan")


@pytest.mark.aws
@pytest.mark.slow
def test_plan_apply_destroy_against_moto(
    tmp_path: Path, record_property: Any, monkeypatch: pytest.MonkeyPatch, sample_cotahist: Path
) -> None:
    binary = require_terraform()
    mirror = require_provider()
    infra = copy_infra(tmp_path / "infra")
    manifest = _fake_dist(tmp_path / "dist")

    with MotoServer() as moto:
        _write_moto_overrides(infra, moto.url)
        # What a real account has before the stack: Glue's "default" database and the AWS SDK for pandas layer
        # (published by AWS in another account; moto needs it to exist).
        moto.client("glue").create_database(DatabaseInput={"Name": "default"})
        layer_arn = moto.client("lambda").publish_layer_version(
            LayerName="AWSSDKPandas-Python311",
            Content={"ZipFile": _zip_bytes({"python/placeholder.py": ""})},
            CompatibleRuntimes=["python3.11"],
        )["LayerVersionArn"]
        account = moto.client("sts").get_caller_identity()["Account"]

        tf = Terraform(
            binary=binary,
            workdir=infra / "envs" / "dev",
            cli_config=write_cli_config(tmp_path, mirror),
        )
        (tf.workdir / "terraform.tfvars.json").write_text(
            json.dumps(
                {
                    "region": REGION,
                    "aws_sdk_pandas_layer_arn": layer_arn,
                    "dist_dir": str(tmp_path / "dist"),
                    "force_destroy": True,
                    # A [universe] as b3lake.toml would have it: 2 tickers keep the HTTP writes
                    # few; no ESPECI excluded.
                    "universe": UNIVERSE,
                }
            )
        )
        tf.ok("init", "-input=false", step="init")

        # --- Lab account: no IAM at all, LabRole everywhere ------------------------------------------------------
        lab_role = f"arn:aws:iam::{account}:role/{LAB_ROLE}"
        plan = _planned(
            tf,
            "-var=use_existing_roles=true",
            f"-var=existing_role_arn={lab_role}",
            step="plan_lab_account",
        )
        changes = plan["resource_changes"]
        iam = [
            c["address"]
            for c in changes
            if c["type"].startswith("aws_iam_") and c["mode"] == "managed"
        ]
        assert iam == [], f"lab-account plan still creates IAM resources: {iam}"
        role_args = {
            c["address"]: c["change"]["after"].get("role") or c["change"]["after"].get("role_arn")
            for c in changes
            if c["type"] in {"aws_lambda_function", "aws_glue_job"}
        }
        assert role_args and set(role_args.values()) == {lab_role}, role_args
        schedules = [c for c in changes if c["type"] == "aws_scheduler_schedule"]
        assert schedules[0]["change"]["after"]["target"][0]["role_arn"] == lab_role

        # --- Own account: plan, apply -----------------------------------------------------------------------------
        plan = _planned(tf, step="plan")
        planned_types = {c["type"] for c in plan["resource_changes"]}
        assert {
            "aws_iam_role",
            "aws_lambda_function",
            "aws_glue_job",
            "aws_s3_bucket_notification",
        } <= planned_types
        assert not any(
            c["type"] == "aws_glue_catalog_database" for c in plan["resource_changes"]
        ), "the stack must reference the existing 'default' database, not create it"
        tf.ok("apply", "-input=false", "tfplan", step="apply")
        outputs = {k: v["value"] for k, v in tf.json("output", "-json").items()}
        try:
            _check_deployment(moto, outputs, manifest, tmp_path / "dist", layer_arn, account)

            # Idempotence: a second plan finds nothing to do (except moto's known gaps).
            plan = _planned(tf, step="plan_after_apply")
            unexpected = {
                c["address"]: _changed_attributes(c) - MOTO_DRIFT_ALLOWED.get(c["type"], set())
                for c in plan["resource_changes"]
                if c["change"]["actions"] != ["no-op"]
            }
            unexpected = {addr: attrs for addr, attrs in unexpected.items() if attrs}
            assert not unexpected, f"plan after apply is not empty: {unexpected}"

            # The pipeline runs on what Terraform created.
            _run_pipeline_on_deployment(moto, outputs, monkeypatch, sample_cotahist)
        finally:
            # moto has no DeleteNamedQuery (the provider would retry for many minutes): forget the named queries;
            # moto's DeleteWorkGroup with force_destroy removes them with the workgroup anyway.
            tf.run("state", "rm", "module.athena.aws_athena_named_query.this")
            tf.ok("destroy", "-auto-approve", "-input=false", step="destroy", timeout=600)

        _check_destroyed(moto, outputs)
        _report(record_property, tf)


def _check_deployment(
    moto: MotoServer,
    outputs: dict[str, Any],
    manifest: dict[str, Any],
    dist: Path,
    layer_arn: str,
    account: str,
) -> None:
    s3, glue, lam = moto.client("s3"), moto.client("glue"), moto.client("lambda")
    lake, scripts, results = (
        outputs["lake_bucket"],
        outputs["scripts_bucket"],
        outputs["athena_results_bucket"],
    )
    assert outputs["lake_uri"] == f"s3://{lake}/"
    assert account in lake and REGION in lake, (
        "bucket names carry the account id and region, not hard-coded"
    )

    # Buckets: encryption, public access block, versioning, lifecycle, a bucket policy.
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert {lake, scripts, results} <= names
    for bucket in (lake, scripts, results):
        sse = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][
            0
        ]
        assert sse["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        pab = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(pab.values()), pab
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        assert any(r.get("AbortIncompleteMultipartUpload") for r in rules), bucket
        assert s3.get_bucket_policy(Bucket=bucket)["Policy"]
    lake_rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=lake)["Rules"]}
    assert lake_rules["raw-to-infrequent-access"]["Filter"]["Prefix"] == "raw/"
    assert lake_rules["quarantine-expiration"]["Filter"]["Prefix"] == "quarantine/"

    # S3 -> trigger Lambda notification: raw/ and .parquet only.
    trigger = lam.get_function(FunctionName=outputs["trigger_function_name"])["Configuration"]
    notification = s3.get_bucket_notification_configuration(Bucket=lake)
    configs = notification["LambdaFunctionConfigurations"]
    assert len(configs) == 1, notification
    config = configs[0]
    assert config["LambdaFunctionArn"] == trigger["FunctionArn"]
    assert config["Events"] == ["s3:ObjectCreated:*"]
    filters = {r["Name"].lower(): r["Value"] for r in config["Filter"]["Key"]["FilterRules"]}
    assert filters == {"prefix": "raw/", "suffix": ".parquet"}
    policy = json.loads(lam.get_policy(FunctionName=trigger["FunctionName"])["Policy"])
    statement = policy["Statement"][0]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == f"arn:aws:s3:::{lake}"

    # Lambdas: handlers, runtime, the B3LAKE_* environment, the pandas layer on extract.
    expected_env = {
        "B3LAKE_BACKEND": "aws",
        "B3LAKE_LAKE": f"s3://{lake}/",
        "B3LAKE_GLUE_JOB_NAME": outputs["glue_job_name"],
        "B3LAKE_CATALOG_DATABASE": "default",
        "B3LAKE_SOURCES": '["cotahist"]',
        "B3LAKE_ATHENA_WORKGROUP": outputs["athena_workgroup"],
        "B3LAKE_AWS_REGION": REGION,  # explicit: b3lake never guesses a region
        # The universe, as pydantic-settings reads it (JSON lists).
        "B3LAKE_UNIVERSE__TICKERS": '["PETR4","VALE3"]',
        "B3LAKE_UNIVERSE__EXCLUDE_ESPECI": "[]",
        # What the scheduled extract fetches (the defaults of var.index_levels/corporate_actions).
        "B3LAKE_INDEX_LEVELS": '["IBOV"]',
        "B3LAKE_CORPORATE_ACTIONS__ISSUERS": "[]",
        "B3LAKE_CORPORATE_ACTIONS__BATCHES": "5",
        "B3LAKE_CORPORATE_ACTIONS__MIN_INTERVAL_SECONDS": "0.5",
    }
    # The trigger also learns which job(s) to start (the visual job is deployed after apply).
    trigger_env = {
        **expected_env,
        "B3LAKE_TRIGGER_JOBS": "script",
        "B3LAKE_VISUAL__JOB_NAME": outputs["glue_job_name"].removesuffix("-refine") + "-visual",
    }
    extract = lam.get_function(FunctionName=outputs["extract_function_name"])["Configuration"]
    for function, handler, env in (
        (trigger, "b3lake.lambdas.trigger.handler", trigger_env),
        (extract, "b3lake.lambdas.extract.handler", expected_env),
    ):
        assert function["Handler"] == handler
        assert function["Runtime"] == "python3.11"
        assert function["Environment"]["Variables"] == env
        assert function["TracingConfig"]["Mode"] == "Active"
    assert [layer["Arn"] for layer in extract["Layers"]] == [layer_arn]
    assert trigger.get("Layers", []) == []

    # The roles hold the policies the permission tests evaluate (tests/aws/iam's snapshot, rendered
    # for other names): the same statements and actions, role by role.
    _check_role_policies(moto)

    # The trigger runs one copy at a time and retries throttled S3 events for 6 hours.
    assert (
        lam.get_function_concurrency(FunctionName=trigger["FunctionName"]).get(
            "ReservedConcurrentExecutions"
        )
        == 1
    )
    invoke = lam.get_function_event_invoke_config(FunctionName=trigger["FunctionName"])
    assert (invoke["MaximumEventAgeInSeconds"], invoke["MaximumRetryAttempts"]) == (21600, 2)

    # The schedule after the B3 close.
    schedule = moto.client("scheduler").get_schedule(Name=outputs["extract_function_name"])
    assert schedule["ScheduleExpression"] == "cron(30 18 ? * MON-FRI *)"
    assert schedule["ScheduleExpressionTimezone"] == "America/Sao_Paulo"
    assert schedule["Target"]["Arn"] == extract["FunctionArn"]
    assert schedule["State"] == "ENABLED"

    # Glue job: version, size, arguments, the uploaded script and wheel.
    job = glue.get_job(JobName=outputs["glue_job_name"])["Job"]
    assert job["GlueVersion"] == "5.0"
    assert job["Command"]["Name"] == "glueetl"
    assert job["Command"]["ScriptLocation"] == f"s3://{scripts}/{manifest['glue_script']}"
    assert job["ExecutionProperty"]["MaxConcurrentRuns"] == 1  # more runs wait in the queue
    assert (job["WorkerType"], job["NumberOfWorkers"]) == ("G.1X", 2)
    args = job["DefaultArguments"]
    assert args["--lake"] == f"s3://{lake}/"
    assert args["--catalog_database"] == "default"
    assert args["--mode"] == "incremental"
    # The data-changing defaults are RefineArgs' with the tfvars' universe over them: a run
    # started from the console refines what the settings' universe means.
    from b3lake.settings import Settings

    wanted = Settings(universe=UNIVERSE).refine_args().universe
    assert RefineArgs.universe_arguments(wanted).items() <= args.items()
    argv = ["glue_refine.py", *[x for kv in args.items() for x in kv], "--dt", "2021-01-04"]
    assert RefineArgs.from_argv(argv).universe == wanted
    assert args["--enable-glue-datacatalog"] == "true"
    assert args["--job-language"] == "python"
    modules = args["--additional-python-modules"].split(",")
    assert modules[0] == f"s3://{scripts}/glue/{manifest['wheel']}"
    # The wheel, then the manifest's exact pins (none of them a module Glue 5.0 provides).
    assert modules[1:] == manifest["glue_python_modules"]
    assert all("==" in m for m in modules[1:])
    for key, local in (
        (manifest["glue_script"], manifest["glue_script"]),
        (f"glue/{manifest['wheel']}", manifest["wheel"]),
    ):
        body = s3.get_object(Bucket=scripts, Key=key)["Body"].read()
        assert body == (dist / local).read_bytes(), key

    # Catalog tables in the existing default database: the specs' refined tables, column for column.
    tables = {t["Name"]: t for t in glue.get_tables(DatabaseName="default")["TableList"]}
    assert {t.name for t in table_specs.refined_tables()} <= set(tables)
    assert {
        "refined_quotes": [("dt", "date"), ("ticker", "string")],
        "refined_monthly": [("month", "string")],
        "refined_ibov_portfolio": [("dt", "date")],
    }.items() <= {
        n: [(k["Name"], k["Type"]) for k in t["PartitionKeys"]] for n, t in tables.items()
    }.items()
    for spec in table_specs.refined_tables():
        table = tables[spec.name]
        assert [(k["Name"], k["Type"]) for k in table["PartitionKeys"]] == [
            (c.name, c.type) for c in spec.partition_keys
        ]
        sd = table["StorageDescriptor"]
        assert [(c["Name"], c["Type"]) for c in sd["Columns"]] == [
            (c.name, c.type) for c in spec.columns
        ]
        assert sd["Location"] == f"s3://{lake}/{spec.location}"
        assert (
            sd["SerdeInfo"]["SerializationLibrary"]
            == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
        )
        assert sd["InputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"

    # Athena workgroup with an enforced result location and the named queries.
    athena = moto.client("athena")
    workgroup = athena.get_work_group(WorkGroup=outputs["athena_workgroup"])["WorkGroup"]
    assert (
        workgroup["Configuration"]["ResultConfiguration"]["OutputLocation"]
        == f"s3://{results}/results/"
    )
    queries = athena.list_named_queries(WorkGroup=outputs["athena_workgroup"])["NamedQueryIds"]
    assert len(queries) == 4


def _check_role_policies(moto: MotoServer) -> None:
    import sys

    sys.path.insert(0, str(INFRA.parent / "tests" / "aws" / "iam"))
    import render_policies

    iam = moto.client("iam")
    for component, rendered in render_policies.load()["roles"].items():
        role = rendered["role"]
        (name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        if isinstance(document, str):
            document = json.loads(document)

        def shape(policy: dict[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
            out = []
            for st in policy["Statement"]:
                actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                out.append((st.get("Sid", ""), tuple(sorted(actions))))
            return sorted(out)

        assert shape(document) == shape(rendered["policy"]), component


def _run_pipeline_on_deployment(
    moto: MotoServer, outputs: dict[str, Any], monkeypatch: pytest.MonkeyPatch, sample: Path
) -> None:
    """Raw objects into the Terraform-made lake bucket, their S3 events to the trigger handler
    configured with the trigger Lambda's own environment (read back from moto), the runs it
    starts on the Terraform-made Glue job, then the refine with those runs' arguments over the
    job's default arguments, registering partitions in the Terraform-made catalog tables."""
    from b3lake.catalog.glue import GlueCatalog
    from b3lake.events.s3_event import object_created_event
    from b3lake.jobs.refine.job import main
    from b3lake.keyspace import lake_location
    from b3lake.lake.raw_writer import RawWriter
    from b3lake.lambdas.trigger import handler
    from b3lake.launchers.glue import GlueLauncher
    from b3lake.launchers.local import glue_argv
    from b3lake.sources.cotahist import parse_cotahist, split_by_session
    from b3lake.storage.s3 import S3Storage

    lam, glue = moto.client("lambda"), moto.client("glue")
    env = lam.get_function(FunctionName=outputs["trigger_function_name"])["Configuration"][
        "Environment"
    ]["Variables"]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("B3LAKE_AWS_ENDPOINT_URL", moto.url)
    lake = env["B3LAKE_LAKE"]
    assert lake == outputs["lake_uri"]
    storage = S3Storage(lake, endpoint_url=moto.url)
    catalog = GlueCatalog(env["B3LAKE_CATALOG_DATABASE"], lake=lake, endpoint_url=moto.url)
    bucket, prefix = lake_location(lake)

    sessions = split_by_session(parse_cotahist(sample))
    days = sorted(sessions)[:2]
    started: list[dict[str, Any]] = []

    def notify(key: str, size: int) -> None:
        started.extend(handler(object_created_event(bucket, prefix + key, size), None)["started"])

    writer = RawWriter(storage, notify=notify, catalog=catalog)
    for day in days:
        writer.write("cotahist", day, sessions[day])
    assert [s["dt"] for s in started] == [d.isoformat() for d in days]

    job_name = outputs["glue_job_name"]
    defaults = glue.get_job(JobName=job_name)["Job"]["DefaultArguments"]
    runs = sorted(GlueLauncher(endpoint_url=moto.url).list_runs(job_name), key=lambda r: r.id)
    assert sorted(r.arguments["--dt"] for r in runs) == [d.isoformat() for d in days]
    for run in sorted(runs, key=lambda r: r.arguments["--dt"]):
        # Glue merges the run's arguments over the job's defaults; the trigger sent the
        # universe of its environment (the tfvars' 2 tickers) with each run.
        assert run.arguments["--tickers"] == "PETR4,VALE3", run.arguments
        arguments = {**defaults, **run.arguments}
        main(glue_argv(job_name, run.id, arguments), storage=storage, catalog=catalog)

    parts = glue.get_partitions(DatabaseName="default", TableName="refined_quotes")["Partitions"]
    assert sorted(tuple(p["Values"]) for p in parts) == [
        (d.isoformat(), t) for d in days for t in ("PETR4", "VALE3")
    ]
    assert all(
        p["StorageDescriptor"]["Location"].startswith(f"{lake.rstrip('/')}/refined/quotes/")
        for p in parts
    )
    assert storage.list_keys(f"refined/quotes/dt={days[0].isoformat()}/") == [
        f"refined/quotes/dt={days[0].isoformat()}/ticker={t}/part-0.parquet"
        for t in ("PETR4", "VALE3")
    ]


def _check_destroyed(moto: MotoServer, outputs: dict[str, Any]) -> None:
    s3, glue, lam = moto.client("s3"), moto.client("glue"), moto.client("lambda")
    left = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert not left & {
        outputs["lake_bucket"],
        outputs["scripts_bucket"],
        outputs["athena_results_bucket"],
    }
    assert lam.list_functions()["Functions"] == []
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_job(JobName=outputs["glue_job_name"])
    # The stack's tables are gone; what is left is what the pipeline registered itself (raw and
    # quarantine tables, named in docs/deploy.md's teardown).
    left_tables = {t["Name"] for t in glue.get_tables(DatabaseName="default")["TableList"]}
    assert not left_tables & {"refined_quotes", "refined_monthly", "refined_ibov_portfolio"}
    assert all(t.startswith(("raw_", "quarantine_")) for t in left_tables), left_tables
    # The pre-existing database survives: the stack referenced it, it did not own it.
    assert glue.get_database(Name="default")["Database"]["Name"] == "default"
