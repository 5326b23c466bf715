"""Benchmark: a burst landed through the event path against one ``refine --mode full``.

Issue 13 point 4 / issue 14 point 1: landing N sessions at once (``b3lake extract cotahist`` of a
file holding them) fires one S3-shaped event per raw object into the trigger handler; the local
launcher queues the runs they start and executes them after the extract's batch (see
``launchers/local.py``), and a run refines every raw object pending in the raw manifest
(``lake/raw_manifest.py``). The burst should cost at most 1.5x one full refine of the same raw data.

Synthetic COTAHIST text: each session is the records of a real 2021 session of the bundled sample
(all markets, ~6,900 records, ~990 tickers in the default universe), cycled, with the date field
rewritten (prices repeat every 16 sessions: the cost of a refine does not depend on them). One
file of ``--sessions`` sessions (default 500, two years) with a valid header and trailer.

Per round (``--repeat``, interleaved), each in a fresh lake:

* ``burst``: ``Pipeline.extract("cotahist", files=[the file])``, the code of ``b3lake extract
  cotahist --file``: parse, land every session (one event each), the runs the events started.
  Reported: the whole command, and the refine part (the sum of the runs' own durations).
  After the first round's burst, ``b3lake query`` on ``refined_quotes`` (count, sum, one ticker's
  history, one day's market, a whole-market aggregate) is timed and its answers are checked
  against DuckDB over the raw objects.
* ``full``: the same raw objects (copied from the burst's lake, not timed), then
  ``Pipeline.refine(mode="full")``, the code of ``b3lake refine --mode full``.

Usage: ``python benchmarks/bench_burst.py [--sessions 500] [--repeat 1] [--work DIR]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "COTAHIST_A2021.ZIP"


def business_days(n: int, start: dt.date = dt.date(2021, 1, 4)) -> list[dt.date]:
    out, day = [], start
    while len(out) < n:
        if day.weekday() < 5:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def build_file(path: Path, sessions: int) -> int:
    """A COTAHIST text file of ``sessions`` synthetic sessions; returns its record count."""
    with zipfile.ZipFile(SAMPLE) as z:
        lines = z.read(z.namelist()[0]).decode("latin-1").splitlines()
    header, body = lines[0], lines[1:-1]
    by_day: dict[str, list[str]] = {}
    for line in body:
        by_day.setdefault(line[2:10], []).append(line)
    real = [by_day[d] for d in sorted(by_day)]
    days = business_days(sessions)
    count = 0
    with path.open("w", encoding="latin-1", newline="\r\n") as out:
        out.write(header + "\n")
        for i, day in enumerate(days):
            stamp = day.strftime("%Y%m%d")
            for line in real[i % len(real)]:
                out.write(line[:2] + stamp + line[10:] + "\n")
                count += 1
        trailer = "99COTAHIST.2021BOVESPA " + days[-1].strftime("%Y%m%d") + f"{count + 2:011d}"
        out.write(trailer.ljust(245) + "\n")
    return count


def run_burst(lake: Path, cotahist: Path) -> dict[str, float]:
    from b3lake.pipeline import Pipeline
    from b3lake.settings import Settings

    pipeline = Pipeline(Settings(lake=str(lake)))
    start = time.perf_counter()
    report = pipeline.extract("cotahist", files=[cotahist])
    total = time.perf_counter() - start
    runs = pipeline.runs()
    refine = sum(
        (r.completed_on - r.started_on).total_seconds()
        for r in runs
        if r.completed_on and r.started_on
    )
    events = len(pipeline.bus.results) if pipeline.bus else 0
    worked = [r for r in runs if r.summary.get("partitions_written")]
    return {
        "seconds": total,
        "refine_seconds": refine,
        "parse_seconds": report.seconds.get("parse", 0.0),
        "land_seconds": report.seconds.get("land", 0.0),
        "events": events,
        "runs": len(runs),
        "runs_with_work": len(worked),
        "partitions": sum(sum(r.summary["partitions_written"].values()) for r in worked),
        "stages": {
            k: round(sum(r.summary.get("seconds", {}).get(k, 0.0) for r in runs), 1)
            for k in ("plan", "read", "transform", "write", "manifest")
        },
    }


def run_full(lake: Path, raw_from: Path) -> dict[str, float]:
    from b3lake.pipeline import Pipeline
    from b3lake.settings import Settings

    shutil.copytree(raw_from / "raw", lake / "raw")
    pipeline = Pipeline(Settings(lake=str(lake)))
    start = time.perf_counter()
    run_id = pipeline.refine(mode="full")
    total = time.perf_counter() - start
    (run,) = [r for r in pipeline.runs() if r.id == run_id]
    return {
        "seconds": total,
        "partitions": sum(run.summary["partitions_written"].values()),
        "stages": {
            k: round(run.summary.get("seconds", {}).get(k, 0.0), 1)
            for k in ("plan", "read", "transform", "write", "manifest")
        },
    }


QUERIES = {
    "count": "SELECT count(*) AS n FROM refined_quotes",
    "sum": "SELECT sum(volume) AS v FROM refined_quotes",
    "one ticker": "SELECT dt, close, ma_21 FROM refined_quotes WHERE ticker = 'PETR4' ORDER BY dt",
    "one day": "SELECT ticker, close, volume FROM refined_quotes WHERE dt = DATE '{day}' ORDER BY 1",
    "aggregate": "SELECT ticker, avg(close) AS c, sum(volume) AS v FROM refined_quotes GROUP BY 1",
}
UNIVERSE = "tpmerc = '010' AND codbdi IN ('02', '12') AND coalesce(especi, '') <> 'IBO'"


def run_queries(lake: Path, rounds: int = 3) -> dict[str, object]:
    """``b3lake query`` on ``refined_quotes`` after the burst: each query on a new engine (what
    one command does after its imports), medians of ``rounds``, and its answer checked against
    DuckDB over the raw objects (the universe's rows: the refine groups them, sums unchanged)."""
    import duckdb

    from b3lake.pipeline import Pipeline
    from b3lake.settings import Settings

    raw = f"{lake}/raw/cotahist/*/*.parquet"
    day = duckdb.sql(f"SELECT max(datpre) FROM read_parquet('{raw}')").fetchone()[0]
    expected = duckdb.sql(
        f"SELECT count(DISTINCT (datpre, codneg)), sum(quatot), "
        f"count(DISTINCT datpre) FILTER (WHERE codneg = 'PETR4'), "
        f"count(DISTINCT codneg) FILTER (WHERE datpre = DATE '{day}'), count(DISTINCT codneg) "
        f"FROM read_parquet('{raw}') WHERE {UNIVERSE}"
    ).fetchone()
    times: dict[str, list[float]] = {q: [] for q in QUERIES}
    answers: dict[str, object] = {}
    for _ in range(rounds):
        for name, sql in QUERIES.items():
            start = time.perf_counter()
            table = (
                Pipeline(Settings(lake=str(lake))).backend.query_engine().query(sql.format(day=day))
            )
            times[name].append(time.perf_counter() - start)
            answers[name] = (
                table.column(0)[0].as_py() if name in ("count", "sum") else table.num_rows
            )
    got = [answers["count"], answers["sum"], answers["one ticker"], answers["one day"]]
    got.append(answers["aggregate"])
    return {
        "median": {q: statistics.median(v) for q, v in times.items()},
        "right": [int(g) for g in got] == [int(e) for e in expected],  # type: ignore[call-overload]
        "got": got,
        "expected": list(expected),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()

    # Modules first: import time is a process cost, charged to neither variant.
    import b3lake.engines.sqlframe_duckdb  # noqa: F401
    import b3lake.jobs.refine.job  # noqa: F401
    import b3lake.pipeline  # noqa: F401
    import b3lake.sources.cotahist  # noqa: F401

    work = Path(tempfile.mkdtemp(prefix="b3lake-burst-", dir=args.work))
    try:
        cotahist = work / "COTAHIST_SYNTH.TXT"
        records = build_file(cotahist, args.sessions)
        size = cotahist.stat().st_size / 1e6
        print(f"synthetic COTAHIST: {args.sessions} sessions, {records:,} records, {size:.0f} MB")
        bursts, fulls = [], []
        for i in range(args.repeat):
            burst_lake, full_lake = work / f"burst{i}", work / f"full{i}"
            bursts.append(run_burst(burst_lake, cotahist))
            fulls.append(run_full(full_lake, burst_lake))
            if i == 0:
                q = run_queries(burst_lake)
                cells = ", ".join(f"{k} {v:.2f} s" for k, v in q["median"].items())  # type: ignore[attr-defined]
                worst = max(q["median"].values())  # type: ignore[attr-defined]
                print(
                    f"b3lake query on refined_quotes after the burst (medians of 3): {cells}; "
                    f"<= 1.5 s each: {'met' if worst <= 1.5 else 'NOT met'}; right numbers: "
                    f"{q['right']} (got {q['got']}, from raw {q['expected']})",
                    flush=True,
                )
            b, f = bursts[-1], fulls[-1]
            print(
                f"round {i + 1}: burst {b['seconds']:.1f} s (parse {b['parse_seconds']:.1f}, "
                f"land {b['land_seconds']:.1f}, refine runs {b['refine_seconds']:.1f}; "
                f"{b['events']} events, {b['runs']} run(s) started, {b['runs_with_work']} with "
                f"work, {b['partitions']:,} partitions) | full refine {f['seconds']:.1f} s "
                f"({f['partitions']:,} partitions) | refine ratio "
                f"{b['refine_seconds'] / f['seconds']:.2f}x, whole extract "
                f"{b['seconds'] / f['seconds']:.2f}x; stages burst {b['stages']} full {f['stages']}"
            )
            shutil.rmtree(burst_lake, ignore_errors=True)
            shutil.rmtree(full_lake, ignore_errors=True)

        def med(rows: list[dict[str, float]], key: str) -> float:
            return statistics.median(r[key] for r in rows)

        full_s, refine_s, total_s = (
            med(fulls, "seconds"),
            med(bursts, "refine_seconds"),
            med(bursts, "seconds"),
        )
        print(
            f"median of {args.repeat}: one refine --mode full {full_s:.1f} s; the burst's runs "
            f"{refine_s:.1f} s = {refine_s / full_s:.2f}x (goal <= 1.5x); the whole extract "
            f"cotahist (parse + land + runs) {total_s:.1f} s = {total_s / full_s:.2f}x"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
