"""``refined_options``: the listed options of each session, from the COTAHIST already landed.

No new download: the refine reads ``raw/cotahist/`` (every market of the session) and keeps
markets ``070`` (calls) and ``080`` (puts): B3's equity options (BDI 78/82), index options (BDI
74/75, IBOV) and ETF options. Fields are B3's: strike ``PREEXE``, expiry ``DATVEN``, the option's
prices (per unit: divided by ``FATCOT``, like the spot quotes), trades, quantity and value.

**The underlying** (how rb3's ``cotahist_options_by_symbols_get`` does it, made total): the
option's ``CODISI`` is the ISIN of its underlying asset, so

1. ``session``: the spot ticker (market ``010``) with that ISIN in the same session's file (the
   smallest code if two ever share it). In the 2016-01-04 daily file every one of the 905 equity
   options matches; in the 16 sessions of COTAHIST_A2021 all 73,778 equity options do.
2. ``isin``: otherwise (the underlying did not trade that day) the ticker the ISIN spells: the
   issuer (characters 3-6) and the class digit of characters 7-11 (``ACNOR`` 3, ``ACNPR`` 4,
   ``ACNPA`` 5 ... as ``sources.corporate_actions`` maps them; ``CDAM`` units 11).
3. ``index``: an index option (ISIN class ``IND``, ``BRIBOVINDM18``) has the index as underlying
   (``IBOV``).

Otherwise the underlying is null (``underlying_source`` null): the row is kept, the
``options_chain`` view shows it without an underlying close.
"""

from __future__ import annotations

from typing import Any

from b3lake.tables.spec import TableSpec

RAW = "cotahist"
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


REFINED_OPTIONS = TableSpec(
    name="refined_options",
    prefix="options",
    description="Listed options per session from COTAHIST (markets 070 calls, 080 puts): strike, "
    "expiry, the underlying (by ISIN), prices per unit, trades and volume.",
    partition_keys=(("dt", "date"),),
    columns=(
        ("ticker", "string"),
        ("type", "string"),
        ("underlying", "string"),
        ("underlying_isin", "string"),
        ("underlying_source", "string"),
        ("strike", "double"),
        ("strike_points", "double"),
        ("expiry", "date"),
        ("days_to_expiry", "int"),
        ("name", "string"),
        ("especi", "string"),
        ("codbdi", "string"),
        ("market", "string"),
        ("open", "double"),
        ("high", "double"),
        ("low", "double"),
        ("avg_price", "double"),
        ("close", "double"),
        ("best_bid", "double"),
        ("best_ask", "double"),
        ("trades", "bigint"),
        ("volume", "bigint"),
        ("traded_value", "double"),
        ("quote_factor", "int"),
        ("indopc", "tinyint"),
        ("source_file", "string"),
        ("line_number", "bigint"),
    ),
    sort_by=("underlying", "expiry", "type", "strike", "ticker", "line_number"),
    inputs=(RAW,),
    refine=refine_options,
)
