"""``refined_index_levels`` (one close per index and session) and ``quality_index_levels``.

Both are refined by the job generically from ``raw/index_levels/`` (``TableSpec.inputs`` and
``refine``, by ``dt``), with the same flagging (``transforms.index_levels.flag_levels``), so
every raw row is in exactly one of them (tests reconcile the counts):

* a row whose close is null is a B3 session inside the published range with an empty cell in
  B3's grid (the parser lands it so): ``missing_session``;
* a row on a day that is not a B3 session (the calendar of ``b3lake.sources.calendar``; dates
  outside its range, before 2000, are not judged): ``not_a_session``;
* every other row is the index's close of that session.

Layout: one file a year (``year=YYYY/part-0.parquet``, ``dt`` a column), rows sorted by index and
``dt``, as the quotes' history layer: a long history of few rows a day. Twenty years are 20 files
(one index's whole history reads them all in ~0.01 s in DuckDB, against 0.7-1.6 s for 5,000
``dt=`` files of a few rows each), and 20 partitions on Athena. A new session rewrites its year's
file (about 250 rows per index): the registered-tables step rebuilds a year partition from every
raw object of that year (``jobs/refine/steps/registered.py``).

The calendar check runs on the driver over the distinct dates of the input only (a few hundred
values at most, never the rows), so the refine stays one PySpark-API plan on both engines.
"""

from __future__ import annotations

from b3lake.tables.spec import TableSpec

RAW = "index_levels"


REFINED_INDEX_LEVELS = TableSpec(
    name="refined_index_levels",
    prefix="index_levels",
    description="Daily close of B3's indices (IBOV, ...) from B3's index statistics, per session.",
    partition_keys=(("year", "string"),),
    columns=(("dt", "date"), ("index", "string"), ("close", "double")),
    sort_by=("index", "dt"),
    inputs=(RAW,),
    refine="b3lake.tables.transforms.index_levels:refine_levels",
)

QUALITY_INDEX_LEVELS = TableSpec(
    name="quality_index_levels",
    prefix="quality_index_levels",
    description="Index statistics rows that are not a session's close: missing sessions, values "
    "on days that are not sessions (rule, reason, B3's cell).",
    partition_keys=(("year", "string"),),
    columns=(
        ("dt", "date"),
        ("index", "string"),
        ("close", "double"),
        ("close_text", "string"),
        ("cell", "string"),
        ("source_file", "string"),
        ("line_number", "bigint"),
        ("rule", "string"),
        ("reason", "string"),
    ),
    sort_by=("index", "dt", "rule", "source_file", "line_number"),
    inputs=(RAW,),
    refine="b3lake.tables.transforms.index_levels:refine_quality",
)
