"""S3Storage against moto: in-process (``mock_aws``) for the boto3 calls, and moto's server on
loopback for the pyarrow filesystem (pyarrow's C++ S3 client cannot be patched in-process)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from moto import mock_aws

from b3lake.errors import ConfigError, StorageError
from b3lake.storage import Storage
from b3lake.storage.s3 import S3Storage

pytestmark = pytest.mark.aws

BUCKET = "b3lake-test"


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def test_implements_the_port_and_keys_are_relative_to_the_prefix(s3: Any) -> None:
    storage = S3Storage(f"s3://{BUCKET}/lake/")
    assert isinstance(storage, Storage)
    assert storage.root == f"s3://{BUCKET}/lake"
    storage.put_bytes("raw/cotahist/dt=2021-01-04/part-0.parquet", b"abc")
    assert (
        s3.get_object(Bucket=BUCKET, Key="lake/raw/cotahist/dt=2021-01-04/part-0.parquet")[
            "Body"
        ].read()
        == b"abc"
    )
    assert storage.get_bytes("raw/cotahist/dt=2021-01-04/part-0.parquet") == b"abc"
    assert storage.exists("raw/cotahist/dt=2021-01-04/part-0.parquet")
    assert not storage.exists("raw/cotahist/dt=2021-01-05/part-0.parquet")
    assert storage.list_keys("raw/") == ["raw/cotahist/dt=2021-01-04/part-0.parquet"]
    assert storage.uri("raw/x.parquet") == f"s3://{BUCKET}/lake/raw/x.parquet"


def test_bucket_root_lake_without_prefix(s3: Any) -> None:
    storage = S3Storage(f"s3://{BUCKET}")
    assert storage.root == f"s3://{BUCKET}"
    storage.put_bytes("refined/quotes/dt=2021-01-04/ticker=PETR4/part-0.parquet", b"1")
    assert storage.list_keys("refined/quotes/") == [
        "refined/quotes/dt=2021-01-04/ticker=PETR4/part-0.parquet"
    ]
    assert storage.uri("a/b") == f"s3://{BUCKET}/a/b"


def test_put_replaces_the_whole_object(s3: Any) -> None:
    storage = S3Storage(f"s3://{BUCKET}/lake")
    storage.put_bytes("k.bin", b"old" * 1000)
    storage.put_bytes("k.bin", b"new")
    assert storage.get_bytes("k.bin") == b"new"


def test_missing_object_is_a_storage_error(s3: Any) -> None:
    storage = S3Storage(f"s3://{BUCKET}/lake")
    with pytest.raises(StorageError, match="object not found"):
        storage.get_bytes("raw/nope.parquet")


def test_missing_bucket_is_a_storage_error(s3: Any) -> None:
    storage = S3Storage("s3://no-such-bucket/lake")
    with pytest.raises(StorageError, match="NoSuchBucket"):
        storage.put_bytes("k", b"x")
    with pytest.raises(StorageError, match="NoSuchBucket"):
        storage.list_keys("")


@pytest.mark.parametrize("key", ["/abs/key", "raw/../x.parquet", "../escape", ""])
def test_keys_cannot_escape_the_lake(s3: Any, key: str) -> None:
    storage = S3Storage(f"s3://{BUCKET}/lake")
    with pytest.raises(StorageError):
        storage.put_bytes(key, b"x")


@pytest.mark.parametrize("lake", ["/tmp/lake", "s3://", "gs://bucket/x"])
def test_not_an_s3_lake(lake: str) -> None:
    with pytest.raises(ConfigError):
        S3Storage(lake)


def test_list_is_paginated_sorted_and_skips_folder_markers(s3: Any) -> None:
    storage = S3Storage(f"s3://{BUCKET}/lake")
    keys = [f"refined/quotes/dt=2021-01-04/ticker=T{i:04d}/part-0.parquet" for i in range(1205)]
    for key in keys:
        s3.put_object(Bucket=BUCKET, Key=f"lake/{key}", Body=b"")
    s3.put_object(Bucket=BUCKET, Key="lake/refined/quotes/", Body=b"")  # a folder marker
    s3.put_object(Bucket=BUCKET, Key="other/refined/quotes/x.parquet", Body=b"")  # not the lake
    calls: list[str] = []
    storage.client.meta.events.register(
        "before-call.s3.ListObjectsV2", lambda **kw: calls.append("list")
    )
    assert storage.list_keys("refined/quotes/") == sorted(keys)
    assert len(calls) == 2  # 1,000 keys a page
    assert storage.list_keys("refined/monthly/") == []


def test_delete_is_batched_by_1000_and_tolerates_missing_keys(s3: Any) -> None:
    storage = S3Storage(f"s3://{BUCKET}/lake")
    keys = [f"quarantine/q/dt=2021-01-04/part-{i}.parquet" for i in range(2001)]
    for key in keys[:10]:
        storage.put_bytes(key, b"x")
    sizes: list[int] = []
    storage.client.meta.events.register(
        "before-call.s3.DeleteObjects",
        lambda params, **kw: sizes.append(params["body"].count(b"<Key>")),
    )
    storage.delete_keys(keys)
    assert sizes == [1000, 1000, 1]
    assert storage.list_keys("quarantine/") == []
    storage.delete_keys([])  # nothing to do, no call
    assert len(sizes) == 3


def test_explicit_session_and_endpoint_are_used(s3: Any) -> None:
    session = boto3.session.Session(
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret", region_name="sa-east-1"
    )
    storage = S3Storage(f"s3://{BUCKET}/lake", session=session, endpoint_url="http://127.0.0.1:1")
    assert storage.client.meta.region_name == "sa-east-1"
    assert storage.client.meta.endpoint_url == "http://127.0.0.1:1"
    fs, base = storage.arrow_filesystem()
    assert base == f"{BUCKET}/lake"
    assert fs.region == "sa-east-1"


def test_endpoint_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("B3LAKE_AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    storage = S3Storage(f"s3://{BUCKET}")
    assert storage.client.meta.endpoint_url == "http://127.0.0.1:9"


# -- pyarrow over HTTP against moto's server ------------------------------------------------


def test_arrow_filesystem_reads_and_writes_the_same_keys(moto_server: str) -> None:
    moto_endpoint = moto_server
    boto3.client("s3", endpoint_url=moto_endpoint).create_bucket(Bucket=BUCKET)
    storage = S3Storage(f"s3://{BUCKET}/lake", endpoint_url=moto_endpoint)
    fs, base = storage.arrow_filesystem()
    table = pa.table(
        {
            "dt": ["2021-01-04", "2021-01-04", "2021-01-05"],
            "ticker": ["PETR4", "VALE3", "PETR4"],
            "close": [28.91, 61.1, 29.2],
        }
    )
    ds.write_dataset(
        table,
        f"{base}/refined/quotes",
        filesystem=fs,
        format="parquet",
        partitioning=["dt", "ticker"],
        partitioning_flavor="hive",
        basename_template="part-{i}.parquet",
        create_dir=False,
    )
    assert storage.list_keys("refined/quotes/") == [
        "refined/quotes/dt=2021-01-04/ticker=PETR4/part-0.parquet",
        "refined/quotes/dt=2021-01-04/ticker=VALE3/part-0.parquet",
        "refined/quotes/dt=2021-01-05/ticker=PETR4/part-0.parquet",
    ]
    # A file the boto3 side wrote is readable by pyarrow at base/key, and back.
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    storage.put_bytes("raw/cotahist/dt=2021-01-04/part-0.parquet", sink.getvalue().to_pybytes())
    back = pq.read_table(f"{base}/raw/cotahist/dt=2021-01-04/part-0.parquet", filesystem=fs)
    assert back.equals(table)
    read = ds.dataset(
        f"{base}/refined/quotes", filesystem=fs, format="parquet", partitioning="hive"
    ).to_table()
    assert read.num_rows == 3


# ---------------------------------------------------------------------------------------------
# S3's missing-key rule: 404 only with s3:ListBucket, else 403 (IAM enforced by tests/aws's guard)
# ---------------------------------------------------------------------------------------------
#: Its own bucket: moto's servers in one process share their state.
GUARDED_BUCKET = "b3lake-guarded"


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


_OBJECTS = {
    "Effect": "Allow",
    "Action": ["s3:GetObject", "s3:PutObject"],
    "Resource": f"arn:aws:s3:::{GUARDED_BUCKET}/*",
}
_LIST_PREFIX = {
    "Effect": "Allow",
    "Action": "s3:ListBucket",
    "Resource": f"arn:aws:s3:::{GUARDED_BUCKET}",
    "Condition": {"StringLike": {"s3:prefix": ["lake/raw/*"]}},
}
_LIST_ALL = {
    "Effect": "Allow",
    "Action": "s3:ListBucket",
    "Resource": f"arn:aws:s3:::{GUARDED_BUCKET}",
}
#: A role per case, in the guard's component slots (each slot is one set of credentials).
_ROLES = {
    "extract": ("objects-only", _policy(_OBJECTS)),
    "trigger": ("list-under-prefix", _policy(_OBJECTS, _LIST_PREFIX)),
    "glue": ("list-all", _policy(_OBJECTS, _LIST_ALL)),
}


@pytest.fixture(scope="module")
def guarded_s3() -> Iterator[str]:
    import socket
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "aws"))
    import iam_harness as H

    missing = H.simulator_missing()
    if missing:
        import os

        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the IAM evaluator cannot run: {missing}")
        pytest.skip(f"the IAM evaluator cannot run: {missing}")
    evaluator = H.Evaluator()
    roles = {slot: {"role": name, "policy": policy} for slot, (name, policy) in _ROLES.items()}
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = H.GuardedMotoServer(H.Guard(roles=roles, evaluator=evaluator), port)
    server.start()
    boto3.client("s3", endpoint_url=server.url).create_bucket(Bucket=GUARDED_BUCKET)
    try:
        yield server.url
    finally:
        server.stop()
        evaluator.close()


def _as(slot: str, endpoint: str) -> S3Storage:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "aws"))
    import iam_harness as H

    session = boto3.session.Session(
        aws_access_key_id=H.COMPONENT_KEYS[slot],
        aws_secret_access_key="secret",
        region_name="us-east-1",
    )
    return S3Storage(f"s3://{GUARDED_BUCKET}/lake/", endpoint_url=endpoint, session=session)


MISSING = "raw/cotahist/dt=2021-01-04/part-0.parquet"
PRESENT = "raw/cotahist/dt=2021-01-05/part-0.parquet"


@pytest.mark.parametrize("slot", ["trigger", "glue"])
def test_a_missing_key_is_missing_with_listbucket_on_its_prefix_or_the_bucket(
    guarded_s3: str, slot: str
) -> None:
    """403 (ListBucket only under s3:prefix) or 404 (ListBucket): exists is False either way."""
    storage = _as(slot, guarded_s3)
    storage.put_bytes(PRESENT, b"x")
    assert storage.exists(PRESENT)
    assert not storage.exists(MISSING)
    assert storage.get_if_exists(MISSING) is None
    with pytest.raises(StorageError, match="object not found"):
        storage.get_bytes(MISSING)
    assert storage.get_bytes(PRESENT) == b"x"


def test_without_any_listbucket_a_403_cannot_be_told_from_a_refusal(guarded_s3: str) -> None:
    storage = _as("extract", guarded_s3)
    storage.put_bytes(PRESENT, b"x")
    assert storage.exists(PRESENT)
    with pytest.raises(StorageError, match="whether it exists cannot be told"):
        storage.exists(MISSING)
