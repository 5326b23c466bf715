"""The ``b3lake`` command: a thin shell over ``b3lake.pipeline``.

Errors of the B3LakeError family print as one line and exit 1; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from b3lake.errors import B3LakeError, ConfigError

if TYPE_CHECKING:
    import pyarrow as pa

    from b3lake.settings import Settings

console = Console()
err_console = Console(stderr=True)

app = typer.Typer(
    name="b3lake",
    help="B3 market-data lake: extract → raw Parquet → event → refine → catalog → SQL. "
    "Runs locally (offline) or on AWS by the same code.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
extract_app = typer.Typer(
    help="Land one source in the raw layer (each object committed fires the refine trigger).",
    no_args_is_help=True,
)
app.add_typer(extract_app, name="extract")

_overrides: dict[str, Any] = {}

REPO_SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def settings() -> Settings:
    from b3lake.settings import load_settings

    return load_settings(**_overrides)


@app.callback()
def _global(
    lake: Annotated[
        str | None,
        typer.Option(
            "--lake", envvar="B3LAKE_LAKE", help="Lake root: a directory or s3://bucket/prefix."
        ),
    ] = None,
    backend: Annotated[
        str | None, typer.Option("--backend", help="local (default) or aws.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML settings file (default ./b3lake.toml).")
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    if config is not None:
        os.environ["B3LAKE_CONFIG"] = str(config)
    _overrides.update(lake=lake, backend=backend)


def _pipeline() -> Any:
    from b3lake.pipeline import Pipeline

    return Pipeline(settings())


@contextmanager
def _progress(pipeline: Any = None) -> Iterator[Any]:
    """A progress bar over the raw objects landed (locally each one also runs its refine)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(source: str, done: int, total: int) -> None:
            if source not in tasks:
                tasks[source] = bar.add_task(f"{source}: landing sessions", total=total)
            bar.update(tasks[source], completed=done, total=total)

        if pipeline is not None:
            pipeline.progress = update
        yield update


def _print_table(table: pa.Table, title: str | None = None, limit: int = 50) -> None:
    out = Table(title=title, show_lines=False)
    for name in table.column_names:
        out.add_column(name, overflow="fold")
    for row in table.slice(0, limit).to_pylist():
        out.add_row(*[_fmt(v) for v in row.values()])
    console.print(out)
    if table.num_rows > limit:
        console.print(f"[dim]… {table.num_rows - limit} more rows[/dim]")


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


def _parse_date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError("not a date (use YYYY-MM-DD)", field=option, value=value) from None


# -- run ------------------------------------------------------------------------------------


def _run_command(body: Callable[..., None]) -> Callable[..., None]:
    """``run`` with one ``--<source>-file`` option per registered source (``--file`` is the
    first source's, COTAHIST)."""
    from b3lake.sources import registry

    params = []
    for i, src in enumerate(registry.all_sources()):
        flags = [f"--{src.name.replace('_', '-')}-file", *(["--file"] if i == 0 else [])]
        option = typer.Option(*reversed(flags), help=f"{src.file_help} (source {src.name})")
        params.append(
            inspect.Parameter(
                f"{src.name}_files",
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[list[Path] | None, option],
            )
        )
    for name, parameter in inspect.signature(body).parameters.items():
        if name != "files":
            params.append(parameter.replace(annotation=_RUN_OPTIONS[name]))

    @functools.wraps(body)
    def command(**kwargs: Any) -> None:
        given = {src.name: kwargs.pop(f"{src.name}_files") for src in registry.all_sources()}
        body(files={name: paths for name, paths in given.items() if paths}, **kwargs)

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return command


_RUN_OPTIONS: dict[str, Any] = {
    "ticker": Annotated[str, typer.Option(help="Ticker for the example query.")],
    "report": Annotated[
        Path | None, typer.Option("--report", help="Also write the HTML charts report here.")
    ],
}


@app.command()
@_run_command
def run(
    *,
    files: dict[str, list[Path]],
    ticker: str = "PETR4",
    report: Path | None = None,
) -> None:
    """Run the whole pipeline and print a summary.

    Example: [bold]b3lake --lake ./lake run[/bold] (the bundled 2021 COTAHIST sample and IBOV
    portfolio, offline).
    """
    from b3lake.pipeline import run_pipeline
    from b3lake.sources import registry

    if not files:
        for src in registry.all_sources():
            pattern = getattr(src, "sample", None)
            found = sorted(REPO_SAMPLE.glob(pattern)) if pattern else []
            if found:
                files[src.name] = found
        if not files:
            raise ConfigError("no input given and no bundled sample found", source=str(REPO_SAMPLE))
    s = settings()
    with _progress() as update:
        summary = run_pipeline(s, files=files, example_ticker=ticker, progress=update)
    console.rule("[bold]b3lake run")
    for e in summary.extracts:
        console.print(f"• {e.line()}")
    failed = [r for r in summary.job_runs if r.state != "SUCCEEDED"]
    console.print(
        f"• {len(summary.job_runs)} refine job run(s) started by the trigger handler from "
        f"S3-shaped events, {len(failed)} failed"
    )
    counts = Table(title="Counts", show_header=False)
    for k, v in summary.counts.items():
        counts.add_row(k, f"{v:,}")
    console.print(counts)
    times = Table(title="Time per stage (s)", show_header=False)
    for k, secs in summary.seconds.items():
        times.add_row(k, f"{secs:.2f}")
    console.print(times)
    for title, table in summary.examples.items():
        _print_table(table, title=title, limit=12)
    if report is not None:
        _write_report(s, report, None, None, None)
    console.print(f'Lake: {s.lake}  ·  try: b3lake --lake {s.lake} query "SELECT …"')


def _write_report(
    s: Settings, out: Path, tickers: list[str] | None, start: dt.date | None, end: dt.date | None
) -> None:
    from b3lake.report import build_report

    path = build_report(s, out=out, tickers=tickers, start=start, end=end)
    console.print(f"Report written: {path}")


# -- extract --------------------------------------------------------------------------------


_KINDS: dict[str, Any] = {"str": str, "int": int, "date": str, "list": list[str]}


def _extract_command(name: str) -> None:
    """``b3lake extract <name>``: ``--file`` plus one option per param of the source."""
    from b3lake.sources import registry

    src = registry.get(name)

    def command(**kwargs: Any) -> None:
        files = kwargs.pop("file")
        options = {k: v for k, v in kwargs.items() if v is not None}
        pipeline = _pipeline()
        with _progress(pipeline):
            report = pipeline.extract(name, files=files, **options)
        console.print(report.line())

    params = [
        inspect.Parameter(
            "file",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[list[Path] | None, typer.Option("--file", help=src.file_help)],
        )
    ]
    for p in src.params:
        text = p.help + (f" (default: {p.default})" if p.default is not None else "")
        if p.setting:
            text += f" (default: the {p.setting} setting)"
        params.append(
            inspect.Parameter(
                p.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[_KINDS[p.kind] | None, typer.Option(p.flag, help=text)],
            )
        )
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__name__ = f"extract_{name}"
    command.__doc__ = f"{src.summary}\n\nExample: [bold]{src.example}[/bold]"
    extract_app.command(name.replace("_", "-"))(command)


def _register_extract_commands() -> None:
    from b3lake.sources import registry

    for name in registry.names():
        _extract_command(name)


_register_extract_commands()


# -- refine, runs, catalog, query -----------------------------------------------------------


@app.command()
def refine(
    dt_: Annotated[
        str | None,
        typer.Option("--dt", help="Also re-refine this session (YYYY-MM-DD), pending or not."),
    ] = None,
    mode: Annotated[
        str,
        typer.Option(help="incremental (what is pending since the last run) or full (rebuild)."),
    ] = "incremental",
    run_date: Annotated[
        str | None, typer.Option("--run-date", hidden=True, help="Retired: ignored.")
    ] = None,
) -> None:
    """Start a refine job run by hand (the trigger does it on every raw object).

    Example: [bold]b3lake refine --mode full[/bold]
    """
    if run_date is not None:
        console.print(
            "[yellow]--run-date is retired and ignored: stored values no longer depend on the "
            "run's date[/yellow]"
        )
    p = _pipeline()
    run_id = p.refine(day=_parse_date(dt_, "--dt"), mode=mode)
    console.print(f"started {run_id}")


@app.command()
def runs(limit: Annotated[int, typer.Option(help="Show the last N runs.")] = 30) -> None:
    """List the refine job's runs (id, arguments, state, start/end, error).

    Example: [bold]b3lake runs --limit 5[/bold]
    """
    history = _pipeline().runs()[-limit:]
    out = Table(title=f"Job runs ({len(history)})")
    for col in ("id", "state", "dt", "mode", "started", "seconds", "error"):
        out.add_column(col, overflow="fold")
    for r in history:
        secs = (
            (r.completed_on - r.started_on).total_seconds()
            if r.completed_on and r.started_on
            else None
        )
        out.add_row(
            r.id[:15],
            r.state,
            r.arguments.get("--dt", ""),
            r.arguments.get("--mode", ""),
            r.started_on.strftime("%Y-%m-%d %H:%M:%S") if r.started_on else "",
            f"{secs:.2f}" if secs is not None else "",
            (r.error or "")[:80],
        )
    console.print(out)


@app.command()
def catalog(
    table: Annotated[
        str | None, typer.Argument(help="A table: show its schema and partitions.")
    ] = None,
) -> None:
    """List the catalogued tables, or one table's columns and partitions.

    Example: [bold]b3lake catalog refined_quotes[/bold]
    """
    cat = _pipeline().backend.catalog
    if table is None:
        out = Table(title=f"Database {cat.database}")
        for col in ("table", "location", "partition keys", "partitions", "columns"):
            out.add_column(col)
        for t in cat.list_tables():
            out.add_row(
                t.name,
                t.location,
                ", ".join(c.name for c in t.partition_keys),
                f"{len(t.partitions):,}",
                str(len(t.columns)),
            )
        console.print(out)
        return
    info = cat.get_table(table)
    out = Table(title=f"{info.database}.{info.name} at {info.location}")
    out.add_column("column")
    out.add_column("type")
    for c in info.columns:
        out.add_row(c.name, c.type)
    for c in info.partition_keys:
        out.add_row(f"{c.name} (partition)", c.type)
    console.print(out)
    parts = info.partitions
    console.print(f"{len(parts):,} partition(s)" + (": " if parts else ""))
    for p in parts[:20]:
        console.print("  " + "/".join(f"{k}={v}" for k, v in p.items()))
    if len(parts) > 20:
        console.print(f"  … {len(parts) - 20:,} more")


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="SQL in Athena's dialect (Trino); tables by name.")],
    limit: Annotated[int, typer.Option(help="Rows to print.")] = 50,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """Run SQL on the catalogued tables (DuckDB locally, Athena with --backend aws).

    Example: [bold]b3lake query "SELECT ticker, max(close) FROM refined_quotes GROUP BY 1 LIMIT 5"[/bold]
    """
    result = _pipeline().backend.query_engine().query(sql)
    if fmt == "csv":
        import pyarrow.csv as pacsv

        sink = sys.stdout.buffer
        pacsv.write_csv(result, sink)
    elif fmt == "json":
        import json

        console.print_json(json.dumps(result.to_pylist(), default=str))
    else:
        _print_table(result, limit=limit)


@app.command()
def report(
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("report.html"),
    tickers: Annotated[str | None, typer.Option(help="Comma-separated tickers to chart.")] = None,
    start: Annotated[str | None, typer.Option(help="First date.")] = None,
    end: Annotated[str | None, typer.Option(help="Last date.")] = None,
) -> None:
    """Write a self-contained HTML report of charts from the refined tables.

    Example: [bold]b3lake report --tickers PETR4,VALE3 --out report.html[/bold]
    """
    names = [t.strip() for t in tickers.split(",")] if tickers else None
    _write_report(settings(), out, names, _parse_date(start, "--start"), _parse_date(end, "--end"))


# -- glue: the Glue Studio visual job (commands in b3lake.jobs.visual.cli) -------------------

from b3lake.jobs.visual import cli as visual_cli  # noqa: E402 - mounted after the app exists

visual_cli.use_settings(settings)  # the global options (--lake, --backend, --config)
app.add_typer(visual_cli.glue_app, name="glue")


def main() -> None:
    debug = "--debug" in sys.argv
    try:
        app()
    except B3LakeError as exc:
        if debug:
            traceback.print_exc()
        err_console.print(
            f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - never a bare traceback without --debug
        if debug:
            traceback.print_exc()
        err_console.print(
            f"[bold red]internal error:[/bold red] {type(exc).__name__}: {escape(str(exc))} (rerun with --debug)",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(2)


if __name__ == "__main__":
    main()
