"""The visual job's DAG, run by the interpreter, equals the code job's corresponding columns row by
row (renames, sums, counts, the date calculation), on SQLFrame/DuckDB and on PySpark.

Input: the bundled COTAHIST sample (16 sessions, every instrument) plus rows the code job
quarantines (a zero price, a negative volume, low above high, a duplicate record), so that the
visual job's row rules are exercised too. The Spark test runs under the ``spark`` marker and
fails (never skips) without pyspark or Java.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
import refine_helpers as H

from b3lake.jobs.refine import quality, schemas
from b3lake.jobs.refine.transforms import quotes as transform
from b3lake.jobs.visual import dag, interpret
from b3lake.lake import layout
from b3lake.storage.local import LocalStorage

LAKE = "s3://b3lake-test/lake"
CONFIG = dag.VisualJobConfig(lake=LAKE)
#: visual column -> the code job's column it equals
CODE_COLUMNS = {
    "dt": "dt",
    "ticker": "ticker",
    "volume": "volume",
    "traded_value": "traded_value",
    "trades": "trades",
    dag.RECORDS: transform.INPUT_ROWS,
    dag.DATE_CALCULATION: "days_since_prev_session",
}
BAD_ROWS = 4


def _lake_with_bad_rows(path: Path, sessions: int = 16) -> LocalStorage:
    """The first sample sessions; the fourth also holds four rows the code job quarantines."""
    storage = H.sample_lake(path, days=sorted(H.sample_sessions())[:sessions])
    day = sorted(H.sample_sessions())[3]
    table = H.sample_sessions()[day]
    universe = pc.and_(
        pc.and_(pc.equal(table["tpmerc"], "010"), pc.equal(table["codbdi"], "02")),
        pc.greater(table["quatot"], 1000),
    )
    rows = table.filter(universe).slice(0, 4).to_pylist()
    zero_price = {**rows[0], "preabe": rows[0]["preabe"] * 0}
    negative_volume = {**rows[1], "quatot": -5}
    low_above_high = {**rows[2], "premin": rows[2]["premax"] + 1}
    duplicate = dict(rows[3])
    bad = [zero_price, negative_volume, low_above_high, duplicate]
    for i, row in enumerate(bad):
        row["line_number"] = 10_000_000 + i  # after every real line: the duplicate is the second
    H.write_cotahist(
        storage, day, pa.concat_tables([table, pa.Table.from_pylist(bad, table.schema)])
    )
    return storage


def _code_job(engine: Any, storage: LocalStorage) -> tuple[pa.Table, int]:
    """The code job's quotes (cotahist) in the visual table's columns, and the rows it quarantined."""
    from b3lake.lake.manifest import raw_index as _raw_index

    keys = sorted(k for ks in _raw_index(storage, "cotahist").values() for k in ks)
    raw = engine.read_parquet(storage, keys, schemas.RAW_COTAHIST)
    flagged = engine.persist(quality.flag_quotes(transform.normalize_quotes(raw)))
    F = transform.sql_api(flagged).F  # noqa: N806
    quarantined = int(flagged.filter(F.col("rule").isNotNull()).count())
    quotes = engine.to_arrow(transform.refine_quotes(quality.clean_rows(flagged)))
    quotes = quotes.filter(pc.equal(quotes["source"], "cotahist"))
    picked = quotes.select(list(CODE_COLUMNS.values())).rename_columns(list(CODE_COLUMNS))
    return picked.sort_by([("dt", "ascending"), ("ticker", "ascending")]), quarantined


def _visual_job(engine: Any, storage: LocalStorage, config: dag.VisualJobConfig = CONFIG) -> Any:
    catalog = None
    if config.source == "catalog":
        from b3lake.catalog import Column
        from b3lake.catalog.local import LocalCatalog
        from b3lake.catalog.schema import columns_from_arrow

        catalog = LocalCatalog(storage, config.database)
        catalog.upsert_table(
            dag.RAW_TABLE,
            location=layout.raw_prefix("cotahist"),
            columns=columns_from_arrow(schemas.RAW_COTAHIST),
            partition_keys=[Column("dt", "date")],
        )
    run = interpret.run_dag(
        dag.build_nodes(config), engine=engine, storage=storage, lake=LAKE, catalog=catalog
    )
    assert len(run.targets) == 1
    return run.targets[0]


def _types(table: pa.Table) -> list[tuple[str, pa.DataType]]:
    return [(f.name, f.type) for f in table.schema]


def _assert_visual_equals_code(engine: Any, storage: LocalStorage, min_rows: int) -> None:
    code, quarantined = _code_job(engine, storage)
    target = _visual_job(engine, storage)
    visual = target.data.sort_by([("dt", "ascending"), ("ticker", "ascending")])
    print(f"{engine.name}: {visual.num_rows} rows, {quarantined} quarantined by the code job")
    assert quarantined == BAD_ROWS
    assert code.num_rows > min_rows
    # The same columns with the same types (the contract's), and the same rows, exactly: the
    # sums are exact on both sides (decimals), so no tolerance is needed.
    assert _types(visual) == _types(code) == _types(dag.visual_full_schema().empty_table())
    assert visual.to_pylist() == code.to_pylist()
    # The date calculation is really exercised: gaps of 1, 3 (weekends) and nulls (first session).
    gaps = set(visual.column(dag.DATE_CALCULATION).to_pylist())
    assert {None, 1, 3} <= gaps
    # What Glue would write: one partition per dt x ticker under refined/visual_quotes/, the
    # table default.visual_quotes created or updated, the prefix emptied first.
    assert target.path == f"{LAKE}/refined/visual_quotes/"
    assert target.partition_keys == ("dt", "ticker")
    assert (target.database, target.table) == ("default", "visual_quotes")
    assert target.update_behavior == "UPDATE_IN_DATABASE"
    assert target.replaced
    expected = [
        f"refined/visual_quotes/dt={r['dt'].isoformat()}/ticker={r['ticker']}/"
        for r in code.select(["dt", "ticker"]).to_pylist()
    ]
    assert target.partition_prefixes() == expected
    assert target.partitions[0] == {"dt": "2021-01-04", "ticker": expected[0].split("=")[-1][:-1]}


def test_visual_job_equals_the_code_job_on_sqlframe(tmp_path: Path, sqlframe_engine: Any) -> None:
    # All 16 sessions: 15,846 rows.
    _assert_visual_equals_code(sqlframe_engine, _lake_with_bad_rows(tmp_path), 15_000)


@pytest.mark.spark
@pytest.mark.slow
def test_visual_job_equals_the_code_job_on_spark(tmp_path: Path, spark_engine: Any) -> None:
    # Six sessions (a weekend, the bad rows) keep local Spark under a minute on two cores.
    _assert_visual_equals_code(spark_engine, _lake_with_bad_rows(tmp_path, 6), 5_000)


def test_visual_job_from_the_catalog_table_reads_the_same_rows(
    tmp_path: Path, sqlframe_engine: Any
) -> None:
    storage = H.sample_lake(tmp_path, days=sorted(H.sample_sessions())[:4])
    from_s3 = _visual_job(sqlframe_engine, storage).data
    config = dag.VisualJobConfig(lake=LAKE, source="catalog")
    assert "S3CatalogSource" in dag.build_nodes(config)[dag.SOURCE]
    from_catalog = _visual_job(sqlframe_engine, storage, config).data
    order = [("dt", "ascending"), ("ticker", "ascending")]
    assert from_catalog.sort_by(order).equals(from_s3.sort_by(order))


def test_visual_job_written_locally_registers_its_table_and_reruns_to_the_same_bytes(
    tmp_path: Path, sqlframe_engine: Any
) -> None:
    from b3lake.catalog.local import LocalCatalog

    storage = H.sample_lake(tmp_path, days=sorted(H.sample_sessions())[:3])
    catalog = LocalCatalog(storage, "default")
    target = _visual_job(sqlframe_engine, storage)
    files = interpret.write_target(storage, catalog, target)
    first = H.object_bytes(storage, dag.VISUAL_PREFIX)
    assert files == len(first) == len(target.partitions)
    table = catalog.get_table(dag.VISUAL_TABLE)
    assert table.location == dag.VISUAL_PREFIX
    assert [c.name for c in table.partition_keys] == ["dt", "ticker"]
    assert [c.name for c in table.columns] == dag.visual_schema().names
    assert len(table.partitions) == len(target.partitions)
    interpret.write_target(storage, catalog, _visual_job(sqlframe_engine, storage))
    assert H.object_bytes(storage, dag.VISUAL_PREFIX) == first  # replaced, not appended


def test_visual_job_runs_on_a_local_lake_from_the_cli(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from b3lake.catalog.local import LocalCatalog
    from b3lake.cli import app

    storage = H.sample_lake(tmp_path, days=sorted(H.sample_sessions())[:2])
    result = CliRunner().invoke(app, ["--lake", str(tmp_path), "glue", "run-visual-job", "--write"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "under refined/visual_quotes/ (dt, ticker), catalog table default.visual_quotes" in text
    files = storage.list_keys(dag.VISUAL_PREFIX)
    table = LocalCatalog(storage, "default").get_table(dag.VISUAL_TABLE)
    assert len(files) == len(table.partitions) > 2_000
