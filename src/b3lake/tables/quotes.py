"""``refined_quotes``: one row per ticker and session, with windows; and its quarantine twin."""

from __future__ import annotations

from b3lake.tables.spec import TableSpec

# One ticker's session, as both the refined and the quarantined quote rows carry it.
SESSION_COLUMNS = (
    ("isin", "string"),
    ("name", "string"),
    ("open", "double"),
    ("high", "double"),
    ("low", "double"),
    ("close", "double"),
    ("avg_price", "double"),
    ("volume", "bigint"),
    ("traded_value", "double"),
    ("trades", "bigint"),
)

QUARANTINE_QUOTES = TableSpec(
    name="quarantine_quotes",
    layer="quarantine",
    prefix="refined_quotes",
    description="Quote rows that broke a rule, as the transform normalised them, with the rule and a reason.",
    partition_keys=(("dt", "date"),),
    columns=(
        ("ticker", "string"),
        ("source", "string"),
        ("record_key", "string"),
        *SESSION_COLUMNS,
        ("source_file", "string"),
        ("line_number", "bigint"),
        ("rule", "string"),
        ("reason", "string"),
    ),
    sort_by=("ticker", "source", "record_key", "source_file", "line_number"),
)

REFINED_QUOTES = TableSpec(
    name="refined_quotes",
    prefix="quotes",
    description="Daily quotes per ticker with moving averages, lags and deltas.",
    # The raw sources of the quote transform (the job lists and reads these; a new quote source
    # is its normaliser in jobs/refine/transforms/quotes.py plus its name here).
    inputs=("cotahist", "yfinance"),
    partition_keys=(("dt", "date"), ("ticker", "string")),
    columns=(
        ("source", "string"),
        *SESSION_COLUMNS,
        ("ma_5", "double"),
        ("ma_7", "double"),
        ("ma_21", "double"),
        ("close_lag_1", "double"),
        ("close_lag_2", "double"),
        ("close_lag_3", "double"),
        ("close_delta", "double"),
        ("pct_change", "double"),
        # Calendar days since the ticker's previous session (null past the 21-session look-back).
        # No column depends on the run's date or the clock: staleness is a query-time
        # ``current_date - dt`` (docs/architecture.md, "Incremental equals full").
        ("days_since_prev_session", "int"),
    ),
    sort_by=("source",),
    quarantine=QUARANTINE_QUOTES,
)
