"""Benchmark of the dt x ticker partition writer (a script, not a test; prints figures).

Writes the same refined-quotes-shaped table (one row per dt x ticker, like the full job) into a
fresh local lake with the writer as it was (serialise + ``put_bytes`` from 16 threads) and with
``parquet_io.write_partitions`` as it is now, checks that both lakes hold the same bytes, and
prints files/s and the ratio (also for the new writer held to one process). Also splits the old per-file cost into its parts.

Usage: ``python benchmarks/bench_partition_write.py [--files 20000] [--tickers 990]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def make_table(files: int, tickers: int, seed: int = 7):  # type: ignore[no-untyped-def]
    """``files`` rows of the refined_quotes contract: ``tickers`` tickers a session."""
    import numpy as np
    import pyarrow as pa

    from b3lake import tables
    from b3lake.tables import arrow

    schema = arrow.full_schema(tables.table("refined_quotes"))
    rng = np.random.default_rng(seed)
    sessions = -(-files // tickers)
    days = [dt.date(2021, 1, 4) + dt.timedelta(days=i) for i in range(sessions)]
    dts = [d for d in days for _ in range(tickers)][:files]
    names = [f"T{i:04d}3" for i in range(tickers)] * sessions
    cols = {}
    for f in schema:
        if f.name == "dt":
            cols[f.name] = pa.array(dts, pa.date32())
        elif f.name == "ticker":
            cols[f.name] = pa.array(names[:files], pa.string())
        elif f.name == "source":
            cols[f.name] = pa.array(["cotahist"] * files, pa.string())
        elif pa.types.is_string(f.type):
            cols[f.name] = pa.array([f"x{i % 97}" for i in range(files)], pa.string())
        elif pa.types.is_floating(f.type):
            cols[f.name] = pa.array(rng.random(files) * 100)
        elif pa.types.is_date(f.type):
            cols[f.name] = pa.array([dt.date(2026, 1, 2)] * files, pa.date32())
        else:
            cols[f.name] = pa.array(rng.integers(0, 10**6, files)).cast(f.type)
    return pa.table(cols, schema=schema)


def old_write(storage, prefix, table, keys, sort_by):  # type: ignore[no-untyped-def]
    """The writer before this change: split, then serialise + put from a 16-thread pool."""
    from b3lake.lake.parquet_io import PART_FILE, partition_path, serialize, split_partitions

    pieces = split_partitions(table, keys, sort_by=sort_by)

    def put(item):  # type: ignore[no-untyped-def]
        values, part = item
        key = prefix + partition_path(keys, values.values()) + PART_FILE
        storage.put_bytes(key, serialize(part))
        return key

    with ThreadPoolExecutor(max_workers=max(1, min(16, len(pieces)))) as pool:
        return list(pool.map(put, pieces))


def digest(root: Path) -> tuple[int, str]:
    h, n = hashlib.sha256(), 0
    for path in sorted(root.rglob("*.parquet")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
        n += 1
    return n, h.hexdigest()


def parts(table, keys, sort_by, n: int = 2000) -> None:  # type: ignore[no-untyped-def]
    """Where the old per-file time goes (single thread, ``n`` files)."""
    from b3lake.lake.parquet_io import PART_FILE, partition_path, serialize, split_partitions
    from b3lake.storage.local import LocalStorage

    sample = table.slice(0, n)
    t = time.perf_counter()
    pieces = split_partitions(sample, keys, sort_by=sort_by)
    split_s = time.perf_counter() - t
    t = time.perf_counter()
    blobs = [serialize(p) for _, p in pieces]
    ser_s = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        storage = LocalStorage(tmp)
        t = time.perf_counter()
        for (values, _), blob in zip(pieces, blobs, strict=True):
            storage.put_bytes("q/" + partition_path(keys, values.values()) + PART_FILE, blob)
        put_s = time.perf_counter() - t
    per = 1e6 / len(pieces)
    print(
        f"per file, one thread: split {split_s * per:.0f} us, serialise {ser_s * per:.0f} us "
        f"({len(blobs[0])} bytes), temp file + rename {put_s * per:.0f} us"
    )


def main() -> None:
    from b3lake.lake.parquet_io import write_partitions
    from b3lake.storage.local import LocalStorage

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--tickers", type=int, default=990)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    keys, sort_by = ("dt", "ticker"), ["source"]
    table = make_table(args.files, args.tickers)
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()}")
    parts(table, keys, sort_by)
    rates = {}
    lakes = {}
    for name in ("old", "new, one process", "new"):
        root = args.workdir / f"bench-partition-write-{name.replace(', ', '-').replace(' ', '-')}"
        shutil.rmtree(root, ignore_errors=True)
        storage = LocalStorage(root)
        for what in ("new files", "overwrite"):  # an incremental run replaces existing files
            t = time.perf_counter()
            if name == "old":
                n = len(old_write(storage, "q/", table, keys, sort_by))
            else:
                one = {"processes": 1} if name == "new, one process" else {}
                n = len(write_partitions(storage, "q/", table, keys, sort_by=sort_by, **one))
            seconds = time.perf_counter() - t
            rates[name, what] = n / seconds
            print(
                f"{name:<17}{what:<10}: {n} files in {seconds:6.2f} s = "
                f"{rates[name, what]:6.0f} files/s",
                flush=True,
            )
        lakes[name] = root
    digests = {digest(root) for root in lakes.values()}
    same = len(digests) == 1
    for what in ("new files", "overwrite"):
        print(
            f"{what}: new / old {rates['new', what] / rates['old', what]:.2f}x (held to one "
            f"process: {rates['new, one process', what] / rates['old', what]:.2f}x)"
        )
    print(f"identical bytes: {same}")
    for root in lakes.values():
        shutil.rmtree(root, ignore_errors=True)
    if not same:
        raise SystemExit("the new writer wrote other bytes")


if __name__ == "__main__":
    main()
