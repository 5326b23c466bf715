"""Delivers S3-shaped notifications in-process, as S3 → Lambda would.

The local lake is the pseudo-bucket ``b3lake-local``. The bus knows nothing of who receives the
event: the local backend (``b3lake.backends.LocalBackend``) hands it the trigger Lambda's handler
with a context carrying the local launcher, where AWS would hand the handler a LambdaContext and
it would use the Glue client. So ``events`` imports nothing above it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from b3lake.events.s3_event import object_created_event
from b3lake.lake.layout import lake_location

#: What receives an event: ``handler(event) -> result`` (the trigger, bound to its context).
Deliver = Callable[[dict[str, Any]], dict[str, Any]]


class LocalEventBus:
    def __init__(self, lake: str, deliver: Deliver) -> None:
        self.deliver = deliver
        self.bucket, self.prefix = lake_location(lake)
        self.delivered: list[dict[str, Any]] = []
        self.results: list[dict[str, Any]] = []

    def notify(self, key: str, size: int) -> None:
        """Announce a committed object (the raw writer calls it after each commit)."""
        event = object_created_event(self.bucket, f"{self.prefix}{key}", size)
        self.delivered.append(event)
        self.results.append(self.deliver(event))
