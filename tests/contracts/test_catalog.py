"""The Catalog port's contract, on the local JSON catalog and the Glue Data Catalog (moto)."""

from __future__ import annotations

import pytest
from contract_adapters import Adapter

from b3lake import tables
from b3lake.catalog import Catalog, Column
from b3lake.errors import CatalogError

SPEC = tables.table("refined_quotes")


def _register(catalog: Catalog) -> None:
    catalog.upsert_table(
        SPEC.name,
        location=SPEC.location,
        columns=list(SPEC.columns),
        partition_keys=list(SPEC.partition_keys),
    )


def test_is_a_catalog(catalog_adapter: Adapter) -> None:
    assert isinstance(catalog_adapter.port, Catalog)
    assert catalog_adapter.port.database == "contract"


def test_a_table_as_its_spec_declares_it(catalog_adapter: Adapter) -> None:
    catalog = catalog_adapter.port
    _register(catalog)
    info = catalog.get_table(SPEC.name)
    assert info.name == SPEC.name and info.database == "contract"
    assert info.location == SPEC.location
    assert info.columns == list(SPEC.columns)
    assert info.partition_keys == list(SPEC.partition_keys)
    assert info.partitions == []
    assert [t.name for t in catalog.list_tables()] == [SPEC.name]


def test_upsert_changes_columns_in_place(catalog_adapter: Adapter) -> None:
    catalog = catalog_adapter.port
    _register(catalog)
    catalog.upsert_table(
        SPEC.name,
        location=SPEC.location,
        columns=[*SPEC.columns, Column("extra", "double")],
        partition_keys=list(SPEC.partition_keys),
    )
    assert catalog.get_table(SPEC.name).columns[-1] == Column("extra", "double")
    assert len(catalog.list_tables()) == 1


def test_partitions_add_idempotently_and_drop(catalog_adapter: Adapter) -> None:
    catalog = catalog_adapter.port
    _register(catalog)
    parts = [
        {"dt": "2021-01-04", "ticker": "PETR4"},
        {"dt": "2021-01-04", "ticker": "VALE3"},
        {"dt": "2021-01-05", "ticker": "PETR4"},
    ]
    catalog.add_partitions(SPEC.name, parts)
    catalog.add_partitions(SPEC.name, parts[:1])  # again: kept once
    got = catalog.get_table(SPEC.name).partitions
    assert sorted(got, key=lambda p: (p["dt"], p["ticker"])) == parts
    catalog.drop_partitions(SPEC.name, [parts[1], {"dt": "2099-01-01", "ticker": "NONE"}])
    got = catalog.get_table(SPEC.name).partitions
    assert sorted(got, key=lambda p: (p["dt"], p["ticker"])) == [parts[0], parts[2]]


def test_unknown_table_is_a_catalog_error(catalog_adapter: Adapter) -> None:
    with pytest.raises(CatalogError):
        catalog_adapter.port.get_table("nope")
