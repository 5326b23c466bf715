"""The one place that picks adapters: ``LocalBackend`` and ``AwsBackend``.

Each backend builds its storage, catalog, job launcher, query engine and notifier (what announces
a committed raw object) from the settings; nothing else in b3lake looks at ``settings.backend``.

* ``LocalBackend``: a directory lake, the lake's JSON catalog, the in-process launcher, DuckDB, and
  a local event bus that hands each raw object's S3-shaped event to the trigger Lambda's handler.
* ``AwsBackend``: S3, the Glue Data Catalog, the Glue job launcher and Athena, all built with one
  ``AwsContext`` (session, endpoint_url, region); S3 itself announces raw objects.

Both give every refine run the same arguments for the same settings
(``Settings.refine_args()``): the local launcher's defaults and the trigger's per-run arguments
carry the universe as the Glue job's defaults and the AWS trigger do. Heavy and cloud-only modules
are imported only when chosen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from b3lake.awsclients import AwsContext
from b3lake.catalog import catalog_for
from b3lake.errors import ConfigError
from b3lake.storage import storage_for

if TYPE_CHECKING:
    from b3lake.catalog import Catalog
    from b3lake.events.local_bus import LocalEventBus
    from b3lake.launchers import JobLauncher
    from b3lake.query import QueryEngine
    from b3lake.settings import Settings
    from b3lake.storage import Storage

__all__ = ["AwsBackend", "Backend", "LocalBackend", "build_backend", "catalog_for", "storage_for"]

#: Announces a committed raw object (key, size); None where the store does it itself (S3).
Notifier = Callable[[str, int], None]


class Backend(Protocol):
    name: str
    settings: Settings
    storage: Storage
    catalog: Catalog
    launcher: JobLauncher
    #: Announces committed raw objects; None when the store does (S3 → Lambda).
    notifier: Notifier | None
    #: Runs finish before ``start_job_run`` returns (so a failed run can be raised at once).
    runs_in_process: bool

    def query_engine(self) -> QueryEngine: ...

    def describe(self) -> str:
        """Where the data are, in words (the report's footer)."""
        ...


@dataclass
class _TriggerContext:
    """The parts of a LambdaContext the trigger may read, plus the b3lake hooks it looks for."""

    b3lake_config: Any  # lambdas.trigger.TriggerConfig
    b3lake_launcher: Any
    function_name: str = "b3lake-trigger"
    aws_request_id: str = "local"


class LocalBackend:
    name = "local"
    runs_in_process = True

    def __init__(self, settings: Settings, *, session: Any = None) -> None:
        from b3lake.events.local_bus import LocalEventBus
        from b3lake.launchers.local import LocalLauncher

        self.settings = settings
        # An s3:// lake with the local backend (runs in-process over S3) keeps working.
        aws = AwsContext(
            session=session, endpoint_url=settings.aws_endpoint_url, region=settings.aws_region
        )
        self.storage: Storage = storage_for(settings.lake, **aws_kwargs(settings.lake, aws))
        self.catalog: Catalog = catalog_for(
            self.storage, settings.catalog_database, **aws_kwargs(settings.lake, aws)
        )
        self.refine_args = settings.refine_args(lake=self.storage.root)
        launcher = LocalLauncher(
            self.storage, default_arguments=self.refine_args.deployment_arguments()
        )
        self.launcher: JobLauncher = launcher
        storage = self.storage
        self.bus: LocalEventBus = LocalEventBus(
            self.storage.root,
            self._deliver,
            etag=lambda key: storage.list_etags(key).get(key),
            batch=launcher.batch,
        )
        self.notifier: Notifier | None = self.bus.notify

    def _deliver(self, event: dict[str, Any]) -> dict[str, Any]:
        """What S3 → Lambda does with an event: the trigger's handler, with the local launcher."""
        from b3lake.lambdas import trigger

        config = trigger.TriggerConfig(
            lake=self.storage.root,
            job_name=self.settings.glue_job_name,
            catalog_database=self.settings.catalog_database,
            universe=self.refine_args.universe,
        )
        return trigger.handler(event, _TriggerContext(config, self.launcher))

    def query_engine(self) -> QueryEngine:
        from b3lake.query.duckdb import DuckDBQueryEngine

        return DuckDBQueryEngine(self.storage, self.catalog)

    def describe(self) -> str:
        return self.settings.lake


class AwsBackend:
    name = "aws"
    runs_in_process = False

    def __init__(self, settings: Settings, *, session: Any = None) -> None:
        from b3lake.launchers.glue import GlueLauncher

        if not settings.lake_is_s3:
            raise ConfigError(
                "backend aws needs lake = s3://bucket/prefix", field="lake", value=settings.lake
            )
        self.settings = settings
        self.aws = AwsContext(
            session=session, endpoint_url=settings.aws_endpoint_url, region=settings.aws_region
        )
        self.storage: Storage = storage_for(settings.lake, **self.aws.kwargs())
        self.catalog: Catalog = catalog_for(
            self.storage, settings.catalog_database, **self.aws.kwargs()
        )
        self.launcher: JobLauncher = GlueLauncher(**self.aws.kwargs())
        self.notifier: Notifier | None = None

    def query_engine(self) -> QueryEngine:
        from b3lake.query.athena import AthenaQueryEngine

        return AthenaQueryEngine(
            workgroup=self.settings.athena_workgroup,
            database=self.settings.catalog_database,
            **self.aws.kwargs(),
        )

    def describe(self) -> str:
        return f"Athena ({self.settings.athena_workgroup})"


def aws_kwargs(lake: str, aws: AwsContext) -> dict[str, Any]:
    """The AWS context's arguments for an S3 lake's adapters; none for a local directory."""
    return aws.kwargs() if lake.startswith("s3://") else {}


def build_backend(settings: Settings, *, session: Any = None) -> Backend:
    """The backend ``settings.backend`` names (the one place that reads it)."""
    if settings.backend == "aws":
        return AwsBackend(settings, session=session)
    return LocalBackend(settings, session=session)
