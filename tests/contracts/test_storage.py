"""The Storage port's contract, on LocalStorage and S3Storage (moto) alike."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from contract_adapters import Adapter

from b3lake.errors import StorageError
from b3lake.lake import parquet_io
from b3lake.storage import Storage

KEY = "raw/cotahist/dt=2021-01-04/part-0.parquet"


def test_is_a_storage(storage_adapter: Adapter) -> None:
    assert isinstance(storage_adapter.port, Storage)


def test_put_get_exists_replace(storage_adapter: Adapter) -> None:
    s = storage_adapter.port
    assert not s.exists(KEY)
    s.put_bytes(KEY, b"one")
    assert s.exists(KEY) and s.get_bytes(KEY) == b"one"
    s.put_bytes(KEY, b"two")  # a whole-object replace
    assert s.get_bytes(KEY) == b"two"


def test_missing_object_is_a_storage_error(storage_adapter: Adapter) -> None:
    with pytest.raises(StorageError):
        storage_adapter.port.get_bytes("raw/none/part-0.parquet")


def test_list_is_sorted_and_by_prefix_delete_tolerates_missing(storage_adapter: Adapter) -> None:
    s = storage_adapter.port
    keys = [f"refined/quotes/dt=2021-01-0{d}/ticker=T/part-0.parquet" for d in (5, 4, 6)]
    for k in keys:
        s.put_bytes(k, b"x")
    s.put_bytes("refined/monthly/month=2021-01/part-0.parquet", b"m")
    s.put_bytes("refined/quotes_history/year=2021/part-0.parquet", b"h")
    assert s.list_keys("refined/quotes/") == sorted(keys)
    assert s.list_keys("refined/quotes/dt=2021-01-05/") == [sorted(keys)[1]]
    assert s.list_keys("nothing/") == []
    # A prefix is a string prefix, as S3's: it may end inside a name, at any depth.
    assert s.list_keys("refined/quotes/dt=2021-01-0") == sorted(keys)
    assert s.list_keys("refined/quotes/dt=2021-01-05/ticker=") == [sorted(keys)[1]]
    assert s.list_keys("refined/mo") == ["refined/monthly/month=2021-01/part-0.parquet"]
    history = "refined/quotes_history/year=2021/part-0.parquet"
    assert s.list_keys("refined/quotes") == sorted([*keys, history])  # a folder's name and more
    assert s.list_keys("refined/quotes/dt=2021-01-07") == []
    assert s.list_keys("refined/quotes/dt=2021-01-05/ticker=T/part-0.parquet") == [sorted(keys)[1]]
    s.delete_keys([keys[0], "refined/quotes/dt=2099-01-01/ticker=T/part-0.parquet"])
    assert s.list_keys("refined/quotes/") == sorted(keys[1:])


@pytest.mark.parametrize("key", ["/etc/passwd", "../x", "raw/../../x"])
def test_keys_cannot_escape_the_lake(storage_adapter: Adapter, key: str) -> None:
    with pytest.raises(StorageError):
        storage_adapter.port.put_bytes(key, b"x")


def test_uri_and_local_path_capability(storage_adapter: Adapter) -> None:
    s = storage_adapter.port
    uri = s.uri(KEY)
    assert uri.endswith(KEY)
    assert uri.startswith("s3://") == storage_adapter.aws == s.root.startswith("s3://")
    # Only a local directory lets other code (DuckDB, writer processes) touch the file itself.
    path = s.local_path(KEY)
    assert (path is None) == storage_adapter.aws
    if path is not None:
        s.put_bytes(KEY, b"local")
        with open(path, "rb") as fh:
            assert fh.read() == b"local"


def test_parquet_through_the_port_reads_back(storage_adapter: Adapter) -> None:
    s = storage_adapter.port
    table = pa.table({"x": [1, 2, 3]})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    s.put_bytes(KEY, sink.getvalue())
    assert parquet_io.read_keys(s, [KEY], table.schema).equals(table)


def test_etags_are_the_md5_of_the_content_on_every_adapter(storage_adapter: Adapter) -> None:
    """A fingerprint of the bytes (S3's single-PUT ETag): the same content, the same ETag, on
    both adapters, so a lake copied or synced between them has nothing pending."""
    import hashlib

    s = storage_adapter.port
    other = KEY.replace("2021-01-04", "2021-01-05")
    s.put_bytes(KEY, b"one")
    s.put_bytes(other, b"one")
    md5 = hashlib.md5(b"one", usedforsecurity=False).hexdigest()
    assert s.list_etags("raw/cotahist/") == {KEY: md5, other: md5}
    assert s.list_etags(KEY) == {KEY: md5}
    s.put_bytes(KEY, b"two")  # a replace changes it, a re-listing of the same bytes does not
    two = hashlib.md5(b"two", usedforsecurity=False).hexdigest()
    assert s.list_etags("raw/cotahist/") == {KEY: two, other: md5}
    assert s.list_etags("raw/cotahist/") == {KEY: two, other: md5}
