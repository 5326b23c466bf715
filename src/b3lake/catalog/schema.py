"""Arrow types as Hive/Athena type names, the language both catalogs speak."""

from __future__ import annotations

from typing import TYPE_CHECKING

from b3lake.catalog import Column

if TYPE_CHECKING:
    import pyarrow as pa


def hive_type(arrow_type: pa.DataType) -> str:
    import pyarrow as pa

    t = arrow_type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_int8(t):
        return "tinyint"
    if pa.types.is_int16(t):
        return "smallint"
    if pa.types.is_int32(t):
        return "int"
    if pa.types.is_int64(t):
        return "bigint"
    if pa.types.is_float32(t):
        return "float"
    if pa.types.is_float64(t):
        return "double"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_date32(t) or pa.types.is_date64(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_decimal(t):
        return f"decimal({t.precision},{t.scale})"
    raise TypeError(f"no Hive type for arrow type {t}")


def columns_from_arrow(schema: pa.Schema, *, exclude: tuple[str, ...] = ()) -> list[Column]:
    return [Column(f.name, hive_type(f.type)) for f in schema if f.name not in exclude]
