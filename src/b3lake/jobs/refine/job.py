"""The refine job's entry point: ``main(argv)`` with exactly the argv Glue passes, and ``run``.

A run lists the raw sources once and compares the listing with the raw manifest: the change set
(``changes.py``). Each step (``steps/``: quotes, portfolio, registered tables, corporate actions)
declares the raw sources it reads and derives what it rewrites from the change set alone, so a run
started by one object refines every object pending (runs coalesce) exactly as a rebuild would.
Last, the run records what it consumed in the manifest: a run that fails records nothing, and
the next one finds the same objects pending.

* ``--mode incremental`` (the default): the objects new, replaced or removed since the manifest;
  with ``--dt D`` and no ``--raw_key`` (a run started by hand) also every object of ``D``.
* ``--mode full``: every object; every other refined object is deleted.

Stored values are a function of the raw data alone; lineage (the run id, when it ran) is in the
manifest and the job-run history, never in the rows (docs/architecture.md, "Incremental equals
full").
"""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING

from b3lake.jobs.refine.args import RefineArgs
from b3lake.jobs.refine.changes import ChangeSet
from b3lake.jobs.refine.context import StepContext
from b3lake.jobs.refine.report import RefineReport, stage
from b3lake.jobs.refine.steps import STEPS
from b3lake.lake import manifest

if TYPE_CHECKING:
    from b3lake.catalog import Catalog
    from b3lake.engines import Engine
    from b3lake.storage import Storage

log = logging.getLogger("b3lake.refine")

# The arguments the job reads (Glue passes each as ``--name value``), declared by RefineArgs.
JOB_ARGUMENTS: tuple[str, ...] = RefineArgs.names()


def glue_run_id(argv: list[str]) -> str | None:
    """Glue's own ``--JOB_RUN_ID`` (the run recorded in the raw manifest), if given."""
    glue = argparse.ArgumentParser(prog="refine", add_help=False, allow_abbrev=False)
    glue.add_argument("--JOB_RUN_ID", dest="job_run_id", default=None)
    known, _ = glue.parse_known_args(argv[1:])
    return known.job_run_id


def run(
    args: RefineArgs,
    *,
    engine: Engine,
    storage: Storage,
    catalog: Catalog,
    run_id: str | None = None,
) -> RefineReport:
    """One refine run over ``storage`` on ``engine`` (``main`` and the Glue script call it)."""
    from b3lake.sources import registry

    report = RefineReport(
        mode=args.mode,
        dt=args.dt.isoformat() if args.dt else None,
        engine=engine.name,
        run_id=run_id,
    )
    full = args.mode == "full"
    with stage(report, "plan"):
        forced = [args.dt] if args.dt is not None and args.raw_key is None else []
        changes = ChangeSet.of(storage, registry.raw_names(), full=full, forced_days=forced)
        report.pending_objects = changes.pending
    ctx = StepContext(args, engine, storage, catalog, report, changes)
    for step in STEPS:
        if changes.touches(*step.sources()):
            step.run(ctx)
            engine.release()  # a later step or run starts from nothing cached
    with stage(report, "manifest"):
        # Last: what this run refined is consumed only once every partition is written.
        report.manifest_shards_written = manifest.record(
            storage, changes.consumed(), changes.gone(), run_id=run_id or "local"
        )
    return report


def main(
    argv: list[str],
    *,
    engine: Engine | None = None,
    storage: Storage | None = None,
    catalog: Catalog | None = None,
) -> RefineReport:
    """Run the job for Glue-style ``argv``; adapters default from ``--lake``/``--catalog_database``."""
    from b3lake.catalog import catalog_for
    from b3lake.storage import storage_for

    args = RefineArgs.from_argv(argv)
    # Built from the lake's address (the job is a leaf: it never imports the backends).
    storage = storage or storage_for(args.lake)
    catalog = catalog or catalog_for(storage, args.catalog_database)
    own_engine = engine is None
    if engine is None:
        from b3lake.engines import default_engine

        engine = default_engine()
    try:
        return run(args, engine=engine, storage=storage, catalog=catalog, run_id=glue_run_id(argv))
    finally:
        if own_engine:
            engine.close()
