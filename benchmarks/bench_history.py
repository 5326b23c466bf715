"""Benchmark of twenty years of the whole market: the history layer against the other layouts
(a script, not a test; prints figures).

Synthetic raw COTAHIST from ``bench_refine.py``'s generator (every session reuses a real 2021
session's instrument mix, ~6,900 records of which ~990 in the default universe, with per-ticker
random-walk prices): ``--years`` x 250 sessions (20 years: 5,000 sessions, ~5 M quote rows).
Each step runs in its own process; the peak RSS of its process tree is sampled with psutil.

* ``backfill``  ``refine --mode full`` (SQLFrame) through a counting Storage wrapper (every
                put/get/list/delete/exists and every object opened through the port's Arrow
                filesystem, the calls an S3 lake would make): history layer + R6 table
                (``--r6_tickers``: the ``--r6`` most traded tickers) + monthly + quarantine
* ``daily``     the daily run at that size (``--mode incremental`` for the last session), counted
* ``month``     the same rows as month partitions (``year=`` files re-cut), write time
* ``compact``   the reference: the same rows in one file sorted by ticker, source, dt (DuckDB)
* ``queries``   start-up (a new connection up to the first row of the table), one ticker's whole
                history, one day's market, a whole-market aggregate; per layout, ``--rounds``
                interleaved rounds, medians, ratios against the compact file of the same run
* ``files``     the small-file limit: a plain loop writing one-row Parquet files (R6's columns)
                with pyarrow on 2 processes, against the R6 writer (``parquet_io.write_partitions``)
                on the same rows, interleaved rounds

Usage: ``python benchmarks/bench_history.py [--years 20] [--r6 100] [--rounds 3] [--files 20000]
[--lake DIR]``. The 20-year run takes ~15-20 minutes on 2 cores; ``--years 1`` a couple.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
GB = 1e9


# ------------------------------------------------------------------------ counting storage


class CountingStorage:
    """The Storage port around a local lake, counting the requests an object store would get."""

    def __init__(self, root: str) -> None:
        from collections import Counter

        from b3lake.storage.local import LocalStorage

        self.inner = LocalStorage(root)
        self.root = self.inner.root
        self.counts: Counter[str] = Counter()

    def put_bytes(self, key: str, data: bytes) -> None:
        self.counts["PUT"] += 1
        self.inner.put_bytes(key, data)

    def get_bytes(self, key: str) -> bytes:
        self.counts["GET"] += 1
        return self.inner.get_bytes(key)

    def exists(self, key: str) -> bool:
        self.counts["HEAD"] += 1
        return self.inner.exists(key)

    def list_keys(self, prefix: str) -> list[str]:
        keys = self.inner.list_keys(prefix)
        self.counts["LIST"] += max(1, -(-len(keys) // 1000))  # ListObjectsV2 pages of 1,000
        return keys

    def list_etags(self, prefix: str) -> dict[str, str]:
        """What the raw manifest lists (ListObjectsV2 returns the ETags with the keys)."""
        etags: dict[str, str] = self.inner.list_etags(prefix)
        self.counts["LIST"] += max(1, -(-len(etags) // 1000))
        return etags

    def delete_keys(self, keys: list[str]) -> None:
        self.counts["DELETE"] += -(-len(keys) // 1000)  # DeleteObjects batches of 1,000
        self.inner.delete_keys(keys)

    def uri(self, key: str) -> str:
        return self.inner.uri(key)

    def local_path(self, key: str) -> str | None:
        """None, as S3Storage answers: every read and write goes through this object (or its
        Arrow filesystem), so each is counted; the times are those of the S3 code path."""
        return None

    def arrow_filesystem(self) -> tuple[Any, str]:
        import pyarrow.fs as pafs

        counts = self.counts
        local = pafs.LocalFileSystem()

        class Handler(pafs.FileSystemHandler):  # type: ignore[misc]
            def get_type_name(self) -> str:
                return "counting"

            def normalize_path(self, path: str) -> str:
                return path

            def get_file_info(self, paths: list[str]) -> Any:
                counts["HEAD"] += len(paths)
                return local.get_file_info(paths)

            def get_file_info_selector(self, selector: Any) -> Any:
                counts["LIST"] += 1
                return local.get_file_info(selector)

            def open_input_file(self, path: str) -> Any:
                counts["GET"] += 1  # one object opened (S3: ranged GETs, footer and columns)
                return local.open_input_file(path)

            def open_input_stream(self, path: str) -> Any:
                counts["GET"] += 1
                return local.open_input_stream(path)

            def open_output_stream(self, path: str, metadata: Any) -> Any:
                counts["PUT"] += 1
                return local.open_output_stream(path)

            def create_dir(self, path: str, recursive: bool) -> None:
                local.create_dir(path, recursive=recursive)

            def delete_dir(self, path: str) -> None:
                local.delete_dir(path)

            def delete_dir_contents(self, path: str, missing_dir_ok: bool = False) -> None:
                local.delete_dir_contents(path, missing_dir_ok=missing_dir_ok)

            def delete_root_dir_contents(self) -> None:
                raise NotImplementedError

            def delete_file(self, path: str) -> None:
                local.delete_file(path)

            def move(self, src: str, dest: str) -> None:
                local.move(src, dest)

            def copy_file(self, src: str, dest: str) -> None:
                local.copy_file(src, dest)

            def open_append_stream(self, path: str, metadata: Any) -> Any:
                raise NotImplementedError

            def equals(self, other: Any) -> bool:
                return self is other

        return pafs.PyFileSystem(Handler()), self.root


# ---------------------------------------------------------------------------------- children


def _top_tickers(lake: Path, n: int) -> list[str]:
    """The ``n`` most traded tickers of the universe in the first session (the R6 universe)."""
    import duckdb

    from b3lake.storage.local import LocalStorage

    first = sorted(LocalStorage(lake).list_keys("raw/cotahist/"))[0]
    rows = duckdb.sql(
        f"SELECT codneg, sum(voltot) v FROM read_parquet('{lake / first}') "
        "WHERE tpmerc = '010' AND codbdi IN ('02', '12') AND coalesce(especi, '') <> 'IBO' "
        f"GROUP BY 1 ORDER BY v DESC, 1 LIMIT {int(n)}"
    ).fetchall()
    return sorted(r[0] for r in rows)


def _job(lake: Path, args: dict[str, str], *, counted: bool = True) -> dict[str, Any]:
    """One refine run; ``counted``: through the counting Storage (the S3 code path, every request
    counted), else on the plain local lake (the laptop's code path: DuckDB scans the raw files and
    the writer processes commit their files themselves)."""
    from b3lake.catalog.local import LocalCatalog
    from b3lake.jobs.refine.job import main
    from b3lake.launchers.local import glue_argv
    from b3lake.storage.local import LocalStorage

    storage: Any = CountingStorage(str(lake)) if counted else LocalStorage(str(lake))
    catalog = LocalCatalog(storage)  # type: ignore[arg-type]
    start = time.perf_counter()
    report = main(
        glue_argv("b3lake-refine", "jr_bench", {"lake": str(lake), **args}),
        storage=storage,  # type: ignore[arg-type]
        catalog=catalog,
    )
    seconds = time.perf_counter() - start
    counts = dict(storage.counts) if counted else {}
    return {
        "seconds": seconds,
        "requests": counts,
        "requests_total": sum(counts.values()),
        "report": report.to_dict(),
    }


def child_backfill(lake: Path, r6: str, counted: bool = True) -> dict[str, Any]:
    for folder in ("refined", "quarantine", "_b3lake/catalog", "_b3lake/manifest"):
        shutil.rmtree(lake / folder, ignore_errors=True)
    out = _job(lake, {"mode": "full", "r6_tickers": r6}, counted=counted)
    files = {}
    for table in ("quotes", "quotes_history", "monthly"):
        files[table] = sum(len(f) for _, _, f in os.walk(lake / "refined" / table))
    out["files"] = files
    return out


def child_daily(lake: Path, r6: str) -> dict[str, Any]:
    from b3lake.storage.local import LocalStorage

    keys = LocalStorage(lake).list_keys("raw/cotahist/")
    last = max(k.split("/")[2][3:] for k in keys)
    return _job(lake, {"mode": "incremental", "dt": last, "r6_tickers": r6})


def child_month(lake: Path) -> dict[str, Any]:
    """The history rows re-cut into month partitions (the candidate layout)."""
    import pyarrow.parquet as pq

    from b3lake.jobs.refine import schemas
    from b3lake.lake import history
    from b3lake.storage.local import LocalStorage

    storage = LocalStorage(lake)
    shutil.rmtree(lake / "bench_layouts" / "month", ignore_errors=True)
    years = sorted(storage.list_keys("refined/quotes_history/"))
    start = time.perf_counter()
    files = 0
    for key in years:  # a year at a time (memory)
        table = pq.read_table(storage.uri(key))
        out = history.write(
            storage,
            "bench_layouts/month/",
            table,
            schemas.REFINED_QUOTES_HISTORY,
            replace=None,
            grain="month",
        )
        files += len(out.written)
    return {"seconds": time.perf_counter() - start, "files": files}


def child_compact(lake: Path) -> dict[str, Any]:
    import duckdb

    target = lake / "bench_layouts" / "compact.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute("SET memory_limit = '1500MB'")
    con.execute(
        f"COPY (SELECT * FROM read_parquet('{lake}/refined/quotes_history/*/*.parquet') "
        f"ORDER BY ticker, source, dt) TO '{target}' (FORMAT parquet, COMPRESSION snappy)"
    )
    return {"seconds": time.perf_counter() - start, "bytes": target.stat().st_size}


def _layouts(lake: Path) -> dict[str, str]:
    return {
        "history (year)": "engine",
        "history (month)": f"{lake}/bench_layouts/month/*/*.parquet",
        "compact file": f"{lake}/bench_layouts/compact.parquet",
    }


def _queries(day: str, ticker: str) -> dict[str, str]:
    return {
        "one ticker": f"SELECT * FROM refined_quotes_history WHERE ticker = '{ticker}' ORDER BY dt, source",
        "one day": f"SELECT * FROM refined_quotes_history WHERE dt = DATE '{day}' ORDER BY ticker, source",
        "aggregate": "SELECT ticker, count(*) AS n, avg(close) AS c, sum(volume) AS v, "
        "max(ma_21) AS m FROM refined_quotes_history GROUP BY ticker ORDER BY ticker",
    }


def child_queries(lake: Path, rounds: int, day: str, ticker: str) -> dict[str, Any]:
    import duckdb

    from b3lake.catalog.local import LocalCatalog
    from b3lake.query.duckdb import DuckDBQueryEngine
    from b3lake.storage.local import LocalStorage

    storage = LocalStorage(lake)
    queries = _queries(day, ticker)
    times: dict[str, dict[str, list[float]]] = {}
    rows: dict[str, dict[str, int]] = {}
    for _ in range(rounds):
        for name, source in _layouts(lake).items():
            start = time.perf_counter()
            if source == "engine":  # the product path: b3lake query on refined_quotes
                engine = DuckDBQueryEngine(storage, LocalCatalog(storage))
                run = engine.query
                run("SELECT * FROM refined_quotes_history LIMIT 1")
            else:
                con = duckdb.connect()
                con.execute(
                    "CREATE VIEW refined_quotes_history AS SELECT * EXCLUDE (month) "
                    f"FROM read_parquet('{source}', hive_partitioning = true)"
                    if "month" in name
                    else f"CREATE VIEW refined_quotes_history AS SELECT * FROM read_parquet('{source}')"
                )
                con.execute("SELECT * FROM refined_quotes_history LIMIT 1").fetchall()

                def run(sql: str, con: Any = con) -> Any:
                    return con.execute(sql).to_arrow_table()

            times.setdefault(name, {}).setdefault("start-up", []).append(
                time.perf_counter() - start
            )
            for q, sql in queries.items():
                start = time.perf_counter()
                result = run(sql)
                times[name].setdefault(q, []).append(time.perf_counter() - start)
                rows.setdefault(name, {})[q] = result.num_rows
    return {"times": times, "rows": rows}


def child_files(lake: Path, n: int, rounds: int) -> dict[str, Any]:
    """Files per second: a plain pyarrow loop on 2 processes vs the R6 writer, same rows."""
    import multiprocessing

    import pyarrow.parquet as pq

    from b3lake.jobs.refine import schemas
    from b3lake.lake import parquet_io
    from b3lake.storage.local import LocalStorage

    source = sorted((lake / "refined" / "quotes_history").glob("*/*.parquet"))[-1]
    table = pq.read_table(source).slice(0, n)
    table = table.select(schemas.full_schema(schemas.REFINED_QUOTES, ("dt", "ticker")).names)
    base = lake / "bench_layouts" / "files"
    context = multiprocessing.get_context("spawn")
    plain, ours = [], []
    with context.Pool(2) as pool:
        pool.map(_plain_write, [(str(base / "warm"), table.slice(0, 10))] * 2)
        for _ in range(rounds):
            shutil.rmtree(base, ignore_errors=True)
            half = n // 2
            start = time.perf_counter()
            pool.map(
                _plain_write,
                [
                    (str(base / "plain"), table.slice(0, half)),
                    (str(base / "plain"), table.slice(half)),
                ],
            )
            plain.append(n / (time.perf_counter() - start))
            start = time.perf_counter()
            parquet_io.write_partitions(
                LocalStorage(base / "ours"), "q/", table, ("dt", "ticker"), sort_by=["source"]
            )
            ours.append(n / (time.perf_counter() - start))
    shutil.rmtree(base, ignore_errors=True)
    return {"plain": plain, "ours": ours, "files": n}


def _plain_write(job: tuple[str, Any]) -> None:
    import pyarrow.parquet as pq

    root, table = job
    days = table.column("dt").to_pylist()
    tickers = table.column("ticker").to_pylist()
    data = table.drop_columns(["dt", "ticker"])
    for i, (day, ticker) in enumerate(zip(days, tickers, strict=True)):
        folder = f"{root}/dt={day}/ticker={ticker}"
        os.makedirs(folder, exist_ok=True)
        pq.write_table(data.slice(i, 1), f"{folder}/part-0.parquet")


CHILDREN = {
    "backfill": lambda a: child_backfill(a.lake, a.r6_list),
    "backfill_local": lambda a: child_backfill(a.lake, a.r6_list, counted=False),
    "daily": lambda a: child_daily(a.lake, a.r6_list),
    "month": lambda a: child_month(a.lake),
    "compact": lambda a: child_compact(a.lake),
    "queries": lambda a: child_queries(a.lake, a.rounds, a.day, a.ticker),
    "files": lambda a: child_files(a.lake, a.files, a.rounds),
}


# ------------------------------------------------------------------------------------ driver


def measure(step: str, args: argparse.Namespace) -> dict[str, Any]:
    from bench_refine import measure_child

    cmd = [sys.executable, __file__, "--child", step, "--lake", str(args.lake)]
    cmd += ["--r6-list", args.r6_list, "--rounds", str(args.rounds), "--files", str(args.files)]
    cmd += ["--day", args.day or "", "--ticker", args.ticker or ""]
    result, peak = measure_child(cmd, step, interval=0.05)
    result["peak_gb"] = round(peak / GB, 2)
    return dict(result)


def mark(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--r6", type=int, default=100, help="tickers the R6 table holds")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--lake", type=Path, default=None)
    parser.add_argument("--child", default=None)
    parser.add_argument("--r6-list", default="")
    parser.add_argument("--day", default="")
    parser.add_argument("--ticker", default="")
    args = parser.parse_args()
    if args.child:
        import importlib

        for name in ("pyarrow", "duckdb", "b3lake.jobs.refine.job", "sqlframe.duckdb"):
            importlib.import_module(name)
        print(json.dumps(CHILDREN[args.child](args), default=str))
        return

    from bench_refine import build_lake

    sessions = args.years * 250
    args.lake = args.lake or Path(f"/tmp/b3lake-bench-history-{args.years}y")
    start = time.perf_counter()
    info = build_lake(args.lake, sessions)
    print(
        f"raw lake: {sessions} sessions, {info['raw_rows']:,} raw records "
        f"({time.perf_counter() - start:.0f} s to build or find) in {args.lake}",
        flush=True,
    )
    args.r6_list = ",".join(_top_tickers(args.lake, args.r6))

    backfill = measure("backfill", args)
    rep = backfill["report"]
    quotes = rep["refined_rows"]["refined_quotes"]
    print(f"\n== backfill: refine --mode full, {sessions} sessions ==", flush=True)
    print(
        f"{backfill['seconds']:.1f} s, peak {backfill['peak_gb']:.2f} GB; stages (s): "
        + ", ".join(f"{k} {v:.1f}" for k, v in rep["seconds"].items())
    )
    print(
        f"rows: {quotes:,} quotes (history layer), "
        f"{rep['partitions_written'].get('refined_quotes', 0):,} R6 files ({args.r6} tickers), "
        f"{rep['partitions_written']['refined_quotes_history']} history files, "
        f"{rep['partitions_written']['refined_monthly']} monthly files"
    )
    print(
        f"requests through the Storage port: {backfill['requests_total']:,} {backfill['requests']}"
    )
    print("(that run goes through the port as on S3; the laptop's own code path, the same rows:)")
    local = measure("backfill_local", args)
    lrep = local["report"]
    print(
        f"local lake: {local['seconds']:.1f} s, peak {local['peak_gb']:.2f} GB; stages (s): "
        + ", ".join(f"{k} {v:.1f}" for k, v in lrep["seconds"].items())
    )

    daily = measure("daily", args)
    drep = daily["report"]
    print(f"\n== daily run at {args.years} years (last session) ==")
    print(
        f"{daily['seconds']:.2f} s, peak {daily['peak_gb']:.2f} GB, "
        f"{drep['sessions_read']} sessions read, written: {drep['partitions_written']}"
    )
    print(f"requests through the Storage port: {daily['requests_total']:,} {daily['requests']}")

    month = measure("month", args)
    compact = measure("compact", args)
    print("\n== other layouts of the same rows (written from the history files) ==")
    print(
        f"month partitions: {month['files']} files, {month['seconds']:.1f} s, "
        f"peak {month['peak_gb']:.2f} GB"
    )
    print(
        f"compact file: {compact['bytes'] / 1e6:.0f} MB, {compact['seconds']:.1f} s, "
        f"peak {compact['peak_gb']:.2f} GB"
    )

    import duckdb

    hist = f"{args.lake}/refined/quotes_history/*/*.parquet"
    day, n_tickers, first, last = duckdb.sql(
        f"SELECT max(dt), count(DISTINCT ticker), min(dt), max(dt) FROM read_parquet('{hist}')"
    ).fetchone()
    args.day = str(day)
    args.ticker = args.r6_list.split(",")[0]
    tickers = int(n_tickers)
    queries = measure("queries", args)
    print(
        f"\n== queries (DuckDB, medians of {args.rounds} interleaved rounds, seconds; "
        f"x = ratio to the compact file) peak {queries['peak_gb']:.2f} GB =="
    )
    names = list(_queries("", ""))
    header = ["start-up", *names]
    print(f"{'layout':<18}" + "".join(f"{h:>20}" for h in header))
    ref = {q: statistics.median(v) for q, v in queries["times"]["compact file"].items()}
    goals_ok = True
    for layout, series in queries["times"].items():
        cells = []
        for q in header:
            m = statistics.median(series[q])
            cells.append(f"{m:.3f} ({m / ref[q]:.1f}x)")
            if layout == "history (year)":
                goals_ok = goals_ok and m <= 1.0 and m <= 3 * ref[q]
        print(f"{layout:<18}" + "".join(f"{c:>20}" for c in cells))
    print("rows:", queries["rows"]["history (year)"])

    files = measure("files", args)
    plain, ours = statistics.median(files["plain"]), statistics.median(files["ours"])
    print(f"\n== small files ({files['files']:,} one-row R6 files, {args.rounds} rounds) ==")
    print(
        f"plain pyarrow loop on 2 processes: {plain:,.0f} files/s "
        f"({', '.join(f'{x:,.0f}' for x in files['plain'])})"
    )
    print(
        f"R6 writer (parquet_io.write_partitions): {ours:,.0f} files/s "
        f"({', '.join(f'{x:,.0f}' for x in files['ours'])}): {ours / plain:.0%} of the plain loop "
        f"(goal >= 70%: {mark(ours >= 0.7 * plain)})"
    )

    days = (last - first).days + 1
    r6_files = rep["partitions_written"].get("refined_quotes", 0)
    print("\n== Athena partitions per full scan ==")
    print(
        f"history (year): {rep['partitions_written']['refined_quotes_history']}; "
        f"history (month): {month['files']}; "
        f"R6 registered ({args.r6} tickers): {r6_files:,}; "
        f"R6 whole market registered: {quotes:,}; "
        f"R6 projected ({args.r6} tickers): {days * args.r6:,}; "
        f"R6 projected whole market: {days * tickers:,} (limit 1,000,000)"
    )
    whole_market_write = quotes / ours
    print(
        f"R6 of the whole market at the writer's rate: {quotes:,} files = "
        f"{whole_market_write:,.0f} s of writing alone"
    )

    print("\n== goals ==")
    worst_gb = max(backfill["peak_gb"], local["peak_gb"])
    print(
        f"backfill <= 600 s (local lake): {local['seconds']:.0f} s, "
        f"{mark(local['seconds'] <= 600)} (through the S3 code path: {backfill['seconds']:.0f} s); "
        f"<= 2 GB: {worst_gb:.2f} GB, {mark(worst_gb <= 2)}"
    )
    print(f"daily run <= 5 s: {daily['seconds']:.2f} s, {mark(daily['seconds'] <= 5)}")
    print(
        f"queries (history layer, via b3lake query) <= 1 s and <= 3x compact: {mark(goals_ok)}; "
        f"query peak <= 2 GB: {queries['peak_gb']:.2f} GB, {mark(queries['peak_gb'] <= 2)}"
    )
    print(
        f"full scans within 1 M partitions: history {mark(True)}, "
        f"R6 ({args.r6} tickers) {mark(max(r6_files, days * args.r6) <= 1_000_000)}, "
        f"R6 whole market {mark(quotes <= 1_000_000)}"
    )


if __name__ == "__main__":
    main()
