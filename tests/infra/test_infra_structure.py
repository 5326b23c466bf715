"""Structural checks (python-hcl2, no terraform needed) that tie infra/ to the code it deploys.

- the Lambda handler strings name modules and functions that exist in the package;
- the Glue script key and artifact names match what scripts/package.py builds;
- the job's default arguments are RefineArgs' deployment-wide ones (names and defaults from the code);
- the S3 notification filter matches b3lake.lake.layout (raw/, .parquet);
- the catalog tables come from the table specs through dist/manifest.json (no table repeated in HCL);
- the Lambda environment names are real b3lake settings;
- IAM allows no wildcard action and no "*" resource for actions that support resource-level permissions;
- every variable is typed and described, every output described; no account id or region is hard-coded.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from infra_support import (
    ENV_DEV,
    INFRA,
    MODULES,
    ROOT,
    all_tf_files,
    blocks,
    load_hcl,
    locals_of,
    module_calls,
)

SRC = ROOT / "src"
MODULE_NAMES = (
    "lake_storage",
    "iam",
    "lambda_function",
    "trigger",
    "extract",
    "glue_job",
    "catalog",
    "athena",
)

# Glue's own special job parameters (https://docs.aws.amazon.com/glue/latest/dg/aws-glue-programming-etl-glue-arguments.html);
# everything else in default_arguments must be read by the entry script.
GLUE_RESERVED_ARGUMENTS = {
    "--job-language",
    "--enable-glue-datacatalog",
    "--additional-python-modules",
    "--python-modules-installer-option",
    "--TempDir",
    "--enable-continuous-cloudwatch-log",
    "--enable-continuous-log-filter",
    "--enable-metrics",
    "--enable-observability-metrics",
    "--enable-job-insights",
    "--enable-spark-ui",
    "--spark-event-logs-path",
    "--job-bookmark-option",
    "--extra-py-files",
    "--extra-files",
    "--extra-jars",
    "--conf",
    "--datalake-formats",
}


def _package_module() -> Any:
    spec = importlib.util.spec_from_file_location(
        "b3lake_package_script", ROOT / "scripts" / "package.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _module_file(dotted: str) -> Path:
    """The source file of a b3lake module: importlib's find_spec if it can, else the src/ path."""
    candidate = SRC.joinpath(*dotted.split(".")).with_suffix(".py")
    try:
        spec = importlib.util.find_spec(dotted)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin and spec.origin.endswith(".py"):
        return Path(spec.origin)
    return candidate


def _top_level_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.AnnAssign,)) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _lambda_functions() -> list[tuple[Path, str, dict[str, Any]]]:
    """Every Lambda of the modules with its literal handler: the calls of the shared lambda_function
    module (whose own resource takes the handler as var.handler) and any other aws_lambda_function."""
    found = []
    for path in sorted(MODULES.rglob("*.tf")):
        doc = load_hcl(path)
        for rtype, name, body in blocks(doc, "resource"):
            if rtype == "aws_lambda_function" and path.parent.name != "lambda_function":
                found.append((path, name, body))
        for entry in doc.get("module", []):
            for name, body in entry.items():
                if body.get("source") == "../lambda_function":
                    found.append((path, name, body))
    return found


# ---------------------------------------------------------------------------------------------------------------------
# Code <-> infra
# ---------------------------------------------------------------------------------------------------------------------
def test_lambda_handlers_exist_in_the_package() -> None:
    functions = _lambda_functions()
    handlers = sorted(body["handler"] for _, _, body in functions)
    assert handlers == ["b3lake.lambdas.extract.handler", "b3lake.lambdas.trigger.handler"]
    for path, _, body in functions:
        module, _, function = body["handler"].rpartition(".")
        source = _module_file(module)
        assert source.is_file(), (
            f"{path.relative_to(ROOT)}: handler module {module} has no file {source}"
        )
        assert function in _top_level_names(source), f"{source} defines no top-level {function!r}"


def test_lambda_callers_use_the_shared_module_and_keep_their_state() -> None:
    """extract and trigger call ../lambda_function; `moved` blocks carry the resources they used to
    declare themselves into it, so an existing deployment is updated in place, not re-created."""
    shared = {
        (rtype, name): body
        for rtype, name, body in blocks(
            load_hcl(MODULES / "lambda_function" / "main.tf"), "resource"
        )
    }
    assert set(shared) == {
        ("aws_sqs_queue", "dlq"),
        ("aws_cloudwatch_log_group", "this"),
        ("aws_lambda_function", "this"),
    }
    function = shared[("aws_lambda_function", "this")]
    assert function["handler"] == "${var.handler}"
    assert function["dead_letter_config"][0]["target_arn"] == "${aws_sqs_queue.dlq.arn}"
    assert function["tracing_config"][0]["mode"] == "${var.tracing_mode}"
    assert shared[("aws_sqs_queue", "dlq")]["sqs_managed_sse_enabled"] is True
    for module in ("extract", "trigger"):
        doc = load_hcl(MODULES / module / "main.tf")
        calls = {name: body for entry in doc.get("module", []) for name, body in entry.items()}
        assert calls["function"]["source"] == "../lambda_function", module
        moves = {(m["from"], m["to"]) for m in doc.get("moved", [])}
        assert moves == {
            (f"${{{address}}}", f"${{module.function.{address}}}")
            for address in (
                "aws_sqs_queue.dlq",
                "aws_cloudwatch_log_group.this",
                "aws_lambda_function.this",
            )
        }, module
        own = {rtype for rtype, _, _ in blocks(doc, "resource")}
        assert not own & {"aws_sqs_queue", "aws_cloudwatch_log_group", "aws_lambda_function"}, (
            module
        )


def test_trigger_zip_needs_only_stdlib_and_boto3() -> None:
    """trigger.zip holds only b3lake's sources: every import the trigger can reach is stdlib, boto3 or b3lake."""
    allowed_third_party = {"boto3", "botocore"}
    seen: set[str] = set()
    offenders: list[str] = []
    queue = ["b3lake.lambdas.trigger"]
    while queue:
        dotted = queue.pop()
        if dotted in seen:
            continue
        seen.add(dotted)
        # Importing a module runs its packages' __init__ too.
        parts = dotted.split(".")
        queue.extend(".".join(parts[:i]) for i in range(1, len(parts)))
        path = _module_file(dotted)
        if not path.is_file():
            package_init = SRC.joinpath(*parts, "__init__.py")
            if not package_init.is_file():
                continue
            path = package_init
        tree = ast.parse(path.read_text(), filename=str(path))
        type_checking_lines: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                for sub in ast.walk(node):
                    type_checking_lines.add(getattr(sub, "lineno", -1))
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in type_checking_lines:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for target in targets:
                top = target.split(".")[0]
                if top == "b3lake":
                    queue.append(target)
                elif (
                    top not in sys.stdlib_module_names
                    and top not in allowed_third_party
                    and top != "__future__"
                ):
                    offenders.append(f"{path.relative_to(ROOT)}: import {target}")
    assert not offenders, (
        "the trigger Lambda would need packages its zip does not carry:\n"
        + "\n".join(sorted(set(offenders)))
    )


def test_glue_script_and_artifacts_match_package_script() -> None:
    package = _package_module()
    assert package.GLUE_SCRIPT_SOURCE == "src/b3lake/jobs/glue_refine.py"
    glue_vars = load_hcl(MODULES / "glue_job" / "variables.tf")
    script_key = next(
        v for entry in glue_vars["variable"] for k, v in entry.items() if k == "script_key"
    )
    assert script_key["default"] == package.GLUE_SCRIPT == "glue/glue_refine.py"

    calls = module_calls()
    assert calls["glue_job"]["script_key"] == "${local.manifest.glue_script}"
    assert calls["glue_job"]["script_path"] == "${local.dist_dir}/${local.manifest.glue_script}"
    assert calls["glue_job"]["wheel_path"] == "${local.dist_dir}/${local.manifest.wheel}"
    assert calls["trigger"]["package_path"] == "${local.dist_dir}/${local.manifest.lambda.trigger}"
    assert calls["extract"]["package_path"] == "${local.dist_dir}/${local.manifest.lambda.extract}"
    assert (package.TRIGGER_ZIP, package.EXTRACT_ZIP, package.MANIFEST) == (
        "lambda/trigger.zip",
        "lambda/extract.zip",
        "manifest.json",
    )
    assert 'file("${local.dist_dir}/manifest.json")' in locals_of(ENV_DEV / "main.tf")["manifest"]


def test_job_default_arguments_are_refine_args() -> None:
    """The Glue job's defaults are RefineArgs' deployment-wide arguments (names from the one
    declaration, default values from the manifest): every data-changing one, none per-run."""
    from b3lake.jobs.refine.args import RefineArgs
    from b3lake.jobs.refine.job import JOB_ARGUMENTS

    job_locals = locals_of(MODULES / "glue_job" / "main.tf")
    glue_arguments = set(job_locals["glue_arguments"])
    assert {
        "--enable-glue-datacatalog",
        "--job-language",
        "--additional-python-modules",
    } <= glue_arguments
    unknown_glue = glue_arguments - GLUE_RESERVED_ARGUMENTS
    assert not unknown_glue, (
        f"not Glue special parameters, so the script must read them: {unknown_glue}"
    )
    assert job_locals["glue_arguments"]["--enable-glue-datacatalog"] == "true"
    assert job_locals["glue_arguments"]["--job-language"] == "python"

    # module glue_job: merge(var.refine_arguments, {--lake, --catalog_database, --mode}).
    job_arguments = job_locals["job_arguments"]
    assert job_arguments.startswith("${merge(var.refine_arguments, {"), job_arguments
    literal = set(re.findall(r'"(--[a-z_]+)"', job_arguments))
    assert literal == {"--lake", "--catalog_database", "--mode", "--aws_region"}
    # --aws_region is the entry script's own (b3lake.jobs.glue_refine.job_region), not RefineArgs'.
    literal.discard("--aws_region")
    package = _package_module()
    manifest_defaults = package.declarations(ROOT)["refine_arguments"]
    assert manifest_defaults == RefineArgs.universe_arguments()
    names = {a.lstrip("-") for a in literal | set(manifest_defaults)}
    assert names == set(RefineArgs.deployment_names()) - set(RefineArgs.OPTIONAL)
    assert set(JOB_ARGUMENTS) == set(RefineArgs.names()) >= names
    # envs/dev: the manifest's defaults, then the universe of var.universe.
    call = module_calls()["glue_job"]
    assert call["refine_arguments"] == (
        "${merge(local.manifest.refine_arguments, local.universe_arguments)}"
    )
    env_locals = locals_of(ENV_DEV / "main.tf")
    assert "var.universe" in env_locals["universe"]
    universe_vars = {
        k: v for entry in load_hcl(ENV_DEV / "variables.tf")["variable"] for k, v in entry.items()
    }["universe"]
    declared = set(re.findall(r"(\w+)\s*=\s*optional", universe_vars["type"]))
    from b3lake.settings import UniverseSettings

    # The whole [universe] section: the record filters and the R6 table's tickers.
    assert declared == set(UniverseSettings.model_fields)


def test_glue_job_shape() -> None:
    glue = {
        name: body
        for rtype, name, body in blocks(load_hcl(MODULES / "glue_job" / "main.tf"), "resource")
    }
    job = glue["this"]
    assert job["glue_version"] == "${var.glue_version}"
    assert job["command"][0]["name"] == "glueetl"
    variables = {
        k: v
        for entry in load_hcl(MODULES / "glue_job" / "variables.tf")["variable"]
        for k, v in entry.items()
    }
    assert variables["glue_version"]["default"] == "5.0"
    # One run at a time, the rest queued by Glue: no event lost to ConcurrentRunsExceeded and no
    # two sessions of a month racing to rewrite its monthly partition.
    assert variables["max_concurrent_runs"]["default"] == 1
    assert variables["job_run_queuing_enabled"]["default"] is True
    assert job["job_run_queuing_enabled"] == "${var.job_run_queuing_enabled}"
    modules = variables["extra_python_modules"]["default"]
    assert {re.split(r"[~=<>!]", m)[0] for m in modules} == {
        "pydantic",
        "pydantic-settings",
        "exchange-calendars",
    }
    for name in ("script", "wheel"):
        assert glue[name]["etag"].startswith("${filemd5(")


def test_notification_filter_matches_layout() -> None:
    from b3lake.lake import layout

    trigger = module_calls()["trigger"]
    assert trigger["filter_prefix"] == "${var.lake_prefix}" + layout.RAW + "/"
    assert trigger["filter_suffix"] == ".parquet"
    assert layout.raw_key("cotahist", __import__("datetime").date(2024, 1, 2)).endswith(
        trigger["filter_suffix"]
    )
    assert layout.raw_key("cotahist", __import__("datetime").date(2024, 1, 2)).startswith(
        layout.RAW + "/"
    )
    notification = {
        name: body
        for rtype, name, body in blocks(load_hcl(MODULES / "trigger" / "main.tf"), "resource")
    }["raw"]
    target = notification["lambda_function"][0]
    assert target["events"] == ["s3:ObjectCreated:*"]
    assert (target["filter_prefix"], target["filter_suffix"]) == (
        "${var.filter_prefix}",
        "${var.filter_suffix}",
    )


def test_catalog_tables_come_from_the_specs_through_the_manifest() -> None:
    """Terraform's catalog tables are the specs' (b3lake.tables): package.py writes them into
    manifest.json, envs/dev hands them to the catalog module, which repeats no table or column."""
    from b3lake import tables

    package = _package_module()
    manifest = package.table_specs(ROOT)  # what `make package` writes under "tables"
    assert manifest == tables.manifest()
    refined = {t.name for t in tables.refined_tables()}
    assert {n for n, t in manifest.items() if t["layer"] == "refined"} == refined
    for name, entry in manifest.items():
        spec = tables.table(name)
        assert entry["location"] == spec.location, name
        assert [(c["name"], c["type"]) for c in entry["columns"]] == [
            (c.name, c.type) for c in spec.columns
        ], name
        assert [(c["name"], c["type"]) for c in entry["partition_keys"]] == [
            (c.name, c.type) for c in spec.partition_keys
        ], name
        # The columns as the refine job registers them (Arrow schema -> Hive types) are the same.
        from b3lake.catalog.schema import columns_from_arrow
        from b3lake.tables.arrow import file_schema

        assert columns_from_arrow(file_schema(spec)) == list(spec.columns), name

    # envs/dev passes the manifest's tables; the module takes them as a typed variable whose
    # attributes are exactly a manifest entry's.
    assert module_calls()["catalog"]["tables"] == "${local.manifest.tables}"
    variables = {
        k: v
        for entry in load_hcl(MODULES / "catalog" / "variables.tf")["variable"]
        for k, v in entry.items()
    }
    declared = re.findall(r"(\w+)\s*=", variables["tables"]["type"].split("object(", 1)[1])
    top = [a for a in declared if a not in {"name", "type"}]
    assert set(top) == set(next(iter(manifest.values()))), top
    assert variables["layers"]["default"] == ["refined"]
    main_tf = (MODULES / "catalog" / "main.tf").read_text()
    for spec in tables.TABLES.values():
        assert f"{spec.name} " not in main_tf and f"{spec.name}=" not in main_tf, spec.name
        for column in spec.columns:
            assert f'"{column.name}"' not in main_tf, f"{spec.name}.{column.name} repeated in HCL"

    module_locals = locals_of(MODULES / "catalog" / "main.tf")
    assert "var.tables" in module_locals["tables"] and "var.layers" in module_locals["tables"]
    resource = {n: b for _, n, b in blocks(load_hcl(MODULES / "catalog" / "main.tf"), "resource")}[
        "refined"
    ]
    assert resource["for_each"] == "${var.manage_tables ? local.tables : {}}"
    sd = resource["storage_descriptor"][0]
    assert sd["location"] == "s3://${var.lake_bucket_id}/${var.lake_prefix}${each.value.location}"
    assert sd["dynamic"][0]["columns"]["for_each"] == "${each.value.columns}"
    assert resource["dynamic"][0]["partition_keys"]["for_each"] == "${each.value.partition_keys}"
    assert (
        sd["ser_de_info"][0]["serialization_library"]
        == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    )
    assert sd["input_format"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    assert sd["output_format"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"


def test_lambda_environment_names_are_settings() -> None:
    """The Lambdas' environment is Settings.deployment_environment()'s: the same names, so a
    deployed process means what the settings mean (the universe included)."""
    from b3lake.settings import Settings, UniverseSettings

    env = locals_of(ENV_DEV / "main.tf")["lambda_environment"]
    expected = set(Settings(aws_region="sa-east-1").deployment_environment())
    universe = {n for n in expected if n.startswith("B3LAKE_UNIVERSE__")}
    assert set(env) == expected - universe
    for name in env:
        field, _, sub = name.removeprefix("B3LAKE_").lower().partition("__")
        assert field in Settings.model_fields, f"{name} is not a b3lake setting"
        if sub:  # a nested section ([corporate_actions] batches …)
            section = Settings.model_fields[field].annotation
            assert sub in section.model_fields, f"{name} is not a {field} setting"  # type: ignore[union-attr]
    for name in universe:
        field = name.removeprefix("B3LAKE_UNIVERSE__").lower()
        assert field in UniverseSettings.model_fields, f"{name} is not a universe setting"
    universe_env = locals_of(ENV_DEV / "main.tf")["universe_environment"]
    assert "B3LAKE_UNIVERSE__${upper(k)}" in universe_env and "jsonencode(v)" in universe_env
    calls = module_calls()
    assert "local.universe_environment" in calls["trigger"]["environment"]
    assert "local.universe_environment" in calls["extract"]["environment"]
    assert env["B3LAKE_BACKEND"] == "aws"
    assert env["B3LAKE_SOURCES"] == "${jsonencode(var.sources)}"
    assert env["B3LAKE_AWS_REGION"] == "${local.region}"


def test_the_sources_terraform_accepts_are_the_registry() -> None:
    """var.sources is checked against the manifest's sources, which the package reads from
    b3lake.sources.registry: a new source is one registration, not an edit of Terraform."""
    from b3lake.sources import registry

    assert _package_module().declarations(ROOT)["sources"] == list(registry.names())
    variables = {
        k: v for entry in load_hcl(ENV_DEV / "variables.tf")["variable"] for k, v in entry.items()
    }
    (validation,) = variables["sources"]["validation"]
    assert "local.manifest.sources" in validation["condition"]
    assert '"cotahist"' not in validation["condition"]


def test_lake_bucket_policy_denies_insecure_transport() -> None:
    doc = load_hcl(MODULES / "lake_storage" / "main.tf")
    policy = {n: b for t, n, b in blocks(doc, "data") if t == "aws_iam_policy_document"}["tls_only"]
    statement = policy["statement"][0]
    assert statement["effect"] == "Deny"
    assert statement["actions"] == ["s3:*"]
    condition = statement["condition"][0]
    assert (condition["test"], condition["variable"], condition["values"]) == (
        "Bool",
        "aws:SecureTransport",
        ["false"],
    )


# ---------------------------------------------------------------------------------------------------------------------
# Hygiene
# ---------------------------------------------------------------------------------------------------------------------
# Actions without resource-level permissions: "*" is the only possible resource.
RESOURCE_STAR_OK = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "cloudwatch:PutMetricData"}


def test_iam_least_privilege() -> None:
    doc = load_hcl(MODULES / "iam" / "main.tf")
    statements = [
        (name, st)
        for rtype, name, body in blocks(doc, "data")
        if rtype == "aws_iam_policy_document" and name != "assume"
        for st in body.get("statement", [])
    ]
    assert statements
    for name, st in statements:
        assert st.get("effect", "Allow") == "Allow"
        actions = st["actions"]
        assert all(a != "*" and not a.endswith(":*") for a in actions), (
            f"{name}/{st.get('sid')}: wildcard action"
        )
        resources = st["resources"]
        if "*" in resources:
            assert set(actions) <= RESOURCE_STAR_OK, (
                f"{name}/{st.get('sid')}: '*' resource for {actions}"
            )


def test_variables_typed_and_described_outputs_described() -> None:
    problems = []
    for directory in [*(MODULES / m for m in MODULE_NAMES), ENV_DEV]:
        for kind, required in (
            ("variables.tf", ("type", "description")),
            ("outputs.tf", ("description",)),
        ):
            path = directory / kind
            assert path.is_file(), f"missing {path.relative_to(ROOT)}"
            block = "variable" if kind == "variables.tf" else "output"
            for entry in load_hcl(path).get(block, []):
                for name, body in entry.items():
                    problems += [
                        f"{path.relative_to(ROOT)}: {name} lacks {r}"
                        for r in required
                        if r not in body
                    ]
    assert not problems, "\n".join(problems)
    for module in MODULE_NAMES:
        for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
            assert (MODULES / module / name).is_file(), f"modules/{module}/{name} missing"


def test_nothing_account_or_region_specific_is_hard_coded() -> None:
    account = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
    region = re.compile(
        r"\b(us|eu|sa|ap|ca|me|af|il|mx)-(east|west|north|south|central|northeast|southeast)-[0-9]\b"
    )
    offenders = []
    for path in all_tf_files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.match(r"\s*(description|error_message)\s*=", code):
                continue  # prose, examples for the reader
            if (
                account.search(code)
                and "message_retention_seconds" not in code
                and "bytes_scanned" not in code
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
            if region.search(code):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "hard-coded account id or region:\n" + "\n".join(offenders)


def test_tfvars_example_covers_required_variables() -> None:
    variables = {
        k: v for entry in load_hcl(ENV_DEV / "variables.tf")["variable"] for k, v in entry.items()
    }
    required = {name for name, body in variables.items() if "default" not in body}
    example = (ENV_DEV / "terraform.tfvars.example").read_text()
    assert required == {"region", "aws_sdk_pandas_layer_arn"}
    for name in required | {"use_existing_roles", "existing_role_arn"}:
        assert re.search(rf"^#?\s*{name}\s*=", example, re.M), (
            f"terraform.tfvars.example does not show {name}"
        )


@pytest.mark.parametrize("path", [INFRA / "envs" / "dev" / "main.tf"])
def test_catalog_database_is_referenced_not_created_by_default(path: Path) -> None:
    variables = {
        k: v for entry in load_hcl(ENV_DEV / "variables.tf")["variable"] for k, v in entry.items()
    }
    assert variables["catalog_database"]["default"] == "default"
    assert variables["create_catalog_database"]["default"] is False
    catalog = module_calls(path)["catalog"]
    assert catalog["create_database"] == "${var.create_catalog_database}"
