"""A lake's address: ``(bucket, key prefix)`` (``b3lake.keyspace``)."""

from __future__ import annotations

from b3lake.keyspace import lake_location


def test_lake_location() -> None:
    assert lake_location("s3://my-lake") == ("my-lake", "")
    assert lake_location("s3://my-lake/b3/") == ("my-lake", "b3/")
    assert lake_location("/tmp/lake") == ("b3lake-local", "")
