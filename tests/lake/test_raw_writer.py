from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from b3lake.catalog.local import LocalCatalog
from b3lake.lake.raw_writer import RawWriter
from b3lake.storage.local import LocalStorage


def _table(close: float, ingested: int = 0, ticker: str = "PETR4") -> pa.Table:
    return pa.table(
        {
            "ticker": [ticker],
            "date": [dt.date(2021, 1, 4)],
            "close": [close],
            "ingested_at": pa.array(
                [dt.datetime(2026, 1, 1, 0, 0, ingested, tzinfo=dt.UTC)], pa.timestamp("us", "UTC")
            ),
        }
    )


def test_same_rows_twice_leave_the_same_object_and_fire_once(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    events: list[tuple[str, int]] = []
    writer = RawWriter(
        storage, notify=lambda k, n: events.append((k, n)), catalog=LocalCatalog(storage)
    )
    day = dt.date(2021, 1, 4)
    first = writer.write("yfinance", day, _table(10.0, ingested=1))
    data = storage.get_bytes(first.key)
    again = writer.write("yfinance", day, _table(10.0, ingested=2))  # only lineage time differs
    assert first.written and not again.written
    assert storage.get_bytes(first.key) == data
    assert events == [(first.key, first.size)]
    corrected = writer.write("yfinance", day, _table(11.0))
    assert corrected.written and len(events) == 2
    assert pq.read_table(storage.uri(first.key)).column("close").to_pylist() == [11.0]
    assert storage.list_keys("raw/") == [first.key]  # replaced, never duplicated
    table = LocalCatalog(storage).get_table("raw_yfinance")
    assert table.partitions == [{"dt": "2021-01-04"}]


def test_merge_on_keeps_other_tickers(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    writer = RawWriter(storage)
    day = dt.date(2021, 1, 4)
    writer.write("yfinance", day, _table(10.0, ticker="PETR4"), merge_on="ticker")
    writer.write("yfinance", day, _table(50.0, ticker="VALE3"), merge_on="ticker")
    w = writer.write("yfinance", day, _table(10.5, ticker="PETR4"), merge_on="ticker")
    rows = pq.read_table(storage.uri(w.key)).to_pydict()
    assert rows["ticker"] == ["PETR4", "VALE3"] and rows["close"] == [10.5, 50.0]


def test_no_partial_objects_left(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    RawWriter(storage).write("cotahist", dt.date(2021, 1, 4), _table(1.0))
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".tmp-")]
