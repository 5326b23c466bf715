"""The history layer's writer: one sorted file per year, merges, deletions, deterministic bytes."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from b3lake.jobs.refine import schemas
from b3lake.lake import quotes_history
from b3lake.storage.local import LocalStorage

SCHEMA = schemas.REFINED_QUOTES_HISTORY
PREFIX = "refined/quotes_history/"


def _rows(days: list[dt.date], tickers: list[str], close: float = 1.0) -> pa.Table:
    data: dict[str, list[object]] = {n: [] for n in SCHEMA.names}
    for day in days:
        for t in tickers:
            for name in SCHEMA.names:
                value: object = None
                if name == "dt":
                    value = day
                elif name == "ticker":
                    value = t
                elif name == "source":
                    value = "cotahist"
                elif name == "close":
                    value = close
                data[name].append(value)
    return pa.table(data, schema=SCHEMA)


def _read(storage: LocalStorage, year: str) -> pa.Table:
    return pq.read_table(io.BytesIO(storage.get_bytes(f"{PREFIX}year={year}/part-0.parquet")))


DAYS = [dt.date(2020, 12, 30), dt.date(2020, 12, 31), dt.date(2021, 1, 4), dt.date(2021, 1, 5)]


def test_full_write_gives_one_sorted_file_per_year(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    out = quotes_history.write(
        storage, PREFIX, _rows(DAYS, ["VALE3", "PETR4"]), SCHEMA, replace=None
    )
    assert [(v, n) for v, _, n in out.written] == [("2020", 4), ("2021", 4)]
    table = _read(storage, "2021")
    assert table.schema == SCHEMA
    assert table.column("ticker").to_pylist() == ["PETR4", "PETR4", "VALE3", "VALE3"]
    assert table.column("dt").to_pylist() == [DAYS[2], DAYS[3], DAYS[2], DAYS[3]]


def test_a_merge_replaces_only_the_range_and_equals_a_full_write(tmp_path: Path) -> None:
    full = LocalStorage(tmp_path / "full")
    quotes_history.write(full, PREFIX, _rows(DAYS, ["PETR4", "VALE3"], 2.0), SCHEMA, replace=None)
    inc = LocalStorage(tmp_path / "inc")
    quotes_history.write(inc, PREFIX, _rows(DAYS, ["PETR4", "VALE3"], 1.0), SCHEMA, replace=None)
    # The last three sessions recomputed (a late session and the windows it changes).
    out = quotes_history.write(
        inc,
        PREFIX,
        _rows(DAYS[1:], ["PETR4", "VALE3"], 2.0),
        SCHEMA,
        replace=(DAYS[1], DAYS[-1]),
    )
    assert sorted(v for v, _, _ in out.written) == ["2020", "2021"]
    assert _read(inc, "2020").column("close").to_pylist() == [1.0, 2.0, 1.0, 2.0]
    # Same rows reached another way: same bytes.
    quotes_history.write(
        inc, PREFIX, _rows(DAYS[:1], ["PETR4", "VALE3"], 2.0), SCHEMA, replace=(DAYS[0], DAYS[0])
    )
    assert full.get_bytes(f"{PREFIX}year=2020/part-0.parquet") == inc.get_bytes(
        f"{PREFIX}year=2020/part-0.parquet"
    )
    assert full.get_bytes(f"{PREFIX}year=2021/part-0.parquet") == inc.get_bytes(
        f"{PREFIX}year=2021/part-0.parquet"
    )


def test_a_year_left_empty_is_deleted(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    quotes_history.write(storage, PREFIX, _rows(DAYS, ["PETR4"]), SCHEMA, replace=None)
    out = quotes_history.write(storage, PREFIX, _rows([], []), SCHEMA, replace=(DAYS[2], DAYS[3]))
    assert out.deleted == [("2021", f"{PREFIX}year=2021/part-0.parquet")]
    assert storage.list_keys(PREFIX) == [f"{PREFIX}year=2020/part-0.parquet"]


def test_row_groups_prune_by_ticker(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    tickers = [f"T{i:03d}" for i in range(50)]
    days = [dt.date(2021, 1, 1) + dt.timedelta(days=i) for i in range(300)]
    quotes_history.write(storage, PREFIX, _rows(days, tickers), SCHEMA, replace=None)
    meta = pq.ParquetFile(
        io.BytesIO(storage.get_bytes(f"{PREFIX}year=2021/part-0.parquet"))
    ).metadata
    assert meta.num_row_groups == -(-15_000 // quotes_history.ROW_GROUP_ROWS)
    column = SCHEMA.names.index("ticker")
    bounds = [
        (
            meta.row_group(i).column(column).statistics.min,
            meta.row_group(i).column(column).statistics.max,
        )
        for i in range(meta.num_row_groups)
    ]
    # Sorted by ticker: row groups cover disjoint, increasing ticker ranges (min/max prune).
    assert all(a[1] <= b[0] for a, b in zip(bounds, bounds[1:], strict=False))


def test_month_grain(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    out = quotes_history.write(
        storage, PREFIX, _rows(DAYS, ["PETR4"]), SCHEMA, replace=None, grain="month"
    )
    assert [v for v, _, _ in out.written] == ["2020-12", "2021-01"]
    assert quotes_history.partition_bounds("2020-12") == (
        dt.date(2020, 12, 1),
        dt.date(2020, 12, 31),
    )
