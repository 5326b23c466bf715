"""``b3lake glue …``: the Glue Studio visual job (generate, deploy, diff, run here).

Mounted by ``b3lake.cli`` (``app.add_typer(glue_app, name="glue")``); the global options
(``--lake``, ``--backend``, ``--config``) come from there. Only typer and rich at import time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from b3lake.jobs.visual.dag import VisualJobConfig
    from b3lake.settings import Settings

console = Console()

glue_app = typer.Typer(
    help="The Glue Studio visual job (R5), kept as code: generate, deploy, diff, run locally.",
    no_args_is_help=True,
)

RoleOption = Annotated[
    str | None, typer.Option("--role", help="IAM role ARN Glue runs the job as (visual.role_arn).")
]
ScriptOption = Annotated[
    str | None,
    typer.Option(
        "--script-location",
        help="s3://… .py where Glue keeps the job's script (visual.script_location).",
    ),
]
SourceOption = Annotated[
    str | None,
    typer.Option("--source", help="s3 (raw objects) or catalog (table raw_cotahist)."),
]


def _default_settings() -> Settings:
    from b3lake.settings import load_settings

    return load_settings()


_settings: Callable[[], Settings] = _default_settings


def use_settings(factory: Callable[[], Settings]) -> None:
    """Take the settings from ``factory`` (b3lake.cli's, which applies the global options)."""
    global _settings
    _settings = factory


def _config(
    s: Settings, role: str | None, script: str | None, source: str | None
) -> VisualJobConfig:
    from b3lake.jobs.visual.dag import VisualJobConfig

    return VisualJobConfig.from_settings(s, role=role, script_location=script, source=source)


def _region(s: Settings) -> str:
    from b3lake import awsclients

    return awsclients.region_for(None, s.aws_region)


@glue_app.command("visual-job")
def visual_job(
    out: Annotated[Path, typer.Option("--out", help="JSON file for the CreateJob request.")],
    role: RoleOption = None,
    script_location: ScriptOption = None,
    source: SourceOption = None,
) -> None:
    """Write the whole CreateJob request of the visual job (JobMode VISUAL and its DAG).

    Example: [bold]b3lake --lake s3://my-lake/b3lake glue visual-job --role arn:aws:iam::123456789012:role/LabRole --script-location s3://my-scripts/glue/visual/b3lake-visual.py --out visual-job.json[/bold]
    (then [bold]aws glue create-job --cli-input-json file://visual-job.json[/bold] works too).
    """
    from b3lake.jobs.visual.dag import job_request
    from b3lake.jobs.visual.validate import validate_request

    request = job_request(_config(_settings(), role, script_location, source))
    validate_request(request)
    out.write_text(json.dumps(request, indent=2) + "\n", encoding="utf-8")
    nodes = request["CodeGenConfigurationNodes"]
    console.print(f"{out}: CreateJob {request['Name']} (JobMode VISUAL, {len(nodes)} nodes)")


@glue_app.command("deploy-visual-job")
def deploy_visual_job(
    role: RoleOption = None,
    script_location: ScriptOption = None,
    source: SourceOption = None,
) -> None:
    """Create the visual job, or update it with the whole DAG when it differs (idempotent).

    Example: [bold]b3lake --backend aws glue deploy-visual-job[/bold] (after terraform apply; see docs/deploy.md)
    """
    from b3lake.jobs.visual.dag import console_url, job_request
    from b3lake.jobs.visual.deploy import deploy

    s = _settings()
    request = job_request(_config(s, role, script_location, source))
    result = deploy(request, settings=s)
    changed = f" ({', '.join(result.changed)})" if result.action == "updated" else ""
    console.print(f"{result.action}: Glue job {result.name}{changed}")
    typer.echo(f"Glue Studio: {console_url(result.name, _region(s))}")  # unwrapped: a link


@glue_app.command("diff-visual-job")
def diff_visual_job(
    from_file: Annotated[
        Path | None,
        typer.Option("--from-file", help="A saved `aws glue get-job` JSON instead of GetJob."),
    ] = None,
    role: RoleOption = None,
    script_location: ScriptOption = None,
    source: SourceOption = None,
) -> None:
    """Diff the deployed visual job (an edit made in Glue Studio) against the generator.

    Exits 1 when they differ, like diff(1).
    Example: [bold]aws glue get-job --job-name b3lake-visual > job.json && b3lake glue diff-visual-job --from-file job.json[/bold]
    """
    from b3lake.jobs.visual.dag import job_request
    from b3lake.jobs.visual.deploy import _glue, diff, get_job, load_job_json

    s = _settings()
    request = job_request(_config(s, role, script_location, source))
    if from_file is not None:
        job: dict[str, Any] | None = load_job_json(from_file.read_text(encoding="utf-8"))
    else:
        job = get_job(_glue(None, s), str(request["Name"]))
    text = diff(request, job)
    if job is None:
        console.print(f"job {request['Name']} does not exist")
        raise typer.Exit(1)
    if not text:
        console.print(f"job {request['Name']} is what the generator makes")
        return
    typer.echo(text)
    raise typer.Exit(1)


@glue_app.command("run-visual-job")
def run_visual_job(
    engine: Annotated[str, typer.Option(help="sqlframe (default) or spark.")] = "sqlframe",
    write: Annotated[
        bool, typer.Option("--write", help="Also write the partitions and the catalog table.")
    ] = False,
) -> None:
    """Run the visual job's DAG here, on a local lake, with the interpreter (no Glue).

    Example: [bold]b3lake --lake ./lake glue run-visual-job --write[/bold]
    """
    from b3lake.catalog import catalog_for
    from b3lake.engines import engine_by_name
    from b3lake.jobs.visual.dag import VisualJobConfig, build_nodes
    from b3lake.jobs.visual.interpret import run_dag, write_target
    from b3lake.keyspace import LOCAL_BUCKET
    from b3lake.storage import storage_for

    s = _settings()
    storage = storage_for(s.lake)
    catalog = catalog_for(storage, s.catalog_database)
    # A local lake plays the S3 lake "s3://b3lake-local" (the pseudo-bucket of local events).
    lake = s.lake if s.lake_is_s3 else f"s3://{LOCAL_BUCKET}"
    config = VisualJobConfig.from_settings(s, lake=lake)
    runner = engine_by_name(engine)
    try:
        run = run_dag(
            build_nodes(config), engine=runner, storage=storage, lake=lake, catalog=catalog
        )
        for target in run.targets:
            console.print(
                f"{target.node_id}: {target.data.num_rows:,} rows, {len(target.partitions):,} "
                f"partitions under {target.prefix} ({', '.join(target.partition_keys)}), "
                f"catalog table {target.database}.{target.table}"
            )
            if write:
                files = write_target(storage, catalog, target)
                console.print(f"  written: {files:,} files")
    finally:
        runner.close()
