"""Benchmark: the generic ``Pipeline.extract`` (registry, Source protocol) against the same work
written by hand (parse, split by session, ``RawWriter.write`` per session).

Why: every source now goes through one generic path; it must cost nothing measurable over the
direct calls it replaced. Both land the bundled 2021 COTAHIST sample (110,290 records, 16 sessions)
and the IBOV export into a fresh local lake with the refine trigger switched off (this measures
the extract only). Rounds are interleaved; medians and the per-round ratio are printed.

    .venv/bin/python benchmarks/bench_extract.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
COTAHIST = SAMPLE / "COTAHIST_A2021.ZIP"
IBOV = SAMPLE / "IBOVDia_03-10-25.csv"


def generic(lake: Path) -> int:
    from b3lake.pipeline import Pipeline
    from b3lake.settings import Settings

    pipeline = Pipeline(Settings(lake=str(lake)))
    pipeline.writer.notify = None
    reports = [
        pipeline.extract("cotahist", files=[COTAHIST]),
        pipeline.extract("ibov", files=[IBOV]),
    ]
    return sum(r.objects_written for r in reports)


def by_hand(lake: Path) -> int:
    from b3lake.pipeline import Pipeline
    from b3lake.settings import Settings
    from b3lake.sources.base import split_by_date
    from b3lake.sources.cotahist import parse_cotahist, split_by_session
    from b3lake.sources.ibov import parse_portfolio_csv

    writer = Pipeline(Settings(lake=str(lake))).writer
    writer.notify = None
    written = 0
    for day, rows in split_by_session(parse_cotahist(COTAHIST, source_name=COTAHIST.name)).items():
        written += writer.write("cotahist", day, rows).written
    table = parse_portfolio_csv(IBOV.read_bytes(), source_name=IBOV.name)
    for day, rows in split_by_date(table, "portfolio_date").items():
        written += writer.write("ibov_portfolio", day, rows, "IBOV").written
    return written


def timed(fn: Callable[[Path], int]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        objects = fn(Path(tmp) / "lake")
        seconds = time.perf_counter() - start
    assert objects == 17, objects
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import pyarrow  # noqa: F401 - imported before the clock, as both paths need it
    import pyarrow.parquet  # noqa: F401

    import b3lake.pipeline  # noqa: F401
    from b3lake.sources import registry

    registry.all_sources()
    timed(generic)  # warm-up: first imports, page cache
    rows: list[tuple[float, float]] = []
    for i in range(args.rounds):
        if i % 2:  # alternate which goes first
            hand = timed(by_hand)
            gen = timed(generic)
        else:
            gen = timed(generic)
            hand = timed(by_hand)
        rows.append((hand, gen))
        print(f"round {i + 1}: by hand {hand:.3f} s, generic {gen:.3f} s, ratio {gen / hand:.3f}")
    hand_med = statistics.median(h for h, _ in rows)
    gen_med = statistics.median(g for _, g in rows)
    print(
        f"median of {args.rounds} interleaved rounds (2021 sample, 16 + 1 raw objects): "
        f"by hand {hand_med:.3f} s, generic Pipeline.extract {gen_med:.3f} s, "
        f"ratio {gen_med / hand_med:.3f}"
    )


if __name__ == "__main__":
    main()
