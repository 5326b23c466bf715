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

from b3lake.tables.spec import TableSpec

RAW = "cotahist"


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
    refine="b3lake.tables.transforms.options:refine_options",
)
