"""The QueryEngine port's contract, on DuckDB and Athena (moto, results injected)."""

from __future__ import annotations

import datetime as dt
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from contract_adapters import Adapter

from b3lake.catalog.local import LocalCatalog
from b3lake.errors import QueryError
from b3lake.query import QueryEngine


def _lake(adapter: Adapter) -> None:
    storage = adapter.storage
    LocalCatalog(storage, "contract").upsert_table(
        "refined_quotes",
        location="refined/quotes/",
        columns=_columns(),
        partition_keys=_keys(),
    )
    for day, ticker, close in (
        ("2021-01-04", "PETR4", 28.91),
        ("2021-01-05", "PETR4", 29.5),
        ("2021-01-04", "VALE3", 88.0),
    ):
        sink = io.BytesIO()
        pq.write_table(pa.table({"close": [close], "volume": pa.array([100], pa.int64())}), sink)
        storage.put_bytes(
            f"refined/quotes/dt={day}/ticker={ticker}/part-0.parquet", sink.getvalue()
        )


def _columns() -> list:
    from b3lake.catalog import Column

    return [Column("close", "double"), Column("volume", "bigint")]


def _keys() -> list:
    from b3lake.catalog import Column

    return [Column("dt", "date"), Column("ticker", "string")]


def test_is_a_query_engine(query_adapter: Adapter) -> None:
    assert isinstance(query_adapter.port, QueryEngine) or hasattr(query_adapter.port, "query")


def test_athena_sql_gives_typed_arrow(query_adapter: Adapter) -> None:
    _lake(query_adapter)
    out = query_adapter.port.query(
        "SELECT ticker, dt, close, volume FROM refined_quotes "
        "WHERE dt = DATE '2021-01-04' ORDER BY ticker"
    )
    assert out.schema.names == ["ticker", "dt", "close", "volume"]
    assert out.schema.field("dt").type == pa.date32()
    assert out.schema.field("close").type == pa.float64()
    assert out.schema.field("volume").type == pa.int64()
    assert out.to_pylist() == [
        {"ticker": "PETR4", "dt": dt.date(2021, 1, 4), "close": 28.91, "volume": 100},
        {"ticker": "VALE3", "dt": dt.date(2021, 1, 4), "close": 88.0, "volume": 100},
    ]


def test_aggregates(query_adapter: Adapter) -> None:
    _lake(query_adapter)
    out = query_adapter.port.query(
        "SELECT ticker, count(*) AS n FROM refined_quotes GROUP BY ticker ORDER BY ticker"
    )
    assert out.to_pylist() == [{"ticker": "PETR4", "n": 2}, {"ticker": "VALE3", "n": 1}]


def test_unknown_table_is_a_query_error(query_adapter: Adapter) -> None:
    _lake(query_adapter)
    with pytest.raises(QueryError):
        query_adapter.port.query("SELECT * FROM nope")
