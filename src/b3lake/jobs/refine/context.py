"""``StepContext``: what every step of the refine job gets (``jobs/refine/steps/``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from b3lake.catalog import Catalog
    from b3lake.engines import Engine
    from b3lake.jobs.refine.args import RefineArgs
    from b3lake.jobs.refine.changes import ChangeSet
    from b3lake.jobs.refine.report import RefineReport
    from b3lake.storage import Storage


@dataclass
class StepContext:
    """The run's arguments, its adapters, its report and its change set."""

    args: RefineArgs
    engine: Engine
    storage: Storage
    catalog: Catalog
    report: RefineReport
    changes: ChangeSet

    def part(self) -> StepContext:
        """The same context with an empty report (one chunk of a plan; added back after)."""
        return StepContext(
            self.args, self.engine, self.storage, self.catalog, self.report.part(), self.changes
        )
