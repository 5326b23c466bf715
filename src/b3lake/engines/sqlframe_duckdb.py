"""SQLFrame on an embedded DuckDB: the local engine (the PySpark API compiled to DuckDB SQL).

Data enter as Arrow tables read through the Storage port (``storage.arrow_filesystem()``), so
the same code reads a local directory or S3; DuckDB never opens a lake path itself.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from b3lake.engines import DataFrame

if TYPE_CHECKING:
    import pyarrow as pa

    from b3lake.storage import Storage

_ids = itertools.count()


class SQLFrameDuckDBEngine:
    name = "sqlframe_duckdb"

    def __init__(self, *, threads: int | None = None, memory_limit: str | None = None) -> None:
        from sqlframe.duckdb import DuckDBSession

        # SQLFrame sessions are a per-process singleton: every engine shares its connection (a
        # second DuckDBSession(conn=...) would silently keep the first one's). Inputs are views
        # with unique names, dropped by close().
        self.session: Any = DuckDBSession()
        self.conn: Any = self.session._conn
        if threads:
            self.conn.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            self.conn.execute(f"SET memory_limit = '{memory_limit}'")
        self.conn.execute("SET TimeZone = 'UTC'")
        self._views: list[str] = []
        self._tables: list[str] = []

    def from_arrow(self, table: pa.Table) -> DataFrame:
        # SQLFrame resolves columns through the catalog: a registered Arrow object is not listed
        # there, a view over it is.
        n = next(_ids)
        arrow_name, view = f"_b3lake_arrow_{n}", f"b3lake_in_{n}"
        self.conn.register(arrow_name, table)
        self.conn.execute(f'CREATE OR REPLACE VIEW "{view}" AS SELECT * FROM "{arrow_name}"')
        self._views.append(view)
        self._views.append(arrow_name)
        return self.session.table(view)

    def read_parquet(self, storage: Storage, keys: list[str], schema: pa.Schema) -> DataFrame:
        from b3lake.lake.parquet_io import read_keys

        return self.from_arrow(read_keys(storage, keys, schema))

    def to_arrow(self, df: DataFrame) -> pa.Table:
        import warnings

        with warnings.catch_warnings():
            # sqlframe 4.10 calls DuckDB's deprecated fetch_arrow_table().
            warnings.simplefilter("ignore", DeprecationWarning)
            return df.toArrow()

    def persist(self, df: DataFrame) -> DataFrame:
        # Into a DuckDB table: later plans start from a short name (SQLFrame copies the whole
        # plan at every step), and the rows never leave DuckDB (no Arrow round trip).
        statements = df.sql(dialect="duckdb", optimize=False, pretty=False, as_list=True)
        if len(statements) != 1:
            return self.from_arrow(self.to_arrow(df))
        name = f"b3lake_t_{next(_ids)}"
        self.conn.execute(f'CREATE TABLE "{name}" AS {statements[0]}')
        self._tables.append(name)
        return self.session.table(name)

    def close(self) -> None:
        for name in reversed(self._views):
            if name.startswith("_b3lake_arrow_"):
                self.conn.unregister(name)
            else:
                self.conn.execute(f'DROP VIEW IF EXISTS "{name}"')
        self._views.clear()
        for name in reversed(self._tables):
            self.conn.execute(f'DROP TABLE IF EXISTS "{name}"')
        self._tables.clear()
