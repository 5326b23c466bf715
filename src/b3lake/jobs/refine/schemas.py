"""Input and output contracts of the refine job as pyarrow schemas.

The raw columns the job reads are declared here. The refined and quarantine tables are declared
once, as ``TableSpec``s in ``b3lake.tables``; the names below are their Arrow schemas (a *file*
schema: what ``part-0.parquet`` holds; partition fields are Hive-style, in the key only).
"""

from __future__ import annotations

import pyarrow as pa

from b3lake import tables
from b3lake.tables import arrow

# ---------------------------------------------------------------------------------------- raw
# The raw columns the job reads (a projection of docs/architecture.md's raw schemas).
RAW_COTAHIST = pa.schema(
    [
        ("datpre", pa.date32()),
        ("codbdi", pa.string()),
        ("codneg", pa.string()),
        ("tpmerc", pa.string()),
        ("nomres", pa.string()),
        ("especi", pa.string()),
        ("prazot", pa.string()),
        ("preabe", pa.decimal128(13, 2)),
        ("premax", pa.decimal128(13, 2)),
        ("premin", pa.decimal128(13, 2)),
        ("premed", pa.decimal128(13, 2)),
        ("preult", pa.decimal128(13, 2)),
        ("totneg", pa.int64()),
        ("quatot", pa.int64()),
        ("voltot", pa.decimal128(18, 2)),
        ("fatcot", pa.int32()),
        ("codisi", pa.string()),
        ("source_file", pa.string()),
        ("line_number", pa.int64()),
    ]
)
RAW_YFINANCE = pa.schema(
    [
        ("ticker", pa.string()),
        ("date", pa.date32()),
        ("open", pa.float64()),
        ("high", pa.float64()),
        ("low", pa.float64()),
        ("close", pa.float64()),
        ("volume", pa.int64()),
        ("source_file", pa.string()),
        ("line_number", pa.int64()),
    ]
)
RAW_IBOV_PORTFOLIO = pa.schema(
    [
        ("index", pa.string()),
        ("portfolio_date", pa.date32()),
        ("ticker", pa.string()),
        ("asset", pa.string()),
        ("share_type", pa.string()),
        ("sector", pa.string()),
        ("theoretical_quantity", pa.int64()),
        ("participation", pa.float64()),
        ("segment", pa.int8()),
        ("source_file", pa.string()),
        ("line_number", pa.int64()),
    ]
)
RAW_INPUTS: dict[str, pa.Schema] = {
    "cotahist": RAW_COTAHIST,
    "yfinance": RAW_YFINANCE,
    "ibov_portfolio": RAW_IBOV_PORTFOLIO,
}

# ------------------------------------------------------------------------- refined, quarantine
# Derived from the table specs (``b3lake.tables``), the one declaration of each table.
REFINED_QUOTES = arrow.file_schema(tables.table("refined_quotes"))
REFINED_MONTHLY = arrow.file_schema(tables.table("refined_monthly"))
REFINED_IBOV_PORTFOLIO = arrow.file_schema(tables.table("refined_ibov_portfolio"))
QUARANTINE_QUOTES = arrow.file_schema(tables.table("quarantine_quotes"))
QUARANTINE_IBOV_PORTFOLIO = arrow.file_schema(tables.table("quarantine_ibov_portfolio"))

# Catalog name -> file schema of every refined table registered at import.
REFINED_SCHEMAS: dict[str, pa.Schema] = {
    t.name: arrow.file_schema(t) for t in tables.refined_tables()
}


def partition_schema(keys: tuple[str, ...] | list[str]) -> pa.Schema:
    """The Arrow schema of partition columns (``dt`` date, ``ticker``/``month`` string), typed as
    the registered tables type them."""
    return arrow.keys_schema(keys)


def full_schema(file_schema: pa.Schema, keys: tuple[str, ...] | list[str]) -> pa.Schema:
    """What the transform returns: partition columns first, then the file columns."""
    parts = partition_schema(keys)
    rest = [f for f in file_schema if f.name not in parts.names]
    return pa.schema(list(parts) + rest)
