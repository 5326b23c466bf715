"""Input and output contracts of the refine job as pyarrow schemas.

The single source of truth for refined table types: the job casts to them (and fails on drift),
the catalog registers them, the Terraform tests read them. Each refined table has a *file*
schema (what ``part-0.parquet`` holds) and *partition* fields (Hive-style, in the key only).
"""

from __future__ import annotations

import pyarrow as pa

from b3lake.sources.registry import raw_columns

# ---------------------------------------------------------------------------------------- raw
# The raw columns the job reads (a projection of docs/architecture.md's raw schemas).
# Types come from each source's declaration (b3lake.sources.registry); the job names the columns.
RAW_COTAHIST = raw_columns(
    "cotahist",
    "datpre codbdi codneg tpmerc nomres especi prazot preabe premax premin premed preult totneg "
    "quatot voltot fatcot codisi source_file line_number",
)
RAW_YFINANCE = raw_columns(
    "yfinance", "ticker date open high low close volume source_file line_number"
)
RAW_IBOV_PORTFOLIO = raw_columns(
    "ibov_portfolio",
    "index portfolio_date ticker asset share_type sector theoretical_quantity participation "
    "segment source_file line_number",
)
RAW_INPUTS: dict[str, pa.Schema] = {
    "cotahist": RAW_COTAHIST,
    "yfinance": RAW_YFINANCE,
    "ibov_portfolio": RAW_IBOV_PORTFOLIO,
}

# ------------------------------------------------------------------------------------ refined
# One ticker's session, as both the refined and the quarantined quote rows carry it.
_SESSION_FIELDS = [
    ("isin", pa.string()),
    ("name", pa.string()),
    ("open", pa.float64()),
    ("high", pa.float64()),
    ("low", pa.float64()),
    ("close", pa.float64()),
    ("avg_price", pa.float64()),
    ("volume", pa.int64()),
    ("traded_value", pa.float64()),
    ("trades", pa.int64()),
]
REFINED_QUOTES = pa.schema(
    [
        ("source", pa.string()),
        *_SESSION_FIELDS,
        ("ma_5", pa.float64()),
        ("ma_7", pa.float64()),
        ("ma_21", pa.float64()),
        ("close_lag_1", pa.float64()),
        ("close_lag_2", pa.float64()),
        ("close_lag_3", pa.float64()),
        ("close_delta", pa.float64()),
        ("pct_change", pa.float64()),
        ("days_since_prev_session", pa.int32()),
        ("run_date", pa.date32()),
        ("days_since_trade", pa.int32()),
    ]
)
# The history layer (b3lake.lake.history): refined_quotes' rows with dt and ticker as columns.
REFINED_QUOTES_HISTORY = pa.schema(
    [pa.field("dt", pa.date32()), pa.field("ticker", pa.string()), *REFINED_QUOTES]
)
REFINED_MONTHLY = pa.schema(
    [
        ("ticker", pa.string()),
        ("source", pa.string()),
        ("sessions", pa.int32()),
        ("total_volume", pa.int64()),
        ("total_traded_value", pa.float64()),
        ("avg_close", pa.float64()),
        ("first_close", pa.float64()),
        ("last_close", pa.float64()),
        ("monthly_return", pa.float64()),
        ("high", pa.float64()),
        ("low", pa.float64()),
    ]
)
REFINED_IBOV_PORTFOLIO = pa.schema(
    [
        ("index", pa.string()),
        ("ticker", pa.string()),
        ("asset", pa.string()),
        ("sector", pa.string()),
        ("share_type", pa.string()),
        ("weight", pa.float64()),
        ("theoretical_quantity", pa.int64()),
        ("sector_weight", pa.float64()),
        ("share_type_weight", pa.float64()),
    ]
)

PARTITION_FIELDS: dict[str, pa.Field] = {
    "dt": pa.field("dt", pa.date32()),
    "ticker": pa.field("ticker", pa.string()),
    "month": pa.field("month", pa.string()),
    "year": pa.field("year", pa.string()),
}

# Catalog name -> file schema. Partition keys come from ``b3lake.lake.layout.REFINED_TABLES``.
REFINED_SCHEMAS: dict[str, pa.Schema] = {
    "refined_quotes": REFINED_QUOTES,
    "refined_monthly": REFINED_MONTHLY,
    "refined_ibov_portfolio": REFINED_IBOV_PORTFOLIO,
    "refined_quotes_history": REFINED_QUOTES_HISTORY,
}

# ---------------------------------------------------------------------------------- quarantine
# Rows that broke a rule, as the transform normalised them, plus the rule and a reason.
QUARANTINE_QUOTES = pa.schema(
    [
        ("ticker", pa.string()),
        ("source", pa.string()),
        ("record_key", pa.string()),
        *_SESSION_FIELDS,
        ("source_file", pa.string()),
        ("line_number", pa.int64()),
        ("rule", pa.string()),
        ("reason", pa.string()),
    ]
)
# The raw portfolio row (its date is the partition) plus the rule and the reason.
QUARANTINE_IBOV_PORTFOLIO = pa.schema(
    [f for f in RAW_IBOV_PORTFOLIO if f.name != "portfolio_date"]
    + [pa.field("rule", pa.string()), pa.field("reason", pa.string())]
)
# Catalog name -> (prefix under quarantine/, file schema); partitioned by dt.
QUARANTINE_TABLES: dict[str, tuple[str, pa.Schema]] = {
    "quarantine_quotes": ("refined_quotes", QUARANTINE_QUOTES),
    "quarantine_ibov_portfolio": ("refined_ibov_portfolio", QUARANTINE_IBOV_PORTFOLIO),
}


def partition_schema(keys: tuple[str, ...] | list[str]) -> pa.Schema:
    """The Arrow schema of a table's partition columns (``dt`` date, ``ticker``/``month`` string)."""
    return pa.schema([PARTITION_FIELDS[k] for k in keys])


def full_schema(file_schema: pa.Schema, keys: tuple[str, ...] | list[str]) -> pa.Schema:
    """What the transform returns: partition columns first, then the file columns."""
    parts = partition_schema(keys)
    rest = [f for f in file_schema if f.name not in parts.names]
    return pa.schema(list(parts) + rest)
