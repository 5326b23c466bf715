"""The adapters every contract suite runs over, local and AWS (moto) alike, like dlt's
``destinations_configs()``: one list per port, each entry a name and a factory; a suite takes
the parametrised fixture and never knows which adapter it got.

AWS adapters run against moto in-process (``mock_aws``): the same boto3 calls as against AWS, no
network. Athena runs no SQL in moto: its factory injects the rows the local engine computes for
the same statement, so the suite checks the port's shape (names, Arrow types, errors) on both.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The suite runs with --import-mode=importlib: make ``import contract_adapters`` work here.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from contract_adapters import JOB, LAKE, Adapter  # noqa: E402


@pytest.fixture
def aws() -> Iterator[None]:
    from moto import mock_aws

    with mock_aws():
        import boto3

        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="b3lake-contract")
        yield


# --------------------------------------------------------------------------------- storage
def _local_storage(tmp_path: Path) -> Any:
    from b3lake.storage import storage_for

    return storage_for(str(tmp_path / "lake"))


def _s3_storage(tmp_path: Path, endpoint: str | None = None) -> Any:
    from b3lake.storage import storage_for

    return storage_for(LAKE, endpoint_url=endpoint)


STORAGES: dict[str, Callable[..., Any]] = {"local": _local_storage, "s3": _s3_storage}


@pytest.fixture
def s3_server(moto_server: str) -> str:
    """moto's server (HTTP on loopback), emptied, with the lake bucket: pyarrow's S3 filesystem
    (C++) cannot see the in-process mock, so S3Storage is tested against the server."""
    import json
    import urllib.request

    request = urllib.request.Request(
        moto_server + "/moto-api/reset", data=json.dumps({}).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - loopback only
        pass
    import boto3

    boto3.client("s3", endpoint_url=moto_server).create_bucket(Bucket="b3lake-contract")
    return moto_server


@pytest.fixture(params=sorted(STORAGES))
def storage_adapter(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Adapter]:
    if request.param == "s3":
        endpoint = request.getfixturevalue("s3_server")
        yield Adapter("s3", _s3_storage(tmp_path, endpoint), aws=True)
        return
    yield Adapter("local", _local_storage(tmp_path))


# --------------------------------------------------------------------------------- catalog
@pytest.fixture(params=["local", "glue"])
def catalog_adapter(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Adapter]:
    from b3lake.catalog import catalog_for

    kind = "s3" if request.param == "glue" else "local"
    if kind == "s3":
        request.getfixturevalue("aws")
    storage = STORAGES[kind](tmp_path)
    yield Adapter(
        request.param, catalog_for(storage, "contract"), storage=storage, aws=kind == "s3"
    )


# -------------------------------------------------------------------------------- launcher
def _job(argv: list[str]) -> dict[str, Any]:
    return {"argv_length": len(argv)}


@pytest.fixture(params=["local", "glue"])
def launcher_adapter(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Adapter]:
    if request.param == "local":
        from b3lake.launchers.local import LocalLauncher
        from b3lake.storage.local import LocalStorage

        yield Adapter("local", LocalLauncher(LocalStorage(tmp_path / "lake"), job_main=_job))
        return
    request.getfixturevalue("aws")
    import boto3

    from b3lake.launchers.glue import GlueLauncher

    boto3.client("glue", region_name="us-east-1").create_job(
        Name=JOB,
        Role="arn:aws:iam::123456789012:role/b3lake-glue",
        Command={"Name": "glueetl", "ScriptLocation": "s3://scripts/glue_refine.py"},
        GlueVersion="5.0",
    )
    yield Adapter("glue", GlueLauncher(), aws=True)


# ---------------------------------------------------------------------------- query engine
class _AthenaWithInjectedResults:
    """Athena over moto, each result injected first: what DuckDB computes for the same SQL
    over the same lake, in Athena's result format (moto has no SQL engine)."""

    def __init__(self, engine: Any, reference: Any) -> None:
        self.engine = engine
        self.reference = reference

    def query(self, sql: str) -> Any:
        from b3lake.errors import QueryError

        try:
            expected = self.reference.query(sql)
        except QueryError:
            raise  # Athena would refuse it too (unknown table, bad SQL)
        _inject_athena_result(expected)
        return self.engine.query(sql)


_ATHENA_TYPES = {
    "string": "varchar",
    "int64": "bigint",
    "int32": "integer",
    "double": "double",
    "date32[day]": "date",
    "bool": "boolean",
}


def _inject_athena_result(table: Any) -> None:
    import boto3

    columns = [
        {"Name": f.name, "Label": f.name, "Type": _ATHENA_TYPES[str(f.type)]} for f in table.schema
    ]
    header = {"Data": [{"VarCharValue": f.name} for f in table.schema]}
    rows = [
        {"Data": [{} if v is None else {"VarCharValue": str(v)} for v in row.values()]}
        for row in table.to_pylist()
    ]
    account = boto3.client("sts", region_name="us-east-1").get_caller_identity()["Account"]
    from moto.athena.models import QueryResults, athena_backends

    athena_backends[account]["us-east-1"].query_results_queue.append(
        QueryResults(rows=[header, *rows], column_info=columns)
    )


@pytest.fixture(params=["duckdb", "athena"])
def query_adapter(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Adapter]:
    from b3lake.catalog.local import LocalCatalog
    from b3lake.query.duckdb import DuckDBQueryEngine
    from b3lake.storage.local import LocalStorage

    storage = LocalStorage(tmp_path / "lake")
    duck = DuckDBQueryEngine(storage, LocalCatalog(storage, "contract"))
    if request.param == "duckdb":
        yield Adapter("duckdb", duck, storage=storage)
        return
    request.getfixturevalue("aws")
    import boto3

    from b3lake.query.athena import AthenaQueryEngine

    boto3.client("athena", region_name="us-east-1").create_work_group(
        Name="b3lake",
        Configuration={"ResultConfiguration": {"OutputLocation": "s3://b3lake-contract/athena/"}},
    )
    athena = AthenaQueryEngine(workgroup="b3lake", database="contract", poll_interval=0)
    yield Adapter("athena", _AthenaWithInjectedResults(athena, duck), storage=storage, aws=True)
