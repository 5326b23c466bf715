"""Run a visual job's DAG here, on our engines (SQLFrame/DuckDB or PySpark), over a lake.

Each node type is executed the way the code Glue Studio generates for it behaves:

* ``S3ParquetSource``: the Parquet objects under its paths (recursively), read with the columns
  and types of its ``OutputSchemas``; ``S3CatalogSource``: the catalog table's location and
  columns (partition columns are not added: Glue would add them; no node here uses them).
* ``SparkSQL``: each input registered as a temporary view under its alias, the query run by the
  engine's ``sql`` (Spark SQL; SQLFrame transpiles it to DuckDB).
* ``ApplyMapping``: only the mapped, not dropped fields, renamed, each cast to its ``ToType`` as
  Glue's ``ApplyMapping`` casts it, equal types included: a bare ``decimal`` is Glue's
  ``decimal(10,2)`` (awsglue's ``DecimalType`` default), and a value that does not fit the target
  decimal becomes null (Spark's cast with ANSI mode off, Glue 5.0's default) where DuckDB would
  raise; ``RenameField``, ``SelectFields``, ``DropFields`` as named.
* ``Aggregate``: ``groupBy(Groups).agg(...)`` with outputs named as Spark names them
  (``sum(volume)``, ``count(ticker)``, ``count(DISTINCT x)``), with Spark's result types
  (``sum`` of integers and ``count`` are ``bigint``; DuckDB would widen them).
* ``CustomCode``: only the generator's ``ReplaceTarget`` (its exact code), which empties the
  target path before the write; the rows pass through as a collection, and
  ``SelectFromCollection`` takes one frame of it.
* ``S3GlueParquetTarget``: nothing is written to S3; the run returns what Glue would write (the
  rows, the partitions under the path, the catalog table it creates or updates), and
  :func:`write_target` can write it into a lake through the Storage port and register it.

S3 paths are mapped into the lake's Storage: a DAG generated for ``s3://bucket/prefix`` runs on
a local lake whose root plays that role. Node types without an interpretation raise DagError.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from b3lake.engines import DataFrame, sql_api
from b3lake.jobs.visual.validate import DagError, topological_order, validate_nodes

if TYPE_CHECKING:
    import pyarrow as pa

    from b3lake.catalog import Catalog
    from b3lake.engines import Engine
    from b3lake.storage import Storage

#: Glue Studio type names (ApplyMapping) -> Spark SQL cast types.
_CASTS = {
    "string": "string",
    "date": "date",
    "timestamp": "timestamp",
    "long": "bigint",
    "bigint": "bigint",
    "int": "int",
    "integer": "int",
    "short": "smallint",
    "smallint": "smallint",
    "byte": "tinyint",
    "tinyint": "tinyint",
    "double": "double",
    "float": "float",
    "boolean": "boolean",
}
_DECIMAL = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")
#: What Glue reads a bare ``decimal`` type name as (awsglue.gluetypes.DecimalType's default).
GLUE_DEFAULT_DECIMAL = "decimal(10,2)"
INTERPRETED = frozenset(
    {
        "S3ParquetSource",
        "S3CatalogSource",
        "SparkSQL",
        "ApplyMapping",
        "RenameField",
        "SelectFields",
        "DropFields",
        "Aggregate",
        "CustomCode",  # only the generator's ReplaceTarget (dag.purge_code), nothing else
        "SelectFromCollection",
        "S3GlueParquetTarget",
    }
)


def arrow_type(hive: str) -> pa.DataType:
    """The Arrow type of a Hive/Glue type name (``decimal(13,2)``, ``bigint``, ``date``…)."""
    import pyarrow as pa

    text = hive.strip().lower()
    match = _DECIMAL.match(text)
    if match:
        return pa.decimal128(int(match[1]), int(match[2]))
    types = {
        "string": pa.string(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us"),
        "bigint": pa.int64(),
        "long": pa.int64(),
        "int": pa.int32(),
        "integer": pa.int32(),
        "smallint": pa.int16(),
        "short": pa.int16(),
        "tinyint": pa.int8(),
        "byte": pa.int8(),
        "double": pa.float64(),
        "float": pa.float32(),
        "boolean": pa.bool_(),
    }
    if text not in types:
        raise DagError("no Arrow type for this column type", value=hive)
    return types[text]


@dataclass
class TargetWrite:
    """What a target node would write: rows, where, which partitions, which catalog table."""

    node_id: str
    path: str  # the s3:// path of the node
    prefix: str  # the same, as a key prefix inside the lake
    partition_keys: tuple[str, ...]
    data: pa.Table
    database: str | None = None
    table: str | None = None
    update_behavior: str | None = None
    replaced: bool = False  # a custom transform empties the path first (no second copy)

    @property
    def partitions(self) -> list[dict[str, str]]:
        """The distinct partition values, sorted (``{"dt": "2021-01-04", "ticker": "PETR4"}``)."""
        if not self.partition_keys:
            return []
        keys = self.data.select(list(self.partition_keys)).group_by(list(self.partition_keys))
        rows = keys.aggregate([]).to_pylist()
        found = [{k: str(r[k]) for k in self.partition_keys} for r in rows]
        return sorted(found, key=lambda p: tuple(p[k] for k in self.partition_keys))

    def partition_prefixes(self) -> list[str]:
        """``<prefix>dt=…/ticker=…/`` of every partition (Hive style, as Glue writes them)."""
        return [
            self.prefix + "".join(f"{k}={p[k]}/" for k in self.partition_keys)
            for p in self.partitions
        ]


@dataclass
class VisualRun:
    """Every node's DataFrame (by id) and what the target nodes would write."""

    frames: dict[str, DataFrame] = field(default_factory=dict)
    targets: list[TargetWrite] = field(default_factory=list)
    purged: list[str] = field(default_factory=list)  # paths a custom transform empties first


def _lake_root(lake: str) -> str:
    return lake.rstrip("/") + "/"


def _key_prefix(path: str, lake: str, label: str) -> str:
    root = _lake_root(lake)
    if not path.startswith(root):
        raise DagError(f"path is outside the lake {root}", source=label, value=path)
    prefix = path[len(root) :]
    return prefix if prefix.endswith("/") or not prefix else prefix + "/"


def _schema(columns: list[dict[str, Any]]) -> pa.Schema:
    import pyarrow as pa

    return pa.schema([(c["Name"], arrow_type(c.get("Type") or "string")) for c in columns])


def _session(engine: Engine) -> Any:
    session = getattr(engine, "spark", None) or getattr(engine, "session", None)
    if session is None:
        raise DagError("the engine has no SQL session", value=engine.name)
    return session


def _column(path: Any, label: str, what: str) -> str:
    if not isinstance(path, list) or len(path) != 1 or not isinstance(path[0], str):
        raise DagError(
            "only top-level fields are interpreted", source=label, field=what, value=path
        )
    return path[0]


def _sql_type(glue: str, label: str) -> str:
    text = glue.strip().lower().replace(" ", "")
    if text == "decimal":
        return GLUE_DEFAULT_DECIMAL
    if _DECIMAL.match(text):
        return text
    if text not in _CASTS:
        raise DagError("no cast for this ApplyMapping type", source=label, value=glue)
    return _CASTS[text]


def _apply_cast(F: Any, col: Any, glue: str, label: str) -> Any:  # noqa: N803
    """``col`` cast to the ApplyMapping type ``glue`` as Glue casts it: into a decimal, the value
    rounded half up to the scale, and null when it does not fit the precision."""
    sql = _sql_type(glue, label)
    match = _DECIMAL.match(sql)
    if not match:
        return col.cast(sql)
    precision, scale = int(match[1]), int(match[2])
    rounded = F.round(col, scale)
    return F.when(F.abs(rounded) < F.lit(10 ** (precision - scale)), rounded.cast(sql))


def _aggregate(df: DataFrame, body: dict[str, Any], label: str) -> DataFrame:
    F = sql_api(df).F  # noqa: N806
    groups = [_column(g, label, "Aggregate.Groups") for g in body["Groups"]]
    types = {f.name: f.dataType.simpleString() for f in df.schema}
    integral = {"tinyint", "smallint", "int", "bigint", "byte", "short", "integer", "long"}
    aggs = []
    for i, agg in enumerate(body["Aggs"]):
        column = _column(agg["Column"], label, f"Aggregate.Aggs[{i}]")
        function = agg["AggFunc"]
        if function == "countDistinct":
            expr, name = F.countDistinct(F.col(column)), f"count(DISTINCT {column})"
        elif function == "sumDistinct":
            expr, name = F.sum_distinct(F.col(column)), f"sum(DISTINCT {column})"
        elif function in ("count",):
            expr, name = F.count(F.col(column)), f"count({column})"
        else:
            fn = getattr(F, function, None)
            if fn is None:
                raise DagError("no interpretation of this AggFunc", source=label, value=function)
            expr, name = fn(F.col(column)), f"{function}({column})"
        if function in ("count", "countDistinct") or (
            function in ("sum", "sumDistinct") and types.get(column) in integral
        ):
            expr = expr.cast("bigint")
        aggs.append(expr.alias(name))
    return df.groupBy(*groups).agg(*aggs)


def run_dag(
    nodes: dict[str, Any],
    *,
    engine: Engine,
    storage: Storage,
    lake: str,
    catalog: Catalog | None = None,
) -> VisualRun:
    """Execute ``nodes`` (validated first) on ``engine`` over ``storage``, the lake at ``lake``."""
    parsed = validate_nodes(nodes)
    run = VisualRun()
    collections: dict[str, list[DataFrame]] = {}  # CustomCode node -> its output collection
    for node_id in topological_order(nodes):
        kind, body = parsed[node_id]
        label = f"node {node_id} ({body.get('Name')})"
        if kind not in INTERPRETED:
            raise DagError("the interpreter does not run this node type", source=label, value=kind)
        inputs = [run.frames[i] for i in body.get("Inputs", []) if i not in collections]
        df: DataFrame
        if kind == "S3ParquetSource":
            schemas_ = body.get("OutputSchemas") or []
            if not schemas_:
                raise DagError("a source needs OutputSchemas to be read here", source=label)
            schema = _schema(schemas_[0]["Columns"])
            keys = sorted(
                k
                for path in body["Paths"]
                for k in storage.list_keys(_key_prefix(path, lake, label))
                if k.endswith(".parquet")
            )
            df = engine.read_parquet(storage, keys, schema)
        elif kind == "S3CatalogSource":
            if catalog is None:
                raise DagError("an S3CatalogSource needs a catalog", source=label)
            info = catalog.get_table(body["Table"])
            location = info.location
            if location.startswith("s3://"):
                location = _key_prefix(location, lake, label)
            schema = _schema([{"Name": c.name, "Type": c.type} for c in info.columns])
            keys = sorted(k for k in storage.list_keys(location) if k.endswith(".parquet"))
            df = engine.read_parquet(storage, keys, schema)
        elif kind == "SparkSQL":
            for alias in body["SqlAliases"]:
                run.frames[alias["From"]].createOrReplaceTempView(alias["Alias"])
            df = _session(engine).sql(body["SqlQuery"])
        elif kind == "ApplyMapping":
            F = sql_api(inputs[0]).F  # noqa: N806
            columns = []
            for i, m in enumerate(body["Mapping"]):
                if m.get("Dropped"):
                    continue
                if m.get("Children"):
                    raise DagError("nested mappings are not interpreted", source=label)
                source = _column(m.get("FromPath"), label, f"ApplyMapping.Mapping[{i}]")
                col = F.col(source)
                if m.get("ToType"):
                    col = _apply_cast(F, col, m["ToType"], label)
                columns.append(col.alias(m.get("ToKey") or source))
            df = inputs[0].select(*columns)
        elif kind == "RenameField":
            source = _column(body["SourcePath"], label, "RenameField.SourcePath")
            target = _column(body["TargetPath"], label, "RenameField.TargetPath")
            df = inputs[0].withColumnRenamed(source, target)
        elif kind == "SelectFields":
            df = inputs[0].select(*[_column(p, label, "SelectFields.Paths") for p in body["Paths"]])
        elif kind == "DropFields":
            df = inputs[0].drop(*[_column(p, label, "DropFields.Paths") for p in body["Paths"]])
        elif kind == "Aggregate":
            df = _aggregate(inputs[0], body, label)
        elif kind == "CustomCode":
            collections[node_id] = inputs
            run.purged.append(_purged_path(body, label))
            continue
        elif kind == "SelectFromCollection":
            frames = collections.get(body["Inputs"][0])
            if frames is None or not 0 <= body["Index"] < len(frames):
                raise DagError("selects from no collection or past its end", source=label)
            df = frames[body["Index"]]
        else:  # S3GlueParquetTarget
            df = inputs[0]
            keys_ = tuple(_column(k, label, "PartitionKeys") for k in body.get("PartitionKeys", []))
            policy = body.get("SchemaChangePolicy") or {}
            updates = bool(policy.get("EnableUpdateCatalog"))
            run.targets.append(
                TargetWrite(
                    node_id=node_id,
                    path=body["Path"],
                    prefix=_key_prefix(body["Path"], lake, label),
                    partition_keys=keys_,
                    data=engine.to_arrow(df),
                    database=policy.get("Database") if updates else None,
                    table=policy.get("Table") if updates else None,
                    update_behavior=policy.get("UpdateBehavior") if updates else None,
                    replaced=body["Path"] in run.purged,
                )
            )
        run.frames[node_id] = df
    return run


def _purged_path(body: dict[str, Any], label: str) -> str:
    """The path the generator's ReplaceTarget empties; DagError for any other custom code."""
    from b3lake.jobs.visual.dag import PURGE_CLASS, purge_code

    match = re.search(r"purge_s3_path\('([^']*)'", body.get("Code", ""))
    if (
        body.get("ClassName") != PURGE_CLASS
        or match is None
        or body["Code"] != purge_code(match[1])
    ):
        raise DagError(
            f"the interpreter runs no custom code but the generator's {PURGE_CLASS}",
            source=label,
            value=body.get("ClassName"),
        )
    return match[1]


def write_target(storage: Storage, catalog: Catalog | None, target: TargetWrite) -> int:
    """Write a target's partitions into the lake (one ``part-0.parquet`` each, replacing the
    partitions' old objects) and register the table and partitions; returns the files written."""
    from b3lake.catalog.schema import columns_from_arrow
    from b3lake.lake import parquet_io

    data = target.data
    written = parquet_io.write_partitions(storage, target.prefix, data, target.partition_keys)
    stale = parquet_io.stale_keys(storage, [target.prefix], [w.key for w in written])
    if stale:
        storage.delete_keys(stale)
    if catalog is not None and target.table:
        file_schema = data.schema
        for key in target.partition_keys:
            file_schema = file_schema.remove(file_schema.get_field_index(key))
        parts = data.schema
        catalog.upsert_table(
            target.table,
            location=target.prefix,
            columns=columns_from_arrow(file_schema),
            partition_keys=columns_from_arrow(_partition_schema(parts, target.partition_keys)),
        )
        if written:
            catalog.add_partitions(target.table, [w.values for w in written])
    return len(written)


def _partition_schema(schema: pa.Schema, keys: tuple[str, ...]) -> pa.Schema:
    import pyarrow as pa

    return pa.schema([schema.field(k) for k in keys])
