"""Use cases: extract each source into the raw layer, refine, run the whole pipeline.

The CLI is a thin shell over these. Whatever the backend, landing a raw object is what starts the
refine: S3 fires the event in AWS; locally the event bus hands the same JSON to the same handler.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from b3lake.backends import Backend, build_backend
from b3lake.errors import JobError, QueryError, SourceError
from b3lake.events.local_bus import LocalEventBus
from b3lake.lake.raw_writer import RawWrite, RawWriter
from b3lake.lambdas.trigger import TriggerConfig
from b3lake.settings import Settings

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass
class ExtractReport:
    source: str
    inputs: list[str] = field(default_factory=list)
    rows_read: int = 0
    writes: list[RawWrite] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # e.g. yfinance tickers with no data
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
        return text


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
        self.bus: LocalEventBus | None = None
        notify = None
        if settings.backend == "local":
            launcher = self.backend.launcher
            launcher.default_arguments = self.job_defaults()
            config = TriggerConfig(
                lake=self.backend.storage.root,
                job_name=settings.glue_job_name,
                catalog_database=settings.catalog_database,
            )
            self.bus = LocalEventBus(config, launcher)
            notify = self.bus.notify
        self.writer = RawWriter(self.backend.storage, notify=notify, catalog=self.backend.catalog)
        #: Called as ``progress(source, done, total)`` after each raw object (CLI progress bar).
        self.progress: Callable[[str, int, int], None] | None = None

    def job_defaults(self) -> dict[str, str]:
        """The job's default arguments, as the Terraform sets them on the Glue job."""
        u = self.settings.universe
        args = {
            "--lake": self.backend.storage.root,
            "--catalog_database": self.settings.catalog_database,
            "--tpmerc": ",".join(u.tpmerc),
            "--codbdi": ",".join(u.codbdi),
            "--exclude_especi": ",".join(u.exclude_especi),
        }
        if u.tickers:
            args["--tickers"] = ",".join(u.tickers)
        return args

    # -- extract ---------------------------------------------------------------------------

    def _land(
        self,
        report: ExtractReport,
        source: str,
        by_day: dict[dt.date, pa.Table],
        *,
        name: Callable[[dt.date], str] = lambda _: "part-0",
        merge_on: str | None = None,
    ) -> ExtractReport:
        # One batch of events: the runs they start execute after the last object has landed,
        # so the first does the work of all (the rest find nothing pending; see launchers.local).
        with self._event_batch(), _timed(report.seconds, "land"):
            for done, day in enumerate(sorted(by_day), start=1):
                report.writes.append(
                    self.writer.write(source, day, by_day[day], name(day), merge_on=merge_on)
                )
                if self.progress is not None:
                    self.progress(source, done, len(by_day))
        self._check_runs()
        return report

    def _event_batch(self) -> Any:
        from contextlib import nullcontext

        return self.bus.batch() if self.bus is not None else nullcontext()

    def extract_cotahist(
        self,
        *,
        files: list[Path] | None = None,
        year: int | None = None,
        month: int | None = None,
        day: dt.date | None = None,
    ) -> ExtractReport:
        """COTAHIST from files, or downloaded from B3 by year, month or day."""
        from b3lake.sources import cotahist

        report = ExtractReport("cotahist")
        payloads: list[tuple[bytes | Path, str]] = []
        if files:
            payloads = [(Path(f), str(f)) for f in files]
        elif year is not None or day is not None:
            with _timed(report.seconds, "download"):
                y = year if year is not None else day.year  # type: ignore[union-attr]
                body = cotahist.download_cotahist(year=y, month=month, day=day)
            payloads = [(body, cotahist.cotahist_file_name(year=y, month=month, day=day))]
        else:
            raise SourceError("give COTAHIST files, or a year, month or date to download")
        for data, name in payloads:
            if isinstance(data, Path) and not data.is_file():
                raise SourceError("file not found", source=str(data))
            with _timed(report.seconds, "parse"):
                table = cotahist.parse_cotahist(data, source_name=Path(name).name)
                sessions = cotahist.split_by_session(table)
            report.inputs.append(name)
            report.rows_read += table.num_rows
            self._land(report, "cotahist", sessions)
        return report

    def extract_ibov(
        self,
        *,
        files: list[Path] | None = None,
        index: str = "IBOV",
        language: str = "pt-br",
        segment: int = 2,
    ) -> ExtractReport:
        """The index portfolio from saved CSV/JSON files, or B3's GetPortfolioDay API."""
        import pyarrow as pa

        from b3lake.sources import ibov

        report = ExtractReport("ibov_portfolio")
        tables: list[pa.Table] = []
        with _timed(report.seconds, "parse"):
            if files:
                for f in files:
                    path = Path(f)
                    if not path.is_file():
                        raise SourceError("file not found", source=str(path))
                    data = path.read_bytes()
                    if path.suffix.lower() == ".json":
                        tables.append(
                            ibov.parse_portfolio_json(data, source_name=path.name, index=index)
                        )
                    else:
                        tables.append(
                            ibov.parse_portfolio_csv(data, source_name=path.name, index=index)
                        )
                    report.inputs.append(str(path))
            else:
                tables.append(ibov.fetch_portfolio(index, language=language, segment=segment))
                report.inputs.append(f"GetPortfolioDay {index} {language} segment {segment}")
        by_day: dict[dt.date, pa.Table] = {}
        for table in tables:
            report.rows_read += table.num_rows
            for day in sorted(set(table.column("portfolio_date").to_pylist())):
                import pyarrow.compute as pc

                part = table.filter(pc.equal(table["portfolio_date"], pa.scalar(day)))
                by_day[day] = part if day not in by_day else pa.concat_tables([by_day[day], part])
        return self._land(report, "ibov_portfolio", by_day, name=lambda _: index.upper())

    def extract_yfinance(
        self,
        *,
        tickers: list[str],
        start: dt.date | None = None,
        end: dt.date | None = None,
        files: list[Path] | None = None,
        downloader: Any = None,
    ) -> ExtractReport:
        """Yahoo daily bars (unadjusted, adjusted close alongside); one raw object per session
        holding every ticker extracted so far (merged by ticker, so re-runs never duplicate)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        from b3lake.sources import yfinance as yf

        report = ExtractReport("yfinance")
        with _timed(report.seconds, "parse"):
            if files:
                parts = []
                for f in files:
                    path = Path(f)
                    if not path.is_file():
                        raise SourceError("file not found", source=str(path))
                    ticker = yf.normalize_ticker(path.stem)
                    parts.append(
                        yf.parse_yfinance_csv(
                            path.read_bytes(), ticker=ticker, source_name=path.name
                        )
                    )
                    report.inputs.append(str(path))
                table = pa.concat_tables(parts)
            else:
                if not tickers:
                    raise SourceError("give --tickers (or set tickers in b3lake.toml)")
                result = yf.fetch_history(tickers, start, end, downloader=downloader)
                table, report.missing = result.table, result.missing
                report.inputs.append(f"yfinance {','.join(tickers)}")
        report.rows_read = table.num_rows
        by_day = {
            day: table.filter(pc.equal(table["date"], pa.scalar(day)))
            for day in sorted(set(table.column("date").to_pylist()))
        }
        return self._land(report, "yfinance", by_day, merge_on="ticker")

    # -- refine and runs ---------------------------------------------------------------------

    def refine(
        self,
        *,
        day: dt.date | None = None,
        mode: str = "incremental",
        run_date: dt.date | None = None,
    ) -> str:
        """Start a refine run by hand (a backfill is ``mode="full"``); returns the run id."""
        if mode not in ("incremental", "full"):
            raise JobError("mode must be incremental or full", field="mode", value=mode)
        if mode == "incremental" and day is None:
            raise JobError("an incremental refine needs --dt (or use --mode full)")
        args = self.job_defaults()
        args["--mode"] = mode
        if day is not None:
            args["--dt"] = day.isoformat()
        if run_date is not None or day is not None:
            args["--run_date"] = (run_date or day).isoformat()  # type: ignore[union-attr]
        response = self.backend.launcher.start_job_run(
            JobName=self.settings.glue_job_name, Arguments=args
        )
        self._check_runs([response["JobRunId"]])
        return str(response["JobRunId"])

    def runs(self) -> list[Any]:
        return list(self.backend.launcher.list_runs(self.settings.glue_job_name))

    def _check_runs(self, run_ids: list[str] | None = None) -> None:
        """Locally, runs finish in-process: surface a failed one as an error, not a log line."""
        if self.settings.backend != "local":
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
    cotahist_files: list[Path] | None = None,
    ibov_files: list[Path] | None = None,
    yfinance_files: list[Path] | None = None,
    example_ticker: str = "PETR4",
    progress: Callable[[str, int, int], None] | None = None,
) -> RunSummary:
    """Extract every given input (each raw object fires the trigger, which runs the refine),
    then read back counts and the example queries."""
    pipeline = Pipeline(settings)
    pipeline.progress = progress
    seconds: dict[str, float] = {}
    extracts = []
    before = {r.id for r in pipeline.runs()}
    with _timed(seconds, "extract + event-triggered refine"):
        if cotahist_files:
            extracts.append(pipeline.extract_cotahist(files=cotahist_files))
        if ibov_files:
            extracts.append(pipeline.extract_ibov(files=ibov_files))
        if yfinance_files:
            extracts.append(pipeline.extract_yfinance(tickers=[], files=yfinance_files))
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
        for table in ("refined_monthly", "refined_ibov_portfolio"):
            counts[f"{table} rows"] = scalar(f"SELECT count(*) FROM {table}")
        counts["quarantined rows"] = sum(
            scalar(f"SELECT count(*) FROM {t}")
            for t in ("quarantine_quotes", "quarantine_ibov_portfolio")
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
