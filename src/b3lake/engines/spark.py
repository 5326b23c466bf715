"""PySpark: the Glue 5.0 engine (Spark 3.5) and the reference for the parity test.

On Glue the session comes from the GlueContext; locally :func:`local_spark` builds a small
``local[2]`` session with the settings the parity test and the benchmark need. Raw objects are
read natively (``spark.read.parquet`` on ``s3://`` or local paths) so executors do the reading.

**Writing** (:meth:`SparkEngine.write_table`, :meth:`SparkEngine.write_history`, overriding the
Arrow writers of ``engines/base.py``): the partitioned tables are written by Spark's own writer on
the executors, never collected to the driver:

* ``repartition`` by the partition keys, so each partition's rows are in one task and each
  partition is one file, sorted within the task by the keys and the table's sort columns;
* dynamic partition overwrite (``spark.sql.sources.partitionOverwriteMode=dynamic``, set on the
  session and on the writer): exactly the partitions present in the run's rows are replaced.
  Spark writes them under ``.spark-staging-<job>`` and moves each partition into place when
  the job commits (on S3 a move is a copy and a delete per file: EMR's S3-optimised committer
  does not cover dynamic partition overwrite, so Glue uses the classic commit protocol);
* what a rewritten session no longer has: the objects under the run's partitions are listed
  before and after the write; a key present in both lists belongs to a partition the write did
  not replace (every replaced partition gets new file names), so it is stale and deleted;
* the written partitions (new keys) are returned for the catalog (the Glue catalog registers
  them 100 per BatchCreatePartition, retried with backoff).

No ``_SUCCESS`` markers. Only the small results (counts, the quarantine summary, the history
years' tickers) reach the driver. Two cases use the Arrow writers of the base class instead: an
unpartitioned table (the corporate-action tables: one small object of one row per event, named
``part-0.parquet`` as on every engine), and a local Spark over a non-local Storage (moto in
tests), which has no S3 connector.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import TYPE_CHECKING, Any

from b3lake.engines import DataFrame
from b3lake.engines.base import ArrowEngine, DateRange, TableWrite

if TYPE_CHECKING:
    import pyarrow as pa

    from b3lake.lake.parquet_io import WrittenPartition
    from b3lake.storage import Storage
    from b3lake.tables import TableSpec

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
#: Set on every session the engine writes with (Glue's included).
WRITE_CONF = {
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.parquet.compression.codec": "snappy",
}
HADOOP_CONF = {
    "mapreduce.fileoutputcommitter.marksuccessfuljobs": "false",  # no _SUCCESS objects
    "parquet.enable.summary-metadata": "false",
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


class SparkEngine(ArrowEngine):
    name = "spark"

    def __init__(self, spark: Any = None) -> None:
        self._own = spark is None
        self.spark = spark if spark is not None else local_spark()
        self.spark.conf.set("spark.sql.session.timeZone", "UTC")
        self.spark.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
        for key, value in WRITE_CONF.items():
            self.spark.conf.set(key, value)
        hadoop = self.spark.sparkContext._jsc.hadoopConfiguration()
        for key, value in HADOOP_CONF.items():
            hadoop.set(key, value)
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
        # Through pandas with Arrow enabled: the rows travel as Arrow batches, not Python rows.
        return self._project(
            self.spark.createDataFrame(table.to_pandas(), self._empty(table.schema).schema),
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

    # -- writing on the executors --------------------------------------------------------

    def _writes_to(self, storage: Storage) -> bool:
        """True when Spark's writer reaches ``storage``: on a cluster, or locally where the
        store lets other code write its files directly (``Storage.local_path``)."""
        from b3lake.lake import layout

        return not self._is_local() or storage.local_path(layout.REFINED) is not None

    def _check_schema(self, df: DataFrame, schema: pa.Schema, what: str) -> DataFrame:
        """``df``'s columns in ``schema``'s order; JobError if one is missing or its type drifted
        (the DataFrame counterpart of ``tables.arrow.conform``)."""
        from pyspark.sql.pandas.types import to_arrow_schema

        from b3lake.errors import JobError

        missing = [n for n in schema.names if n not in df.columns]
        if missing:
            raise JobError(f"engine output lacks columns {missing}", source=what)
        selected = df.select(*[f"`{n}`" for n in schema.names])
        got = to_arrow_schema(selected.schema)
        for field in schema:
            if got.field(field.name).type != field.type:
                raise JobError(
                    f"column {field.name} is {got.field(field.name).type}, "
                    f"the contract says {field.type}",
                    source=what,
                )
        return selected

    def write_table(
        self, df: DataFrame, spec: TableSpec, storage: Storage, *, owned: list[str]
    ) -> TableWrite:
        """Write ``df`` (partition columns first) under the table's location with Spark's
        writer, one file per partition, replacing exactly its partitions; objects under ``owned``
        that the write did not replace (partitions the run owns but no longer has) are deleted."""
        if not spec.partition_keys or not self._writes_to(storage):
            return super().write_table(df, spec, storage, owned=owned)
        from pyspark.sql import functions as F  # noqa: N812

        from b3lake.tables.arrow import full_schema

        frame = self._check_schema(df, full_schema(spec), spec.name)
        keys = spec.keys
        before = self._listing(storage, owned)
        (
            frame.repartition(*[F.col(k) for k in keys])
            .sortWithinPartitions(*keys, *spec.sort_by)
            .write.mode("overwrite")
            .option("partitionOverwriteMode", "dynamic")
            .partitionBy(*keys)
            .parquet(storage.uri(spec.location.rstrip("/")))
        )
        written, stale = self._written(storage, spec.location, owned, before)
        if stale:
            storage.delete_keys(stale)
        return TableWrite(written, stale)

    def write_history(
        self,
        df: DataFrame,
        spec: TableSpec,
        storage: Storage,
        *,
        ranges: list[DateRange] | None,
    ) -> TableWrite:
        """The history layer (``year=YYYY/``, one file a year, rows sorted by ticker, source,
        dt) with Spark's writer. ``ranges``: the date ranges an incremental run rewrites; the
        rows of those years outside the ranges are read back (on the executors) and kept. Years
        left without rows are deleted."""
        if not self._writes_to(storage):
            return super().write_history(df, spec, storage, ranges=ranges)
        from pyspark.sql import functions as F  # noqa: N812

        from b3lake.lake import history
        from b3lake.tables.arrow import file_schema

        schema = file_schema(spec)
        prefix = spec.location
        # Every column nullable, as rows read back from a file are: a year file written by a
        # full run and by an incremental one (old rows + new) gets the same Parquet schema and
        # so the same bytes.
        rows = self._empty(schema).unionByName(df.select(*[f"`{n}`" for n in schema.names]))
        year = F.lpad(F.year("dt").cast("string"), 4, "0").alias("year")
        years: set[str] = set()
        owned: list[str] = []
        if ranges is not None:
            for first, last in ranges:
                years.update(str(y) for y in range(first.year, last.year + 1))
            owned = [f"{prefix}year={y}/" for y in sorted(years)]
        before = self._listing(storage, owned) if ranges is not None else set()
        old = sorted(k for k in before if k.endswith(".parquet"))
        if ranges is not None and old:
            kept = self._project(self.spark.read.parquet(*[storage.uri(k) for k in old]), schema)
            for first, last in ranges:
                kept = kept.filter(~((F.col("dt") >= F.lit(first)) & (F.col("dt") <= F.lit(last))))
            # Materialised before the write replaces the files it was read from.
            rows = self.persist(kept.unionByName(rows))
            rows.count()
        # Each year's tickers and first session: one row per year reaches the driver.
        summary = history.summaries(
            self.to_arrow(
                rows.groupBy(year).agg(
                    F.min("dt").alias("first"), F.collect_set("ticker").alias("tickers")
                )
            )
        )
        if ranges is None:
            # The rows are the whole content of the years they touch (a rebuild's chunk): those
            # years are replaced, the others are not this write's.
            owned = [f"{prefix}year={y}/" for y in sorted(summary)]
            before = self._listing(storage, owned)
        (
            rows.select(year, *[F.col(f"`{n}`") for n in schema.names])
            .repartition(F.col("year"))
            .sortWithinPartitions("year", *history.SORT_KEYS)
            .write.mode("overwrite")
            .option("partitionOverwriteMode", "dynamic")
            .partitionBy("year")
            .parquet(storage.uri(prefix.rstrip("/")))
        )
        written, stale = self._written(storage, prefix, owned, before)
        if stale:
            storage.delete_keys(stale)
        return TableWrite(written, stale, summary)

    @staticmethod
    def _listing(storage: Storage, owned: list[str]) -> set[str]:
        return {k for p in sorted(set(owned)) for k in storage.list_keys(p)}

    @staticmethod
    def _written(
        storage: Storage, prefix: str, owned: list[str], before: set[str]
    ) -> tuple[list[WrittenPartition], list[str]]:
        from b3lake.lake.parquet_io import WrittenPartition, partition_values

        after = SparkEngine._listing(storage, owned)
        new = sorted(after - before)
        # Hadoop's local filesystem leaves .crc checksums beside each file: not lake objects.
        crcs = [k for k in new if k.endswith(".crc")]
        if crcs:
            storage.delete_keys(crcs)
        written = [
            WrittenPartition(values=partition_values(k[len(prefix) :]), key=k, rows=0)
            for k in new
            if k.endswith(".parquet") and not k.rsplit("/", 1)[-1].startswith((".", "_"))
        ]
        # A key listed before and after is in a partition the write did not replace.
        stale = sorted(before & after)
        return written, stale

    def persist(self, df: DataFrame) -> DataFrame:
        from pyspark import StorageLevel

        persisted = df.persist(StorageLevel.MEMORY_AND_DISK)
        self._persisted.append(persisted)
        return persisted

    def release(self) -> None:
        """Unpersist what this engine persisted (the session stays usable). Spark's cache
        matches plans, not data: a later run reading the same paths would otherwise get the
        rows cached before a raw object was replaced."""
        for df in self._persisted:
            df.unpersist()
        self._persisted.clear()

    def close(self) -> None:
        for df in self._persisted:
            df.unpersist()
        self._persisted.clear()
        for folder in self._tmp:
            shutil.rmtree(folder, ignore_errors=True)
        self._tmp.clear()
        if self._own:
            self.spark.stop()
