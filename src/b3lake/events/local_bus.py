"""Delivers S3-shaped notifications in-process, as S3 → Lambda would.

The local lake is the pseudo-bucket ``b3lake-local``. The bus knows nothing of who receives the
event: the local backend (``b3lake.backends.LocalBackend``) hands it the trigger Lambda's handler
with a context carrying the local launcher, where AWS would hand the handler a LambdaContext and
it would use the Glue client. So ``events`` imports nothing above it.

Two optional hooks, also handed in by the backend: ``etag(key)`` puts the object's fingerprint in
the event as S3 puts its ETag (the trigger skips objects the refined layer already consumed), and
``batch()`` opens a batch of notifications during which the runs the launcher is asked to start
wait for the batch's end (a burst of raw objects costs one coalesced run, not one run each).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from b3lake.events.s3_event import object_created_event
from b3lake.keyspace import lake_location

#: What receives an event: ``handler(event) -> result`` (the trigger, bound to its context).
Deliver = Callable[[dict[str, Any]], dict[str, Any]]


class LocalEventBus:
    def __init__(
        self,
        lake: str,
        deliver: Deliver,
        *,
        etag: Callable[[str], str | None] | None = None,
        batch: Callable[[], AbstractContextManager[Any]] | None = None,
    ) -> None:
        self.deliver = deliver
        self._etag = etag
        self._batch = batch
        self.bucket, self.prefix = lake_location(lake)
        self.delivered: list[dict[str, Any]] = []
        self.results: list[dict[str, Any]] = []

    def notify(self, key: str, size: int) -> None:
        """Announce a committed object (the raw writer calls it after each commit)."""
        etag = self._etag(key) if self._etag is not None else None
        event = object_created_event(self.bucket, f"{self.prefix}{key}", size, etag=etag)
        self.delivered.append(event)
        self.results.append(self.deliver(event))

    def batch(self) -> AbstractContextManager[Any]:
        """A batch of notifications: runs the launcher starts meanwhile wait for its end."""
        return self._batch() if self._batch is not None else nullcontext()
