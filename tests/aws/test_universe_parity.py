"""A ``[universe]`` in b3lake.toml means the same refined rows locally and on the AWS path.

Locally: the settings → ``LocalBackend`` → raw objects → the local event bus → the trigger
handler → the in-process launcher → the job. On AWS (moto's server over HTTP): the same
settings → ``AwsBackend`` (S3, Glue catalog) → raw objects → their S3 events → the trigger
handler configured only from the environment the deployment sets
(``Settings.deployment_environment()``; tests/infra checks Terraform sets those names) → Glue's
StartJobRun → the job with each run's argv. The Glue job here has no universe in its defaults, so
the universe can only arrive with the trigger's arguments (Terraform sets it there as well).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pytest

from b3lake import tables
from b3lake.backends import AwsBackend, LocalBackend
from b3lake.events.s3_event import object_created_event
from b3lake.lake import parquet_io
from b3lake.lake.layout import lake_location
from b3lake.lake.raw_writer import RawWriter
from b3lake.lambdas import trigger
from b3lake.launchers.glue import GlueLauncher
from b3lake.launchers.local import glue_argv
from b3lake.pipeline import Pipeline
from b3lake.settings import load_settings
from b3lake.storage import Storage
from b3lake.tables.arrow import partition_schema

pytestmark = [pytest.mark.aws, pytest.mark.slow]

LAKE = "s3://b3lake-parity/lake"
JOB = "b3lake-refine"
TOML = """
[universe]
codbdi = ["02"]                                   # no real-estate funds (BDI 12)
tickers = ["PETR4", "VALE3", "ITUB4", "HGLG11"]   # HGLG11 is a fund: left out by codbdi
exclude_especi = []
r6_tickers = ["PETR4", "VALE3"]                   # the R6 table holds these; the history all
"""


def _sessions(path: Path, n: int = 3) -> dict[dt.date, pa.Table]:
    from b3lake.sources.cotahist import parse_cotahist, split_by_session

    sessions = split_by_session(
        parse_cotahist(path, ingested_at=dt.datetime(2021, 2, 1, tzinfo=dt.UTC))
    )
    return {day: sessions[day] for day in sorted(sessions)[:n]}


def _rows(storage: Storage, name: str) -> list[dict[str, Any]]:
    spec = tables.table(name)
    table = parquet_io.read_partitioned(storage, spec.location, partition_schema(spec))
    keys = [*spec.keys, *spec.sort_by]
    return sorted(table.to_pylist(), key=lambda r: tuple(str(r[k]) for k in keys))


def test_universe_in_b3lake_toml_gives_the_same_rows_locally_and_on_aws(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moto_endpoint: str, sample_cotahist: Path
) -> None:
    config = tmp_path / "b3lake.toml"
    config.write_text(TOML)
    monkeypatch.setenv("B3LAKE_CONFIG", str(config))
    sessions = _sessions(sample_cotahist)

    # --- local -------------------------------------------------------------------------------
    local = Pipeline(load_settings(lake=str(tmp_path / "local")))
    assert isinstance(local.backend, LocalBackend)
    for day, table in sessions.items():
        assert local.writer.write("cotahist", day, table).written
    assert all(r.state == "SUCCEEDED" for r in local.runs()) and len(local.runs()) == 3

    # --- AWS (moto server) --------------------------------------------------------------------
    settings = load_settings(backend="aws", lake=LAKE, aws_endpoint_url=moto_endpoint)
    backend = AwsBackend(settings)
    bucket, prefix = lake_location(LAKE)
    boto3.client("s3", endpoint_url=moto_endpoint).create_bucket(Bucket=bucket)
    glue = boto3.client("glue", endpoint_url=moto_endpoint)
    glue.create_database(DatabaseInput={"Name": settings.catalog_database})
    glue.create_job(
        Name=JOB,
        Role="arn:aws:iam::123456789012:role/b3lake-glue",
        Command={"Name": "glueetl", "ScriptLocation": "s3://scripts/glue_refine.py"},
        GlueVersion="5.0",
        DefaultArguments={"--lake": LAKE, "--catalog_database": "default", "--mode": "incremental"},
    )
    # The trigger Lambda's environment, as the deployment sets it from the same settings.
    for name, value in settings.deployment_environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("B3LAKE_GLUE_JOB_NAME", JOB)
    monkeypatch.setenv("B3LAKE_AWS_ENDPOINT_URL", moto_endpoint)

    def s3_event(key: str, size: int) -> None:  # what S3 → Lambda does with a new object
        trigger.handler(object_created_event(bucket, prefix + key, size), None)

    writer = RawWriter(backend.storage, notify=s3_event, catalog=backend.catalog)
    for day, table in sessions.items():
        assert writer.write("cotahist", day, table).written
    runs = GlueLauncher(endpoint_url=moto_endpoint).list_runs(JOB)
    assert len(runs) == 3
    from b3lake.jobs.refine.job import main

    for run in sorted(runs, key=lambda r: r.arguments["--dt"]):
        assert run.arguments["--tickers"] == "PETR4,VALE3,ITUB4,HGLG11"
        assert run.arguments["--codbdi"] == "02" and run.arguments["--exclude_especi"] == "none"
        assert run.arguments["--r6_tickers"] == "PETR4,VALE3"
        main(
            glue_argv(JOB, run.id, run.arguments), storage=backend.storage, catalog=backend.catalog
        )

    # --- the same rows ------------------------------------------------------------------------
    # Runs coalesce (the raw manifest): on AWS the first run refines the three sessions at once,
    # locally each event's run refines its own; no stored value depends on how runs coalesced.
    for name in ("refined_quotes", "refined_quotes_history", "refined_monthly"):
        here, there = _rows(local.backend.storage, name), _rows(backend.storage, name)
        assert here == there, name
    quotes = _rows(backend.storage, "refined_quotes")
    assert {r["ticker"] for r in quotes} == {"PETR4", "VALE3"}
    assert len(quotes) == 2 * 3
    history = _rows(backend.storage, "refined_quotes_history")
    assert {r["ticker"] for r in history} == {"PETR4", "VALE3", "ITUB4"}
    assert len(history) == 3 * 3
