"""The JSON S3 sends to Lambda for ``s3:ObjectCreated:Put``, and its parser.

Shape per the S3 docs (event structure version 2.1); keys are URL-encoded as S3 does
(spaces become ``+``), so the trigger must decode them with ``unquote_plus``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from b3lake.errors import EventError


@dataclass(frozen=True)
class S3ObjectRef:
    bucket: str
    key: str
    size: int
    event_name: str
    etag: str = ""  # the object's ETag as S3 announces it (quotes stripped)


def object_created_event(
    bucket: str,
    key: str,
    size: int,
    *,
    etag: str | None = None,
    event_time: dt.datetime | None = None,
    region: str = "us-east-1",
) -> dict[str, Any]:
    """One ``ObjectCreated:Put`` notification with one record."""
    when = event_time or dt.datetime.now(dt.UTC)
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": when.strftime("%Y-%m-%dT%H:%M:%S.")
                + f"{when.microsecond // 1000:03d}Z",
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "b3lake-local"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {
                    "x-amz-request-id": uuid.uuid4().hex[:16].upper(),
                    "x-amz-id-2": uuid.uuid4().hex,
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "b3lake-raw-created",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "b3lake-local"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": {
                        "key": quote_plus(key, safe="/-_.~"),
                        "size": size,
                        "eTag": etag or hashlib.md5(key.encode()).hexdigest(),
                        "sequencer": f"{int(when.timestamp() * 1e6):016X}",
                    },
                },
            }
        ]
    }


def parse_s3_event(event: Any) -> list[S3ObjectRef]:
    """The object references of an S3 notification; EventError if it is not one."""
    if not isinstance(event, dict) or not isinstance(event.get("Records"), list):
        raise EventError("not an S3 notification: no Records list", source="event")
    refs = []
    for i, record in enumerate(event["Records"]):
        where = f"event.Records[{i}]"
        try:
            if record.get("eventSource") != "aws:s3":
                raise EventError(
                    "eventSource is not aws:s3", source=where, value=record.get("eventSource")
                )
            s3 = record["s3"]
            refs.append(
                S3ObjectRef(
                    bucket=str(s3["bucket"]["name"]),
                    key=unquote_plus(str(s3["object"]["key"])),
                    size=int(s3["object"].get("size", 0)),
                    event_name=str(record.get("eventName", "")),
                    etag=str(s3["object"].get("eTag") or "").strip('"'),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise EventError(f"malformed S3 record: missing {exc}", source=where) from exc
    return refs
