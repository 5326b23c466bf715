"""The registered-tables step: every table whose spec refines itself (``TableSpec.refine``).

Such a table declares its raw inputs and a function of their rows (PySpark API, any engine), and
is partitioned by ``dt`` first: a date's rows depend on that date's raw objects alone. So the step
rewrites, per table, the dates of the change set's changed or removed objects of its inputs
(every date in full mode, and the table's other partitions go), reading those dates' objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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


def _run_table(ctx: StepContext, spec: TableSpec) -> None:
    from b3lake.sources import registry as sources_registry

    changes, engine, report = ctx.changes, ctx.engine, ctx.report
    assert spec.refine is not None
    if changes.full:
        days = changes.days(*spec.inputs)
    else:
        days = sorted(changes.changed_days(*spec.inputs))
    if not days:
        if changes.full:  # a rebuild without inputs: none of the table is left
            outputs.drop_outside(ctx, spec, set())
        return
    with stage(report, "read"):
        frames = {
            name: engine.read_parquet(
                ctx.storage, changes.keys_on(name, days), sources_registry.get(name).raw_schema()
            )
            for name in spec.inputs
        }
    with stage(report, "transform"):
        rows = engine.persist(spec.refine(frames))
        report.refined_rows[spec.name] = engine.count(rows)
    with stage(report, "write"):
        owned = None if changes.full else [f"dt={d.isoformat()}/" for d in days]
        outputs.write(ctx, spec, rows, partitions=owned)
