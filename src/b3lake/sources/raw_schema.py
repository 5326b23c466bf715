"""Projections of the sources' raw schemas, for readers of the raw objects (the refine job).

Kept out of :mod:`b3lake.sources.registry` on purpose: the registry is read by the trigger Lambda
whose zip carries only the standard library and boto3, and this
module needs pyarrow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from b3lake.sources.registry import get

if TYPE_CHECKING:
    import pyarrow as pa


def raw_columns(name: str, columns: str | Sequence[str]) -> pa.Schema:
    """A projection of a source's raw schema (``columns``: names, or one space-separated string),
    with every field nullable: what a reader of the raw objects (the refine job) asks for."""
    import pyarrow as pa

    raw = get(name).raw_schema()
    names = columns.split() if isinstance(columns, str) else list(columns)
    return pa.schema([pa.field(n, raw.field(n).type) for n in names])
