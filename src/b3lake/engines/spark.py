"""PySpark: the Glue 5.0 engine (Spark 3.5) and the reference for the parity test.

On Glue the session comes from the GlueContext; locally :func:`local_spark` builds a small
``local[2]`` session with the settings the parity test and the benchmark need. Raw objects are
read natively (``spark.read.parquet`` on ``s3://`` or local paths) so executors do the reading;
results are collected to the driver as Arrow and written by the job through the Storage port.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import TYPE_CHECKING, Any

from b3lake.engines import DataFrame

if TYPE_CHECKING:
    import pyarrow as pa

    from b3lake.storage import Storage

LOCAL_CONF = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    "spark.driver.memory": "2g",
    "spark.sql.adaptive.enabled": "true",
}


def local_spark(app_name: str = "b3lake", master: str = "local[2]") -> Any:
    """A local SparkSession with deterministic, small-machine settings."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in LOCAL_CONF.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def spark_type(arrow_type: pa.DataType) -> str:
    """The Spark SQL type name of an Arrow type (for casts)."""
    from b3lake.catalog.schema import hive_type

    return hive_type(arrow_type)


class SparkEngine:
    name = "spark"

    def __init__(self, spark: Any = None) -> None:
        self._own = spark is None
        self.spark = spark if spark is not None else local_spark()
        self.spark.conf.set("spark.sql.session.timeZone", "UTC")
        self.spark.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
        self._tmp: list[str] = []
        self._persisted: list[Any] = []

    def _is_local(self) -> bool:
        return str(self.spark.sparkContext.master).startswith("local")

    def _empty(self, schema: pa.Schema) -> DataFrame:
        ddl = ", ".join(f"`{f.name}` {spark_type(f.type)}" for f in schema)
        return self.spark.createDataFrame([], ddl)

    def _project(self, df: DataFrame, schema: pa.Schema) -> DataFrame:
        from pyspark.sql import functions as F  # noqa: N812

        return df.select(
            *[F.col(f"`{f.name}`").cast(spark_type(f.type)).alias(f.name) for f in schema]
        )

    def from_arrow(self, table: pa.Table) -> DataFrame:
        if table.num_rows == 0:
            return self._empty(table.schema)
        if self._is_local():
            # Spark 3.5 has no createDataFrame(pyarrow.Table); a Parquet file keeps every type exact.
            import pyarrow.parquet as pq

            folder = tempfile.mkdtemp(prefix="b3lake-spark-")
            self._tmp.append(folder)
            path = os.path.join(folder, "part-0.parquet")
            pq.write_table(table, path)
            return self._project(self.spark.read.parquet(path), table.schema)
        return self._project(
            self.spark.createDataFrame(table.to_pylist(), self._empty(table.schema).schema),
            table.schema,
        )

    def read_parquet(self, storage: Storage, keys: list[str], schema: pa.Schema) -> DataFrame:
        if not keys:
            return self._empty(schema)
        uris = [storage.uri(k) for k in keys]
        if self._is_local() and any(storage.local_path(k) is None for k in keys):
            # A local Spark has no S3 connector: read through the Storage port, hand Spark one
            # file.
            from b3lake.lake.parquet_io import read_keys

            return self.from_arrow(read_keys(storage, keys, schema))
        # Natively (executors read; small files are packed into few tasks by Spark's
        # maxPartitionBytes/openCostInBytes), with column pruning and filter pushdown.
        return self._project(self.spark.read.parquet(*uris), schema)

    def to_arrow(self, df: DataFrame) -> pa.Table:
        import pyarrow as pa

        batches = df._collect_as_arrow()
        if batches:
            return pa.Table.from_batches(batches)
        from pyspark.sql.pandas.types import to_arrow_schema

        return to_arrow_schema(df.schema).empty_table()

    def persist(self, df: DataFrame) -> DataFrame:
        from pyspark import StorageLevel

        persisted = df.persist(StorageLevel.MEMORY_AND_DISK)
        self._persisted.append(persisted)
        return persisted

    def close(self) -> None:
        for df in self._persisted:
            df.unpersist()
        self._persisted.clear()
        for folder in self._tmp:
            shutil.rmtree(folder, ignore_errors=True)
        self._tmp.clear()
        if self._own:
            self.spark.stop()
