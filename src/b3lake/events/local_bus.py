"""Delivers S3-shaped notifications to the trigger Lambda handler, in-process.

The local lake is the pseudo-bucket ``b3lake-local``; the handler gets a context that carries the
local launcher, where AWS would hand it a LambdaContext and it would use the Glue client.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from b3lake.events.s3_event import object_created_event
from b3lake.lake.layout import lake_location
from b3lake.lambdas import trigger


@dataclass
class LocalLambdaContext:
    """The parts of a LambdaContext the handler may read, plus the b3lake hooks."""

    b3lake_config: trigger.TriggerConfig
    b3lake_launcher: Any
    function_name: str = "b3lake-trigger"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


class LocalEventBus:
    def __init__(self, config: trigger.TriggerConfig, launcher: Any) -> None:
        self.config = config
        self.launcher = launcher
        self.bucket, self.prefix = lake_location(config.lake)
        self.delivered: list[dict[str, Any]] = []
        self.results: list[dict[str, Any]] = []

    def notify(self, key: str, size: int) -> None:
        event = object_created_event(self.bucket, f"{self.prefix}{key}", size, etag=self._etag(key))
        self.delivered.append(event)
        context = LocalLambdaContext(self.config, self.launcher)
        self.results.append(trigger.handler(event, context))

    def _etag(self, key: str) -> str | None:
        """The object's fingerprint, as S3 would put its ETag in the event (``list_etags``)."""
        storage = getattr(self.launcher, "storage", None)
        lister = getattr(storage, "list_etags", None)
        return lister(key).get(key) if lister is not None else None

    def batch(self) -> Any:
        """A batch of notifications: runs the launcher starts meanwhile wait for its end."""
        from contextlib import nullcontext

        batch = getattr(self.launcher, "batch", None)
        return batch() if batch is not None else nullcontext()
