"""``refined_quotes`` served from the history layer returns the rows the R6 table holds, and
``b3lake query`` opens no file it does not need."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from b3lake.catalog.local import LocalCatalog
from b3lake.jobs.refine.job import main
from b3lake.query.duckdb import DuckDBQueryEngine, referenced_tables

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "jobs"))
import refine_helpers as H  # noqa: E402

SOME = "PETR4,VALE3,ITUB4,BBDC4,ABEV3,MGLU3,HGLG11,BOVA11"
QUERIES = [
    "SELECT count(*) AS n, sum(volume) AS v FROM refined_quotes",
    "SELECT * FROM refined_quotes WHERE ticker = 'PETR4' ORDER BY dt, source",
    "SELECT * FROM refined_quotes WHERE dt = DATE '2021-01-14' ORDER BY ticker, source",
    "SELECT ticker, count(*) AS n, round(avg(close), 9) AS c, max(ma_21) AS m FROM refined_quotes "
    "GROUP BY ticker ORDER BY ticker",
]


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lake")
    H.sample_lake(path, yfinance=True)
    main(H.argv(path, mode="full", tickers=SOME))
    return path


def _r6_engine(path: Path) -> DuckDBQueryEngine:
    """The same catalog without the history table: refined_quotes read from dt x ticker files."""
    storage = H.LocalStorage(path)
    engine = DuckDBQueryEngine(storage, LocalCatalog(storage))
    engine.connect()
    del engine._tables["refined_quotes_history"]
    return engine


def test_refined_quotes_gives_the_same_rows_from_either_layout(lake: Path) -> None:
    storage = H.LocalStorage(lake)
    served = DuckDBQueryEngine(storage, LocalCatalog(storage))
    plain = _r6_engine(lake)
    assert (
        "quotes_history"
        in served.views(["refined_quotes"])
        .execute("SELECT sql FROM duckdb_views() WHERE view_name = 'refined_quotes'")
        .fetchone()[0]
    )
    assert (
        "quotes_history"
        not in plain.views(["refined_quotes"])
        .execute("SELECT sql FROM duckdb_views() WHERE view_name = 'refined_quotes'")
        .fetchone()[0]
    )
    for sql in QUERIES:
        a, b = served.query(sql), plain.query(sql)
        assert a.num_rows > 0, sql
        assert a.schema == b.schema, sql
        assert a.to_pylist() == b.to_pylist(), sql


def test_a_statement_creates_only_the_views_it_names(lake: Path) -> None:
    storage = H.LocalStorage(lake)
    engine = DuckDBQueryEngine(storage, LocalCatalog(storage))
    assert engine.query("SELECT 1 AS x").to_pylist() == [{"x": 1}]
    assert engine._views == set()
    engine.query("SELECT count(*) FROM refined_monthly")
    assert engine._views == {"refined_monthly"}
    assert referenced_tables(
        "WITH q AS (SELECT * FROM refined_quotes) SELECT * FROM q JOIN refined_monthly m ON true"
    ) == ["refined_monthly", "refined_quotes"]


def test_a_narrowed_r6_table_is_served_with_its_tickers_only(tmp_path: Path) -> None:
    H.sample_lake(tmp_path)
    main(H.argv(tmp_path, mode="full", tickers=SOME, partitioned_tickers="PETR4,VALE3"))
    storage = H.LocalStorage(tmp_path)
    assert {k.split("/")[3] for k in storage.list_keys("refined/quotes/")} == {
        "ticker=PETR4",
        "ticker=VALE3",
    }
    table = LocalCatalog(storage).get_table("refined_quotes", partitions=False)
    assert table.parameters["b3lake.partitioned_tickers"] == "PETR4,VALE3"
    assert "b3lake.tickers" not in table.parameters  # the property's old name
    assert table.parameters["projection.ticker.values"] == "PETR4,VALE3"
    assert table.parameters["projection.dt.range"] == "2021-01-04,NOW"
    served = DuckDBQueryEngine(storage, LocalCatalog(storage))
    plain = _r6_engine(tmp_path)
    for sql in QUERIES:
        a, b = served.query(sql), plain.query(sql)
        assert a.num_rows > 0 and a.to_pylist() == b.to_pylist(), sql
    history = served.query("SELECT count(DISTINCT ticker) AS n FROM refined_quotes_history")
    assert history.column("n")[0].as_py() > 2  # the history layer keeps the whole universe
    # A catalog written before the rename names the property b3lake.tickers: still served narrowed.
    params = dict(table.parameters)
    params["b3lake.tickers"] = params.pop("b3lake.partitioned_tickers")
    columns, keys = table.columns, table.partition_keys
    LocalCatalog(storage).upsert_table(
        "refined_quotes",
        location=table.location,
        columns=columns,
        partition_keys=keys,
        parameters=params,
    )
    old = DuckDBQueryEngine(storage, LocalCatalog(storage))
    for sql in QUERIES:
        assert old.query(sql).to_pylist() == plain.query(sql).to_pylist(), sql
