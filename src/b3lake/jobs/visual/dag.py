"""The visual job's DAG and its whole ``CreateJob`` request, generated from our own contracts.

The DAG, in Glue Studio's node types (ids are the keys of ``CodeGenConfigurationNodes``)::

    node_raw_cotahist  S3ParquetSource   raw/cotahist/ (or S3CatalogSource raw_cotahist)
      └ node_universe  SparkSQL          the universe filter and the refine's row rules
        └ node_rename  ApplyMapping      B: datpre→dt, codneg→ticker, quatot→volume,
                                            voltot→traded_value, totneg→trades (the others dropped)
          └ node_daily Aggregate         A: by dt, ticker: sum(volume), sum(traded_value),
                                            sum(trades), count(ticker)
            └ node_sessions SparkSQL     C: names the aggregates, days_since_prev_session
              └ node_replace CustomCode  empties refined/visual_quotes/ (rows pass through)
                └ node_select SelectFromCollection  the frame again (a custom transform
                                            yields a collection)
                  └ node_target S3GlueParquetTarget  refined/visual_quotes/, partitions dt,
                                            ticker, catalog table default.visual_quotes

Decisions:

* **Same rows as the code job.** The universe comes from the settings (``[universe]``); the SQL
  node before the renames also drops what the code job quarantines (``quality.QUOTE_RULES``,
  written on the raw columns: a positive ``fatcot`` keeps every price comparison the same) and
  keeps the first of duplicate records. The visual job has no quarantine: those rows are dropped,
  not kept with a reason (the code job remains the one that accounts for every row).
* **Exact sums, typed as Glue types them.** ``voltot`` stays a decimal through ``ApplyMapping``,
  mapped to ``decimal(18,2)``, the raw schema's precision (``glue_type``): Glue reads a bare
  ``decimal`` as ``decimal(10,2)``, and its ApplyMapping casts every field to its ``ToType``, so a
  traded value of 10^8 or more would become null. ``sum(traded_value)`` is exact and the SQL node's cast to double gives
  the code job's value (it sums decimals too), on every engine and in any order.
* **The date calculation** is the code job's ``days_since_prev_session``: the days between a
  ticker's session and its previous one, null when that one lies more than ``lookback`` (21)
  market sessions back (the code job's window rule). Market sessions are the dense rank of
  ``dt``, as in the code job. Nothing reads the clock.
* **Aggregate names.** Glue's generated Aggregate names its outputs as Spark does
  (``sum(volume)``, ``count(ticker)``); the SQL node quotes them with backticks and renames them.
* **A full rebuild, never a duplicate.** The source reads the whole raw prefix. Glue Studio's S3
  targets only append (no target node type has an overwrite mode), so a second run would add a
  second copy of every row. ``node_replace``, a custom transform (``CustomCode``), empties the
  target prefix with ``glueContext.purge_s3_path(path, {"retentionPeriod": 0})`` before the
  write (Spark computes nothing before the sink, and the source reads raw/ only), so every run
  leaves exactly one copy. Readers see an empty table while a run writes (not atomic), and the
  catalog keeps partitions of a ticker that vanished (they hold no files). The interpreter runs
  this one custom transform, recognised by its exact code, and no other.
* **Catalog.** ``SchemaChangePolicy`` ``UPDATE_IN_DATABASE`` creates the table on the first run
  and adds partitions after that (R7 the visual way), in the settings' database (``default``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from b3lake.errors import ConfigError
from b3lake.jobs.refine import schemas
from b3lake.jobs.refine.transforms import quotes as transform
from b3lake.lake import layout

if TYPE_CHECKING:
    import pyarrow as pa

    from b3lake.settings import Settings

# ------------------------------------------------------------------------------ the contract
VISUAL_TABLE = "visual_quotes"
VISUAL_PREFIX = f"{layout.REFINED}/{VISUAL_TABLE}/"
PARTITION_KEYS: tuple[str, ...] = ("dt", "ticker")
RAW_SOURCE = "cotahist"
RAW_TABLE = "raw_cotahist"  # the pipeline registers it (layout.RAW_TABLES)

SOURCE = "node_raw_cotahist"
UNIVERSE = "node_universe"
RENAME = "node_rename"
DAILY = "node_daily"
SESSIONS = "node_sessions"
REPLACE = "node_replace"
SELECT = "node_select"
TARGET = "node_target"
PURGE_CLASS = "ReplaceTarget"

#: B: raw COTAHIST column -> the name the code job gives it (``transform.normalize_cotahist``;
#: a test checks each one against the transform itself).
RENAMES: dict[str, str] = {
    "datpre": "dt",
    "codneg": "ticker",
    "quatot": "volume",
    "voltot": "traded_value",
    "totneg": "trades",
}
#: A: the summed columns (refined names) and the counted one.
SUMS: tuple[str, ...] = ("volume", "traded_value", "trades")
COUNTED = "ticker"
#: C: the visual table's names for the count and the date calculation.
RECORDS = "records"  # = the code job's internal ``input_rows``: clean raw records per row
DATE_CALCULATION = "days_since_prev_session"


def aggregate_name(function: str, column: str) -> str:
    """How Glue's generated Aggregate (Spark) names an output column: ``sum(volume)``."""
    return f"{function}({column})"


def visual_schema() -> pa.Schema:
    """The visual table's file columns (partition columns ``dt``, ``ticker`` are in the key)."""
    import pyarrow as pa

    refined = schemas.REFINED_QUOTES
    return pa.schema(
        [
            *[refined.field(name) for name in SUMS],
            pa.field(RECORDS, pa.int64()),
            refined.field(DATE_CALCULATION),
        ]
    )


def visual_full_schema() -> pa.Schema:
    """What the DAG's last node yields: ``dt``, ``ticker``, then the file columns."""
    return schemas.full_schema(visual_schema(), PARTITION_KEYS)


# ---------------------------------------------------------------------------------- config
@dataclass(frozen=True)
class VisualJobConfig:
    """Everything the generator needs; :meth:`from_settings` reads it from the settings."""

    lake: str  # s3://bucket/prefix
    name: str = "b3lake-visual"
    role: str = ""
    script_location: str = ""
    database: str = "default"
    source: Literal["s3", "catalog"] = "s3"
    universe: transform.Universe = field(default_factory=transform.Universe)
    lookback: int = transform.LOOKBACK_SESSIONS
    glue_version: str = "5.0"
    worker_type: str = "G.1X"
    number_of_workers: int = 2
    timeout_minutes: int = 60

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> VisualJobConfig:
        visual = settings.visual
        u = settings.universe
        values: dict[str, Any] = {
            "lake": settings.lake,
            "name": visual.job_name,
            "role": visual.role_arn or "",
            "script_location": visual.script_location or "",
            "database": settings.catalog_database,
            "source": visual.source,
            "universe": transform.Universe(
                tpmerc=tuple(u.tpmerc),
                codbdi=tuple(u.codbdi),
                tickers=tuple(u.tickers),
                exclude_especi=tuple(u.exclude_especi),
            ),
            "lookback": settings.lookback_sessions,
            "glue_version": visual.glue_version,
            "worker_type": visual.worker_type,
            "number_of_workers": visual.number_of_workers,
            "timeout_minutes": visual.timeout_minutes,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def lake_root(self) -> str:
        """``s3://bucket/prefix`` without a trailing slash (ConfigError for a local lake)."""
        if not self.lake.startswith("s3://"):
            raise ConfigError(
                "the visual job runs on Glue: lake must be s3://bucket/prefix",
                field="lake",
                value=self.lake,
            )
        return self.lake.rstrip("/")

    def lake_uri(self, key_prefix: str) -> str:
        return f"{self.lake_root}/{key_prefix}"


# ----------------------------------------------------------------------------------- nodes
_CODE = re.compile(r"^[A-Za-z0-9_.-]+$")


def _sql_list(values: tuple[str, ...], what: str) -> str:
    for value in values:
        if not _CODE.match(value):
            raise ConfigError(
                "only letters, digits, '.', '_' and '-' may appear in a code",
                field=f"universe.{what}",
                value=value,
            )
    return ", ".join(f"'{v}'" for v in values)


def glue_type(arrow_type: pa.DataType) -> str:
    """The type name Glue Studio's ApplyMapping uses (``long``, ``decimal(18,2)``, ``string``…).

    A decimal carries its precision and scale: bare ``decimal`` is Glue's ``decimal(10,2)``."""
    import pyarrow as pa

    if pa.types.is_decimal(arrow_type):
        return f"decimal({arrow_type.precision},{arrow_type.scale})"
    names = {
        pa.string(): "string",
        pa.date32(): "date",
        pa.int8(): "byte",
        pa.int16(): "short",
        pa.int32(): "int",
        pa.int64(): "long",
        pa.float64(): "double",
        pa.bool_(): "boolean",
    }
    return names[arrow_type]


def _schema_columns(schema: pa.Schema) -> list[dict[str, str]]:
    from b3lake.catalog.schema import hive_type

    return [{"Name": f.name, "Type": hive_type(f.type)} for f in schema]


def universe_sql(universe: transform.Universe, alias: str = RAW_TABLE) -> str:
    """The SQL of ``node_universe``: the refine's universe and row rules on raw columns."""
    conditions = [
        f"tpmerc IN ({_sql_list(universe.tpmerc, 'tpmerc')})",
        f"codbdi IN ({_sql_list(universe.codbdi, 'codbdi')})",
    ]
    if universe.exclude_especi:
        excluded = _sql_list(universe.exclude_especi, "exclude_especi")
        conditions.append(f"(especi IS NULL OR especi NOT IN ({excluded}))")
    if universe.tickers:
        conditions.append(f"codneg IN ({_sql_list(universe.tickers, 'tickers')})")
    rules = [
        # missing_key
        "datpre IS NOT NULL",
        "codneg IS NOT NULL",
        # price_not_positive (a price per share exists only for fatcot > 0)
        "fatcot > 0",
        "preabe > 0",
        "premax > 0",
        "premin > 0",
        "preult > 0",
        "(premed IS NULL OR premed > 0)",
        # ohlc_inconsistent
        "premin <= preabe",
        "preabe <= premax",
        "premin <= preult",
        "preult <= premax",
        # negative_volume
        "quatot IS NOT NULL",
        "quatot >= 0",
        "(voltot IS NULL OR voltot >= 0)",
        "(totneg IS NULL OR totneg >= 0)",
    ]
    where = "\n  AND ".join(conditions + rules)
    # duplicate_key: the first record of a (session, ticker, record key), as the code job keeps.
    return (
        "SELECT * FROM (\n"
        "SELECT *, ROW_NUMBER() OVER (\n"
        "  PARTITION BY datpre, codneg, tpmerc, codbdi, coalesce(prazot, '')\n"
        "  ORDER BY source_file ASC NULLS LAST, line_number ASC NULLS LAST) AS record_rank\n"
        f"FROM {alias}\n"
        f"WHERE {where}\n"
        ") AS universe WHERE record_rank = 1"
    )


def sessions_sql(lookback: int, alias: str = "daily") -> str:
    """The SQL of ``node_sessions`` (C): names the aggregates, computes the date calculation."""
    window = "OVER (PARTITION BY ticker ORDER BY dt)"
    volume, value, trades = (aggregate_name("sum", c) for c in SUMS)
    count = aggregate_name("count", COUNTED)
    return (
        "SELECT dt, ticker,\n"
        f"  CAST(`{volume}` AS BIGINT) AS volume,\n"
        f"  CAST(`{value}` AS DOUBLE) AS traded_value,\n"
        f"  CAST(`{trades}` AS BIGINT) AS trades,\n"
        f"  CAST(`{count}` AS BIGINT) AS {RECORDS},\n"
        f"  CAST(CASE WHEN session_number - LAG(session_number, 1) {window} <= {int(lookback)}\n"
        f"    THEN DATEDIFF(dt, LAG(dt, 1) {window}) END AS INT) AS {DATE_CALCULATION}\n"
        f"FROM (SELECT *, DENSE_RANK() OVER (ORDER BY dt) AS session_number FROM {alias})"
        " AS sessions"
    )


def purge_code(path: str) -> str:
    """The custom transform of ``node_replace``: empties ``path``, passes the rows through."""
    if "'" in path or "\\" in path:
        raise ConfigError("a target path may not hold quotes or backslashes", value=path)
    return (
        f"def {PURGE_CLASS}(glueContext, dfc) -> DynamicFrameCollection:\n"
        "    # Glue Studio's S3 targets only append: empty the target first, so that a run\n"
        "    # replaces the table's files (a full rebuild) instead of adding a second copy.\n"
        f"    glueContext.purge_s3_path('{path}', {{'retentionPeriod': 0}})\n"
        "    return dfc\n"
    )


def build_nodes(config: VisualJobConfig) -> dict[str, dict[str, Any]]:
    """``CodeGenConfigurationNodes`` of the visual job (see the module docstring)."""
    raw = schemas.RAW_COTAHIST
    source: dict[str, Any]
    if config.source == "catalog":
        source = {
            "S3CatalogSource": {
                "Name": f"Raw COTAHIST (catalog {config.database}.{RAW_TABLE})",
                "Database": config.database,
                "Table": RAW_TABLE,
            }
        }
    elif config.source == "s3":
        source = {
            "S3ParquetSource": {
                "Name": "Raw COTAHIST (S3 Parquet)",
                "Paths": [config.lake_uri(layout.raw_prefix(RAW_SOURCE))],
                "Recurse": True,
                "OutputSchemas": [{"Columns": _schema_columns(raw)}],
            }
        }
    else:
        raise ConfigError(
            "source must be s3 or catalog", field="visual.source", value=config.source
        )
    mapping = [
        {
            "ToKey": to,
            "FromPath": [name],
            "FromType": glue_type(raw.field(name).type),
            # voltot stays a decimal (exact sums); the others keep their type too.
            "ToType": glue_type(raw.field(name).type),
            "Dropped": False,
        }
        for name, to in RENAMES.items()
    ]
    target_columns = _schema_columns(visual_full_schema())
    return {
        SOURCE: source,
        UNIVERSE: {
            "SparkSQL": {
                "Name": "Universe and row rules (SQL)",
                "Inputs": [SOURCE],
                "SqlQuery": universe_sql(config.universe),
                "SqlAliases": [{"From": SOURCE, "Alias": RAW_TABLE}],
                "OutputSchemas": [
                    {"Columns": [*_schema_columns(raw), _column("record_rank", "int")]}
                ],
            }
        },
        RENAME: {
            "ApplyMapping": {
                "Name": "B: rename to the refined names",
                "Inputs": [UNIVERSE],
                "Mapping": mapping,
            }
        },
        DAILY: {
            "Aggregate": {
                "Name": "A: sum and count by dt, ticker",
                "Inputs": [RENAME],
                "Groups": [[k] for k in PARTITION_KEYS],
                "Aggs": [
                    *[{"Column": [c], "AggFunc": "sum"} for c in SUMS],
                    {"Column": [COUNTED], "AggFunc": "count"},
                ],
            }
        },
        SESSIONS: {
            "SparkSQL": {
                "Name": "C: days since the previous session (SQL)",
                "Inputs": [DAILY],
                "SqlQuery": sessions_sql(config.lookback),
                "SqlAliases": [{"From": DAILY, "Alias": "daily"}],
                "OutputSchemas": [{"Columns": target_columns}],
            }
        },
        REPLACE: {
            "CustomCode": {
                "Name": "Replace, not append: empty the target first",
                "Inputs": [SESSIONS],
                "Code": purge_code(config.lake_uri(VISUAL_PREFIX)),
                "ClassName": PURGE_CLASS,
                "OutputSchemas": [{"Columns": target_columns}],
            }
        },
        SELECT: {
            "SelectFromCollection": {
                "Name": "The rows of C",
                "Inputs": [REPLACE],
                "Index": 0,
            }
        },
        TARGET: {
            "S3GlueParquetTarget": {
                "Name": f"Refined {VISUAL_TABLE} (S3, catalog {config.database})",
                "Inputs": [SELECT],
                "Path": config.lake_uri(VISUAL_PREFIX),
                "PartitionKeys": [[k] for k in PARTITION_KEYS],
                "Compression": "snappy",
                "SchemaChangePolicy": {
                    "EnableUpdateCatalog": True,
                    "UpdateBehavior": "UPDATE_IN_DATABASE",
                    "Database": config.database,
                    "Table": VISUAL_TABLE,
                },
            }
        },
    }


def _column(name: str, type_: str) -> dict[str, str]:
    return {"Name": name, "Type": type_}


# ------------------------------------------------------------------------------ the request
def default_arguments(config: VisualJobConfig) -> dict[str, str]:
    """The job's DefaultArguments (Glue's own special parameters; the DAG needs no others)."""
    bucket = config.script_location[len("s3://") :].split("/", 1)[0]
    return {
        "--job-language": "python",
        "--enable-glue-datacatalog": "true",
        "--job-bookmark-option": "job-bookmark-disable",
        "--TempDir": f"s3://{bucket}/glue/tmp/",
        "--enable-metrics": "true",
        "--enable-continuous-cloudwatch-log": "true",
        "--enable-spark-ui": "false",
    }


def job_request(config: VisualJobConfig) -> dict[str, Any]:
    """The whole ``CreateJob`` request (``UpdateJob`` takes the same, minus the name)."""
    from b3lake.jobs.visual.validate import validate_nodes

    if not config.role:
        raise ConfigError(
            "the Glue job needs a role (the refine job's role: terraform output, or LabRole)",
            field="visual.role_arn",
        )
    if not config.script_location.startswith("s3://") or config.script_location.endswith("/"):
        raise ConfigError(
            "the visual job needs an S3 script location such as "
            "s3://<scripts bucket>/glue/visual/b3lake-visual.py (Glue Studio keeps the "
            "generated script there)",
            field="visual.script_location",
            value=config.script_location or None,
        )
    nodes = build_nodes(config)
    validate_nodes(nodes)
    return {
        "Name": config.name,
        "Description": (
            "b3lake R5 in Glue Studio's visual mode: raw COTAHIST -> rename (B) -> sum/count by "
            "dt, ticker (A) -> days since previous session (C) -> "
            f"{VISUAL_PREFIX} + {config.database}.{VISUAL_TABLE}. Generated by "
            "`b3lake glue visual-job`; edit the generator, not the console."
        ),
        "Role": config.role,
        "JobMode": "VISUAL",
        "Command": {
            "Name": "glueetl",
            "ScriptLocation": config.script_location,
            "PythonVersion": "3",
        },
        "DefaultArguments": default_arguments(config),
        "ExecutionProperty": {"MaxConcurrentRuns": 1},
        "MaxRetries": 0,
        "Timeout": config.timeout_minutes,
        "GlueVersion": config.glue_version,
        "WorkerType": config.worker_type,
        "NumberOfWorkers": config.number_of_workers,
        "ExecutionClass": "STANDARD",
        "CodeGenConfigurationNodes": nodes,
    }


def console_url(job_name: str, region: str) -> str:
    """The Glue Studio visual editor of the job."""
    from urllib.parse import quote

    return (
        f"https://{region}.console.aws.amazon.com/gluestudio/home?region={region}"
        f"#/editor/job/{quote(job_name, safe='')}/graph"
    )
