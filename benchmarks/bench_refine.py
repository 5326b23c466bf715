"""Benchmark of the refine step at full-market scale (a script, not a test; prints figures).

Synthetic raw COTAHIST built from the real sample: every session of the year reuses the
instrument mix of a real 2021 session (all markets, ~6,900 records, ~990 in the default
universe) with per-ticker random-walk prices. Variants, each in its own process (peak RSS of
the process tree is sampled with psutil, the JVM included):

* ``sqlframe``   the refine transform on SQLFrame/DuckDB (the local engine), compute only
* ``spark``      the same transform on local PySpark (local[2]), compute only
* ``pandas``     a plain pandas implementation of the core work (universe, rules without the
                 reason texts, grouping, windows, monthly): a reference, lighter than the rest
* ``duckdb_sql`` hand-written DuckDB SQL doing the transform's work: the same rules and reasons
                 (quarantine rows kept in a table), the same columns and types; before timing,
                 ``check`` runs both in one process and asserts equal rows (floats to 1e-12)
* ``job``        the full job (``--mode full``, SQLFrame) including writing refined/quotes/
                 (one part-0.parquet per dt x ticker) through the Storage port

Each timed variant runs ``--repeat`` times (default 3), the rounds interleaved, and the median run is
reported with every run's time; the ratios are of the medians, with the round-by-round ratios beside.
Every variant's modules are imported before its clock starts; reads are timed.

Usage: ``python benchmarks/bench_refine.py [--five-years] [--spark-5y] [--job-5y] [--no-job]
[--repeat N] [--variants a,b]`` (``--variants ""`` with ``--no-job --five-years --job-5y``: the 5-year
job alone).
The 5-year Spark run (``--spark-5y``) and the 5-year full job with its ~1.2 M files
(``--job-5y``) are optional: on a 2-core machine each takes many minutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "COTAHIST_A2021.ZIP"


# ---------------------------------------------------------------------------- data generation


def business_days(n: int, start: dt.date = dt.date(2021, 1, 4)) -> list[dt.date]:
    out, day = [], start
    while len(out) < n:
        if day.weekday() < 5:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def build_lake(lake: Path, sessions: int, seed: int = 7) -> dict[str, int]:
    """Write ``sessions`` synthetic raw COTAHIST objects into ``lake`` (skips if present)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from b3lake.lake import layout
    from b3lake.lake.parquet_io import serialize
    from b3lake.sources.cotahist import parse_cotahist, split_by_session
    from b3lake.storage.local import LocalStorage

    storage = LocalStorage(lake)
    marker = f"_bench/{sessions}.done"
    if storage.exists(marker):
        return json.loads(storage.get_bytes(marker))
    real = list(split_by_session(parse_cotahist(SAMPLE)).values())
    rng = np.random.default_rng(seed)
    tickers = sorted(set(pc.unique(pa.concat_tables(real)["codneg"]).to_pylist()))
    index = {t: i for i, t in enumerate(tickers)}
    level = np.ones(len(tickers))
    rows = 0
    for i, day in enumerate(business_days(sessions)):
        table = real[i % len(real)]
        level *= np.exp(rng.normal(0.0, 0.02, len(tickers)))
        factor = level[[index[t] for t in table["codneg"].to_pylist()]]
        cols = {n: table[n] for n in table.column_names}
        for name in ("preabe", "premax", "premin", "premed", "preult", "preofc", "preofv"):
            cents = pc.multiply(table[name].cast(pa.float64()), 100).to_numpy()
            scaled = np.maximum(np.rint(cents * factor), 1).astype("int64")
            cols[name] = pa.array(scaled / 100.0).cast(pa.decimal128(13, 2), safe=False)
        cols["datpre"] = pa.array([day] * table.num_rows, pa.date32())
        out = pa.table(cols).cast(table.schema)
        storage.put_bytes(layout.raw_key("cotahist", day), serialize(out))
        rows += out.num_rows
    info = {"sessions": sessions, "raw_rows": rows}
    storage.put_bytes(marker, json.dumps(info).encode())
    return info


# ---------------------------------------------------------------------------------- variants


def _raw_keys(lake: Path) -> list[str]:
    from b3lake.storage.local import LocalStorage

    return [k for k in LocalStorage(lake).list_keys("raw/cotahist/") if k.endswith(".parquet")]


def _raw_dataset(lake: Path):  # type: ignore[no-untyped-def]
    """The raw COTAHIST objects as one lazy Arrow dataset."""
    from b3lake.jobs.refine import schemas
    from b3lake.lake.parquet_io import dataset
    from b3lake.storage.local import LocalStorage

    return dataset(LocalStorage(lake), _raw_keys(lake), schemas.RAW_COTAHIST)


def _transform(lake: Path, engine):  # type: ignore[no-untyped-def]
    """The refine transform (quotes + monthly) on ``engine``, raw objects -> Arrow."""
    from b3lake.jobs.refine import quality, schemas
    from b3lake.jobs.refine.transforms import quotes as transform
    from b3lake.lake.manifest import raw_index as _raw_index
    from b3lake.storage.local import LocalStorage

    storage = LocalStorage(lake)
    keys = sorted(k for ks in _raw_index(storage, "cotahist").values() for k in ks)
    raw = engine.read_parquet(storage, keys, schemas.RAW_COTAHIST)
    flagged = engine.persist(quality.flag_quotes(transform.normalize_quotes(raw)))
    clean = quality.clean_rows(flagged)
    quotes = engine.persist(transform.refine_quotes(clean))
    return engine.to_arrow(quotes), engine.to_arrow(transform.refine_monthly(quotes))


def run_engine(lake: Path, engine_name: str) -> dict[str, float]:
    from b3lake.engines import engine_by_name

    engine = engine_by_name(engine_name)
    start = time.perf_counter()
    q, m = _transform(lake, engine)
    seconds = time.perf_counter() - start
    engine.close()
    return {"seconds": seconds, "quotes": q.num_rows, "monthly": m.num_rows}


def check_same_work(lake: Path) -> dict[str, float]:
    """The hand-written SQL and the transform (SQLFrame) give the same rows (floats to 1e-12)."""
    import duckdb
    import pyarrow as pa

    from b3lake.engines import engine_by_name

    engine = engine_by_name("sqlframe")
    q1, m1 = _transform(lake, engine)
    con = duckdb.connect()
    q2, m2 = _hand_sql(con, lake)
    flagged = con.execute("SELECT count(*), count(rule) FROM flagged").fetchone()
    for name, a, b, key in (
        ("quotes", q1, q2, ["dt", "ticker", "source"]),
        ("monthly", m1, m2, ["month", "ticker", "source"]),
    ):
        b = b.select(a.column_names).cast(a.schema)
        order = [(k, "ascending") for k in key]
        con.register("a", a.sort_by(order))
        con.register("b", b.sort_by(order))
        floats = [f.name for f in a.schema if pa.types.is_floating(f.type)]
        exact = [f.name for f in a.schema if f.name not in floats]
        cond = " OR ".join(
            [f"a.{c} IS DISTINCT FROM b.{c}" for c in exact]
            + [
                f"(a.{c} IS NULL) <> (b.{c} IS NULL) OR abs(a.{c} - b.{c}) > 1e-12 * greatest(1, abs(a.{c}))"
                for c in floats
            ]
        )
        on = " AND ".join(f"a.{k} = b.{k}" for k in key)
        bad = con.execute(f"SELECT count(*) FROM a FULL JOIN b ON {on} WHERE {cond}").fetchone()[0]
        if bad or a.num_rows != b.num_rows:
            raise SystemExit(f"hand-written SQL differs from the transform: {name}, {bad} rows")
    engine.close()
    return {
        "quotes": q1.num_rows,
        "monthly": m1.num_rows,
        "flagged": flagged[0],
        "quarantined": flagged[1],
        "seconds": 0.0,
    }


def run_pandas(lake: Path) -> dict[str, float]:
    """The core work in plain pandas (universe, rules, grouping, windows, monthly; no reasons)."""
    import numpy as np
    import pandas as pd

    start = time.perf_counter()
    import pyarrow.dataset as ds

    # The market filter at read time (as pandas.read_parquet(filters=...) would do it).
    market = ds.field("tpmerc").isin(["010"]) & ds.field("codbdi").isin(["02", "12"])
    raw = _raw_dataset(lake).to_table(filter=market).to_pandas()
    u = raw[raw.tpmerc.isin(["010"]) & raw.codbdi.isin(["02", "12"]) & ~raw.especi.isin(["IBO"])]
    f = u.fatcot.astype("float64")
    df = pd.DataFrame(
        {
            "dt": pd.to_datetime(u.datpre),
            "ticker": u.codneg,
            "open": u.preabe.astype("float64") / f,
            "high": u.premax.astype("float64") / f,
            "low": u.premin.astype("float64") / f,
            "close": u.preult.astype("float64") / f,
            "volume": u.quatot,
            "traded_value": u.voltot.astype("float64"),
            "trades": u.totneg,
        }
    )
    ok = (
        (df[["open", "high", "low", "close"]] > 0).all(axis=1)
        & (df.low <= df.open)
        & (df.open <= df.high)
        & (df.low <= df.close)
        & (df.close <= df.high)
        & (df.volume >= 0)
    )
    df = df[ok & ~df.duplicated(["dt", "ticker"])]
    g = (
        df.groupby(["ticker", "dt"], sort=True)
        .agg(
            open=("open", "first"),
            high=("high", "max"),
            low=("low", "min"),
            close=("close", "first"),
            volume=("volume", "sum"),
            traded_value=("traded_value", "sum"),
            trades=("trades", "sum"),
        )
        .reset_index()
    )
    g["_s"] = g.dt.rank(method="dense").astype("int64")
    by = g.groupby("ticker", sort=False)
    lags = {k: by.close.shift(k) for k in range(1, 21)}
    slag = {k: by._s.shift(k) for k in (1, 2, 3, 4, 6, 20)}
    within = {k: (g._s - slag[k]) <= 21 for k in slag}
    for k in (1, 2, 3):
        g[f"close_lag_{k}"] = lags[k].where(within[k])
    for n in (5, 7, 21):
        total = g.close.copy()
        for k in range(1, n):
            total = total + lags[k]
        g[f"ma_{n}"] = (total / n).where(within[n - 1])
    prev = by.dt.shift(1)
    g["days_since_prev_session"] = (g.dt - prev).dt.days.where(within[1])
    g["close_delta"] = g.close - g.close_lag_1
    g["pct_change"] = g.close_delta / g.close_lag_1
    g["month"] = pd.to_datetime(g.dt).dt.strftime("%Y-%m")
    m = g.groupby(["ticker", "month"], sort=False).agg(
        sessions=("close", "size"),
        total_volume=("volume", "sum"),
        total_traded_value=("traded_value", "sum"),
        avg_close=("close", "mean"),
        first_close=("close", "first"),
        last_close=("close", "last"),
        prev=("close_lag_1", "first"),
        high=("high", "max"),
        low=("low", "min"),
    )
    m["monthly_return"] = m.last_close / m.prev - 1
    del np
    return {"seconds": time.perf_counter() - start, "quotes": len(g), "monthly": len(m)}


# Hand-written DuckDB SQL doing the same work as the transform: the universe and per-share
# prices, the quality rules with their reasons (the quarantine rows are kept in a table, as the
# job keeps them), the grouping with the main row by volume, the session windows and the monthly
# aggregates, with the same columns and types. ``--check`` proves the outputs are equal.
FLAGGED_SQL = """
CREATE TABLE flagged AS
WITH n AS (
  SELECT datpre AS dt, codneg AS ticker, 'cotahist' AS source,
         concat_ws('/', tpmerc, codbdi, coalesce(prazot, '')) AS record_key,
         codisi AS isin, nomres AS name,
         CASE WHEN fatcot > 0 THEN preabe::DOUBLE / fatcot END AS open,
         CASE WHEN fatcot > 0 THEN premax::DOUBLE / fatcot END AS high,
         CASE WHEN fatcot > 0 THEN premin::DOUBLE / fatcot END AS low,
         CASE WHEN fatcot > 0 THEN preult::DOUBLE / fatcot END AS close,
         CASE WHEN fatcot > 0 THEN premed::DOUBLE / fatcot END AS avg_price,
         quatot AS volume, voltot::DOUBLE AS traded_value, totneg AS trades,
         source_file, line_number
  FROM raw WHERE tpmerc IN ('010') AND codbdi IN ('02', '12')
    AND (especi IS NULL OR especi NOT IN ('IBO'))
), r AS (
  SELECT *, CASE
      WHEN dt IS NULL OR ticker IS NULL THEN 'missing_key'
      WHEN open IS NULL OR open <= 0 OR high IS NULL OR high <= 0 OR low IS NULL OR low <= 0
        OR close IS NULL OR close <= 0 OR avg_price <= 0 THEN 'price_not_positive'
      WHEN NOT (low <= open AND open <= high AND low <= close AND close <= high AND low <= high)
        THEN 'ohlc_inconsistent'
      WHEN volume IS NULL OR volume < 0 OR traded_value < 0 OR trades < 0 THEN 'negative_volume'
    END AS rule
  FROM n
), d AS (
  SELECT * REPLACE (
    CASE WHEN rule IS NULL AND row_number() OVER (
        PARTITION BY source, dt, ticker, record_key, rule IS NULL
        ORDER BY source_file, line_number, open, high, low, close, volume) > 1
      THEN 'duplicate_key' ELSE rule END AS rule)
  FROM r
)
SELECT *, {reasons} AS reason FROM d
"""

QUOTES_SQL = """
CREATE TABLE quotes AS
WITH g AS (
  SELECT dt, ticker, source,
         first(isin ORDER BY volume DESC, record_key, line_number) AS isin,
         first(name ORDER BY volume DESC, record_key, line_number) AS name,
         first(open ORDER BY volume DESC, record_key, line_number) AS open,
         max(high) AS high, min(low) AS low,
         first(close ORDER BY volume DESC, record_key, line_number) AS close,
         first(avg_price ORDER BY volume DESC, record_key, line_number) AS avg_price,
         sum(volume)::BIGINT AS volume,
         sum(traded_value::DECIMAL(38,2))::DOUBLE AS traded_value,
         sum(trades)::BIGINT AS trades, count(*)::BIGINT AS input_rows,
         any_value(_s)::INT AS _s
  FROM (SELECT *, dense_rank() OVER (ORDER BY dt) AS _s FROM flagged WHERE rule IS NULL)
  GROUP BY ALL
), l AS (
  SELECT *, {lags} FROM g WINDOW w AS (PARTITION BY ticker, source ORDER BY dt)
), x AS (
  SELECT *, CASE WHEN _s - _s1 <= 21 THEN _c1 END AS lag1 FROM l
)
SELECT dt, ticker, source, isin, name, open, high, low, close, avg_price, volume,
       traded_value, trades,
       CASE WHEN _s - _s4 <= 21 THEN (close + {sum5}) / 5 END AS ma_5,
       CASE WHEN _s - _s6 <= 21 THEN (close + {sum7}) / 7 END AS ma_7,
       CASE WHEN _s - _s20 <= 21 THEN (close + {sum21}) / 21 END AS ma_21,
       lag1 AS close_lag_1,
       CASE WHEN _s - _s2 <= 21 THEN _c2 END AS close_lag_2,
       CASE WHEN _s - _s3 <= 21 THEN _c3 END AS close_lag_3,
       close - lag1 AS close_delta, (close - lag1) / lag1 AS pct_change,
       CASE WHEN _s - _s1 <= 21 THEN datediff('day', _d1, dt)::INT END
         AS days_since_prev_session, input_rows
FROM x
"""

MONTHLY_SQL = """
SELECT strftime(dt, '%Y-%m') AS month, ticker, source, count(*)::INT AS sessions,
       sum(volume)::BIGINT AS total_volume,
       sum(traded_value::DECIMAL(38,2))::DOUBLE AS total_traded_value,
       sum(close::DECIMAL(38,12))::DOUBLE / count(*) AS avg_close,
       arg_min(close, dt) AS first_close, arg_max(close, dt) AS last_close,
       arg_max(close, dt) / first(close_lag_1 ORDER BY dt) - 1 AS monthly_return,
       max(high) AS high, min(low) AS low
FROM quotes GROUP BY ALL
"""


def _hand_sql(con, lake: Path) -> tuple[object, object]:  # type: ignore[no-untyped-def]
    """Run the hand-written SQL on ``con``; returns (quotes, monthly) as Arrow."""
    from b3lake.jobs.refine.quality import QUOTE_RULES

    # DuckDB's own Parquet reader over the raw objects: lazy, filters pushed down.
    files = [str(lake / k) for k in _raw_keys(lake)]
    con.execute(f"CREATE VIEW raw AS SELECT * FROM read_parquet({files!r})")
    reasons = (
        "CASE rule "
        + " ".join(f"WHEN '{rule}' THEN '{text}'" for rule, text in QUOTE_RULES.items())
        + " END"
    )
    con.execute(FLAGGED_SQL.format(reasons=reasons))
    lags = ", ".join(
        [f"lag(close, {k}) OVER w AS _c{k}" for k in range(1, 21)]
        + [f"lag(_s, {k}) OVER w AS _s{k}" for k in (1, 2, 3, 4, 6, 20)]
        + ["lag(dt, 1) OVER w AS _d1"]
    )

    def total(n: int) -> str:
        return " + ".join(f"_c{k}" for k in range(1, n))

    con.execute(QUOTES_SQL.format(lags=lags, sum5=total(5), sum7=total(7), sum21=total(21)))
    quotes = con.execute("SELECT * FROM quotes").to_arrow_table()
    monthly = con.execute(MONTHLY_SQL).to_arrow_table()
    return quotes, monthly


def run_duckdb_sql(lake: Path) -> dict[str, float]:
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect()
    q, m = _hand_sql(con, lake)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "quotes": q.num_rows, "monthly": m.num_rows}  # type: ignore[attr-defined]


def run_job(lake: Path) -> dict[str, float]:
    """The whole job, ``--mode full`` on SQLFrame, writing through the Storage port."""
    from b3lake.jobs.refine.job import main
    from b3lake.launchers.local import glue_argv
    from b3lake.storage.local import LocalStorage

    # A backfill into a lake with no refined data yet (replacing existing files is slower, so
    # a second run over the same lake would measure something else); not timed.
    for folder in ("refined", "quarantine", "_b3lake/catalog"):
        shutil.rmtree(lake / folder, ignore_errors=True)
    start = time.perf_counter()
    args = {"lake": str(lake), "mode": "full"}
    report = main(glue_argv("b3lake-refine", "jr_bench", args))
    seconds = time.perf_counter() - start
    keys = LocalStorage(lake).list_keys("refined/quotes/")
    dts = {k.split("/")[2] for k in keys}
    return {
        "seconds": seconds,
        "quotes": report.refined_rows["refined_quotes"],
        "monthly": report.refined_rows["refined_monthly"],
        "write_seconds": report.seconds["write"],
        "transform_seconds": report.seconds["transform"],
        "quote_files": len(keys),
        "quote_dt_partitions": len(dts),
        "quote_partitions": report.partitions_written["refined_quotes"],
    }


def run_daily(lake: Path) -> dict[str, float]:
    """The daily run on a lake that holds the whole period: ``--mode incremental`` for the last
    session (it reads that session plus the look-back and rewrites that session and its month)."""
    from b3lake.jobs.refine.job import main
    from b3lake.lake.manifest import raw_index as _raw_index
    from b3lake.launchers.local import glue_argv
    from b3lake.storage.local import LocalStorage

    last = max(_raw_index(LocalStorage(lake), "cotahist"))
    start = time.perf_counter()
    args = {"lake": str(lake), "mode": "incremental", "dt": last.isoformat()}
    report = main(glue_argv("b3lake-refine", "jr_bench_daily", args))
    return {
        "seconds": time.perf_counter() - start,
        "quotes": report.refined_rows["refined_quotes"],
        "monthly": report.refined_rows["refined_monthly"],
        "sessions_read": report.sessions_read,
        "write_seconds": report.seconds["write"],
        "transform_seconds": report.seconds["transform"],
    }


VARIANTS = {
    "sqlframe": lambda lake: run_engine(lake, "sqlframe"),
    "spark": lambda lake: run_engine(lake, "spark"),
    "pandas": run_pandas,
    "duckdb_sql": run_duckdb_sql,
    "job": run_job,
    "daily": run_daily,
    "check": check_same_work,
}


# ----------------------------------------------------------------------------------- driver


# What each variant imports, loaded before its clock starts: import time is a process cost, the
# same for a run of 1 session or of 5 years, and no variant should be charged for it.
_MODULES = {
    "sqlframe": ["sqlframe.duckdb", "sqlframe.duckdb.functions", "b3lake.engines.sqlframe_duckdb"],
    "spark": ["pyspark.sql", "pyspark.sql.functions", "b3lake.engines.spark"],
    "pandas": ["numpy", "pandas", "pyarrow.dataset"],
    "duckdb_sql": ["duckdb"],
}


def _import_modules(variant: str) -> None:
    import importlib

    common = ["pyarrow", "b3lake.jobs.refine.job", "b3lake.jobs.refine.quality"]
    for name in common + _MODULES.get(variant, []):
        importlib.import_module(name)


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """The run with the median time (its own figures), with the spread and the peak over all runs."""
    ordered = sorted(runs, key=lambda r: r["seconds"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["runs"] = [round(r["seconds"], 2) for r in runs]  # type: ignore[assignment]
    chosen["peak_rss_gb"] = max(r["peak_rss_gb"] for r in runs)
    return chosen


def measure_child(cmd: list[str], name: str, interval: float = 0.1) -> tuple[dict, int]:
    """Run ``cmd`` (a benchmark child that prints one JSON line last) while sampling the RSS of
    its whole process tree every ``interval`` seconds: its result and the peak, in bytes. The
    benchmark scripts all measure their variants with it."""
    import psutil

    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        parent = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                tree = [parent, *parent.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree))
            except psutil.Error:
                pass
            time.sleep(interval)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, _ = proc.communicate()
    done.set()
    thread.join()
    if proc.returncode:
        raise SystemExit(f"{name} failed ({proc.returncode})")
    return json.loads(out.strip().splitlines()[-1]), peak


def measure(variant: str, lake: Path) -> dict[str, float]:
    """Run one variant in a child process; sample the RSS of its whole process tree."""
    cmd = [sys.executable, __file__, "--child", variant, "--lake", str(lake)]
    result, peak = measure_child(cmd, variant)
    result["peak_rss_gb"] = round(peak / 1e9, 2)
    return dict(result)


def report(size: str, results: dict[str, dict[str, float]]) -> None:
    print(f"\n== {size} ==")
    print(f"{'variant':<12}{'seconds':>10}{'peak GB':>10}{'quotes':>10}{'monthly':>9}  runs (s)")
    for name, r in results.items():
        spread = ", ".join(f"{x:.2f}" for x in r.get("runs", [r["seconds"]]))  # type: ignore[union-attr]
        print(
            f"{name:<12}{r['seconds']:>10.1f}{r['peak_rss_gb']:>10.2f}"
            f"{int(r['quotes']):>10}{int(r['monthly']):>9}  {spread}"
        )
    base = results.get("sqlframe")

    def ratio(slow: str, fast: str, goal: str) -> None:
        a, b = results[slow], results[fast]
        rounds = [x / y for x, y in zip(a["runs"], b["runs"], strict=True)]  # type: ignore[call-overload]
        each = ", ".join(f"{r:.2f}" for r in rounds)
        names = {"spark": "PySpark", "sqlframe": "SQLFrame", "duckdb_sql": "DuckDB SQL"}
        print(
            f"{names.get(slow, slow)} / {names.get(fast, fast)}: {a['seconds'] / b['seconds']:.2f}x"
            f" (medians; round by round {each}){goal}"
        )

    if base:
        if "spark" in results:
            ratio("spark", "sqlframe", " (goal >= 8x)")
        if "duckdb_sql" in results:
            ratio("sqlframe", "duckdb_sql", " (goal <= 1.5x)")
        if "pandas" in results:
            ratio("pandas", "sqlframe", "")
    daily = results.get("daily")
    if daily:
        print(
            f"daily incremental run on that lake (last session): {daily['seconds']:.1f} s,"
            f" {int(daily['sessions_read'])} sessions read, {int(daily['quotes'])} quote rows"
            f" and {int(daily['monthly'])} monthly rows rewritten"
        )
    job = results.get("job")
    if job:
        print(
            f"job --mode full: {job['seconds']:.1f} s, of which transform {job['transform_seconds']:.1f} s"
            f" and writing {job['write_seconds']:.1f} s; refined/quotes/: {int(job['quote_files'])} files"
            f" in {int(job['quote_partitions'])} dt x ticker partitions ({int(job['quote_dt_partitions'])} dt)"
            f" = {job['write_seconds'] / max(job['quote_files'], 1) * 1000:.2f} ms a file"
            f" ({job['quote_files'] / max(job['write_seconds'], 1e-9):.0f} files/s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child")
    parser.add_argument("--lake", type=Path)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/b3lake-bench"))
    parser.add_argument("--sessions", type=int, default=250)
    parser.add_argument("--five-years", action="store_true", help="also 1,250 sessions")
    parser.add_argument("--spark-5y", action="store_true", help="include Spark at 5 years")
    parser.add_argument("--no-job", action="store_true", help="skip the full job with writes")
    parser.add_argument("--job-5y", action="store_true", help="the full job at 5 years too")
    parser.add_argument("--variants", default="sqlframe,duckdb_sql,pandas,spark")
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds of the timed variants (medians reported)"
    )
    args = parser.parse_args()
    if args.child:
        _import_modules(args.child)
        print(json.dumps(VARIANTS[args.child](args.lake)))
        return
    sizes = [("1 year", args.sessions)]
    if args.five_years:
        sizes.append(("5 years", args.sessions * 5))
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()}")
    for label, n in sizes:
        lake = args.workdir / f"lake-{n}"
        t = time.perf_counter()
        info = build_lake(lake, n)
        print(f"{label}: {info} (generated/checked in {time.perf_counter() - t:.1f} s)")
        if "duckdb_sql" in args.variants:
            same = measure("check", lake)
            print(
                f"  hand-written SQL output == transform output: {int(same['quotes'])} quotes,"
                f" {int(same['monthly'])} monthly rows, {int(same['flagged'])} rows checked"
                f" ({int(same['quarantined'])} quarantined)",
                flush=True,
            )
        variants = [v for v in args.variants.split(",") if v]
        if label == "5 years" and not args.spark_5y:
            variants = [v for v in variants if v != "spark"]
        # Rounds interleave the variants, so a slow spell of the machine hits all of them alike.
        runs: dict[str, list[dict[str, float]]] = {v: [] for v in variants}
        for round_ in range(1, args.repeat + 1):
            for v in variants:
                runs[v].append(measure(v, lake))
                print(f"  round {round_} {v}: {runs[v][-1]}", flush=True)
        results = {v: median_run(r) for v, r in runs.items()}
        if (label == "1 year" and not args.no_job) or (label == "5 years" and args.job_5y):
            results["job"] = measure("job", lake)
            print(f"  job: {results['job']}", flush=True)
            results["daily"] = measure("daily", lake)
            print(f"  daily: {results['daily']}", flush=True)
        report(label, results)


if __name__ == "__main__":
    main()
