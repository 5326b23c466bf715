"""``TableSpec``: everything about one lake table, declared once.

A spec names the table in the catalog, says where its objects live (``<layer>/<prefix>/``), how
it is partitioned (Hive style, partition columns in the key only), which columns each
``part-0.parquet`` holds, how rows are sorted inside a file (so re-runs give the same bytes) and,
for a refined table, its quarantine twin. Layout, schemas, the refine job's writes, the catalog
registration, the DuckDB query engine and Terraform (through ``dist/manifest.json``) all read it.

Decisions:

* Column types are Hive/Athena type names (``string``, ``double``, ``bigint``, ``date``,
  ``decimal(13,2)``), the language both catalogs speak; the Arrow schemas are derived from them
  by ``b3lake.tables.arrow``. This module (and the registry) import nothing beyond the standard
  library and ``b3lake.catalog``/``errors``, not even lazily: the trigger Lambda (stdlib + boto3
  only) reaches them through the layout, and ``scripts/package.py`` writes the manifest from them
  without pyarrow.
* A table that refines itself names its refine function either directly or as a string
  ``"package.module:function"`` (:class:`LazyRefine`, imported on the first call). A table
  module of ``src/b3lake/tables/`` is reached by the trigger Lambda (stdlib + boto3 only), so it
  names its function by string and keeps the PySpark-API logic in ``b3lake.tables.transforms``:
  the trigger's import graph never reaches an engine, and the job calls ``spec.refine(frames)``
  the same either way.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from b3lake.column import Column

Layer = Literal["refined", "quarantine"]
LAYERS: tuple[str, ...] = ("refined", "quarantine")

_DECIMAL = re.compile(r"^decimal\((\d+),(\d+)\)$")
_HIVE_TYPES = frozenset(
    {"string", "tinyint", "smallint", "int", "bigint", "float", "double", "boolean", "date"}
    | {"timestamp"}
)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _check_type(hive: str, where: str) -> None:
    if hive not in _HIVE_TYPES and not _DECIMAL.match(hive):
        raise ValueError(f"{where}: unknown column type {hive!r}")


def _columns(items: Iterable[Column | tuple[str, str]], where: str) -> tuple[Column, ...]:
    out = []
    for item in items:
        col = item if isinstance(item, Column) else Column(*item)
        if not _NAME.match(col.name):
            raise ValueError(f"{where}: column name {col.name!r} is not lower_snake_case")
        _check_type(col.type, f"{where}.{col.name}")
        out.append(col)
    return tuple(out)


ColumnsLike = Iterable[Column | tuple[str, str]]
#: A table that refines itself: ``refine({raw name: DataFrame}) -> DataFrame`` (PySpark API, the
#: partition columns first or anywhere; the job conforms the rows to the spec).
Refine = Callable[[dict[str, Any]], Any]
_REFINE_PATH = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*:[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class LazyRefine:
    """A refine function named ``"package.module:function"``, imported when first called."""

    path: str

    def __call__(self, inputs: dict[str, Any]) -> Any:
        module, _, name = self.path.partition(":")
        function: Refine = getattr(importlib.import_module(module), name)
        return function(inputs)


@dataclass(frozen=True, init=False)
class TableSpec:
    """One table of the lake. Columns are given as ``(name, hive type)`` pairs (or ``Column``)."""

    name: str  # the catalog name: refined_quotes
    prefix: str  # the folder under the layer: quotes -> refined/quotes/
    columns: tuple[Column, ...]  # what part-0.parquet holds, in file order
    partition_keys: tuple[Column, ...]  # Hive partitions, in key order (in the key only)
    sort_by: tuple[str, ...]  # row order inside a file after the partition keys
    layer: Layer
    quarantine: TableSpec | None  # the twin holding this table's rejected rows
    description: str
    # The raw sources (``raw/<name>/``) the table is refined from, and, for a table the refine
    # job builds generically, the function that turns their rows into the table's (the built-in
    # ones have their own transform, and declare only their inputs: the job reads them there).
    inputs: tuple[str, ...]
    refine: Refine | None

    def __init__(
        self,
        *,
        name: str,
        prefix: str,
        columns: ColumnsLike,
        partition_keys: ColumnsLike = (),
        sort_by: Iterable[str] = (),
        layer: Layer = "refined",
        quarantine: TableSpec | None = None,
        description: str = "",
        inputs: Iterable[str] = (),
        refine: Refine | str | None = None,
    ) -> None:
        where = name
        if isinstance(refine, str):
            if not _REFINE_PATH.match(refine):
                raise ValueError(f"{where}: refine {refine!r} is not 'package.module:function'")
            refine = LazyRefine(refine)
        if not _NAME.match(name):
            raise ValueError(f"table name {name!r} is not lower_snake_case")
        if layer not in LAYERS:
            raise ValueError(f"{where}: layer must be one of {LAYERS}")
        if not prefix or prefix.strip("/") != prefix or "/" in prefix:
            raise ValueError(f"{where}: prefix {prefix!r} must be a bare folder name")
        values = {
            "name": name,
            "prefix": prefix,
            "columns": _columns(columns, where),
            "partition_keys": _columns(partition_keys, where),
            "sort_by": tuple(sort_by),
            "layer": layer,
            "quarantine": quarantine,
            "description": description,
            "inputs": tuple(inputs),
            "refine": refine,
        }
        for key, value in values.items():
            object.__setattr__(self, key, value)
        names = list(self.column_names)
        keys = self.keys
        if len(set(names)) != len(names):
            raise ValueError(f"{where}: duplicate columns")
        if set(names) & set(keys):
            raise ValueError(
                f"{where}: partition keys {sorted(set(names) & set(keys))} are columns"
            )
        unknown = [c for c in self.sort_by if c not in names]
        if unknown:
            raise ValueError(f"{where}: sort_by names unknown columns {unknown}")
        if quarantine is not None and quarantine.layer != "quarantine":
            raise ValueError(f"{where}: its quarantine twin {quarantine.name} is not one")
        if refine is not None and (not self.inputs or self.keys[:1] not in (("dt",), ("year",))):
            raise ValueError(
                f"{where}: a table that refines itself reads inputs, by dt or year first"
            )
        if refine is not None and self.keys[:1] == ("year",) and "dt" not in names:
            raise ValueError(f"{where}: a table partitioned by year keeps dt as a column")

    # -- where -------------------------------------------------------------------------------
    @property
    def location(self) -> str:
        """The key prefix of the table in the lake: ``refined/quotes/``."""
        return f"{self.layer}/{self.prefix}/"

    @property
    def keys(self) -> tuple[str, ...]:
        """The partition key names, in key order."""
        return tuple(c.name for c in self.partition_keys)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    # -- what the catalogs and Terraform read -------------------------------------------------
    def to_manifest(self) -> dict[str, Any]:
        """The table as ``dist/manifest.json`` carries it for Terraform's catalog module."""
        return {
            "layer": self.layer,
            "prefix": self.prefix,
            "location": self.location,
            "description": self.description,
            "partition_keys": [{"name": c.name, "type": c.type} for c in self.partition_keys],
            "columns": [{"name": c.name, "type": c.type} for c in self.columns],
        }
