"""The refine of ``refined_options`` (PySpark API; the spec and how the underlying is found are in
``b3lake.tables.options``)."""

from __future__ import annotations

from typing import Any

from b3lake.tables.options import RAW

MARKETS = {"070": "call", "080": "put"}
# ISIN characters 7-11 -> the ticker's class digit (sources.corporate_actions.parse's mapping).
CLASS_DIGIT = {"ACNOR": "3", "ACNPR": "4", "ACNPA": "5", "ACNPB": "6", "ACNPC": "7", "ACNPD": "8"}


def _isin_ticker(F: Any) -> Any:  # noqa: N803
    """The ticker the ``codisi`` ISIN spells (issuer + class digit), null when it spells none."""
    digit = None
    for code, number in CLASS_DIGIT.items():
        case = F.substring(F.col("codisi"), 7, 5) == F.lit(code)
        digit = F.when(case, F.lit(number)) if digit is None else digit.when(case, F.lit(number))
    assert digit is not None
    digit = digit.when(F.substring(F.col("codisi"), 7, 4) == F.lit("CDAM"), F.lit("11"))
    return F.concat(F.substring(F.col("codisi"), 3, 4), digit)


def refine_options(inputs: dict[str, Any]) -> Any:
    from b3lake.engines import sql_api

    raw = inputs[RAW]
    F = sql_api(raw).F  # noqa: N806
    c = F.col
    options = raw.filter(c("tipreg") == F.lit(1)).filter(c("tpmerc").isin(*MARKETS))
    spot = (
        raw.filter(c("tpmerc") == F.lit("010"))
        .select(c("datpre").alias("_dt"), c("codisi").alias("_isin"), c("codneg").alias("_code"))
        .groupBy("_dt", "_isin")
        .agg(F.min("_code").alias("_spot"))
    )
    # Unqualified names (the spot side's are renamed): SQLFrame cannot tell the two sides of a
    # join of one input apart by ``frame[column]``.
    joined = options.join(spot, (c("datpre") == c("_dt")) & (c("codisi") == c("_isin")), "left")

    # Every expression builds its own columns: SQLFrame resolves a Column object in place, so one
    # object used in two expressions after a join fails to resolve the second time.
    def is_index() -> Any:
        return F.substring(c("codisi"), 7, 3) == F.lit("IND")

    underlying = (
        F.when(c("_spot").isNotNull(), c("_spot"))
        .when(is_index(), F.substring(c("codisi"), 3, 4))
        .otherwise(_isin_ticker(F))
    )
    source = (
        F.when(c("_spot").isNotNull(), F.lit("session"))
        .when(is_index(), F.lit("index"))
        .when(_isin_ticker(F).isNotNull(), F.lit("isin"))
    )

    def per_unit(col: str) -> Any:
        return F.when(c("fatcot") > 0, c(col).cast("double") / c("fatcot").cast("double"))

    kind = F.when(c("tpmerc") == F.lit("070"), F.lit("call")).otherwise(F.lit("put"))
    return joined.select(
        c("datpre").alias("dt"),
        c("codneg").alias("ticker"),
        kind.alias("type"),
        underlying.alias("underlying"),
        c("codisi").alias("underlying_isin"),
        source.alias("underlying_source"),
        c("preexe").cast("double").alias("strike"),
        F.when(c("ptoexe") != F.lit(0), c("ptoexe").cast("double")).alias("strike_points"),
        c("datven").alias("expiry"),
        F.datediff(c("datven"), c("datpre")).cast("int").alias("days_to_expiry"),
        c("nomres").alias("name"),
        c("especi").alias("especi"),
        c("codbdi").alias("codbdi"),
        c("tpmerc").alias("market"),
        per_unit("preabe").alias("open"),
        per_unit("premax").alias("high"),
        per_unit("premin").alias("low"),
        per_unit("premed").alias("avg_price"),
        per_unit("preult").alias("close"),
        per_unit("preofc").alias("best_bid"),
        per_unit("preofv").alias("best_ask"),
        c("totneg").cast("bigint").alias("trades"),
        c("quatot").cast("bigint").alias("volume"),
        c("voltot").cast("double").alias("traded_value"),
        c("fatcot").cast("int").alias("quote_factor"),
        c("indopc").cast("tinyint").alias("indopc"),
        c("source_file"),
        c("line_number").cast("bigint").alias("line_number"),
    )
