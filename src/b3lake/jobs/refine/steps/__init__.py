"""The refine job's steps, one module each, run in this order by ``job.run``:

* ``quotes``: ``refined_quotes`` (the dt x ticker table), the history layer, ``refined_monthly``
  and ``quarantine_quotes`` from raw COTAHIST and yfinance;
* ``portfolio``: ``refined_ibov_portfolio`` and its quarantine;
* ``registered``: every registered table that refines itself (``TableSpec.refine``);
* ``corporate_actions``: the events, the adjustment factors and the cross-check findings (after
  the quotes: the factors read the closes of the history layer).

A step is a module with ``sources()`` (the raw sources it reads) and ``run(ctx)``. It derives what
it rewrites from ``ctx.changes`` (the change set of the run, ``jobs/refine/changes.py``) alone, and
writes through ``jobs/refine/outputs.py``; ``ctx`` is a ``jobs/refine/context.StepContext``. The job runs a step only when one of its sources
changed (or in full mode).
"""

from __future__ import annotations

from b3lake.jobs.refine.steps import corporate_actions, portfolio, quotes, registered

#: The step modules, in the order they run.
STEPS = (quotes, portfolio, registered, corporate_actions)
