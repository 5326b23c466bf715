"""The one place that picks adapters: storage, job launcher, catalog and query engine.

``backend = "local"`` gives a directory lake, the in-process launcher, a JSON catalog and DuckDB;
``backend = "aws"`` gives S3, the Glue job launcher, the Glue Data Catalog and Athena. Heavy and
cloud-only modules are imported only when chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from b3lake.errors import ConfigError

if TYPE_CHECKING:
    from b3lake.catalog import Catalog
    from b3lake.query import QueryEngine
    from b3lake.settings import Settings
    from b3lake.storage import Storage


def storage_for(lake: str, *, endpoint_url: str | None = None, session: Any = None) -> Storage:
    """Storage for a lake address: ``s3://bucket/prefix`` or a local directory."""
    if lake.startswith("s3://"):
        from b3lake.storage.s3 import S3Storage

        return S3Storage(lake, endpoint_url=endpoint_url, session=session)
    if "://" in lake:
        raise ConfigError(
            "lake must be a local directory or s3://bucket/prefix", field="lake", value=lake
        )
    from b3lake.storage.local import LocalStorage

    return LocalStorage(lake)


def catalog_for(
    storage: Storage, database: str, *, endpoint_url: str | None = None, session: Any = None
) -> Catalog:
    """The Glue Data Catalog for an S3 lake, the lake's own JSON catalog for a local one."""
    if storage.root.startswith("s3://"):
        from b3lake.catalog.glue import GlueCatalog

        return GlueCatalog(database, lake=storage.root, endpoint_url=endpoint_url, session=session)
    from b3lake.catalog.local import LocalCatalog

    return LocalCatalog(storage, database)


@dataclass
class Backend:
    settings: Settings
    storage: Storage
    catalog: Catalog
    launcher: Any  # a JobLauncher: LocalLauncher or GlueLauncher

    def query_engine(self) -> QueryEngine:
        if self.settings.backend == "aws":
            from b3lake.query.athena import AthenaQueryEngine

            return AthenaQueryEngine(
                workgroup=self.settings.athena_workgroup,
                database=self.settings.catalog_database,
                endpoint_url=self.settings.aws_endpoint_url,
                region=self.settings.aws_region,
            )
        from b3lake.query.duckdb import DuckDBQueryEngine

        return DuckDBQueryEngine(self.storage, self.catalog)


def build_backend(settings: Settings, *, session: Any = None) -> Backend:
    endpoint = settings.aws_endpoint_url
    if settings.backend == "aws" and not settings.lake_is_s3:
        raise ConfigError(
            "backend aws needs lake = s3://bucket/prefix", field="lake", value=settings.lake
        )
    storage = storage_for(settings.lake, endpoint_url=endpoint, session=session)
    catalog = catalog_for(
        storage, settings.catalog_database, endpoint_url=endpoint, session=session
    )
    launcher: Any
    if settings.backend == "aws":
        from b3lake.launchers.glue import GlueLauncher

        launcher = GlueLauncher(session=session, endpoint_url=endpoint, region=settings.aws_region)
    else:
        from b3lake.launchers.local import LocalLauncher

        launcher = LocalLauncher(storage)
    return Backend(settings=settings, storage=storage, catalog=catalog, launcher=launcher)
