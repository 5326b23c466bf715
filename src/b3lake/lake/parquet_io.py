"""Parquet in and out of the lake through the Storage port only (local dir or S3 alike).

Reads go through ``storage.arrow_filesystem()``; writes are one ``part-0.parquet`` per partition,
serialised in memory and stored with ``storage.put_bytes`` (atomic per object) from a thread
pool. Writing a run's partitions in one pass like this avoids an engine's partitioned writer,
whose per-partition cost dominates the dt x ticker layout (see ENGINE-NOTES.md).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

    from b3lake.storage import Storage

PART_FILE = "part-0.parquet"
SMALL_FILE_ROWS = 1000
_PART = re.compile(r"([A-Za-z_]+)=([^/]+)/")


def read_keys(
    storage: Storage, keys: list[str], schema: pa.Schema, *, threads: int = 8
) -> pa.Table:
    """Concatenate lake objects, projected and cast to ``schema`` (an empty table if no keys)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not keys:
        return schema.empty_table()
    fs, base = storage.arrow_filesystem()
    base = base.rstrip("/")

    def one(key: str) -> pa.Table:
        table = pq.read_table(f"{base}/{key}", filesystem=fs, columns=schema.names)
        return table.select(schema.names).cast(schema)

    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(keys)))) as pool:
        tables = list(pool.map(one, keys))
    return pa.concat_tables(tables)


def partition_values(key: str) -> dict[str, str]:
    """``{"dt": "2021-01-04", "ticker": "PETR4"}`` from ``…/dt=2021-01-04/ticker=PETR4/part-0.parquet``."""
    return dict(_PART.findall(key))


def partition_path(keys: tuple[str, ...] | list[str], values: Iterable[object]) -> str:
    return "".join(f"{k}={_text(v)}/" for k, v in zip(keys, values, strict=True))


def _text(value: object) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def read_partitioned(storage: Storage, prefix: str, keys: tuple[str, ...] | list[str]) -> pa.Table:
    """Every ``*.parquet`` under ``prefix`` with its Hive partition columns added (first)."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    from b3lake.jobs.refine.schemas import partition_schema

    objects = [k for k in storage.list_keys(prefix) if k.endswith(".parquet")]
    if not objects:
        return pa.table({})
    fs, base = storage.arrow_filesystem()
    base = base.rstrip("/")
    parts = partition_schema(keys)
    dataset = ds.dataset(
        [f"{base}/{k}" for k in objects],
        filesystem=fs,
        format="parquet",
        partitioning=ds.partitioning(parts, flavor="hive"),
        partition_base_dir=f"{base}/{prefix}".rstrip("/"),
    )
    table = dataset.to_table()
    rest = [n for n in table.column_names if n not in parts.names]
    return table.select(parts.names + rest)


@dataclass(frozen=True)
class WrittenPartition:
    values: dict[str, str]
    key: str
    rows: int


def serialize(table: pa.Table) -> bytes:
    """Deterministic Parquet bytes: the same rows give the same bytes on every run."""
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    # A partition of the dt x ticker layout holds a row or two: per-file overhead dominates, so
    # no dictionary pages and no statistics for small files (about 1 ms a file with pyarrow).
    small = table.num_rows < SMALL_FILE_ROWS
    pq.write_table(
        table,
        sink,
        compression="snappy",
        use_dictionary=not small,
        write_statistics=not small,
    )
    return sink.getvalue()


def split_partitions(
    table: pa.Table, keys: tuple[str, ...] | list[str], *, sort_by: list[str] | None = None
) -> list[tuple[dict[str, str], pa.Table]]:
    """Slices of ``table`` per distinct partition value (partition columns dropped), sorted by
    the keys and then ``sort_by`` so each file's row order is deterministic."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if table.num_rows == 0:
        return []
    order = [(k, "ascending") for k in keys] + [(c, "ascending") for c in (sort_by or [])]
    table = table.take(pc.sort_indices(table, sort_keys=order))
    # Boundaries where any key changes.
    change = np.zeros(table.num_rows, dtype=bool)
    change[0] = True
    for k in keys:
        col = table.column(k).combine_chunks()
        if pa.types.is_date(col.type):
            col = col.cast(pa.int32())
        arr = col.to_numpy(zero_copy_only=False)
        change[1:] |= arr[1:] != arr[:-1]
    starts = np.flatnonzero(change)
    ends = np.append(starts[1:], table.num_rows)
    data = table.drop_columns(list(keys)).combine_chunks()
    key_values = [table.column(k).take(pa.array(starts)).to_pylist() for k in keys]
    return [
        ({k: _text(col[i]) for k, col in zip(keys, key_values, strict=True)}, data.slice(a, b - a))
        for i, (a, b) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True))
    ]


def write_partitions(
    storage: Storage,
    prefix: str,
    table: pa.Table,
    keys: tuple[str, ...] | list[str],
    *,
    sort_by: list[str] | None = None,
    threads: int = 16,
) -> list[WrittenPartition]:
    """Write ``prefix/<k=v>/…/part-0.parquet`` for each partition of ``table``; returns them."""
    pieces = split_partitions(table, keys, sort_by=sort_by)

    def put(item: tuple[dict[str, str], pa.Table]) -> WrittenPartition:
        values, part = item
        key = prefix + partition_path(keys, values.values()) + PART_FILE
        storage.put_bytes(key, serialize(part))
        return WrittenPartition(values=values, key=key, rows=part.num_rows)

    if not pieces:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(pieces)))) as pool:
        return list(pool.map(put, pieces))


def stale_keys(storage: Storage, prefixes: Iterable[str], written: Iterable[str]) -> list[str]:
    """Objects under the rewritten ``prefixes`` that this run did not write (to delete)."""
    keep = set(written)
    found: set[str] = set()
    for p in set(prefixes):
        found.update(storage.list_keys(p))
    return sorted(found - keep)
