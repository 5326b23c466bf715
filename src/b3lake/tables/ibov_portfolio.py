"""``refined_ibov_portfolio``: the index's theoretical portfolio per date; and its quarantine twin."""

from __future__ import annotations

from b3lake.tables.spec import TableSpec

# The raw portfolio row (its date is the partition) plus the rule and the reason.
QUARANTINE_IBOV_PORTFOLIO = TableSpec(
    name="quarantine_ibov_portfolio",
    layer="quarantine",
    prefix="refined_ibov_portfolio",
    description="Portfolio rows that broke a rule, as landed in raw, with the rule and a reason.",
    partition_keys=(("dt", "date"),),
    columns=(
        ("index", "string"),
        ("ticker", "string"),
        ("asset", "string"),
        ("share_type", "string"),
        ("sector", "string"),
        ("theoretical_quantity", "bigint"),
        ("participation", "double"),
        ("segment", "tinyint"),
        ("source_file", "string"),
        ("line_number", "bigint"),
        ("rule", "string"),
        ("reason", "string"),
    ),
    sort_by=("index", "ticker", "segment", "source_file", "line_number"),
)

REFINED_IBOV_PORTFOLIO = TableSpec(
    name="refined_ibov_portfolio",
    prefix="ibov_portfolio",
    description="Theoretical portfolio of the B3 indexes (IBOV) with sector and share-type weights.",
    partition_keys=(("dt", "date"),),
    columns=(
        ("index", "string"),
        ("ticker", "string"),
        ("asset", "string"),
        ("sector", "string"),
        ("share_type", "string"),
        ("weight", "double"),
        ("theoretical_quantity", "bigint"),
        ("sector_weight", "double"),
        ("share_type_weight", "double"),
    ),
    sort_by=("index", "ticker"),
    quarantine=QUARANTINE_IBOV_PORTFOLIO,
)
