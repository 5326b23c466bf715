"""The Engine port's adapters keep Arrow types and hand the transform the right API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa

from b3lake.engines import Engine, default_engine, sql_api


def test_sqlframe_round_trips_arrow_types_and_gives_its_own_api() -> None:
    engine = default_engine()
    try:
        assert isinstance(engine, Engine) and engine.name == "sqlframe_duckdb"
        table = pa.table(
            {
                "d": pa.array([dt.date(2021, 1, 4)], pa.date32()),
                "p": pa.array([Decimal("28.91")], pa.decimal128(13, 2)),
                "n": pa.array([7], pa.int64()),
                "s": pa.array(["PETR4"], pa.string()),
            }
        )
        df = engine.from_arrow(table)
        assert sql_api(df).F.__name__.startswith("sqlframe")
        assert engine.to_arrow(df).equals(table)
        assert engine.to_arrow(engine.persist(df)).equals(table)
        empty = engine.from_arrow(table.schema.empty_table())
        assert engine.to_arrow(empty).schema == table.schema
    finally:
        engine.close()


def test_engines_are_imported_lazily() -> None:
    import subprocess
    import sys

    code = (
        "import sys, b3lake.engines, b3lake.jobs.refine.job, b3lake.jobs.refine.transforms.quotes;"
        "assert 'pyspark' not in sys.modules and 'sqlframe' not in sys.modules, sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
