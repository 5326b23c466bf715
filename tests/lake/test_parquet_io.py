"""The partition writer: every path (one process, worker processes committing local files, worker
processes handing bytes back to a remote store) writes the same objects, byte for byte."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pyarrow as pa
import pytest

from b3lake.lake import parquet_io
from b3lake.storage.local import LocalStorage


class _RemoteLike(LocalStorage):
    """A store the workers cannot write to themselves (as S3): bytes come back to the parent."""

    def __init__(self, root: str | Path) -> None:
        super().__init__(root)
        self.puts = 0

    def put_bytes(self, key: str, data: bytes) -> None:
        self.puts += 1
        super().put_bytes(key, data)

    def local_path(self, key: str) -> str | None:
        return None  # every write goes through put_bytes, as on S3


def _table(seed: int = 3) -> pa.Table:
    rng = random.Random(seed)
    rows = [
        (dt.date(2021, 1, 4) + dt.timedelta(days=d), f"T{t:03d}", source, rng.random())
        for d in range(4)
        for t in range(60)
        for source in (["cotahist", "yfinance"] if t % 7 == 0 else ["cotahist"])
    ]
    rng.shuffle(rows)
    dts, tickers, sources, closes = zip(*rows, strict=True)
    return pa.table(
        {
            "dt": pa.array(dts, pa.date32()),
            "ticker": pa.array(tickers),
            "source": pa.array(sources),
            "close": pa.array(closes),
        }
    )


def _objects(storage: LocalStorage, prefix: str) -> dict[str, bytes]:
    return {k: storage.get_bytes(k) for k in storage.list_keys(prefix)}


@pytest.mark.parametrize("store", ["local", "remote"])
def test_worker_processes_write_the_same_bytes_as_one_process(tmp_path: Path, store: str) -> None:
    table = _table()
    one = LocalStorage(tmp_path / "one")
    expected = parquet_io.write_partitions(
        one, "refined/quotes/", table, ("dt", "ticker"), sort_by=["source"], processes=1
    )
    assert len(expected) == 4 * 60
    assert expected[0].key == "refined/quotes/dt=2021-01-04/ticker=T000/part-0.parquet"
    assert expected[0].values == {"dt": "2021-01-04", "ticker": "T000"} and expected[0].rows == 2

    many = LocalStorage(tmp_path / "many") if store == "local" else _RemoteLike(tmp_path / "many")
    written = parquet_io.write_partitions(
        many, "refined/quotes/", table, ("dt", "ticker"), sort_by=["source"], processes=2
    )
    assert written == expected
    assert _objects(many, "refined/quotes/") == _objects(one, "refined/quotes/")
    if isinstance(many, _RemoteLike):
        assert many.puts == len(expected)  # every object stored by the parent, once
