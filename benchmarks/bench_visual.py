"""Benchmark of the visual job's DAG run by the interpreter, against the code job's transform (a script,
not a test; prints figures).

Both read the same raw COTAHIST objects (the synthetic full-market year of ``bench_refine.py``, built
from the real 2021 sample, or ``--sessions N``) on SQLFrame/DuckDB and compute to Arrow; nothing is
written. ``visual`` is the whole DAG (universe and rules, rename, aggregate, date calculation);
``code`` is the refine transform up to ``refined_quotes`` (normalise, flag, group, windows), which
computes the visual job's columns and many more. Before timing, the script checks that the
visual output equals the code job's corresponding columns. Rounds are interleaved (``--repeat``,
default 3), both variants run in this one process with their modules imported and the engine
started before the clock; the medians are reported with every round's time and the ratio of each
round.

Usage: ``python benchmarks/bench_visual.py [--sessions 250] [--repeat 3] [--workdir /tmp/b3lake-bench]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
LAKE_URI = "s3://b3lake-bench/lake"


def code_columns(engine: Any, storage: Any) -> Any:
    import pyarrow.compute as pc

    from b3lake.jobs.refine import quality, schemas
    from b3lake.jobs.refine.transforms import quotes as transform
    from b3lake.jobs.visual import dag
    from b3lake.lake.manifest import raw_index as _raw_index

    keys = sorted(k for ks in _raw_index(storage, "cotahist").values() for k in ks)
    raw = engine.read_parquet(storage, keys, schemas.RAW_COTAHIST)
    flagged = engine.persist(quality.flag_quotes(transform.normalize_quotes(raw)))
    quotes = engine.to_arrow(transform.refine_quotes(quality.clean_rows(flagged)))
    quotes = quotes.filter(pc.equal(quotes["source"], "cotahist"))
    names = [
        transform.INPUT_ROWS if n == dag.RECORDS else n for n in dag.visual_full_schema().names
    ]
    return quotes.select(names).rename_columns(dag.visual_full_schema().names)


def visual_columns(engine: Any, storage: Any) -> Any:
    from b3lake.jobs.visual import dag, interpret

    nodes = dag.build_nodes(dag.VisualJobConfig(lake=LAKE_URI))
    return interpret.run_dag(nodes, engine=engine, storage=storage, lake=LAKE_URI).targets[0].data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=250)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/b3lake-bench"))
    args = parser.parse_args()

    from bench_refine import build_lake

    from b3lake.engines.sqlframe_duckdb import SQLFrameDuckDBEngine
    from b3lake.storage.local import LocalStorage

    lake = args.workdir / f"lake-{args.sessions}"
    info = build_lake(lake, args.sessions)
    storage = LocalStorage(lake)
    print(f"lake: {lake} ({info['sessions']} sessions, {info['raw_rows']:,} raw records)")

    engine = SQLFrameDuckDBEngine()
    order = [("dt", "ascending"), ("ticker", "ascending")]
    visual = visual_columns(engine, storage).sort_by(order)
    code = code_columns(engine, storage).sort_by(order)
    assert visual.equals(code), "the visual job's output differs from the code job's columns"
    print(f"check: the visual output equals the code job's columns ({visual.num_rows:,} rows)")
    engine.close()

    times: dict[str, list[float]] = {"visual": [], "code": []}
    runs = {"visual": visual_columns, "code": code_columns}
    for _ in range(args.repeat):
        for name, run in runs.items():
            engine = SQLFrameDuckDBEngine()
            start = time.perf_counter()
            run(engine, storage)
            times[name].append(time.perf_counter() - start)
            engine.close()
    for name, values in times.items():
        rounds = ", ".join(f"{v:.2f}" for v in values)
        print(f"{name:>7}: median {statistics.median(values):.2f} s  (rounds: {rounds})")
    ratios = [v / c for v, c in zip(times["visual"], times["code"], strict=True)]
    median_ratio = statistics.median(times["visual"]) / statistics.median(times["code"])
    print(
        f"visual / code: {median_ratio:.2f}x of the medians "
        f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)})"
    )


if __name__ == "__main__":
    main()
