"""Input and output contracts of the refine job as pyarrow schemas.

The raw columns the job reads are declared here. The refined and quarantine tables are declared
once, as ``TableSpec``s in ``b3lake.tables``; the names below are their Arrow schemas (a *file*
schema: what ``part-0.parquet`` holds; partition fields are Hive-style, in the key only). A table's
partition columns and the rows the job produces (partition columns first) are
``tables.arrow.partition_schema(spec)`` and ``tables.arrow.full_schema(spec)``.
"""

from __future__ import annotations

import pyarrow as pa

from b3lake import tables
from b3lake.sources.raw_schema import raw_columns
from b3lake.tables import arrow

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

# ------------------------------------------------------------------------- refined, quarantine
# Derived from the table specs (``b3lake.tables``), the one declaration of each table.
REFINED_QUOTES = arrow.file_schema(tables.table("refined_quotes"))
REFINED_MONTHLY = arrow.file_schema(tables.table("refined_monthly"))
REFINED_IBOV_PORTFOLIO = arrow.file_schema(tables.table("refined_ibov_portfolio"))
QUARANTINE_QUOTES = arrow.file_schema(tables.table("quarantine_quotes"))
QUARANTINE_IBOV_PORTFOLIO = arrow.file_schema(tables.table("quarantine_ibov_portfolio"))
# The history layer (b3lake.lake.quotes_history): refined_quotes' rows with dt and ticker as columns.
REFINED_QUOTES_HISTORY = arrow.file_schema(tables.table("refined_quotes_history"))
