"""The registered-tables step: every table whose spec refines itself (``TableSpec.refine``).

Such a table declares its raw inputs and a function of their rows (PySpark API, any engine), and
is partitioned by ``dt`` or by ``year`` first (``year`` 'YYYY', with ``dt`` a column of the file:
one file a year, for long histories of few rows a day, like the index levels). A partition's rows
depend on the raw objects of its own dates alone, so the step rewrites, per table, the partitions
of the change set's changed or removed objects of its inputs (a ``dt`` partition: that date; a
``year`` partition: every object of that year read again), and in full mode every partition (the
table's other partitions go).

The work runs in chunks (each read, refined and written, then released), and the bytes are those
of one piece, since no partition spans a chunk: a ``year`` table's chunk is one year of dates, a
``dt`` table's one month. A month, not a year, because of the options: ~1.2 M rows a year of the
whole market, whose year chunk doubled the peak memory of a one-year rebuild (2.0 GB against 0.93
GB without the step, ``benchmarks/bench_history.py --years 1``); a month holds ~100 k.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from b3lake import tables
from b3lake.jobs.refine import outputs
from b3lake.jobs.refine.report import stage

if TYPE_CHECKING:
    from b3lake.jobs.refine.context import StepContext
    from b3lake.tables import TableSpec


def specs() -> list[TableSpec]:
    return [spec for spec in tables.refined_tables() if spec.refine is not None]


def sources() -> tuple[str, ...]:
    return tuple(sorted({name for spec in specs() for name in spec.inputs}))


def run(ctx: StepContext) -> None:
    for spec in specs():
        if ctx.changes.touches(*spec.inputs):
            _run_table(ctx, spec)


def _by_year(spec: TableSpec) -> bool:
    return spec.keys[:1] == ("year",)


def _partition(spec: TableSpec, day: dt.date) -> str:
    return f"year={day.year:04d}/" if _by_year(spec) else f"dt={day.isoformat()}/"


def _run_table(ctx: StepContext, spec: TableSpec) -> None:
    changes = ctx.changes
    every = changes.days(*spec.inputs)
    if changes.full:
        days = every
    else:
        changed = changes.changed_days(*spec.inputs)
        if _by_year(spec):  # a year partition is rebuilt from every object of its year
            years = {d.year for d in changed}
            days = sorted({d for d in every if d.year in years} | changed)
        else:
            days = sorted(changed)
    written: set[str] = set()
    for chunk in _chunks(spec, days):
        part = ctx.part()
        written |= _run_chunk(part, spec, chunk)
        ctx.report.add(part.report)
        ctx.engine.release()
    if changes.full:  # a rebuild: what no raw object stands for any more goes
        outputs.drop_outside(ctx, spec, {p.rstrip("/") for p in written})


def _chunks(spec: TableSpec, days: list[dt.date]) -> list[list[dt.date]]:
    """``days`` cut into the step's chunks: whole years for a ``year`` table, months for a ``dt``
    table (sorted; no partition spans two chunks)."""
    out: dict[tuple[int, int], list[dt.date]] = {}
    for day in sorted(days):
        out.setdefault((day.year, 0 if _by_year(spec) else day.month), []).append(day)
    return list(out.values())


def _run_chunk(ctx: StepContext, spec: TableSpec, days: list[dt.date]) -> set[str]:
    """Refine and write the partitions of ``days`` (one chunk); returns their prefixes."""
    from b3lake.sources import registry as sources_registry

    changes, engine, report = ctx.changes, ctx.engine, ctx.report
    assert spec.refine is not None
    with stage(report, "read"):
        frames = {
            name: engine.read_parquet(
                ctx.storage, changes.keys_on(name, days), sources_registry.get(name).raw_schema()
            )
            for name in spec.inputs
        }
    with stage(report, "transform"):
        rows = refine_rows(spec, frames)
    owned = sorted({_partition(spec, d) for d in days})
    with stage(report, "write"):
        result = outputs.write(ctx, spec, rows, partitions=owned)
    report.refined_rows[spec.name] = result.rows if result.rows is not None else engine.count(rows)
    return set(owned)


def refine_rows(spec: TableSpec, frames: dict[str, Any]) -> Any:
    """The table's rows from its inputs' frames: its refine, plus the ``year`` partition column
    ('YYYY' of ``dt``, first) for a table partitioned by year."""
    from b3lake.engines import sql_api

    assert spec.refine is not None
    rows = spec.refine(frames)
    if not _by_year(spec):
        return rows
    F = sql_api(rows).F  # noqa: N806
    year = F.lpad(F.year(F.col("dt")).cast("string"), 4, "0").alias("year")
    return rows.select(year, *[F.col(c) for c in rows.columns if c != "year"])
