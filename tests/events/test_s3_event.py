from __future__ import annotations

import json

import pytest

from b3lake.errors import EventError
from b3lake.events.s3_event import object_created_event, parse_s3_event


def test_shape_is_what_s3_sends() -> None:
    event = object_created_event("lake", "raw/cotahist/dt=2021-01-04/part 0.parquet", 123)
    record = event["Records"][0]
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["eventVersion"] == "2.1"
    assert record["eventTime"].endswith("Z")
    assert record["s3"]["bucket"]["name"] == "lake"
    assert record["s3"]["bucket"]["arn"] == "arn:aws:s3:::lake"
    # URL-encoded the way S3 does: '=' as %3D, space as '+'.
    assert record["s3"]["object"]["key"] == "raw/cotahist/dt%3D2021-01-04/part+0.parquet"
    assert record["s3"]["object"]["size"] == 123
    json.dumps(event)  # serialisable, as Lambda receives it
    (ref,) = parse_s3_event(event)
    assert ref.key == "raw/cotahist/dt=2021-01-04/part 0.parquet"


@pytest.mark.parametrize(
    "event",
    [
        None,
        {},
        {"Records": "x"},
        {"Records": [{"eventSource": "aws:sqs"}]},
        {"Records": [{"eventSource": "aws:s3"}]},
    ],
)
def test_malformed_events(event: object) -> None:
    with pytest.raises(EventError):
        parse_s3_event(event)
