"""Parity: the refine functions of the new market tables (TableSpec.refine) on real PySpark
(local[2]) and on SQLFrame/DuckDB, over the same real inputs: the rows are equal (exactly: no
arithmetic beyond B3's own numbers) and the types are the spec's on both.

Runs under the ``spark`` marker and fails (never skips) without pyspark or Java.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from b3lake import tables
from b3lake.jobs.refine.steps.registered import refine_rows
from b3lake.tables.arrow import full_schema

pytestmark = [pytest.mark.spark, pytest.mark.slow]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NEW_TABLES = (
    "refined_index_levels",
    "quality_index_levels",
    "refined_curves",
    "refined_index_report",
    "refined_options",
)


def _raw_inputs() -> dict[str, pa.Table]:
    from b3lake.sources.cotahist import parse_cotahist
    from b3lake.sources.curves.parse import parse_taxa_swap
    from b3lake.sources.index_levels.parse import parse_file, parse_response
    from b3lake.sources.index_report.parse import parse_index_report

    cassette = FIXTURES / "index_levels" / "GetPortfolioDay_IndexStatistics_IBOV_2022.yml"
    levels = parse_file(cassette.read_bytes(), source_name=cassette.name)
    body = json.loads(
        __import__("yaml").safe_load(cassette.read_text())["http_interactions"][0]["response"][
            "body"
        ]["string"]
    )
    body["results"][0]["rateValue1"] = "100,000.00"  # a holiday
    body["results"][9]["rateValue1"] = None  # a session without a value
    body["min"]["rateValue1"] = "100,000.00"
    derived = parse_response(body, source_name="derived", index="TEST", year=2022)
    curves = [FIXTURES / "curves" / n for n in ("TaxaSwap.txt", "TaxaSwap-sample.txt")]
    daily = FIXTURES / "cotahist" / "COTAHIST_D04012016.TXT"
    report = FIXTURES / "index_report" / "IR210423.zip"
    return {
        "index_levels": pa.concat_tables(
            [levels.replace_schema_metadata(None), derived.replace_schema_metadata(None)]
        ),
        "taxa_swap": pa.concat_tables(
            [parse_taxa_swap(p.read_bytes(), source_name=p.name) for p in curves]
        ),
        "index_report": parse_index_report(report.read_bytes(), source_name=report.name),
        "cotahist": parse_cotahist(daily, source_name=daily.name),
    }


def _outputs(engine: Any, raw: dict[str, pa.Table]) -> dict[str, pa.Table]:
    out = {}
    for name in NEW_TABLES:
        spec = tables.table(name)
        assert spec.refine is not None
        frames = {source: engine.from_arrow(raw[source]) for source in spec.inputs}
        out[name] = engine.to_arrow(refine_rows(spec, frames))
    return out


def _rows(table: pa.Table) -> list[tuple[Any, ...]]:
    names = sorted(table.column_names)
    return sorted(
        (tuple(row[n] for n in names) for row in table.to_pylist()), key=lambda r: repr(r)
    )


def test_spark_and_sqlframe_give_the_same_rows_in_the_specs_types(spark_engine: Any) -> None:
    from b3lake.engines.sqlframe_duckdb import SQLFrameDuckDBEngine

    raw = _raw_inputs()
    duck_engine = SQLFrameDuckDBEngine()
    try:
        duck = _outputs(duck_engine, raw)
    finally:
        duck_engine.close()
    spark = _outputs(spark_engine, raw)
    counts = {name: t.num_rows for name, t in duck.items()}
    print("market parity row counts:", counts)
    assert counts == {
        "refined_index_levels": 499,
        "quality_index_levels": 2,
        "refined_curves": 352,
        "refined_index_report": 25,
        "refined_options": 961,
    }
    for name in NEW_TABLES:
        schema = full_schema(tables.table(name))
        for engine_name, table in (("spark", spark[name]), ("duckdb", duck[name])):
            got = table.select(schema.names)
            assert [f.type for f in got.schema] == [f.type for f in schema], (engine_name, name)
        assert _rows(spark[name].select(schema.names)) == _rows(duck[name].select(schema.names)), (
            name
        )
