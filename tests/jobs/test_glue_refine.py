"""The Glue entry script on local Spark, with fake ``awsglue`` modules at the boundary only."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest
import refine_helpers as H

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def _fake_awsglue(spark: Any, calls: list[str]) -> dict[str, types.ModuleType]:
    """``awsglue.utils/context/job`` as Glue provides them, backed by a local SparkSession."""

    def get_resolved_options(argv: list[str], names: list[str]) -> dict[str, str]:
        out = {}
        for name in names:
            flag = f"--{name}"
            if flag not in argv:
                raise SystemExit(f"missing {flag}")  # what Glue's argparse does
            out[name] = argv[argv.index(flag) + 1]
        return out

    class GlueContext:
        def __init__(self, sc: Any) -> None:
            self.spark_session = spark

    class Job:
        def __init__(self, context: Any) -> None:
            self.context = context

        def init(self, name: str, args: dict[str, str]) -> None:
            calls.append(f"init {name}")

        def commit(self) -> None:
            calls.append("commit")

    root = types.ModuleType("awsglue")
    utils = types.ModuleType("awsglue.utils")
    utils.getResolvedOptions = get_resolved_options  # type: ignore[attr-defined]
    context = types.ModuleType("awsglue.context")
    context.GlueContext = GlueContext  # type: ignore[attr-defined]
    job = types.ModuleType("awsglue.job")
    job.Job = Job  # type: ignore[attr-defined]
    return {"awsglue": root, "awsglue.utils": utils, "awsglue.context": context, "awsglue.job": job}


def test_glue_script_runs_the_same_job_on_spark(
    tmp_path: Path, spark_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from b3lake.catalog.local import LocalCatalog
    from b3lake.jobs import glue_refine
    from b3lake.jobs.refine.job import main

    calls: list[str] = []
    for name, module in _fake_awsglue(spark_engine.spark, calls).items():
        monkeypatch.setitem(sys.modules, name, module)
    sessions = sorted(H.sample_sessions())[:3]
    storage = H.sample_lake(tmp_path / "glue", days=sessions)
    argv = H.argv(tmp_path / "glue", dt=sessions[-1].isoformat(), tickers="PETR4,VALE3,HGLG11")
    monkeypatch.setattr(sys, "argv", argv)
    report = glue_refine.main()
    assert calls == ["init b3lake-refine", "commit"]
    # A fresh lake: every session is pending (raw manifest), 3 sessions x 3 tickers.
    assert report["engine"] == "spark" and report["refined_rows"]["refined_quotes"] == 9
    assert LocalCatalog(storage).get_table("refined_quotes").partitions
    # The same arguments on the local default engine give the same rows.
    local = H.sample_lake(tmp_path / "local", days=sessions)
    main(H.argv(tmp_path / "local", dt=sessions[-1].isoformat(), tickers="PETR4,VALE3,HGLG11"))
    for table, keys in H.TABLE_KEYS.items():
        if table != "refined_ibov_portfolio":
            H.assert_same_rows(H.read_refined(storage, table), H.read_refined(local, table), keys)
