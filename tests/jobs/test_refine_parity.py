"""Parity: the same transform on real PySpark (local[2]) and on SQLFrame/DuckDB, over the same
real inputs (the bundled COTAHIST sample, all 16 sessions; the yfinance and IBOV fixtures).

Runs in CI under the ``spark`` marker and fails (never skips) without pyspark or Java.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import refine_helpers as H

from b3lake import tables
from b3lake.jobs.refine import quality, schemas
from b3lake.jobs.refine.transforms import portfolio as portfolio_transform
from b3lake.jobs.refine.transforms import quotes as transform
from b3lake.tables import TableSpec, arrow

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def _outputs(engine: Any, storage: Any) -> dict[str, pa.Table]:
    """Every output of the transform on ``engine``, in the engine's own Arrow types."""
    from b3lake.lake.raw_manifest import raw_index as _raw_index

    def frame(source: str) -> Any:
        keys = [k for ks in _raw_index(storage, source).values() for k in ks]
        return engine.read_parquet(storage, sorted(keys), schemas.RAW_INPUTS[source])

    flagged = quality.flag_quotes(transform.normalize_quotes(frame("cotahist"), frame("yfinance")))
    clean = flagged.filter(flagged["rule"].isNull()).drop("rule", "reason")
    quotes = transform.refine_quotes(clean)
    portfolio = quality.flag_portfolio(
        portfolio_transform.normalize_portfolio(frame("ibov_portfolio"))
    )
    return {
        "flagged_quotes": engine.to_arrow(flagged),
        "refined_quotes": engine.to_arrow(quotes),
        "refined_monthly": engine.to_arrow(transform.refine_monthly(quotes)),
        "refined_ibov_portfolio": engine.to_arrow(
            portfolio_transform.refine_portfolio(portfolio.drop("rule", "reason"))
        ),
    }


KEYS = {
    "flagged_quotes": ("dt", "ticker", "source", "record_key", "line_number"),
    "refined_quotes": ("dt", "ticker", "source"),
    "refined_monthly": ("month", "ticker", "source"),
    "refined_ibov_portfolio": ("dt", "index", "ticker"),
}
CONTRACT = ("refined_quotes", "refined_monthly", "refined_ibov_portfolio", "refined_quotes_history")


def _types(table: pa.Table) -> list[tuple[str, pa.DataType]]:
    return [(f.name, f.type) for f in table.schema]


def test_spark_and_sqlframe_give_the_same_rows_and_types(
    tmp_path: Path, spark_engine: Any, sqlframe_engine: Any
) -> None:
    storage = H.sample_lake(tmp_path, yfinance=True, ibov=True)
    spark = _outputs(spark_engine, storage)
    duck = _outputs(sqlframe_engine, storage)
    counts = {name: table.num_rows for name, table in spark.items()}
    print("parity row counts:", counts)
    assert counts["refined_quotes"] > 15_846
    assert counts["refined_ibov_portfolio"] == 82
    for name, table in spark.items():
        assert _types(table) == _types(duck[name]), name
        H.assert_same_rows(table, duck[name], KEYS[name], tol=1e-9)
        if name in CONTRACT:
            expected = arrow.full_schema(tables.table(name))
            got = [(n, t) for n, t in _types(table) if n != transform.INPUT_ROWS]
            assert got == [(f.name, f.type) for f in expected], name
    # Every refined table is here but the corporate-action ones, whose transform has its own
    # parity test (tests/jobs/test_corporate_actions.py::test_both_engines_give_the_same_rows),
    # and the tables that refine themselves (TableSpec.refine: tests/tables/test_market_parity.py).
    from b3lake.tables import corporate_actions as ca

    theirs = {spec.name for spec in vars(ca).values() if isinstance(spec, TableSpec)}
    own = {spec.name for spec in tables.refined_tables() if spec.refine is not None}
    assert {t.name for t in tables.refined_tables()} - theirs - own == set(CONTRACT)


def _partition_bytes(storage: Any) -> dict[str, bytes]:
    """``partition folder -> bytes of its one file``: Spark names each file it writes anew
    (``part-00000-<job uuid>…``), the embedded writer ``part-0.parquet``."""
    out: dict[str, bytes] = {}
    for key, data in H.object_bytes(storage, "refined/").items():
        folder = key.rsplit("/", 1)[0]
        assert folder not in out, f"two files in {folder}"
        out[folder] = data
    return out


def test_the_job_writes_the_same_lake_on_both_engines(
    tmp_path: Path, spark_engine: Any, sqlframe_engine: Any
) -> None:
    from b3lake.jobs.refine.job import main

    tickers = "PETR4,VALE3,ITUB4,BBDC4,MGLU3,HGLG11"
    lakes = {}
    for name, engine in (("spark", spark_engine), ("duck", sqlframe_engine)):
        # The sessions narrowed to the tickers refined (the whole market: the test above).
        storage = H.sample_lake(tmp_path / name, ibov=True, tickers=tuple(tickers.split(",")))
        main(H.argv(tmp_path / name, mode="full", tickers=tickers), engine=engine)
        before = _partition_bytes(storage)
        main(H.argv(tmp_path / name, dt="2021-01-26", tickers=tickers), engine=engine)
        assert _partition_bytes(storage) == before  # a re-run changes no byte
        lakes[name] = storage
    for table, keys in H.TABLE_KEYS.items():
        H.assert_same_rows(
            H.read_refined(lakes["spark"], table), H.read_refined(lakes["duck"], table), keys
        )
