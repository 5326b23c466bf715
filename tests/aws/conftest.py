"""Offline AWS for the adapter tests: fake credentials, no host AWS config, and moto either
in-process (``mock_aws``) or as a real HTTP server on loopback (for pyarrow and end-to-end)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from moto_support import moto_post, reset_moto


@pytest.fixture
def moto_endpoint(moto_server: str) -> str:
    """The server, reset to empty for this test."""
    reset_moto(moto_server)
    return moto_server


@pytest.fixture
def moto_api() -> Callable[[str, str, object], int]:
    """POST to moto's own API (``/moto-api/...``): reset, inject Athena results."""
    return moto_post
