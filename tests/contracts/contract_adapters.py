"""What the contract suites share: an adapter as a suite sees it, and the names they use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LAKE = "s3://b3lake-contract/lake"
JOB = "b3lake-refine"


@dataclass
class Adapter:
    """One adapter of a port, as a suite sees it."""

    name: str
    port: Any
    storage: Any = None  # the lake the adapter works in (catalog, query engine)
    aws: bool = False
