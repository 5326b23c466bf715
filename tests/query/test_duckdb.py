from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from b3lake.catalog import Column
from b3lake.catalog.local import LocalCatalog
from b3lake.errors import QueryError
from b3lake.query.duckdb import DuckDBQueryEngine, transpile
from b3lake.storage.local import LocalStorage


def _put(storage: LocalStorage, key: str, table: pa.Table) -> None:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    storage.put_bytes(key, sink.getvalue())


def test_tables_by_name_with_hive_partitions(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    cat = LocalCatalog(storage)
    cat.upsert_table(
        "refined_quotes",
        location="refined/quotes/",
        columns=[Column("close", "double")],
        partition_keys=[Column("dt", "date"), Column("ticker", "string")],
    )
    _put(
        storage,
        "refined/quotes/dt=2021-01-04/ticker=PETR4/part-0.parquet",
        pa.table({"close": [28.91]}),
    )
    _put(
        storage,
        "refined/quotes/dt=2021-01-05/ticker=1234/part-0.parquet",
        pa.table({"close": [1.0]}),
    )
    engine = DuckDBQueryEngine(storage, cat)
    # Athena (Trino) SQL, transpiled.
    out = engine.query(
        "SELECT ticker, dt, close FROM refined_quotes WHERE dt >= DATE '2021-01-04' ORDER BY dt"
    ).to_pylist()
    assert out == [
        {"ticker": "PETR4", "dt": dt.date(2021, 1, 4), "close": 28.91},
        {"ticker": "1234", "dt": dt.date(2021, 1, 5), "close": 1.0},  # stays a string
    ]
    with pytest.raises(QueryError, match="nope"):
        engine.query("SELECT * FROM nope")


def test_transpile_trino() -> None:
    assert "DATE_TRUNC" in transpile("SELECT date_trunc('month', dt) FROM t").upper()
    with pytest.raises(QueryError):
        transpile("SELECT 1; SELECT 2")


def test_catalogued_table_without_files_is_empty_not_unknown(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    cat = LocalCatalog(storage)
    cat.upsert_table(
        "quarantine_quotes",
        location="quarantine/refined_quotes/",
        columns=[Column("rule", "string"), Column("close", "double")],
        partition_keys=[Column("dt", "date")],
    )
    out = DuckDBQueryEngine(storage, cat).query(
        "SELECT rule, count(*) AS n FROM quarantine_quotes GROUP BY rule"
    )
    assert out.num_rows == 0 and out.column_names == ["rule", "n"]
