"""The registry of lake tables: every ``TableSpec`` the project has, registered once.

Adding a table: write its module next to this one (a ``TableSpec``, see ``quotes.py``) and add it
to ``BUILT_IN`` below. Its quarantine twin is registered with it. Everything else (keys, the
catalog, Terraform's tables, DuckDB views) follows from the spec.
"""

from __future__ import annotations

from typing import Any

from b3lake.errors import CatalogError
from b3lake.tables import (
    corporate_actions,
    curves,
    ibov_portfolio,
    index_levels,
    index_report,
    monthly,
    options,
    quotes,
    quotes_history,
)
from b3lake.tables.spec import TableSpec

#: The refined tables, in the order they are listed (their quarantine twins come with them).
BUILT_IN: tuple[TableSpec, ...] = (
    quotes.REFINED_QUOTES,
    monthly.REFINED_MONTHLY,
    quotes_history.REFINED_QUOTES_HISTORY,
    ibov_portfolio.REFINED_IBOV_PORTFOLIO,
    corporate_actions.REFINED_CORPORATE_ACTIONS,
    corporate_actions.CORPORATE_ACTION_FACTORS,
    corporate_actions.QUALITY_CORPORATE_ACTIONS,
    index_levels.REFINED_INDEX_LEVELS,
    index_levels.QUALITY_INDEX_LEVELS,
    curves.REFINED_CURVES,
    index_report.REFINED_INDEX_REPORT,
    options.REFINED_OPTIONS,
)

#: Catalog name -> spec, for every registered table (refined ones and their twins).
TABLES: dict[str, TableSpec] = {}


def register(spec: TableSpec) -> TableSpec:
    """Add a table (and its quarantine twin). Names and locations are unique; a partition
    column has one type across all tables (the lake's keys read the same everywhere)."""
    for s in (spec, spec.quarantine) if spec.quarantine else (spec,):
        if s.name in TABLES and TABLES[s.name] != s:
            raise CatalogError("a different table is registered under this name", source=s.name)
        clash = [t.name for t in TABLES.values() if t.location == s.location and t.name != s.name]
        if clash:
            raise CatalogError(f"location {s.location} is taken by {clash[0]}", source=s.name)
        for key in s.partition_keys:
            known = _partition_types().get(key.name)
            if known is not None and known != key.type:
                raise CatalogError(
                    f"partition key {key.name} is {known} elsewhere", source=s.name, value=key.type
                )
        TABLES[s.name] = s
    return spec


def unregister(name: str) -> None:
    """Forget a table and its twin (tests that register a toy table)."""
    spec = TABLES.pop(name, None)
    if spec is not None and spec.quarantine is not None:
        TABLES.pop(spec.quarantine.name, None)


def _partition_types() -> dict[str, str]:
    return {k.name: k.type for t in TABLES.values() for k in t.partition_keys}


def table(name: str) -> TableSpec:
    """The spec of a registered table; CatalogError naming the known ones otherwise."""
    try:
        return TABLES[name]
    except KeyError:
        raise CatalogError(
            f"no such table (registered: {', '.join(TABLES)})", source=name
        ) from None


def refined_tables() -> list[TableSpec]:
    return [t for t in TABLES.values() if t.layer == "refined"]


def quarantine_tables() -> list[TableSpec]:
    return [t for t in TABLES.values() if t.layer == "quarantine"]


def partition_type(key: str) -> str:
    """The Hive type of a partition column (``dt`` → ``date``); ``string`` if no table has it."""
    return _partition_types().get(key, "string")


def manifest() -> dict[str, Any]:
    """Every table as ``dist/manifest.json`` carries it (``scripts/package.py`` writes it)."""
    return {name: spec.to_manifest() for name, spec in TABLES.items()}


for _spec in BUILT_IN:
    register(_spec)
