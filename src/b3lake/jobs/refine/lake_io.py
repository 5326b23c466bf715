"""Small helpers the refine job and its corporate-actions step share (raw listings, contracts).

A module of its own so that ``corporate_actions_job`` does not import ``job`` (which calls it):
no import cycle.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING

from b3lake.errors import JobError
from b3lake.lake import layout

if TYPE_CHECKING:
    import pyarrow as pa

    from b3lake.storage import Storage


def raw_index(storage: Storage, source: str) -> dict[dt.date, list[str]]:
    """``dt -> keys`` of a raw source, from a listing of ``raw/<source>/``."""
    found: dict[dt.date, list[str]] = defaultdict(list)
    for key in storage.list_keys(layout.raw_prefix(source)):
        try:
            obj = layout.parse_raw_key(key)
        except Exception:  # noqa: BLE001 - stray objects (markers, temp files) are not raw data
            continue
        found[obj.dt].append(key)
    return dict(found)


def conform(table: pa.Table, schema: pa.Schema, what: str) -> pa.Table:
    """``table`` in ``schema``'s column order and types; JobError if a type drifted."""
    missing = [n for n in schema.names if n not in table.column_names]
    if missing:
        raise JobError(f"engine output lacks columns {missing}", source=what)
    table = table.select(schema.names)
    for f in schema:
        got = table.schema.field(f.name).type
        if got != f.type:
            raise JobError(f"column {f.name} is {got}, the contract says {f.type}", source=what)
    return table.cast(schema)
