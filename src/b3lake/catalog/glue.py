"""The Catalog port on the AWS Glue Data Catalog (what Athena reads).

Partitions are registered at write time, not by Athena partition projection. Projection needs
every partition key to be computable from a pattern: ``dt`` could be a date range, but ``ticker``
could only be an ``enum`` list that must be kept in the table properties as the universe changes
(and a stale list silently hides new tickers' data), or an ``injected`` key that makes every query
name its ticker. The refine job knows exactly which ``dt``/``ticker`` partitions it wrote, so it
registers them with ``BatchCreatePartition`` in the same run: no crawler, no ``MSCK REPAIR``, and
a partition becomes visible only after its files are complete. Re-registering is harmless
(``AlreadyExistsException`` per entry is ignored), so re-runs and duplicate events stay idempotent.

The tables are ``EXTERNAL_TABLE``s of Parquet files (Hive Parquet SerDe), like Terraform or an
Athena ``CREATE EXTERNAL TABLE … STORED AS PARQUET`` would make them.
"""

from __future__ import annotations

import copy
from typing import Any

from b3lake import awsclients
from b3lake.catalog import Column, TableInfo
from b3lake.errors import CatalogError
from b3lake.keyspace import lake_location

PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

#: API limits: BatchCreatePartition takes 100 partitions, BatchDeletePartition 25.
CREATE_BATCH = 100
DELETE_BATCH = 25
#: Refusals that pass by themselves: the batch call (or its refused entries) is retried with
#: exponential backoff and jitter, on top of botocore's own retries of the whole call. A
#: backfill registers ~250,000 partitions a year of the dt x ticker table (2,500 calls), well
#: past Glue's request rate, so throttling is expected, not exceptional.
RETRY_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "InternalServiceException",
        "OperationTimeoutException",
        "ConcurrentModificationException",
    }
)
BATCH_ATTEMPTS = 8
BACKOFF_SECONDS = 0.25
BACKOFF_MAX_SECONDS = 20.0


def _backoff(attempt: int) -> float:
    """Full jitter: uniform in 0..min(max, base * 2**attempt)."""
    import random

    return random.uniform(0, min(BACKOFF_MAX_SECONDS, BACKOFF_SECONDS * 2**attempt))  # noqa: S311


def _same_definition(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """True when the table already has the wanted columns, keys, location, format and flags."""

    def shape(table: dict[str, Any]) -> tuple[Any, ...]:
        sd = table.get("StorageDescriptor", {})
        return (
            table.get("TableType"),
            [(k["Name"], k["Type"]) for k in table.get("PartitionKeys", [])],
            [(c["Name"], c["Type"]) for c in sd.get("Columns", [])],
            sd.get("Location"),
            sd.get("InputFormat"),
            sd.get("OutputFormat"),
            sd.get("SerdeInfo", {}).get("SerializationLibrary"),
        )

    params = current.get("Parameters", {})
    wanted_params = wanted["Parameters"]
    return shape(current) == shape(wanted) and all(
        params.get(k) == v for k, v in wanted_params.items()
    )


class GlueCatalog:
    """Tables and partitions of one Glue database, with locations inside one S3 lake."""

    def __init__(
        self,
        database: str,
        *,
        lake: str,
        endpoint_url: str | None = None,
        session: Any = None,
        region: str | None = None,
        client: Any = None,
    ) -> None:
        if not lake.startswith("s3://"):
            raise CatalogError("the Glue catalog needs an s3://bucket/prefix lake", source=lake)
        self.database = database
        bucket, prefix = lake_location(lake)
        self.lake_uri = f"s3://{bucket}/{prefix}"  # always ends with "/"
        self.session = session
        self.endpoint_url = endpoint_url
        self.region = region
        self._client = client
        self._database_ready = False
        #: Waits between retried batch calls (a test passes a recorder instead of time.sleep).
        self.sleep: Any = __import__("time").sleep
        self.retried = 0  # entries sent again after a passing refusal

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = awsclients.client(
                "glue", endpoint_url=self.endpoint_url, session=self.session, region=self.region
            )
        return self._client

    # -- helpers ---------------------------------------------------------------------------

    def _fail(self, action: str, name: str, exc: Exception) -> CatalogError:
        code = awsclients.error_code(exc) or type(exc).__name__
        return CatalogError(f"cannot {action}: {code}: {exc}", source=f"{self.database}.{name}")

    def _location_uri(self, location: str) -> str:
        if location.startswith("s3://"):
            return location.rstrip("/") + "/"
        if location.startswith("/") or ".." in location.split("/"):
            raise CatalogError("table location escapes the lake", source=location)
        return self.lake_uri + location.strip("/") + "/"

    def _relative(self, uri: str) -> str:
        """A table location as a key prefix inside the lake (``refined/quotes/``) when it is one."""
        uri = uri.rstrip("/") + "/"
        return uri[len(self.lake_uri) :] if uri.startswith(self.lake_uri) else uri

    def ensure_database(self) -> None:
        """Create the database if missing (moto starts empty; AWS accounts have ``default``)."""
        from botocore.exceptions import BotoCoreError, ClientError

        if self._database_ready:
            return
        try:
            self.client.get_database(Name=self.database)
        except ClientError as exc:
            if awsclients.error_code(exc) != "EntityNotFoundException":
                raise self._fail("read the database", self.database, exc) from exc
            try:
                self.client.create_database(DatabaseInput={"Name": self.database})
            except ClientError as create_exc:
                if awsclients.error_code(create_exc) != "AlreadyExistsException":
                    raise self._fail("create the database", self.database, create_exc) from exc
        except BotoCoreError as exc:
            raise self._fail("read the database", self.database, exc) from exc
        self._database_ready = True

    def _glue_table(self, name: str) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.client.get_table(DatabaseName=self.database, Name=name)["Table"]
        except ClientError as exc:
            if awsclients.error_code(exc) == "EntityNotFoundException":
                raise CatalogError(
                    f"unknown table in Glue database {self.database}", source=name
                ) from exc
            raise self._fail("read the table", name, exc) from exc
        except BotoCoreError as exc:
            raise self._fail("read the table", name, exc) from exc

    @staticmethod
    def _partition_values(
        name: str, keys: list[str], partitions: list[dict[str, str]]
    ) -> list[list[str]]:
        values = []
        for partition in partitions:
            if set(partition) != set(keys):
                raise CatalogError(
                    f"partition does not name exactly the keys {keys}", source=name, value=partition
                )
            row = [str(partition[k]) for k in keys]
            if any(not v or "/" in v for v in row):
                raise CatalogError("partition value is empty or has a '/'", source=name, value=row)
            values.append(row)
        return values

    # -- the port --------------------------------------------------------------------------

    def upsert_table(
        self,
        name: str,
        *,
        location: str,
        columns: list[Column],
        partition_keys: list[Column],
        parameters: dict[str, str] | None = None,
    ) -> None:
        """Create the external Parquet table, or update its columns and location in place."""
        from botocore.exceptions import BotoCoreError, ClientError

        self.ensure_database()
        table_input = {
            "Name": name,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {
                "classification": "parquet",
                "EXTERNAL": "TRUE",
                "parquet.compression": "SNAPPY",
                **(parameters or {}),
            },
            "PartitionKeys": [{"Name": c.name, "Type": c.type} for c in partition_keys],
            "StorageDescriptor": {
                "Columns": [{"Name": c.name, "Type": c.type} for c in columns],
                "Location": self._location_uri(location),
                "InputFormat": PARQUET_INPUT,
                "OutputFormat": PARQUET_OUTPUT,
                "Compressed": False,
                "StoredAsSubDirectories": False,
                "SerdeInfo": {
                    "SerializationLibrary": PARQUET_SERDE,
                    "Parameters": {"serialization.format": "1"},
                },
            },
        }
        try:
            try:
                current = self.client.get_table(DatabaseName=self.database, Name=name)["Table"]
            except ClientError as exc:
                if awsclients.error_code(exc) != "EntityNotFoundException":
                    raise
                current = None
            if current is None:
                try:
                    self.client.create_table(DatabaseName=self.database, TableInput=table_input)
                    return
                except ClientError as exc:  # another run created it meanwhile
                    if awsclients.error_code(exc) != "AlreadyExistsException":
                        raise
            elif _same_definition(current, table_input):
                return  # every run upserts: skip no-op updates (each makes a table version)
            self.client.update_table(DatabaseName=self.database, TableInput=table_input)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("create or update the table", name, exc) from exc

    def add_partitions(self, name: str, partitions: list[dict[str, str]]) -> None:
        """``BatchCreatePartition`` in chunks of 100; partitions that exist already are kept."""

        if not partitions:
            return
        table = self._glue_table(name)
        keys = [k["Name"] for k in table.get("PartitionKeys", [])]
        if not keys:
            raise CatalogError("table has no partition keys", source=name)
        base = table["StorageDescriptor"]["Location"].rstrip("/") + "/"
        inputs = []
        for row in self._partition_values(name, keys, partitions):
            descriptor = copy.deepcopy(table["StorageDescriptor"])
            descriptor["Location"] = base + "".join(
                f"{k}={v}/" for k, v in zip(keys, row, strict=True)
            )
            inputs.append({"Values": row, "StorageDescriptor": descriptor})
        for start in range(0, len(inputs), CREATE_BATCH):
            chunk = inputs[start : start + CREATE_BATCH]
            errors = self._batch(
                "add partitions",
                name,
                chunk,
                lambda part: self.client.batch_create_partition(
                    DatabaseName=self.database, TableName=name, PartitionInputList=part
                ),
                values=lambda item: list(item["Values"]),
                ignore="AlreadyExistsException",
            )
            if errors:
                detail = errors[0].get("ErrorDetail", {})
                raise CatalogError(
                    f"{len(errors)} partition(s) not added: {detail.get('ErrorCode')}: "
                    f"{detail.get('ErrorMessage')}",
                    source=f"{self.database}.{name}",
                    value=errors[0].get("PartitionValues"),
                )

    def drop_partitions(self, name: str, partitions: list[dict[str, str]]) -> None:
        """``BatchDeletePartition`` in chunks of 25; partitions already gone are fine."""

        if not partitions:
            return
        table = self._glue_table(name)
        keys = [k["Name"] for k in table.get("PartitionKeys", [])]
        rows = self._partition_values(name, keys, partitions)
        for start in range(0, len(rows), DELETE_BATCH):
            chunk = rows[start : start + DELETE_BATCH]
            errors = self._batch(
                "drop partitions",
                name,
                chunk,
                lambda part: self.client.batch_delete_partition(
                    DatabaseName=self.database,
                    TableName=name,
                    PartitionsToDelete=[{"Values": row} for row in part],
                ),
                values=list,
                ignore="EntityNotFoundException",
            )
            if errors:
                detail = errors[0].get("ErrorDetail", {})
                raise CatalogError(
                    f"{len(errors)} partition(s) not dropped: {detail.get('ErrorCode')}: "
                    f"{detail.get('ErrorMessage')}",
                    source=f"{self.database}.{name}",
                    value=errors[0].get("PartitionValues"),
                )

    def _batch(
        self,
        action: str,
        name: str,
        items: list[Any],
        call: Any,
        *,
        values: Any,
        ignore: str,
    ) -> list[dict[str, Any]]:
        """One batch call, retried with backoff while Glue throttles it or refuses some entries
        for a passing reason; returns the entries' lasting errors (``ignore`` left out)."""
        from botocore.exceptions import BotoCoreError, ClientError

        pending = list(items)
        for attempt in range(BATCH_ATTEMPTS):
            last = attempt == BATCH_ATTEMPTS - 1
            try:
                response = call(pending)
            except ClientError as exc:
                if awsclients.error_code(exc) in RETRY_CODES and not last:
                    self.sleep(_backoff(attempt))
                    continue
                raise self._fail(action, name, exc) from exc
            except BotoCoreError as exc:
                raise self._fail(action, name, exc) from exc
            errors = [
                e
                for e in response.get("Errors", [])
                if e.get("ErrorDetail", {}).get("ErrorCode") != ignore
            ]
            passing = [
                e for e in errors if e.get("ErrorDetail", {}).get("ErrorCode") in RETRY_CODES
            ]
            if not passing or last:
                return errors
            again = [list(e.get("PartitionValues") or []) for e in passing]
            pending = [item for item in pending if values(item) in again]
            self.retried += len(pending)
            self.sleep(_backoff(attempt))
        return []

    def _partitions(self, name: str, keys: list[str]) -> list[dict[str, str]]:
        from botocore.exceptions import BotoCoreError, ClientError

        found: list[dict[str, str]] = []
        if not keys:
            return found
        try:
            pages = self.client.get_paginator("get_partitions").paginate(
                DatabaseName=self.database, TableName=name
            )
            for page in pages:
                for partition in page.get("Partitions", []):
                    found.append(dict(zip(keys, partition["Values"], strict=True)))
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("list partitions", name, exc) from exc
        return sorted(found, key=lambda p: [p[k] for k in keys])

    def _info(self, table: dict[str, Any], partitions: bool = True) -> TableInfo:
        descriptor = table.get("StorageDescriptor", {})
        keys = [Column(k["Name"], k["Type"]) for k in table.get("PartitionKeys", [])]
        return TableInfo(
            name=table["Name"],
            database=self.database,
            location=self._relative(descriptor.get("Location", "")),
            columns=[Column(c["Name"], c["Type"]) for c in descriptor.get("Columns", [])],
            partition_keys=keys,
            parameters=dict(table.get("Parameters", {})),
            partitions=self._partitions(table["Name"], [k.name for k in keys])
            if partitions
            else [],
        )

    def get_table(self, name: str, *, partitions: bool = True) -> TableInfo:
        return self._info(self._glue_table(name), partitions)

    def list_tables(self, *, partitions: bool = True) -> list[TableInfo]:
        """Every table of the database with its partitions; an absent database has none."""
        from botocore.exceptions import BotoCoreError, ClientError

        tables: list[dict[str, Any]] = []
        try:
            for page in self.client.get_paginator("get_tables").paginate(
                DatabaseName=self.database
            ):
                tables.extend(page.get("TableList", []))
        except ClientError as exc:
            if awsclients.error_code(exc) == "EntityNotFoundException":
                return []
            raise self._fail("list tables", "*", exc) from exc
        except BotoCoreError as exc:
            raise self._fail("list tables", "*", exc) from exc
        return [self._info(t, partitions) for t in sorted(tables, key=lambda t: t["Name"])]
