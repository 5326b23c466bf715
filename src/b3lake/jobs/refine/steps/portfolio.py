"""The portfolio step: ``refined_ibov_portfolio`` and ``quarantine_ibov_portfolio``.

Reads ``raw/ibov_portfolio/``; rewrites the dates of the change set's changed or removed objects
(every date in full mode, and the table's other partitions go). A date's rows depend on that
date's objects alone. The transforms are ``transforms/portfolio.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from b3lake import tables
from b3lake.engines import sql_api
from b3lake.jobs.refine import outputs, quality, schemas
from b3lake.jobs.refine.report import stage
from b3lake.jobs.refine.transforms import portfolio as transform
from b3lake.tables.arrow import full_schema

if TYPE_CHECKING:
    from b3lake.jobs.refine.context import StepContext

SOURCE = "ibov_portfolio"
TABLE = "refined_ibov_portfolio"


def sources() -> tuple[str, ...]:
    return (SOURCE,)


def run(ctx: StepContext) -> None:
    engine, report, changes = ctx.engine, ctx.report, ctx.changes
    spec = tables.table(TABLE)
    assert spec.quarantine is not None
    days = changes.days(SOURCE) if changes.full else sorted(changes.changed_days(SOURCE))
    if not days:
        if changes.full:  # a rebuild of a lake without portfolios: none are left
            outputs.drop_outside(ctx, spec, set())
            outputs.drop_outside(ctx, spec.quarantine, set())
        return
    keys = changes.keys_on(SOURCE, days)
    with stage(report, "read"):
        frame = engine.read_parquet(ctx.storage, keys, schemas.RAW_IBOV_PORTFOLIO)
        report.raw_rows_read[SOURCE] = engine.count(frame) if keys else 0
    with stage(report, "transform"):
        flagged = engine.persist(quality.flag_portfolio(transform.normalize_portfolio(frame)))
        F = sql_api(flagged).F  # noqa: N806
        counts: dict[str | None, int] = {
            r["rule"]: int(r["n"])
            for r in engine.to_arrow(
                flagged.groupBy("rule").agg(F.count(F.lit(1)).alias("n"))
            ).to_pylist()
        }
        bad = flagged.filter(F.col("rule").isNotNull())
        portfolio = engine.persist(transform.refine_portfolio(quality.clean_rows(flagged)))
        if not keys:  # every object gone: the dates' partitions are emptied
            portfolio = engine.from_arrow(full_schema(spec).empty_table())
    quarantined = {k: v for k, v in counts.items() if k is not None}
    report.quarantined["quarantine_ibov_portfolio"] = dict(sorted(quarantined.items()))
    clean = counts.get(None, 0)
    # Segments of one ticker collapse into one row: reconcile on rows in, not rows out.
    quality.reconcile(TABLE, sum(counts.values()), clean, sum(quarantined.values()), clean)
    report.refined_rows[TABLE] = engine.count(portfolio)
    owned = None if changes.full else [f"dt={d.isoformat()}/" for d in days]
    with stage(report, "write"):
        outputs.write(ctx, spec, portfolio, partitions=owned)
        outputs.write(ctx, spec.quarantine, bad, partitions=owned)
