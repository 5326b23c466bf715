"""GlueCatalog against moto's Glue Data Catalog (in-process)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from b3lake.catalog import Catalog, Column
from b3lake.catalog.glue import PARQUET_INPUT, PARQUET_OUTPUT, PARQUET_SERDE, GlueCatalog
from b3lake.errors import CatalogError

pytestmark = pytest.mark.aws

LAKE = "s3://b3lake-lake/lake"
COLUMNS = [Column("close", "double"), Column("volume", "bigint"), Column("name", "string")]
KEYS = [Column("dt", "date"), Column("ticker", "string")]


@pytest.fixture
def glue() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("glue", region_name="us-east-1")


@pytest.fixture
def catalog(glue: Any) -> GlueCatalog:
    return GlueCatalog("default", lake=LAKE)


def test_creates_the_missing_database_once_and_an_external_parquet_table(
    glue: Any, catalog: GlueCatalog
) -> None:
    assert isinstance(catalog, Catalog)
    assert catalog.list_tables() == []  # moto starts without even "default"
    catalog.upsert_table(
        "refined_quotes", location="refined/quotes/", columns=COLUMNS, partition_keys=KEYS
    )
    assert [d["Name"] for d in glue.get_databases()["DatabaseList"]] == ["default"]
    table = glue.get_table(DatabaseName="default", Name="refined_quotes")["Table"]
    assert table["TableType"] == "EXTERNAL_TABLE"
    assert table["Parameters"]["classification"] == "parquet"
    sd = table["StorageDescriptor"]
    assert sd["Location"] == "s3://b3lake-lake/lake/refined/quotes/"
    assert sd["InputFormat"] == PARQUET_INPUT
    assert sd["OutputFormat"] == PARQUET_OUTPUT
    assert sd["SerdeInfo"]["SerializationLibrary"] == PARQUET_SERDE
    assert [c["Name"] for c in sd["Columns"]] == ["close", "volume", "name"]
    assert table["PartitionKeys"] == [
        {"Name": "dt", "Type": "date"},
        {"Name": "ticker", "Type": "string"},
    ]


def test_existing_database_is_not_recreated(glue: Any) -> None:
    glue.create_database(DatabaseInput={"Name": "default", "Description": "the account's own"})
    calls: list[str] = []
    catalog = GlueCatalog("default", lake=LAKE)
    catalog.client.meta.events.register(
        "before-call.glue.CreateDatabase", lambda **kw: calls.append("create")
    )
    catalog.upsert_table("t", location="refined/t/", columns=COLUMNS, partition_keys=[])
    catalog.upsert_table("u", location="refined/u/", columns=COLUMNS, partition_keys=[])
    assert calls == []
    assert glue.get_database(Name="default")["Database"]["Description"] == "the account's own"


def test_upsert_updates_columns_and_location(catalog: GlueCatalog) -> None:
    catalog.upsert_table("t", location="refined/t/", columns=COLUMNS[:1], partition_keys=KEYS)
    catalog.upsert_table("t", location="refined/t2", columns=COLUMNS, partition_keys=KEYS)
    info = catalog.get_table("t")
    assert info.location == "refined/t2/"
    assert info.columns == COLUMNS
    assert info.partition_keys == KEYS
    assert info.database == "default"


def test_partitions_in_chunks_with_their_own_locations_and_idempotent(
    glue: Any, catalog: GlueCatalog
) -> None:
    catalog.upsert_table(
        "refined_quotes", location="refined/quotes/", columns=COLUMNS, partition_keys=KEYS
    )
    parts = [{"dt": "2021-01-04", "ticker": f"T{i:03d}"} for i in range(250)]
    sizes: list[int] = []
    catalog.client.meta.events.register(
        "provide-client-params.glue.BatchCreatePartition",
        lambda params, **kw: sizes.append(len(params["PartitionInputList"])),
    )
    catalog.add_partitions("refined_quotes", parts)
    assert sizes == [100, 100, 50]
    # Again, plus one new: AlreadyExistsException per entry is not an error.
    catalog.add_partitions("refined_quotes", parts[:3] + [{"dt": "2021-01-05", "ticker": "T000"}])
    one = glue.get_partition(
        DatabaseName="default", TableName="refined_quotes", PartitionValues=["2021-01-04", "T007"]
    )["Partition"]
    assert one["StorageDescriptor"]["Location"] == (
        "s3://b3lake-lake/lake/refined/quotes/dt=2021-01-04/ticker=T007/"
    )
    assert one["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == PARQUET_SERDE
    info = catalog.get_table("refined_quotes")
    assert len(info.partitions) == 251
    assert info.partitions[0] == {"dt": "2021-01-04", "ticker": "T000"}
    assert info.partitions[-1] == {"dt": "2021-01-05", "ticker": "T000"}


def test_drop_partitions_in_chunks_of_25_missing_ones_fine(catalog: GlueCatalog) -> None:
    catalog.upsert_table(
        "m",
        location="refined/monthly/",
        columns=COLUMNS,
        partition_keys=[Column("month", "string")],
    )
    months = [{"month": f"{2000 + i // 12}-{i % 12 + 1:02d}"} for i in range(60)]
    catalog.add_partitions("m", months)
    sizes: list[int] = []
    catalog.client.meta.events.register(
        "provide-client-params.glue.BatchDeletePartition",
        lambda params, **kw: sizes.append(len(params["PartitionsToDelete"])),
    )
    catalog.drop_partitions("m", months[:55] + [{"month": "1999-01"}])
    assert sizes == [25, 25, 6]
    assert catalog.get_table("m").partitions == months[55:]


def test_bad_partitions_are_catalog_errors(catalog: GlueCatalog) -> None:
    catalog.upsert_table("q", location="refined/q/", columns=COLUMNS, partition_keys=KEYS)
    with pytest.raises(CatalogError, match="exactly the keys"):
        catalog.add_partitions("q", [{"dt": "2021-01-04"}])
    with pytest.raises(CatalogError, match="'/'"):
        catalog.add_partitions("q", [{"dt": "2021-01-04", "ticker": "../x"}])
    with pytest.raises(CatalogError, match="unknown table"):
        catalog.add_partitions("nope", [{"dt": "2021-01-04", "ticker": "X"}])


def test_unknown_table_is_a_catalog_error(catalog: GlueCatalog) -> None:
    with pytest.raises(CatalogError, match="unknown table"):
        catalog.get_table("nope")
    catalog.ensure_database()
    with pytest.raises(CatalogError, match="unknown table"):
        catalog.get_table("nope")


def test_list_tables_paginated_with_partitions(glue: Any, catalog: GlueCatalog) -> None:
    for i in range(3):
        catalog.upsert_table(
            f"t{i}", location=f"refined/t{i}/", columns=COLUMNS, partition_keys=KEYS[:1]
        )
        catalog.add_partitions(f"t{i}", [{"dt": f"2021-01-0{d}"} for d in range(4, 4 + i)])
    # A table Terraform made elsewhere: its location is kept as a full URI.
    glue.create_table(
        DatabaseName="default",
        TableInput={
            "Name": "external",
            "StorageDescriptor": {"Columns": [], "Location": "s3://elsewhere/x/"},
        },
    )
    tables = catalog.list_tables()
    assert [t.name for t in tables] == ["external", "t0", "t1", "t2"]
    assert tables[0].location == "s3://elsewhere/x/"
    assert [len(t.partitions) for t in tables] == [0, 0, 1, 2]
    assert tables[3].location == "refined/t2/"


def test_location_outside_the_lake_is_refused(catalog: GlueCatalog) -> None:
    with pytest.raises(CatalogError, match="escapes"):
        catalog.upsert_table("x", location="../x/", columns=COLUMNS, partition_keys=[])


def test_needs_an_s3_lake() -> None:
    with pytest.raises(CatalogError):
        GlueCatalog("default", lake="/tmp/lake")


def test_unchanged_upsert_makes_no_new_table_version(glue: Any, catalog: GlueCatalog) -> None:
    calls: list[str] = []
    catalog.client.meta.events.register(
        "before-call.glue.UpdateTable", lambda **kw: calls.append("update")
    )
    for _ in range(3):  # every refine run upserts its tables
        catalog.upsert_table("t", location="refined/t/", columns=COLUMNS, partition_keys=KEYS)
    assert calls == []
    catalog.upsert_table("t", location="refined/t/", columns=COLUMNS[:2], partition_keys=KEYS)
    assert calls == ["update"]
    assert catalog.get_table("t").columns == COLUMNS[:2]


class _Throttled:
    """The Glue client, throttled: the first call of each batch is refused outright, the second
    has its last 10 entries refused (``ThrottlingException`` per entry), later calls pass."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def _flaky(self, operation: str, items: list[Any], call: Any, values: Any) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        self.calls.append(len(items))
        attempt = len(self.calls)
        if attempt % 3 == 1:
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, operation
            )
        if attempt % 3 == 2 and len(items) > 10:
            response = call(items[:-10])
            refused = [
                {
                    "PartitionValues": values(item),
                    "ErrorDetail": {"ErrorCode": "ThrottlingException", "ErrorMessage": "slow"},
                }
                for item in items[-10:]
            ]
            return {"Errors": [*response.get("Errors", []), *refused]}
        return dict(call(items))

    def batch_create_partition(self, **kw: Any) -> dict[str, Any]:
        return self._flaky(
            "BatchCreatePartition",
            kw["PartitionInputList"],
            lambda part: self.client.batch_create_partition(**{**kw, "PartitionInputList": part}),
            lambda item: item["Values"],
        )

    def batch_delete_partition(self, **kw: Any) -> dict[str, Any]:
        return self._flaky(
            "BatchDeletePartition",
            kw["PartitionsToDelete"],
            lambda part: self.client.batch_delete_partition(**{**kw, "PartitionsToDelete": part}),
            lambda item: item["Values"],
        )


def test_throttled_batches_are_retried_with_backoff_until_every_partition_is_in(
    glue: Any,
) -> None:
    catalog = GlueCatalog("default", lake=LAKE)
    catalog.upsert_table(
        "refined_quotes", location="refined/quotes/", columns=COLUMNS, partition_keys=KEYS
    )
    throttled = _Throttled(catalog.client)
    catalog._client = throttled
    waits: list[float] = []
    catalog.sleep = waits.append
    parts = [{"dt": "2021-01-04", "ticker": f"T{i:03d}"} for i in range(250)]
    catalog.add_partitions("refined_quotes", parts)
    # Per batch of 100 (then 50): refused, 90 in + 10 refused, the 10 again.
    assert throttled.calls == [100, 100, 10, 100, 100, 10, 50, 50, 10]
    assert len(waits) == 6 and catalog.retried == 30
    assert len(catalog.get_table("refined_quotes").partitions) == 250
    throttled.calls.clear()
    catalog.drop_partitions("refined_quotes", parts[:30])  # batches of 25: 25, then 5
    assert throttled.calls == [25, 25, 10, 5, 5]
    assert len(catalog.get_table("refined_quotes").partitions) == 220


def test_throttling_that_outlasts_the_retries_is_a_catalog_error(glue: Any) -> None:
    from botocore.exceptions import ClientError

    catalog = GlueCatalog("default", lake=LAKE)
    catalog.upsert_table(
        "refined_quotes", location="refined/quotes/", columns=COLUMNS, partition_keys=KEYS
    )

    class Always:
        def __init__(self, client: Any) -> None:
            self.client = client

        def __getattr__(self, name: str) -> Any:
            return getattr(self.client, name)

        def batch_create_partition(self, **kw: Any) -> Any:
            raise ClientError({"Error": {"Code": "ThrottlingException"}}, "BatchCreatePartition")

    catalog._client = Always(catalog.client)
    waits: list[float] = []
    catalog.sleep = waits.append
    with pytest.raises(CatalogError, match="ThrottlingException"):
        catalog.add_partitions("refined_quotes", [{"dt": "2021-01-04", "ticker": "T"}])
    assert len(waits) == 7  # 8 attempts
