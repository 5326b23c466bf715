"""``refined_quotes_history``: the rows of ``refined_quotes``, one file per year (the history
layer, written by ``b3lake.lake.quotes_history``: sorted by ticker, source, dt, in row groups).

``dt`` and ``ticker`` are file columns here (not partition values): a query reads the same
columns as from ``refined_quotes``; ``year`` is only for pruning.
"""

from __future__ import annotations

from b3lake.tables.quotes import REFINED_QUOTES
from b3lake.tables.spec import TableSpec

REFINED_QUOTES_HISTORY = TableSpec(
    name="refined_quotes_history",
    prefix="quotes_history",
    description=(
        "The rows of refined_quotes, one file per year sorted by ticker and dt: "
        "the table for multi-year queries."
    ),
    partition_keys=(("year", "string"),),
    columns=(("dt", "date"), ("ticker", "string"), *REFINED_QUOTES.columns),
    sort_by=("ticker", "source", "dt"),
)
