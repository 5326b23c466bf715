"""The table registry: one spec per table, read by layout, schemas, the job and the catalog."""

from __future__ import annotations

import pytest

from b3lake import tables
from b3lake.catalog.schema import columns_from_arrow
from b3lake.errors import CatalogError
from b3lake.jobs.refine import schemas
from b3lake.lake import layout
from b3lake.tables import TableSpec
from b3lake.tables.arrow import file_schema, full_schema, partition_schema


def test_built_in_tables_and_their_twins() -> None:
    assert {t.name for t in tables.refined_tables()} >= {
        "refined_quotes",
        "refined_monthly",
        "refined_quotes_history",
        "refined_ibov_portfolio",
    }
    quotes = tables.table("refined_quotes")
    assert quotes.location == "refined/quotes/" and quotes.keys == ("dt", "ticker")
    assert quotes.quarantine is tables.table("quarantine_quotes")
    assert quotes.quarantine.location == "quarantine/refined_quotes/"
    assert tables.table("refined_monthly").quarantine is None
    assert {t.name for t in tables.quarantine_tables()} >= {
        "quarantine_quotes",
        "quarantine_ibov_portfolio",
    }


def test_layout_and_schemas_read_the_specs() -> None:
    for spec in tables.refined_tables():
        assert layout.refined_prefix(spec.name) == spec.location
    assert schemas.REFINED_QUOTES.equals(file_schema(tables.table("refined_quotes")))
    assert schemas.QUARANTINE_QUOTES.equals(file_schema(tables.table("quarantine_quotes")))
    spec = tables.table("refined_quotes")
    assert full_schema(spec).names[:2] == ["dt", "ticker"]
    assert str(partition_schema(spec).field("dt").type) == "date32[day]"


def test_hive_types_round_trip_through_arrow() -> None:
    for spec in tables.TABLES.values():
        assert columns_from_arrow(file_schema(spec)) == list(spec.columns), spec.name
        assert columns_from_arrow(partition_schema(spec)) == list(spec.partition_keys), spec.name


def test_a_spec_refuses_what_would_break_the_lake() -> None:
    with pytest.raises(ValueError, match="unknown column type"):
        TableSpec(name="t", prefix="t", columns=(("a", "varchar"),))
    with pytest.raises(ValueError, match="are columns"):
        TableSpec(name="t", prefix="t", columns=(("dt", "date"),), partition_keys=(("dt", "date"),))
    with pytest.raises(ValueError, match="sort_by"):
        TableSpec(name="t", prefix="t", columns=(("a", "int"),), sort_by=("b",))
    with pytest.raises(ValueError, match="bare folder"):
        TableSpec(name="t", prefix="refined/t/", columns=(("a", "int"),))


def test_register_checks_names_locations_and_partition_types() -> None:
    toy = TableSpec(
        name="refined_toy",
        prefix="toy",
        columns=(("x", "double"),),
        partition_keys=(("dt", "date"),),
    )
    tables.register(toy)
    try:
        assert tables.table("refined_toy") is toy
        assert "refined_toy" in tables.manifest()
        with pytest.raises(CatalogError, match="location"):
            tables.register(TableSpec(name="refined_toy2", prefix="toy", columns=(("x", "int"),)))
        with pytest.raises(CatalogError, match="partition key dt"):
            tables.register(
                TableSpec(
                    name="refined_toy3",
                    prefix="toy3",
                    columns=(("x", "int"),),
                    partition_keys=(("dt", "string"),),
                )
            )
    finally:
        tables.unregister("refined_toy")
    with pytest.raises(CatalogError, match="no such table"):
        tables.table("refined_toy")


def test_the_registry_imports_no_third_party_package() -> None:
    """The trigger Lambda reaches the specs through the layout: no pyarrow there."""
    import subprocess
    import sys

    code = (
        "import sys, b3lake.tables, b3lake.lake.layout; "
        "print([m for m in ('pyarrow', 'boto3', 'duckdb') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_refine_named_by_string_is_imported_on_the_first_call() -> None:
    """The tables' modules name their refine functions (``b3lake.tables.transforms``) so the
    trigger Lambda, which reads the specs, never reaches an engine."""
    from b3lake.tables.spec import LazyRefine

    spec = tables.table("refined_curves")
    assert spec.refine == LazyRefine("b3lake.tables.transforms.curves:refine_curves")
    with pytest.raises(ValueError, match="package.module:function"):
        TableSpec(
            name="t",
            prefix="t",
            columns=(("a", "int"),),
            partition_keys=(("dt", "date"),),
            inputs=("x",),
            refine="not a path",
        )
    doubled = LazyRefine("builtins:len")
    assert doubled({"a": 1, "b": 2}) == 2
