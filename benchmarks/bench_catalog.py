"""Benchmark of the local catalog on a multi-year dt x ticker lake (a script, not a test; prints figures).

Registers refined_quotes-shaped partitions (``{"dt": …, "ticker": …}``, ``--tickers`` a session)
in a temporary local lake the way the daily job does: one ``add_partitions`` per session, oldest
first. Prints, at 250 and at 1,250 sessions (1 and 5 years):

* sharded (``LocalCatalog`` as it is now): total seconds of every daily add so far, the time of
  the last daily add (the daily run's catalog cost at that size), a no-op re-run of that day
  (``upsert_table`` + ``add_partitions`` of the same partitions: writes nothing), and ``get_table``;
* single document (the catalog before this change: every call loads and rewrites one JSON document
  holding every partition; its algorithm is copied below): running it for every session would take
  tens of minutes, so the document is pre-built at a few sizes (0, 1/4, 1/2, 3/4 of the sessions and
  ``N - --old-days``) and only the adds at those sizes are timed. "last daily add" is the mean of the
  last ``--old-days`` adds, measured for real; "total" is ESTIMATED by integrating the measured
  per-add times over the sessions (linear between the sampled sizes).

Usage: ``python benchmarks/bench_catalog.py [--sessions 250,1250] [--tickers 1000] [--old-days 3]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from b3lake.catalog import Column
from b3lake.catalog.local import LocalCatalog
from b3lake.storage.local import LocalStorage

TABLE = "refined_quotes"
COLUMNS = [Column("open", "double"), Column("close", "double"), Column("volume", "bigint")]
KEYS = [Column("dt", "date"), Column("ticker", "string")]


def sessions(n: int) -> list[str]:
    """``n`` weekdays from 2021-01-04, as partition values."""
    days: list[str] = []
    day = dt.date(2021, 1, 4)
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day.isoformat())
        day += dt.timedelta(days=1)
    return days


def day_partitions(day: str, tickers: int) -> list[dict[str, str]]:
    return [{"dt": day, "ticker": f"T{i:04d}3"} for i in range(tickers)]


class OldCatalog:
    """The single-document algorithm of the catalog before sharding (add and get only)."""

    def __init__(self, storage: LocalStorage, database: str = "default") -> None:
        self.storage = storage
        self.database = database
        self._key = f"_b3lake/catalog/{database}.json"

    def _load(self) -> dict[str, Any]:
        if not self.storage.exists(self._key):
            return {"database": self.database, "tables": {}}
        doc: dict[str, Any] = json.loads(self.storage.get_bytes(self._key))
        return doc

    def _save(self, doc: dict[str, Any]) -> None:
        self.storage.put_bytes(self._key, json.dumps(doc, indent=1, sort_keys=True).encode())

    def build(self, partitions: list[dict[str, str]]) -> None:
        """Write the document as if ``partitions`` had been added (untimed set-up)."""
        table = {
            "name": TABLE,
            "database": self.database,
            "location": "refined/quotes/",
            "columns": [{"name": c.name, "type": c.type} for c in COLUMNS],
            "partition_keys": [{"name": c.name, "type": c.type} for c in KEYS],
            "partitions": sorted(partitions, key=lambda p: json.dumps(p, sort_keys=True)),
        }
        self._save({"database": self.database, "tables": {TABLE: table}})

    def add_partitions(self, name: str, partitions: list[dict[str, str]]) -> None:
        doc = self._load()
        table = doc["tables"][name]
        seen = {json.dumps(p, sort_keys=True) for p in table["partitions"]}
        seen |= {json.dumps(p, sort_keys=True) for p in partitions}
        table["partitions"] = [json.loads(p) for p in sorted(seen)]
        self._save(doc)

    def get_table(self, name: str) -> list[dict[str, str]]:
        partitions: list[dict[str, str]] = list(self._load()["tables"][name]["partitions"])
        return partitions


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def bench_sharded(root: Path, days: list[str], checkpoints: list[int], tickers: int) -> None:
    cat = LocalCatalog(LocalStorage(root))
    cat.upsert_table(TABLE, location="refined/quotes/", columns=COLUMNS, partition_keys=KEYS)
    total = 0.0
    for i, day in enumerate(days, start=1):
        seconds, _ = timed(cat.add_partitions, TABLE, day_partitions(day, tickers))
        total += seconds
        if i not in checkpoints:
            continue
        mtimes = {p: p.stat().st_mtime_ns for p in root.rglob("*.json")}
        rerun, _ = timed(
            lambda d=day: (
                cat.upsert_table(
                    TABLE, location="refined/quotes/", columns=COLUMNS, partition_keys=KEYS
                ),
                cat.add_partitions(TABLE, day_partitions(d, tickers)),
            )
        )
        unchanged = mtimes == {p: p.stat().st_mtime_ns for p in root.rglob("*.json")}
        get, info = timed(LocalCatalog(LocalStorage(root)).get_table, TABLE)
        files = list(root.rglob("*.json"))
        size = sum(p.stat().st_size for p in files)
        print(
            f"  sharded  {i:>5} sessions, {len(info.partitions):>9,} partitions: "
            f"total {total:7.2f} s | last daily add {seconds * 1000:7.1f} ms | "
            f"no-op re-run {rerun * 1000:6.1f} ms (files untouched: {unchanged}) | "
            f"get_table {get:6.2f} s | {len(files):,} files, {size / 1e6:.1f} MB"
        )


def bench_single(
    root: Path, days: list[str], checkpoints: list[int], tickers: int, old_days: int
) -> None:
    storage = LocalStorage(root)
    for n in checkpoints:
        # Sampled sizes: 0, n/4, n/2, 3n/4 (one add each) and n - old_days (the last old_days adds).
        samples = sorted({0, n // 4, n // 2, (3 * n) // 4, n - old_days})
        per_add: dict[int, float] = {}
        last: list[float] = []
        get = 0.0
        for size in samples:
            shutil.rmtree(root, ignore_errors=True)
            old = OldCatalog(storage)
            old.build([p for d in days[:size] for p in day_partitions(d, tickers)])
            count = old_days if size == n - old_days else 1
            times = [
                timed(old.add_partitions, TABLE, day_partitions(days[size + j], tickers))[0]
                for j in range(count)
            ]
            per_add[size] = times[0]
            if size == n - old_days:
                last = times
                get, parts = timed(OldCatalog(storage).get_table, TABLE)
                assert len(parts) == n * tickers
        per_add[n] = last[-1]
        points = sorted(per_add.items())
        estimate = sum(
            (b - a) * (ta + tb) / 2 for (a, ta), (b, tb) in zip(points, points[1:], strict=False)
        )
        size_mb = (root / "_b3lake" / "catalog" / "default.json").stat().st_size / 1e6
        print(
            f"  single   {n:>5} sessions, {n * tickers:>9,} partitions: "
            f"total ~{estimate:6.0f} s (estimated) | "
            f"last daily add {statistics.mean(last) * 1000:7.1f} ms "
            f"(mean of the last {len(last)}) | get_table {get:6.2f} s | 1 file, {size_mb:.1f} MB"
        )
        print(
            "           per-add samples: "
            + ", ".join(f"{s} sessions {t * 1000:.0f} ms" for s, t in points)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sessions", default="250,1250", help="checkpoints, comma-separated")
    parser.add_argument("--tickers", type=int, default=1000)
    parser.add_argument("--old-days", type=int, default=3)
    args = parser.parse_args()
    checkpoints = sorted(int(s) for s in args.sessions.split(","))
    days = sessions(checkpoints[-1])
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()}")
    print(f"{args.tickers} tickers a session; one add_partitions per session")
    base = Path(tempfile.mkdtemp(prefix="bench-catalog-"))
    try:
        start = time.perf_counter()
        bench_sharded(base / "sharded", days, checkpoints, args.tickers)
        bench_single(base / "single", days, checkpoints, args.tickers, args.old_days)
        print(f"script: {time.perf_counter() - start:.0f} s")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
