"""A catalog kept as small JSON objects in the lake, sharded so that daily runs stay cheap.

Layout under ``_b3lake/catalog/<database>/``::

    <table>/table.json                          name, database, location, columns, partition_keys
    <table>/partitions/<key>=<value>.json       the partitions whose FIRST partition key is <value>

``refined_quotes`` (``dt``, ``ticker``) has one shard per session (~1,000 partitions), so a daily
run reads and writes a handful of small objects however many years the lake holds. Partitions of
a table without partition keys (or lacking the first key) are kept in ``partitions/_.json``.
Names and values are URL-encoded (``quote(…, safe="-_.~")``, a leading ``.`` as ``%2E``) so ``/``
or odd characters stay one safe object name. Two first-key values that differ only in case would
share a file on a case-insensitive filesystem; ``dt`` and ``month`` values never do.

Every write is conditional: ``upsert_table`` writes ``table.json`` only when its bytes change,
``add_partitions``/``drop_partitions`` read only the shards the given partitions fall in and
write only those whose bytes change (a shard emptied by a drop is deleted), so a re-run leaves
every object untouched. The bytes are deterministic: ``table.json`` is ``json.dumps(…,
sort_keys=True, indent=1)``, a shard is a JSON list with one ``json.dumps(p, sort_keys=True)``
partition per line, sorted by that text. ``get_table`` reads the shards from a small thread pool
and returns every partition sorted by that same text, as the single document did.

A lake made by an earlier version kept the whole database in one document,
``_b3lake/catalog/<database>.json``. The first catalog call on such a lake converts it: each table
that has no ``table.json`` yet gets its shards and then its ``table.json`` (last, so an interrupted
conversion is resumed by the next call), then the old document is deleted.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from typing import Any
from urllib.parse import quote, unquote

from b3lake.catalog import Column, TableInfo
from b3lake.errors import CatalogError
from b3lake.keyspace import SYSTEM
from b3lake.storage import Storage

TABLE_FILE = "table.json"
PARTITIONS_DIR = "partitions"
UNKEYED_SHARD = "_"  # the shard of a table without partition keys
READ_THREADS = 8  # shards are read concurrently (object stores answer each GET slowly)


def _segment(text: object) -> str:
    """``text`` as one safe object-name segment (never ``.``, ``..`` or a hidden name)."""
    safe = quote(str(text), safe="-_.~")
    return "%2E" + safe[1:] if safe.startswith(".") else safe


def _canonical(partition: dict[str, Any]) -> str:
    return json.dumps(partition, sort_keys=True)


def _render_shard(lines: Iterable[str]) -> bytes:
    """A shard's bytes: a JSON list, one canonical partition per line, sorted."""
    return ("[\n" + ",\n".join(sorted(lines)) + "\n]\n").encode()


def _shard_lines(data: bytes, count: int) -> list[bytes] | None:
    """The partition lines of a shard in the form ``_render_shard`` writes (``count`` of them,
    strictly sorted), or None if it is not in that form."""
    if count == 0 or not (data.startswith(b"[\n") and data.endswith(b"\n]\n")):
        return None
    body = data[2:-3].split(b",\n")
    if len(body) != count or len(set(body)) != count or body != sorted(body):
        return None
    return body


def _sorted_partitions(
    shards: Iterable[tuple[bytes, list[dict[str, Any]]]],
) -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for _, partitions in shards:
        for p in partitions:
            found[_canonical(p)] = p
    return [found[k] for k in sorted(found)]


def _render_table(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode()


class LocalCatalog:
    def __init__(self, storage: Storage, database: str = "default") -> None:
        self.storage = storage
        self.database = database
        self._root = f"{SYSTEM}/catalog/{_segment(database)}/"
        self._legacy_key = f"{SYSTEM}/catalog/{database}.json"  # the single document of old lakes
        self._legacy_checked = False

    # -- keys ------------------------------------------------------------------------------

    def _table_dir(self, name: str) -> str:
        return f"{self._root}{_segment(name)}/"

    def _table_key(self, name: str) -> str:
        return self._table_dir(name) + TABLE_FILE

    def _partitions_prefix(self, name: str) -> str:
        return f"{self._table_dir(name)}{PARTITIONS_DIR}/"

    def _shard_key(self, name: str, shard_by: str | None, partition: dict[str, Any]) -> str:
        if shard_by is None or shard_by not in partition:
            shard = UNKEYED_SHARD
        else:
            shard = f"{_segment(shard_by)}={_segment(partition[shard_by])}"
        return f"{self._partitions_prefix(name)}{shard}.json"

    @staticmethod
    def _shard_by(table: dict[str, Any]) -> str | None:
        keys = table.get("partition_keys") or []
        return str(keys[0]["name"]) if keys else None

    # -- reading ---------------------------------------------------------------------------

    def _table_names(self) -> list[str]:
        names = []
        for key in self.storage.list_keys(self._root):
            parts = key[len(self._root) :].split("/")
            if len(parts) == 2 and parts[1] == TABLE_FILE:
                names.append(unquote(parts[0]))
        return sorted(names)

    def _load_table(self, name: str) -> dict[str, Any]:
        self._migrate()
        key = self._table_key(name)
        if not self.storage.exists(key):
            known = ", ".join(self._table_names()) or "none yet"
            raise CatalogError(
                f"unknown table in database {self.database} (known: {known})", source=name
            )
        table: dict[str, Any] = json.loads(self.storage.get_bytes(key))
        return table

    def _read_shard(self, key: str) -> tuple[bytes, list[dict[str, Any]]]:
        data = self.storage.get_bytes(key)
        partitions: list[dict[str, Any]] = json.loads(data)
        return data, partitions

    def _read_shards(self, keys: list[str]) -> list[tuple[bytes, list[dict[str, Any]]]]:
        if len(keys) <= 1:
            return [self._read_shard(k) for k in keys]
        with ThreadPoolExecutor(max_workers=min(READ_THREADS, len(keys))) as pool:
            return list(pool.map(self._read_shard, keys))

    def _all_partitions(self, name: str) -> list[dict[str, Any]]:
        """Every partition of every shard, deduplicated, sorted by its canonical JSON text.

        Shards as this class writes them are sorted lists of canonical lines, and when the first
        partition key is also the first in JSON key order (``dt`` of ``dt``/``ticker``) they do
        not overlap: then ordering the shards by their first line is the whole sort. Anything else
        (overlapping or hand-edited shards) takes the general sort.
        """
        shards = self._read_shards(self.storage.list_keys(self._partitions_prefix(name)))
        ranges = []
        for data, partitions in shards:
            lines = _shard_lines(data, len(partitions))
            if lines is None:
                return _sorted_partitions(shards)
            if lines:
                ranges.append((lines[0], lines[-1], partitions))
        ranges.sort(key=lambda r: r[0])
        if any(a[1] >= b[0] for a, b in zip(ranges, ranges[1:], strict=False)):
            return _sorted_partitions(shards)
        return [p for _, _, partitions in ranges for p in partitions]

    # -- writing ---------------------------------------------------------------------------

    def _load_shard(self, key: str) -> tuple[bytes | None, set[str]]:
        """A shard's bytes (None if absent) and its partitions as canonical JSON texts."""
        if not self.storage.exists(key):
            return None, set()
        data, partitions = self._read_shard(key)
        return data, {_canonical(p) for p in partitions}

    def _group(
        self, name: str, shard_by: str | None, partitions: Iterable[dict[str, Any]]
    ) -> dict[str, set[str]]:
        """Canonical partition texts by the key of the shard they belong in."""
        groups: dict[str, set[str]] = defaultdict(set)
        for p in partitions:
            groups[self._shard_key(name, shard_by, p)].add(_canonical(p))
        return groups

    def _save_shard(self, key: str, old: bytes | None, lines: set[str]) -> None:
        """Write a shard only if its bytes change; delete it when it has no partition left."""
        if not lines:
            if old is not None:
                self.storage.delete_keys([key])
            return
        data = _render_shard(lines)
        if data != old:
            self.storage.put_bytes(key, data)

    def _merge(self, groups: dict[str, set[str]]) -> None:
        """Add each group's partitions to its shard."""
        for key in sorted(groups):
            old, lines = self._load_shard(key)
            self._save_shard(key, old, lines | groups[key])

    # -- migration from the single document ------------------------------------------------

    def _migrate(self) -> None:
        if self._legacy_checked:
            return
        self._legacy_checked = True
        if not self.storage.exists(self._legacy_key):
            return
        doc = json.loads(self.storage.get_bytes(self._legacy_key))
        for name, old in sorted(doc.get("tables", {}).items()):
            if self.storage.exists(self._table_key(name)):
                continue  # converted already (table.json is written after its shards)
            table = {k: v for k, v in old.items() if k != "partitions"}
            # Merged with what an interrupted conversion may have left in a shard.
            self._merge(self._group(name, self._shard_by(table), old.get("partitions", [])))
            self.storage.put_bytes(self._table_key(name), _render_table(table))
        self.storage.delete_keys([self._legacy_key])

    # -- the port --------------------------------------------------------------------------

    def upsert_table(
        self,
        name: str,
        *,
        location: str,
        columns: list[Column],
        partition_keys: list[Column],
        parameters: dict[str, str] | None = None,
    ) -> None:
        """Write ``table.json`` if it changes; partitions are kept (re-sharded if the first key changes)."""
        self._migrate()
        key = self._table_key(name)
        table: dict[str, Any] = {
            "name": name,
            "database": self.database,
            "location": location,
            "columns": [asdict(c) for c in columns],
            "partition_keys": [asdict(c) for c in partition_keys],
        }
        if parameters:  # absent when empty: table.json of other tables keeps its bytes
            table["parameters"] = dict(sorted(parameters.items()))
        data = _render_table(table)
        old = self.storage.get_bytes(key) if self.storage.exists(key) else None
        if data == old:
            return
        if old is not None and self._shard_by(json.loads(old)) != self._shard_by(table):
            self._reshard(name, self._shard_by(table))
        self.storage.put_bytes(key, data)

    def _reshard(self, name: str, shard_by: str | None) -> None:
        """Move every partition to the shards of a new first partition key."""
        before = set(self.storage.list_keys(self._partitions_prefix(name)))
        groups = self._group(name, shard_by, self._all_partitions(name))
        for key in sorted(groups):
            self._save_shard(key, self._load_shard(key)[0], groups[key])
        obsolete = sorted(before - set(groups))
        if obsolete:
            self.storage.delete_keys(obsolete)

    def add_partitions(self, name: str, partitions: list[dict[str, str]]) -> None:
        shard_by = self._shard_by(self._load_table(name))
        self._merge(self._group(name, shard_by, partitions))

    def drop_partitions(self, name: str, partitions: list[dict[str, str]]) -> None:
        shard_by = self._shard_by(self._load_table(name))
        groups = self._group(name, shard_by, partitions)
        for key in sorted(groups):
            old, lines = self._load_shard(key)
            if old is not None:
                self._save_shard(key, old, lines - groups[key])

    def _info(self, table: dict[str, Any], partitions: bool = True) -> TableInfo:
        return TableInfo(
            name=table["name"],
            database=table["database"],
            location=table["location"],
            columns=[Column(**c) for c in table["columns"]],
            partition_keys=[Column(**c) for c in table["partition_keys"]],
            parameters=dict(table.get("parameters", {})),
            partitions=self._all_partitions(table["name"]) if partitions else [],
        )

    def get_table(self, name: str, *, partitions: bool = True) -> TableInfo:
        return self._info(self._load_table(name), partitions)

    def list_tables(self, *, partitions: bool = True) -> list[TableInfo]:
        self._migrate()
        return [self.get_table(name, partitions=partitions) for name in self._table_names()]
