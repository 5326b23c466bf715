"""Spark writes the refined tables on its executors (local Spark over the filesystem): one file
per partition, dynamic overwrite of exactly the partitions a run changes, stale partitions
removed, and rows equal to the embedded engine's writer."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pytest
import refine_helpers as H

from b3lake.catalog.local import LocalCatalog
from b3lake.jobs.refine.job import main
from b3lake.lake import layout
from b3lake.storage.local import LocalStorage

pytestmark = pytest.mark.spark

SESSIONS = sorted(H.sample_sessions())[:5]
SOME = "PETR4,VALE3,ITUB4,BBDC4,ABEV3,MGLU3,HGLG11,BOVA11"
TABLES = {**H.TABLE_KEYS, "refined_quotes_history": ("dt", "ticker", "source")}


def _files_by_partition(storage: LocalStorage, prefix: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for key in storage.list_keys(prefix):
        folder, name = key.rsplit("/", 1)
        out[folder].append(name)
    return dict(out)


def _lake(path: Path) -> LocalStorage:
    storage = H.sample_lake(path, days=SESSIONS, ibov=True)
    day = SESSIONS[1]
    table = H.sample_sessions()[day]
    # One broken spot row: the quarantine table has a partition too.
    spot = pc.indices_nonzero(pc.equal(table["codneg"], "PETR4")).to_pylist()[0]
    cols = {n: table[n].to_pylist() for n in table.column_names}
    cols["quatot"][spot] = -5
    import pyarrow as pa

    H.write_cotahist(storage, day, pa.table(cols, schema=table.schema))
    return storage


def test_spark_writes_one_file_per_partition_with_the_embedded_engines_rows(
    tmp_path: Path, spark_engine: Any
) -> None:
    spark_lake, embedded_lake = _lake(tmp_path / "spark"), _lake(tmp_path / "embedded")
    report = main(H.argv(tmp_path / "spark", mode="full", tickers=SOME), engine=spark_engine)
    main(H.argv(tmp_path / "embedded", mode="full", tickers=SOME))
    assert report.engine == "spark" and report.quarantined["quarantine_quotes"]
    for table, keys in TABLES.items():
        prefix = layout.refined_prefix(table)
        files = _files_by_partition(spark_lake, prefix)
        assert files and all(len(names) == 1 for names in files.values()), files
        assert all(re.fullmatch(r"part-\d{5}-.+\.snappy\.parquet", n[0]) for n in files.values())
        assert set(files) == set(_files_by_partition(embedded_lake, prefix))
        assert report.partitions_written[table] == len(files)
        H.assert_same_rows(
            H.read_refined(spark_lake, table), H.read_refined(embedded_lake, table), keys
        )
    H.assert_same_rows(
        H.read_quarantine(spark_lake, "refined_quotes"),
        H.read_quarantine(embedded_lake, "refined_quotes"),
        ("dt", "ticker", "record_key"),
    )
    # No commit markers or checksum files in the lake; the catalog lists what is on disk.
    assert not [k for k in spark_lake.list_keys("") if k.endswith((".crc", "_SUCCESS"))]
    parts = LocalCatalog(spark_lake).get_table("refined_quotes").partitions
    on_disk = {tuple(k.split("/")[2:4]) for k in spark_lake.list_keys("refined/quotes/")}
    assert {(f"dt={p['dt']}", f"ticker={p['ticker']}") for p in parts} == on_disk


def test_spark_write_overwrites_only_the_changed_partitions_and_removes_stale_ones(
    tmp_path: Path, spark_engine: Any
) -> None:
    storage = H.sample_lake(tmp_path, days=SESSIONS)
    main(H.argv(tmp_path, mode="full", tickers=SOME), engine=spark_engine)
    before = set(storage.list_keys("refined/"))
    # The last session corrected: VALE3 gone. Its run rewrites that session and its month.
    day = SESSIONS[-1]
    table = H.sample_sessions()[day]
    key = H.write_cotahist(storage, day, table.filter(pc.not_equal(table["codneg"], "VALE3")))
    report = main(H.argv(tmp_path, raw_key=key, tickers=SOME), engine=spark_engine)
    after = set(storage.list_keys("refined/"))
    changed = {k.split("/")[2] for k in before ^ after if k.startswith("refined/quotes/")}
    assert changed == {f"dt={day}"}  # the other sessions' files were not touched
    assert {k for k in before if f"dt={day}/" not in k and "/quotes/" in k} <= after
    assert not [k for k in after if f"dt={day}/ticker=VALE3/" in k]  # stale partition removed
    assert report.objects_deleted >= 1
    assert report.partitions_written["refined_quotes"] == len(
        {k for k in after if k.startswith(f"refined/quotes/dt={day}/")}
    )
    assert report.partitions_written["refined_monthly"] == 1
    parts = LocalCatalog(storage).get_table("refined_quotes").partitions
    assert {"dt": day.isoformat(), "ticker": "VALE3"} not in parts
    # The same rows as the embedded engine building the same lake.
    embedded = H.sample_lake(tmp_path / "embedded", days=SESSIONS)
    H.write_cotahist(embedded, day, table.filter(pc.not_equal(table["codneg"], "VALE3")))
    main(H.argv(tmp_path / "embedded", mode="full", tickers=SOME))
    for name, keys in TABLES.items():
        H.assert_same_rows(
            H.read_refined(storage, name),
            H.read_refined(embedded, name),
            keys,
        )


def test_spark_engine_never_turns_a_table_into_python_rows() -> None:
    source = (H.ROOT / "src" / "b3lake" / "engines" / "spark.py").read_text()
    assert "to_pylist" not in source
    # Spark overrides both writers of the Engine port (engines/base.py).
    assert "def write_table(" in source and "def write_history(" in source
