"""Catalog port: which tables exist, their schema, location and partitions.

Locally JSON objects in the lake (``_b3lake/catalog/<database>/<table>/table.json`` and one partition
shard per value of the first partition key, see ``catalog/local.py``); in AWS the Glue Data Catalog.
The refine job registers tables and partitions as it writes them, so nothing like ``MSCK REPAIR`` is needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from b3lake.column import Column

if TYPE_CHECKING:
    from b3lake.storage import Storage

__all__ = ["Catalog", "Column", "TableInfo", "catalog_for"]


@dataclass
class TableInfo:
    name: str
    database: str
    location: str  # key prefix inside the lake, e.g. "refined/quotes/"
    columns: list[Column]
    partition_keys: list[Column]
    partitions: list[dict[str, str]] = field(default_factory=list)
    # Table properties (Glue ``Parameters``): e.g. Athena partition projection, ``b3lake.partitioned_tickers``.
    parameters: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class Catalog(Protocol):
    database: str

    def upsert_table(
        self,
        name: str,
        *,
        location: str,
        columns: list[Column],
        partition_keys: list[Column],
        parameters: dict[str, str] | None = None,
    ) -> None:
        """Create the table, or update its schema and location (and ``parameters``, when given:
        they replace the table's own b3lake and projection properties)."""

    def add_partitions(self, name: str, partitions: list[dict[str, str]]) -> None:
        """Register partitions (``{"dt": "2021-01-04", "ticker": "PETR4"}``); existing ones are kept."""

    def drop_partitions(self, name: str, partitions: list[dict[str, str]]) -> None:
        """Forget partitions whose data were removed."""

    def get_table(self, name: str, *, partitions: bool = True) -> TableInfo:
        """CatalogError if unknown; ``partitions=False`` leaves ``partitions`` empty (a query
        engine needs only the location and the columns, not a listing of ~1,000 a session)."""

    def list_tables(self, *, partitions: bool = True) -> list[TableInfo]: ...


def catalog_for(storage: Storage, database: str, **aws: Any) -> Catalog:
    """The catalog that goes with a lake: the Glue Data Catalog for an S3 lake (``aws`` holds
    its ``session``/``endpoint_url``/``region``), the lake's own JSON catalog for a local one."""
    if storage.root.startswith("s3://"):
        from b3lake.catalog.glue import GlueCatalog

        return GlueCatalog(database, lake=storage.root, **aws)
    from b3lake.catalog.local import LocalCatalog

    return LocalCatalog(storage, database)
