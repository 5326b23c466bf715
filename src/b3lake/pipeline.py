"""Use cases: extract each source into the raw layer, refine, run the whole pipeline.

The CLI is a thin shell over these. Whatever the backend, landing a raw object is what starts the
refine: S3 fires the event in AWS; locally the event bus hands the same JSON to the same handler.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from b3lake import tables
from b3lake.backends import Backend, build_backend
from b3lake.errors import ConfigError, JobError, QueryError, SourceError
from b3lake.events.local_bus import LocalEventBus
from b3lake.lake.raw_writer import RawWrite, RawWriter
from b3lake.settings import Settings
from b3lake.sources import registry

if TYPE_CHECKING:
    import pyarrow as pa

    from b3lake.sources.base import Request, Source


@dataclass
class ExtractReport:
    source: str
    inputs: list[str] = field(default_factory=list)
    rows_read: int = 0
    writes: list[RawWrite] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # e.g. yfinance tickers with no data
    #: Problems that did not stop the input landing (file, line, field and what was done).
    findings: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def sessions(self) -> list[str]:
        return sorted({w.key.split("/dt=")[1].split("/")[0] for w in self.writes})

    @property
    def objects_written(self) -> int:
        return sum(w.written for w in self.writes)

    @property
    def objects_unchanged(self) -> int:
        return sum(not w.written for w in self.writes)

    def line(self) -> str:
        text = (
            f"{self.source}: {self.rows_read:,} rows read, {len(self.sessions)} session(s), "
            f"{self.objects_written} raw object(s) written, {self.objects_unchanged} unchanged"
        )
        if self.missing:
            text += f"; no data for {', '.join(self.missing)}"
        if self.findings:
            text += f"; {len(self.findings)} quality finding(s): {' | '.join(self.findings)}"
        return text


def _concat(tables: list[pa.Table]) -> pa.Table:
    """Several inputs as one table; their findings (schema metadata) merged, not the first's only."""
    import pyarrow as pa

    from b3lake.sources.base import FINDINGS_KEY, findings_of, with_findings

    findings = [f for t in tables for f in findings_of(t)]
    plain = [
        t.replace_schema_metadata({k: v for k, v in t.schema.metadata.items() if k != FINDINGS_KEY})
        if t.schema.metadata and FINDINGS_KEY in t.schema.metadata
        else t
        for t in tables
    ]
    return with_findings(pa.concat_tables(plain), findings)


@contextmanager
def _timed(seconds: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        seconds[stage] = seconds.get(stage, 0.0) + time.perf_counter() - start


class Pipeline:
    """The lake plus its event path, as configured."""

    def __init__(self, settings: Settings, backend: Backend | None = None) -> None:
        self.settings = settings
        self.backend = backend or build_backend(settings)
        # The local backend delivers raw objects' events in-process (S3 does it on AWS).
        self.bus: LocalEventBus | None = getattr(self.backend, "bus", None)
        notify = self.backend.notifier
        self.writer = RawWriter(self.backend.storage, notify=notify, catalog=self.backend.catalog)
        #: Called as ``progress(source, done, total)`` after each raw object (CLI progress bar).
        self.progress: Callable[[str, int, int], None] | None = None

    # -- extract ---------------------------------------------------------------------------

    def _land(self, report: ExtractReport, src: Source, request: Request, table: pa.Table) -> None:
        """Split one input by session and land each session (of each group) as one raw object."""
        with _timed(report.seconds, "parse"):  # splitting is part of reading an input
            objects = [
                (day, rows) for group in src.groups(table) for day, rows in src.split(group).items()
            ]
        # One batch of events: the runs they start execute after the last object has landed,
        # so the first does the work of all (the rest find nothing pending; see launchers.local).
        with self._event_batch(), _timed(report.seconds, "land"):
            for done, (day, rows) in enumerate(sorted(objects, key=lambda o: o[0]), start=1):
                report.writes.append(
                    self.writer.write(
                        src.raw,
                        day,
                        rows,
                        src.object_name(day, rows, request),
                        merge_on=src.merge_key,
                    )
                )
                if self.progress is not None:
                    self.progress(src.raw, done, len(objects))
        self._check_runs()

    def _event_batch(self) -> Any:
        from contextlib import nullcontext

        return self.bus.batch() if self.bus is not None else nullcontext()

    def extract(
        self,
        source: str | Source,
        *,
        files: Sequence[Path | str] | None = None,
        **options: Any,
    ) -> ExtractReport:
        """Land one source: its saved ``files`` parsed, or (without files) fetched with ``options``.

        ``options`` are the source's :attr:`~b3lake.sources.base.Source.params` (unknown ones are a
        ConfigError; missing ones take the param's setting, then its default). Every input is split
        by session and each session lands as one raw object (``raw/<raw>/dt=…/<name>.parquet``).
        """
        from b3lake.sources.base import Request, findings_of

        src = registry.get(source) if isinstance(source, str) else source
        request = Request(
            files=tuple(Path(f) for f in files or ()),
            options=self._options(src, options),
        )
        report = ExtractReport(src.raw)
        tables: list[pa.Table] = []
        if request.files:
            for path in request.files:
                if not path.is_file():
                    raise SourceError("file not found", source=str(path))
                with _timed(report.seconds, "parse"):
                    table = src.parse(path, request)
                report.inputs.append(str(path))
                report.rows_read += table.num_rows
                report.findings += [str(f) for f in findings_of(table)]
                if src.land_each_input:
                    self._land(report, src, request, table)
                else:
                    tables.append(table)
        else:
            with _timed(report.seconds, "download"):
                fetched = src.fetch(request)
            report.inputs.append(fetched.input)
            report.missing = list(fetched.missing)
            report.rows_read += fetched.table.num_rows
            report.findings += [str(f) for f in findings_of(fetched.table)]
            tables.append(fetched.table)
        if tables:
            self._land(report, src, request, tables[0] if len(tables) == 1 else _concat(tables))
        return report

    def _options(self, src: Source, given: dict[str, Any]) -> dict[str, Any]:
        from b3lake.sources.base import convert

        params = {p.name: p for p in src.params}
        unknown = sorted(set(given) - set(params))
        if unknown:
            raise ConfigError(
                f"unknown option(s) for source {src.name} (known: {', '.join(params) or 'none'})",
                field="options",
                value=unknown,
            )
        out: dict[str, Any] = {}
        for name, param in params.items():
            value = convert(param, given.get(name))
            if value is None and param.setting is not None:
                value = getattr(self.settings, param.setting, None)
            out[name] = param.default if value is None else value
        return out

    # -- refine and runs ---------------------------------------------------------------------

    def refine(
        self,
        *,
        day: dt.date | None = None,
        mode: str = "incremental",
    ) -> str:
        """Start a refine run by hand (a backfill is ``mode="full"``; incremental refines what is
        pending, and ``day`` too); returns the run id."""
        if mode not in ("incremental", "full"):
            raise JobError("mode must be incremental or full", field="mode", value=mode)
        defaults = self.settings.refine_args(lake=self.backend.storage.root)
        args = defaults.for_run(mode=mode, dt=day).to_arguments()
        response = self.backend.launcher.start_job_run(
            JobName=self.settings.glue_job_name, Arguments=args
        )
        self._check_runs([response["JobRunId"]])
        return str(response["JobRunId"])

    def runs(self) -> list[Any]:
        return list(self.backend.launcher.list_runs(self.settings.glue_job_name))

    def _check_runs(self, run_ids: list[str] | None = None) -> None:
        """Locally, runs finish in-process: surface a failed one as an error, not a log line."""
        if not self.backend.runs_in_process:
            return
        if run_ids is None and self.bus is not None:
            run_ids = [s["JobRunId"] for r in self.bus.results for s in r["started"]]
        for run in self.runs():
            if run.id in (run_ids or []) and run.state == "FAILED":
                raise JobError(
                    f"refine run {run.id} failed: {run.error}", source=run.arguments.get("--dt")
                )


# -- the whole pipeline ----------------------------------------------------------------------

EXAMPLE_QUERIES = {
    "Top 10 tickers by traded value": (
        "SELECT ticker, count(*) AS sessions, sum(traded_value) AS traded_value, "
        "sum(volume) AS volume FROM refined_quotes GROUP BY ticker "
        "ORDER BY traded_value DESC LIMIT 10"
    ),
    "{ticker}: close and moving averages": (
        "SELECT dt, close, ma_5, ma_7, close_lag_1, pct_change FROM refined_quotes "
        "WHERE ticker = '{ticker}' ORDER BY dt"
    ),
}


@dataclass
class RunSummary:
    extracts: list[ExtractReport]
    job_runs: list[Any]
    counts: dict[str, int]
    seconds: dict[str, float]
    examples: dict[str, pa.Table]


def _rows_under(backend: Backend, prefix: str) -> tuple[int, int]:
    """(rows, objects) of the Parquet objects under a prefix, from their footers."""
    import io

    import pyarrow.parquet as pq

    keys = [k for k in backend.storage.list_keys(prefix) if k.endswith(".parquet")]
    rows = sum(pq.read_metadata(io.BytesIO(backend.storage.get_bytes(k))).num_rows for k in keys)
    return rows, len(keys)


def run_pipeline(
    settings: Settings,
    *,
    files: Mapping[str, Sequence[Path]] | None = None,
    cotahist_files: list[Path] | None = None,
    ibov_files: list[Path] | None = None,
    yfinance_files: list[Path] | None = None,
    example_ticker: str = "PETR4",
    progress: Callable[[str, int, int], None] | None = None,
) -> RunSummary:
    """Extract every given input (each raw object fires the trigger, which runs the refine),
    then read back counts and the example queries.

    ``files`` maps a source name to its saved files; the sources land in registry order.
    ``cotahist_files=``, ``ibov_files=`` and ``yfinance_files=`` are the same as
    ``files={"cotahist": …}`` (kept for existing callers).
    """
    given: dict[str, list[Path]] = {}
    for name, paths in (files or {}).items():
        given.setdefault(registry.get(name).name, []).extend(paths)  # unknown: fails up front
    for name, legacy in (
        ("cotahist", cotahist_files),
        ("ibov", ibov_files),
        ("yfinance", yfinance_files),
    ):
        if legacy:
            given.setdefault(name, []).extend(legacy)
    pipeline = Pipeline(settings)
    pipeline.progress = progress
    seconds: dict[str, float] = {}
    extracts = []
    before = {r.id for r in pipeline.runs()}
    with _timed(seconds, "extract + event-triggered refine"):
        for src in registry.all_sources():
            if given.get(src.name):
                extracts.append(pipeline.extract(src, files=given[src.name]))
    runs = [r for r in pipeline.runs() if r.id not in before]
    for e in extracts:
        for stage, secs in e.seconds.items():
            seconds[f"{e.source} {stage}"] = secs
    seconds["refine (sum of job runs)"] = sum(
        (
            (r.completed_on - r.started_on).total_seconds()
            if r.completed_on and r.started_on
            else 0.0
        )
        for r in runs
    )
    backend = pipeline.backend
    engine = backend.query_engine()
    counts: dict[str, int] = {"rows read": sum(e.rows_read for e in extracts)}
    examples: dict[str, pa.Table] = {}

    def scalar(sql: str) -> int:
        try:
            return int(engine.query(sql).column(0)[0].as_py() or 0)
        except QueryError:  # a table with no data yet
            return 0

    with _timed(seconds, "count"):
        counts["raw rows"], counts["raw objects"] = _rows_under(backend, "raw/")
        try:
            row = engine.query(
                "SELECT count(*) AS n, count(DISTINCT dt) AS s, count(DISTINCT ticker) AS t "
                "FROM refined_quotes"
            ).to_pylist()[0]
        except QueryError:
            row = {"n": 0, "s": 0, "t": 0}
        counts["refined_quotes rows"], counts["sessions"], counts["tickers"] = (
            row["n"],
            row["s"],
            row["t"],
        )
        for spec in tables.refined_tables():  # every registered table (refined_quotes above)
            if spec.name != "refined_quotes":
                counts[f"{spec.name} rows"] = scalar(f"SELECT count(*) FROM {spec.name}")
        counts["quarantined rows"] = sum(
            scalar(f"SELECT count(*) FROM {t.name}") for t in tables.quarantine_tables()
        )
        counts["refined_quotes partitions"] = len(
            backend.catalog.get_table("refined_quotes").partitions
        )
    with _timed(seconds, "example queries"):
        for title, sql in EXAMPLE_QUERIES.items():
            examples[title.format(ticker=example_ticker)] = engine.query(
                sql.format(ticker=example_ticker)
            )
    return RunSummary(
        extracts=extracts, job_runs=runs, counts=counts, seconds=seconds, examples=examples
    )
