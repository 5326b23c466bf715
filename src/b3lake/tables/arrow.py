"""A ``TableSpec`` as Arrow schemas (pyarrow imported on call; kept apart from ``spec.py`` so the
trigger Lambda, which reads the layout and so the specs, never reaches pyarrow).

The Arrow type of a Hive name is fixed here (``date`` → ``date32``, ``int`` → ``int32``,
``timestamp`` → ``timestamp[us, UTC]``): the files' bytes depend on it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from b3lake.tables.registry import partition_type

if TYPE_CHECKING:
    import pyarrow as pa

    from b3lake.tables.spec import TableSpec

_DECIMAL = re.compile(r"^decimal\((\d+),(\d+)\)$")


def arrow_type(hive: str) -> pa.DataType:
    """The Arrow type a Hive type name stands for in the lake's files."""
    import pyarrow as pa

    simple = {
        "string": pa.string(),
        "tinyint": pa.int8(),
        "smallint": pa.int16(),
        "int": pa.int32(),
        "bigint": pa.int64(),
        "float": pa.float32(),
        "double": pa.float64(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us", tz="UTC"),
    }
    if hive in simple:
        return simple[hive]
    match = _DECIMAL.match(hive)
    if match:
        return pa.decimal128(int(match[1]), int(match[2]))
    raise ValueError(f"no Arrow type for Hive type {hive!r}")


def file_schema(spec: TableSpec) -> pa.Schema:
    """What each ``part-0.parquet`` of the table holds."""
    import pyarrow as pa

    return pa.schema([pa.field(c.name, arrow_type(c.type)) for c in spec.columns])


def partition_schema(spec: TableSpec) -> pa.Schema:
    """The table's partition columns (in the key, not in the file)."""
    import pyarrow as pa

    return pa.schema([pa.field(c.name, arrow_type(c.type)) for c in spec.partition_keys])


def full_schema(spec: TableSpec) -> pa.Schema:
    """The table's rows as the job produces them: partition columns first, then the file's."""
    import pyarrow as pa

    return pa.schema(list(partition_schema(spec)) + list(file_schema(spec)))


def keys_schema(keys: tuple[str, ...] | list[str]) -> pa.Schema:
    """Partition columns by name, typed as the registered tables type them (``dt`` a date)."""
    import pyarrow as pa

    return pa.schema([pa.field(k, arrow_type(partition_type(k))) for k in keys])


def conform(table: pa.Table, schema: pa.Schema, what: str) -> pa.Table:
    """``table`` in ``schema``'s column order and types; JobError naming the table (``what``)
    and the column if one is missing or its type drifted (an engine's output contract)."""
    from b3lake.errors import JobError

    missing = [n for n in schema.names if n not in table.column_names]
    if missing:
        raise JobError(f"engine output lacks columns {missing}", source=what)
    table = table.select(schema.names)
    for f in schema:
        got = table.schema.field(f.name).type
        if got != f.type:
            raise JobError(f"column {f.name} is {got}, the contract says {f.type}", source=what)
    return table.cast(schema)
