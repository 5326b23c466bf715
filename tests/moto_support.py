"""moto's server for the tests: a free loopback port and a reset of moto's own state.

Every moto server of the test process (the shared ``moto_server`` fixture, the Terraform tests'
``MotoServer``, the IAM guard's ``GuardedMotoServer``) shares the process's moto backends with
every earlier moto use (``mock_aws``, other servers): each starts empty, so what a test finds does
not depend on which test ran before it (under xdist the order differs from the serial one).
"""

from __future__ import annotations

import json
import socket
import urllib.request


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def moto_post(url: str, path: str, body: object) -> int:
    """POST ``body`` (JSON) to moto's own API (``/moto-api/...``); the HTTP status."""
    request = urllib.request.Request(
        url + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
        return int(response.status)


def reset_moto(url: str) -> None:
    """Empty moto's state (every service, every account) through the server at ``url``."""
    moto_post(url, "/moto-api/reset", {})
