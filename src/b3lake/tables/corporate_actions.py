"""The corporate-action tables (issue 15): small, unpartitioned, one ``part-0.parquet`` each.

Written whole by the refine job's corporate-actions step (``jobs/refine/corporate_actions_job.py``);
``adjusted_quotes`` and ``quality_unexplained_jumps`` are views over them (``b3lake.query.views``).
"""

from __future__ import annotations

from b3lake.tables.spec import TableSpec

# One event as B3 published it and the parser normalised it: the refined and the quarantined rows
# carry the same columns (the quarantine adds the rule and its reason).
EVENT_COLUMNS = (
    ("ticker", "string"),
    ("ex_date", "date"),
    ("kind", "string"),
    ("label", "string"),
    ("last_date_prior", "date"),
    ("value_cash", "double"),
    ("factor", "double"),
    ("share_factor", "double"),
    ("issuer", "string"),
    ("type_stock", "string"),
    ("isin", "string"),
    ("approved_on", "date"),
    ("payment_date", "date"),
    ("closing_price_prior_ex_date", "double"),
    ("date_closing_price_prior_ex_date", "date"),
    ("corporate_action_price", "double"),
    ("ratio", "double"),
    ("quoted_per_shares", "double"),
    ("subscription_percentage", "double"),
    ("subscription_price", "double"),
    ("subscription_date", "date"),
    ("related_to", "string"),
    ("remarks", "string"),
    ("endpoint", "string"),
    ("section", "string"),
    ("source_file", "string"),
    ("line_number", "bigint"),
)

QUARANTINE_CORPORATE_ACTIONS = TableSpec(
    name="quarantine_corporate_actions",
    prefix="refined_corporate_actions",
    layer="quarantine",
    description="Corporate-action rows rejected, with rule and reason.",
    columns=(
        *EVENT_COLUMNS,
        ("rule", "string"),
        ("reason", "string"),
    ),
    sort_by=("issuer", "last_date_prior", "endpoint", "source_file", "line_number"),
)

REFINED_CORPORATE_ACTIONS = TableSpec(
    name="refined_corporate_actions",
    prefix="corporate_actions",
    description="B3's corporate actions (cash and stock events) per ticker and ex-date, B3's fields kept.",
    columns=(*EVENT_COLUMNS,),
    sort_by=("ticker", "ex_date", "kind", "label", "endpoint", "source_file", "line_number"),
    quarantine=QUARANTINE_CORPORATE_ACTIONS,
)

CORPORATE_ACTION_FACTORS = TableSpec(
    name="corporate_action_factors",
    prefix="corporate_action_factors",
    description="Backward adjustment factors per ticker and ex-date (valid_from <= dt < valid_to).",
    columns=(
        ("ticker", "string"),
        ("ex_date", "date"),
        ("valid_from", "date"),
        ("valid_to", "date"),
        ("close_date", "date"),
        ("close_prior", "double"),
        ("cash", "double"),
        ("cash_events", "int"),
        ("stock_events", "int"),
        ("cash_factor", "double"),
        ("share_factor", "double"),
        ("factor", "double"),
        ("adj_factor", "double"),
        ("share_adj_factor", "double"),
        ("b3_cash_factor", "double"),
    ),
    sort_by=("ticker", "ex_date"),
)

QUALITY_CORPORATE_ACTIONS = TableSpec(
    name="quality_corporate_actions",
    prefix="quality_corporate_actions",
    description="Findings of the cross-check of each cash factor against B3's own price and percentage.",
    columns=(
        ("ticker", "string"),
        ("ex_date", "date"),
        ("label", "string"),
        ("value_cash", "double"),
        ("close_date", "date"),
        ("close_prior", "double"),
        ("closing_price_prior_ex_date", "double"),
        ("corporate_action_price", "double"),
        ("applied_percent", "double"),
        ("rule", "string"),
        ("reason", "string"),
        ("source_file", "string"),
        ("line_number", "bigint"),
    ),
    sort_by=("ticker", "ex_date", "label", "source_file", "line_number"),
)
