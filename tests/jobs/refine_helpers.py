"""Helpers for the refine job tests: real raw inputs in a lake, runs, and row comparison."""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from b3lake import tables
from b3lake.lake import layout, parquet_io
from b3lake.launchers.local import glue_argv
from b3lake.storage import Storage
from b3lake.storage.local import LocalStorage
from b3lake.tables import TableSpec, arrow

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_ZIP = ROOT / "data" / "sample" / "COTAHIST_A2021.ZIP"
FIXTURES = ROOT / "tests" / "fixtures"
RUN_DATE = "2021-02-01"
INGESTED = dt.datetime(2021, 2, 1, tzinfo=dt.UTC)

TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "refined_quotes": ("dt", "ticker", "source"),
    "refined_monthly": ("month", "ticker", "source"),
    "refined_ibov_portfolio": ("dt", "index", "ticker"),
}


@functools.cache
def sample_sessions() -> dict[dt.date, pa.Table]:
    """The bundled COTAHIST sample, one raw table per session (16 sessions)."""
    from b3lake.sources.cotahist import parse_cotahist, split_by_session

    return split_by_session(parse_cotahist(SAMPLE_ZIP, ingested_at=INGESTED))


@functools.cache
def yfinance_fixtures() -> dict[tuple[str, dt.date], pa.Table]:
    """The real yfinance CSVs (6 tickers, 2018-09..2019-09), one table per ticker and day."""
    from b3lake.sources.yfinance import parse_yfinance_csv

    out: dict[tuple[str, dt.date], pa.Table] = {}
    for path in sorted((FIXTURES / "yfinance").glob("*.SA.csv")):
        ticker = path.name.split(".")[0]
        table = parse_yfinance_csv(
            path.read_bytes(), ticker=ticker, source_name=path.name, ingested_at=INGESTED
        )
        for i, day in enumerate(table.column("date").to_pylist()):
            out[(ticker, day)] = table.slice(i, 1)
    return out


@functools.cache
def ibov_fixture() -> pa.Table:
    """The real IBOV "Carteira do Dia" export (2025-10-03, 82 constituents)."""
    from b3lake.sources.ibov import parse_portfolio_csv

    path = FIXTURES / "ibov" / "IBOVDia_03-10-25.csv"
    return parse_portfolio_csv(path.read_bytes(), source_name=path.name, ingested_at=INGESTED)


def put_table(storage: Storage, key: str, table: pa.Table) -> None:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    storage.put_bytes(key, sink.getvalue())


def narrowed(table: pa.Table, tickers: tuple[str, ...] | None) -> pa.Table:
    """The rows of ``tickers`` only (all of them when None)."""
    if tickers is None:
        return table
    import pyarrow.compute as pc

    return table.filter(pc.is_in(table["codneg"], pa.array(list(tickers))))


def write_cotahist(storage: Storage, day: dt.date, table: pa.Table | None = None) -> str:
    key = layout.raw_key("cotahist", day)
    put_table(storage, key, sample_sessions()[day] if table is None else table)
    return key


def sample_lake(
    path: Path | str,
    days: list[dt.date] | None = None,
    *,
    yfinance: bool = False,
    ibov: bool = False,
    tickers: tuple[str, ...] | None = None,
) -> LocalStorage:
    """A lake with raw COTAHIST sessions (all 16 by default) and optionally the other sources.

    ``tickers`` narrows each session to those tickers' rows: a test that checks a few tickers
    refines those, not the whole market's ~6,600 rows a session."""
    storage = LocalStorage(path)
    for day in sample_sessions() if days is None else days:
        write_cotahist(storage, day, narrowed(sample_sessions()[day], tickers))
    if yfinance:
        for (ticker, day), table in yfinance_fixtures().items():
            put_table(storage, layout.raw_key("yfinance", day, ticker), table)
    if ibov:
        table = ibov_fixture()
        day = table.column("portfolio_date")[0].as_py()
        put_table(storage, layout.raw_key("ibov_portfolio", day, "IBOV"), table)
    return storage


def argv(lake: str | Path, **arguments: str) -> list[str]:
    """Glue's argv for a run (the launcher's own builder)."""
    args = {"lake": str(lake), "catalog_database": "default", **arguments}
    return glue_argv("b3lake-refine", "jr_test", args)


def read_table(storage: Storage, spec: TableSpec) -> pa.Table:
    """A table's rows as its spec lays them out (partition columns first)."""
    return parquet_io.read_partitioned(storage, spec.location, arrow.partition_schema(spec))


def read_refined(storage: Storage, table: str) -> pa.Table:
    return read_table(storage, tables.table(table))


def read_quarantine(storage: Storage, table: str) -> pa.Table:
    """The rejected rows of a refined table (its quarantine twin)."""
    spec = tables.table(table)
    return read_table(storage, spec.quarantine if spec.quarantine is not None else spec)


def sorted_rows(table: pa.Table, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = table.to_pylist()
    return sorted(rows, key=lambda r: tuple("" if r[k] is None else str(r[k]) for k in keys))


def assert_same_rows(
    a: pa.Table,
    b: pa.Table,
    keys: tuple[str, ...],
    *,
    tol: float = 1e-9,
    ignore: tuple[str, ...] = (),
) -> None:
    """Equal row sets (floats within ``tol``, relative to the magnitude) and equal column names."""
    assert sorted(a.column_names) == sorted(b.column_names)
    assert a.num_rows == b.num_rows, (a.num_rows, b.num_rows)
    for ra, rb in zip(sorted_rows(a, keys), sorted_rows(b, keys), strict=True):
        for name in a.column_names:
            if name in ignore:
                continue
            x, y = ra[name], rb[name]
            if isinstance(x, float) and isinstance(y, float):
                assert math.isclose(x, y, rel_tol=tol, abs_tol=tol) or (
                    math.isnan(x) and math.isnan(y)
                ), (name, ra, rb)
            else:
                assert x == y, (name, ra, rb)


def object_bytes(storage: Storage, prefix: str) -> dict[str, bytes]:
    return {k: storage.get_bytes(k) for k in storage.list_keys(prefix)}
