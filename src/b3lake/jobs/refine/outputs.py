"""The one write path of every refined and quarantine table: the engine writes, the catalog follows.

A step hands :func:`write` a table's spec, its rows (a DataFrame of the engine) and the partitions
it owns; the engine writes them (``Engine.write_table``: one ``part-0.parquet`` per partition,
sorted by the spec, stale objects under the owned partitions deleted) and this module registers
the table and its partitions: cheap and idempotent on both catalogs (the local one writes only
shards whose bytes change, Glue skips a same-definition table update and ignores partitions that
exist already).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from b3lake.lake import parquet_io

if TYPE_CHECKING:
    from b3lake.catalog import Catalog
    from b3lake.engines.base import DateRange, TableWrite
    from b3lake.jobs.refine.context import StepContext
    from b3lake.tables import TableSpec


def write(
    ctx: StepContext,
    spec: TableSpec,
    rows: Any,
    *,
    partitions: list[str] | None,
    parameters: dict[str, str] | None = None,
) -> TableWrite:
    """Write ``rows`` as ``spec``; ``partitions``: the partition prefixes (``dt=…/``) the write
    replaces whole, None for the whole table (a rebuild, an unpartitioned table)."""
    owned = [spec.location] if partitions is None else [spec.location + p for p in partitions]
    result = ctx.engine.write_table(rows, spec, ctx.storage, owned=owned)
    _account(ctx, spec, result)
    register(ctx.catalog, spec, result, parameters=parameters)
    return result


def write_history(
    ctx: StepContext, spec: TableSpec, rows: Any, *, ranges: list[DateRange] | None
) -> TableWrite:
    """The history layer (``Engine.write_history``), catalogued like every table."""
    result = ctx.engine.write_history(rows, spec, ctx.storage, ranges=ranges)
    _account(ctx, spec, result)
    register(ctx.catalog, spec, result)
    return result


def _account(ctx: StepContext, spec: TableSpec, result: TableWrite) -> None:
    report = ctx.report
    report.objects_deleted += len(result.deleted)
    report.partitions_written[spec.name] = report.partitions_written.get(spec.name, 0) + len(
        result.written
    )


def register(
    catalog: Catalog,
    spec: TableSpec,
    result: TableWrite,
    *,
    parameters: dict[str, str] | None = None,
) -> None:
    """The table (created or updated from the spec) and its partitions: those written added,
    those whose every object was deleted (and not written again) dropped."""
    catalog.upsert_table(
        spec.name,
        location=spec.location,
        columns=list(spec.columns),
        partition_keys=list(spec.partition_keys),
        parameters=parameters,
    )
    if not spec.partition_keys:
        return
    kept = {tuple(sorted(w.values.items())) for w in result.written}
    gone: list[dict[str, str]] = []
    for key in result.deleted:
        values = parquet_io.partition_values(key[len(spec.location) :])
        if values and tuple(sorted(values.items())) not in kept and values not in gone:
            gone.append(values)
    if gone:
        catalog.drop_partitions(spec.name, gone)
    if result.written:
        catalog.add_partitions(spec.name, [w.values for w in result.written])


def drop_outside(ctx: StepContext, spec: TableSpec, keep: set[str]) -> None:
    """Delete the objects of ``spec`` whose first partition (``dt=…``) is not in ``keep`` and
    forget their partitions: what a rebuild written in chunks leaves of data no longer in raw."""
    prefix = spec.location
    stale = [k for k in ctx.storage.list_keys(prefix) if k[len(prefix) :].split("/")[0] not in keep]
    if not stale:
        return
    ctx.storage.delete_keys(stale)
    ctx.report.objects_deleted += len(stale)
    gone: list[dict[str, str]] = []
    for key in stale:
        values = parquet_io.partition_values(key[len(prefix) :])
        if values and values not in gone:
            gone.append(values)
    if gone:
        ctx.catalog.drop_partitions(spec.name, gone)
