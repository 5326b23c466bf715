from __future__ import annotations

from pathlib import Path

import pytest

from b3lake.catalog import Column
from b3lake.catalog.local import LocalCatalog
from b3lake.errors import CatalogError
from b3lake.storage.local import LocalStorage


def test_tables_and_partitions(tmp_path: Path) -> None:
    cat = LocalCatalog(LocalStorage(tmp_path))
    cat.upsert_table(
        "refined_quotes",
        location="refined/quotes/",
        columns=[Column("close", "double")],
        partition_keys=[Column("dt", "date"), Column("ticker", "string")],
    )
    cat.add_partitions("refined_quotes", [{"dt": "2021-01-04", "ticker": "PETR4"}])
    cat.add_partitions(
        "refined_quotes",
        [{"dt": "2021-01-04", "ticker": "PETR4"}, {"dt": "2021-01-05", "ticker": "PETR4"}],
    )
    info = LocalCatalog(LocalStorage(tmp_path)).get_table("refined_quotes")
    assert len(info.partitions) == 2  # no duplicates on re-registration
    cat.drop_partitions("refined_quotes", [{"dt": "2021-01-04", "ticker": "PETR4"}])
    assert cat.get_table("refined_quotes").partitions == [{"dt": "2021-01-05", "ticker": "PETR4"}]
    assert [t.name for t in cat.list_tables()] == ["refined_quotes"]


def test_unknown_table_is_a_catalog_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="unknown table"):
        LocalCatalog(LocalStorage(tmp_path)).get_table("nope")
