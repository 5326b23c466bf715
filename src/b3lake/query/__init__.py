"""QueryEngine port: SQL over the catalogued tables, by name.

DuckDB locally (``query.duckdb``), Athena in AWS (``query.athena``). Both accept SQL written for
Athena (Trino dialect); the local engine transpiles it with sqlglot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import pyarrow as pa


@runtime_checkable
class QueryEngine(Protocol):
    def query(self, sql: str) -> pa.Table:
        """Run one statement and return its result; QueryError with the engine's reason on failure."""
