"""Engine port: where the PySpark-API transform runs.

Two adapters, one transform: ``SQLFrameDuckDBEngine`` (local default, embedded, no JVM) and
``SparkEngine`` (Glue 5.0 and the parity test). An engine only moves data in and out
(Arrow or raw Parquet keys -> DataFrame -> Arrow) and writes tables; the transform never touches
I/O. Every engine can do everything the port names: the writers' base implementation over Arrow
is ``engines/base.py`` (``ArrowEngine``), and Spark overrides them with its own writer; the job
never asks an engine what it is.

The transform gets the PySpark ``functions`` module and ``Window`` of the engine that made its
input from :func:`sql_api`, so the same code runs on both without ``sqlframe.activate`` (which
patches ``pyspark`` globally and would break running both engines in one process, as the
parity test does).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import pyarrow as pa

    from b3lake.engines.base import DateRange, TableWrite
    from b3lake.storage import Storage
    from b3lake.tables import TableSpec

DataFrame = Any  # a pyspark.sql.DataFrame or a sqlframe DataFrame (same API)


@runtime_checkable
class Engine(Protocol):
    """What the refine job needs from a DataFrame engine."""

    name: str

    def from_arrow(self, table: pa.Table) -> DataFrame:
        """A DataFrame over an Arrow table (types kept: decimals, dates, int8)."""

    def read_parquet(self, storage: Storage, keys: list[str], schema: pa.Schema) -> DataFrame:
        """A DataFrame over lake objects, projected and cast to ``schema`` (empty if no keys)."""

    def to_arrow(self, df: DataFrame) -> pa.Table:
        """Run the plan and collect the result as Arrow (the engine's own types)."""

    def persist(self, df: DataFrame) -> DataFrame:
        """The same rows, computed once and reused by the queries that follow."""

    def count(self, df: DataFrame) -> int:
        """The number of rows (an aggregate: nothing else reaches the driver)."""

    def write_table(
        self, df: DataFrame, spec: TableSpec, storage: Storage, *, owned: list[str]
    ) -> TableWrite:
        """Write ``df`` as ``spec``'s partitions (one file each) and delete what the write made
        stale under the ``owned`` prefixes (``ArrowEngine.write_table``)."""

    def write_history(
        self,
        df: DataFrame,
        spec: TableSpec,
        storage: Storage,
        *,
        ranges: list[DateRange] | None,
    ) -> TableWrite:
        """Write the history layer's year files (``ArrowEngine.write_history``)."""

    def release(self) -> None:
        """Drop what the plans run so far hold (cached tables, views); the engine stays usable."""

    def close(self) -> None:
        """Release what the engine created (views, a session it started itself)."""


@dataclass(frozen=True)
class SqlApi:
    """The PySpark DataFrame API pieces of one engine."""

    F: ModuleType
    Window: Any


def sql_api(df: DataFrame) -> SqlApi:
    """``functions`` and ``Window`` matching the engine that built ``df``."""
    if type(df).__module__.startswith("sqlframe"):
        import sqlframe.duckdb
        import sqlframe.duckdb.functions as sqlframe_functions

        return SqlApi(sqlframe_functions, sqlframe.duckdb.Window)
    import pyspark.sql as pyspark_sql
    import pyspark.sql.functions as spark_functions

    return SqlApi(spark_functions, pyspark_sql.Window)


def default_engine() -> Engine:
    """The local default: SQLFrame on an in-memory DuckDB."""
    from b3lake.engines.sqlframe_duckdb import SQLFrameDuckDBEngine

    return SQLFrameDuckDBEngine()


def engine_by_name(name: str) -> Engine:
    if name in ("sqlframe", "duckdb", "sqlframe_duckdb"):
        return default_engine()
    if name == "spark":
        from b3lake.engines.spark import SparkEngine

        return SparkEngine()
    from b3lake.errors import ConfigError

    raise ConfigError("unknown engine (sqlframe or spark)", field="engine", value=name)
