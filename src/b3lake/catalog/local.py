"""A catalog kept as one JSON document in the lake (``_b3lake/catalog/<database>.json``)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from b3lake.catalog import Column, TableInfo
from b3lake.errors import CatalogError
from b3lake.lake.layout import SYSTEM
from b3lake.storage import Storage


class LocalCatalog:
    def __init__(self, storage: Storage, database: str = "default") -> None:
        self.storage = storage
        self.database = database
        self._key = f"{SYSTEM}/catalog/{database}.json"

    def _load(self) -> dict[str, Any]:
        if not self.storage.exists(self._key):
            return {"database": self.database, "tables": {}}
        return json.loads(self.storage.get_bytes(self._key))

    def _save(self, doc: dict[str, Any]) -> None:
        self.storage.put_bytes(self._key, json.dumps(doc, indent=1, sort_keys=True).encode())

    def upsert_table(
        self, name: str, *, location: str, columns: list[Column], partition_keys: list[Column]
    ) -> None:
        doc = self._load()
        old = doc["tables"].get(name, {})
        doc["tables"][name] = {
            "name": name,
            "database": self.database,
            "location": location,
            "columns": [asdict(c) for c in columns],
            "partition_keys": [asdict(c) for c in partition_keys],
            "partitions": old.get("partitions", []),
        }
        self._save(doc)

    def _table_doc(self, doc: dict[str, Any], name: str) -> dict[str, Any]:
        try:
            table: dict[str, Any] = doc["tables"][name]
            return table
        except KeyError:
            known = ", ".join(sorted(doc["tables"])) or "none yet"
            raise CatalogError(
                f"unknown table in database {self.database} (known: {known})", source=name
            ) from None

    def add_partitions(self, name: str, partitions: list[dict[str, str]]) -> None:
        doc = self._load()
        table = self._table_doc(doc, name)
        seen = {json.dumps(p, sort_keys=True) for p in table["partitions"]}
        seen |= {json.dumps(p, sort_keys=True) for p in partitions}
        table["partitions"] = [json.loads(p) for p in sorted(seen)]
        self._save(doc)

    def drop_partitions(self, name: str, partitions: list[dict[str, str]]) -> None:
        doc = self._load()
        table = self._table_doc(doc, name)
        gone = {json.dumps(p, sort_keys=True) for p in partitions}
        table["partitions"] = [
            p for p in table["partitions"] if json.dumps(p, sort_keys=True) not in gone
        ]
        self._save(doc)

    @staticmethod
    def _info(data: dict[str, Any]) -> TableInfo:
        return TableInfo(
            name=data["name"],
            database=data["database"],
            location=data["location"],
            columns=[Column(**c) for c in data["columns"]],
            partition_keys=[Column(**c) for c in data["partition_keys"]],
            partitions=list(data["partitions"]),
        )

    def get_table(self, name: str) -> TableInfo:
        return self._info(self._table_doc(self._load(), name))

    def list_tables(self) -> list[TableInfo]:
        return [self._info(t) for _, t in sorted(self._load()["tables"].items())]
