"""``refined_monthly``: one row per ticker, source and month (no quarantine: built from clean quotes)."""

from __future__ import annotations

from b3lake.tables.spec import TableSpec

REFINED_MONTHLY = TableSpec(
    name="refined_monthly",
    prefix="monthly",
    description="Monthly aggregates per ticker.",
    partition_keys=(("month", "string"),),
    columns=(
        ("ticker", "string"),
        ("source", "string"),
        ("sessions", "int"),
        ("total_volume", "bigint"),
        ("total_traded_value", "double"),
        ("avg_close", "double"),
        ("first_close", "double"),
        ("last_close", "double"),
        ("monthly_return", "double"),
        ("high", "double"),
        ("low", "double"),
    ),
    sort_by=("ticker", "source"),
)
