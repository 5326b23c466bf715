"""Lands raw tables in the lake: atomic, idempotent, one event per committed object.

Idempotence: each object carries a content hash (of its rows, lineage timestamp excluded) in its
Parquet metadata. Writing the same rows again changes nothing and fires nothing; a corrected
file replaces the day's object and fires a new event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from b3lake.catalog import Catalog, Column
from b3lake.catalog.schema import columns_from_arrow
from b3lake.lake.layout import raw_key, raw_prefix
from b3lake.storage import Storage

if TYPE_CHECKING:
    import pyarrow as pa

HASH_KEY = b"b3lake.content_sha256"
LINEAGE_TIME = "ingested_at"

#: Called after an object is committed, with its key and size (the S3 notification's content).
Notify = Callable[[str, int], None]


@dataclass
class RawWrite:
    key: str
    rows: int
    size: int
    written: bool  # False when the lake already held the same rows


def content_hash(table: pa.Table) -> str:
    """SHA-256 of the rows in Arrow IPC form, without the ingestion timestamp."""
    import pyarrow as pa

    if LINEAGE_TIME in table.column_names:
        table = table.drop_columns([LINEAGE_TIME])
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue()).hexdigest()


def _stored_hash(storage: Storage, key: str) -> str | None:
    import pyarrow.parquet as pq

    if not storage.exists(key):
        return None
    try:
        meta = pq.read_metadata(io.BytesIO(storage.get_bytes(key))).metadata or {}
    except Exception:  # noqa: BLE001 - an unreadable object is simply replaced
        return None
    value = meta.get(HASH_KEY)
    return value.decode() if value else None


def _merge(old: pa.Table, new: pa.Table, key: str) -> pa.Table:
    import pyarrow as pa
    import pyarrow.compute as pc

    old = old.replace_schema_metadata(None).select(new.column_names).cast(new.schema)
    kept = old.filter(pc.invert(pc.is_in(old[key], value_set=pc.unique(new[key]))))
    merged = pa.concat_tables([kept, new.replace_schema_metadata(None)])
    order = [(key, "ascending")] + [
        (c, "ascending") for c in ("date", "line_number") if c in merged.column_names
    ]
    return merged.sort_by(order)


class RawWriter:
    def __init__(
        self, storage: Storage, *, notify: Notify | None = None, catalog: Catalog | None = None
    ) -> None:
        self.storage = storage
        self.notify = notify
        self.catalog = catalog

    def write(
        self,
        source: str,
        day: dt.date,
        table: pa.Table,
        name: str = "part-0",
        *,
        merge_on: str | None = None,
    ) -> RawWrite:
        """Land one day's rows. With ``merge_on``, rows already in the object whose key is not in
        ``table`` are kept (e.g. yfinance tickers extracted on another run), the rest replaced."""
        import pyarrow.parquet as pq

        key = raw_key(source, day, name)
        if merge_on is not None and self.storage.exists(key):
            table = _merge(pq.read_table(io.BytesIO(self.storage.get_bytes(key))), table, merge_on)
        digest = content_hash(table)
        if _stored_hash(self.storage, key) == digest:
            return RawWrite(key=key, rows=table.num_rows, size=0, written=False)
        schema_meta = dict(table.schema.metadata or {})
        schema_meta[HASH_KEY] = digest.encode()
        sink = io.BytesIO()
        pq.write_table(table.replace_schema_metadata(schema_meta), sink, compression="zstd")
        data = sink.getvalue()
        # Catalog first, then the object: a refused or failed registration leaves no object, so
        # the retry (same rows, same hash) still registers; the object's own event comes last.
        self._catalog(source, table, day)
        self.storage.put_bytes(key, data)
        if self.notify is not None:
            self.notify(key, len(data))
        return RawWrite(key=key, rows=table.num_rows, size=len(data), written=True)

    def _catalog(self, source: str, table: pa.Table, day: dt.date) -> None:
        """Raw tables are queryable by name too (``raw_cotahist`` …), partitioned by dt."""
        if self.catalog is None:
            return
        name = f"raw_{source}"
        self.catalog.upsert_table(
            name,
            location=raw_prefix(source),
            columns=columns_from_arrow(table.schema, exclude=("dt",)),
            partition_keys=[Column("dt", "date")],
        )
        self.catalog.add_partitions(name, [{"dt": day.isoformat()}])
