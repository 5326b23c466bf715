"""Offline AWS for the adapter tests: fake credentials, no host AWS config, and moto either
in-process (``mock_aws``) or as a real HTTP server on loopback (for pyarrow and end-to-end)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable

import pytest


@pytest.fixture
def moto_endpoint(moto_server: str) -> str:
    """The server, reset to empty for this test."""
    _moto_post(moto_server, "/moto-api/reset", {})
    return moto_server


@pytest.fixture
def moto_api() -> Callable[[str, str, object], int]:
    """POST to moto's own API (``/moto-api/...``): reset, inject Athena results."""
    return _moto_post


def _moto_post(endpoint: str, path: str, body: object) -> int:
    request = urllib.request.Request(
        endpoint + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
        return int(response.status)
