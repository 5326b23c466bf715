"""The lake's tables, one ``TableSpec`` each: ``spec.py`` (the declaration), one module per table
(``quotes.py``, ``monthly.py``, ``quotes_history.py``, ``ibov_portfolio.py``) and ``registry.py`` (the one list).

    from b3lake import tables
    spec = tables.table("refined_quotes")
    spec.location, spec.keys, spec.columns, spec.quarantine.name

    from b3lake.tables.arrow import file_schema      # the Arrow schemas (imports pyarrow)
    file_schema(spec)

This package imports no third-party module (the trigger Lambda reaches it through the layout).
"""

from __future__ import annotations

from b3lake.tables.registry import (
    TABLES,
    manifest,
    partition_type,
    quarantine_tables,
    refined_tables,
    register,
    table,
    unregister,
)
from b3lake.tables.spec import TableSpec

__all__ = [
    "TABLES",
    "TableSpec",
    "manifest",
    "partition_type",
    "quarantine_tables",
    "refined_tables",
    "register",
    "table",
    "unregister",
]
