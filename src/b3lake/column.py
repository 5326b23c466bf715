"""A column of a table: its name and its Hive/Athena type (the catalog's and the table specs' unit).

A leaf module (standard library only) so that a table declaration (``b3lake.tables``), which the
key layout reads and so the trigger Lambda too, does not load the catalog package and, through its
adapter factory, the storage adapters and pyarrow. ``b3lake.catalog.Column`` is this class.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Column:
    name: str
    type: str  # Hive/Athena type name: string, bigint, int, double, date, decimal(13,2), timestamp
