"""One boto3 client factory: every AWS call goes through it, so one ``endpoint_url``
(moto server, LocalStack) and one optional ``boto3.Session`` redirect the whole pipeline."""

from __future__ import annotations

import os
from typing import Any


def client(
    service: str,
    *,
    endpoint_url: str | None = None,
    session: Any = None,
    region: str | None = None,
) -> Any:
    import boto3

    session = session or boto3.session.Session()
    endpoint_url = endpoint_url or os.environ.get("B3LAKE_AWS_ENDPOINT_URL") or None
    region = region or session.region_name or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return session.client(service, endpoint_url=endpoint_url, region_name=region)
