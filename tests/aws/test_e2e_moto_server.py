"""The AWS path end to end, offline: moto's server on loopback stands in for S3, Glue, the Glue
Data Catalog and Athena, and every b3lake piece talks to it over HTTP as it would to AWS.

raw objects (S3Storage, through the raw writer) → S3 ObjectCreated event JSON → the trigger
Lambda's handler (default launcher: Glue at ``B3LAKE_AWS_ENDPOINT_URL``) → job runs in moto's
Glue → the refine entry point with each run's argv (S3Storage + GlueCatalog at moto, embedded
engine) → ``refined/`` objects and Glue partitions → Athena (results injected; moto runs no SQL).
S3→Lambda delivery itself needs Docker in moto, so the test delivers each event to the handler.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import time
from collections.abc import Callable
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from b3lake.catalog.glue import GlueCatalog
from b3lake.events.s3_event import object_created_event
from b3lake.lake.layout import lake_location
from b3lake.lambdas.trigger import handler
from b3lake.launchers.glue import GlueLauncher
from b3lake.launchers.local import glue_argv
from b3lake.query.athena import AthenaQueryEngine
from b3lake.storage.s3 import S3Storage

pytestmark = [pytest.mark.aws, pytest.mark.slow]

LAKE_BUCKET = "b3lake-lake"
LAKE = f"s3://{LAKE_BUCKET}/lake"
JOB = "b3lake-refine"
SESSIONS = 3  # the first sessions of the bundled 2021 sample
TICKERS = "PETR4,VALE3,ITUB4,BBDC4,ABEV3"

HAVE_REFINE = importlib.util.find_spec("b3lake.jobs.refine.job") is not None


def _terraform_like(endpoint: str) -> None:
    """What infra/ creates, made through boto3: buckets, the catalog database, the Glue job."""
    s3 = boto3.client("s3", endpoint_url=endpoint)
    for bucket in (LAKE_BUCKET, "b3lake-scripts", "b3lake-athena-results"):
        s3.create_bucket(Bucket=bucket)
    glue = boto3.client("glue", endpoint_url=endpoint)
    glue.create_database(DatabaseInput={"Name": "default"})
    glue.create_job(
        Name=JOB,
        Role="arn:aws:iam::123456789012:role/b3lake-glue",
        Command={
            "Name": "glueetl",
            "ScriptLocation": "s3://b3lake-scripts/glue/glue_refine.py",
            "PythonVersion": "3",
        },
        GlueVersion="5.0",
        DefaultArguments={
            "--lake": LAKE,
            "--catalog_database": "default",
            "--mode": "incremental",
            "--job-language": "python",
            "--enable-glue-datacatalog": "true",
            "--job-bookmark-option": "job-bookmark-disable",
            "--tickers": TICKERS,  # the universe, as Terraform sets it from var.universe
        },
        ExecutionProperty={"MaxConcurrentRuns": 3},
    )
    boto3.client("athena", endpoint_url=endpoint).create_work_group(
        Name="b3lake",
        Configuration={
            "ResultConfiguration": {"OutputLocation": "s3://b3lake-athena-results/results/"}
        },
    )


def _sample_sessions(path: Any) -> dict[dt.date, pa.Table]:
    from b3lake.sources.cotahist import parse_cotahist, split_by_session

    sessions = split_by_session(parse_cotahist(path))
    return {day: sessions[day] for day in sorted(sessions)[:SESSIONS]}


def test_raw_to_refined_through_moto_server(
    moto_endpoint: str,
    moto_api: Callable[[str, str, object], int],
    monkeypatch: pytest.MonkeyPatch,
    sample_cotahist: Any,
) -> None:
    started = time.perf_counter()
    timings: dict[str, float] = {}
    _terraform_like(moto_endpoint)
    # The trigger Lambda's environment, as the Terraform sets it.
    monkeypatch.setenv("B3LAKE_LAKE", LAKE)
    monkeypatch.setenv("B3LAKE_GLUE_JOB_NAME", JOB)
    monkeypatch.setenv("B3LAKE_CATALOG_DATABASE", "default")
    monkeypatch.setenv("B3LAKE_AWS_ENDPOINT_URL", moto_endpoint)
    # A small universe keeps the test short: var.universe reaches the trigger's environment
    # (and the job's defaults above); the trigger sends it with every run.
    monkeypatch.setenv("B3LAKE_UNIVERSE__TICKERS", json.dumps(TICKERS.split(",")))

    storage = S3Storage(LAKE, endpoint_url=moto_endpoint)
    catalog = GlueCatalog("default", lake=LAKE, endpoint_url=moto_endpoint)
    bucket, prefix = lake_location(LAKE)

    # 1. Extract: raw objects over HTTP; each committed object announces itself as S3 would.
    sessions = _sample_sessions(sample_cotahist)
    assert len(sessions) == SESSIONS
    t0 = time.perf_counter()
    results: list[dict[str, Any]] = []

    def notify(key: str, size: int) -> None:
        event = object_created_event(bucket, prefix + key, size)
        results.append(handler(event, None))  # what Lambda would do with S3's event

    from b3lake.lake.raw_writer import RawWriter

    writer = RawWriter(storage, notify=notify, catalog=catalog)
    for day, table in sessions.items():
        assert writer.write("cotahist", day, table).written
    timings["extract+trigger"] = time.perf_counter() - t0
    days = [d.isoformat() for d in sessions]
    assert storage.list_keys("raw/cotahist/") == [
        f"raw/cotahist/dt={d}/part-0.parquet" for d in days
    ]
    # Re-ingesting the same data writes nothing and so starts nothing.
    assert not writer.write(
        "cotahist", next(iter(sessions)), sessions[next(iter(sessions))]
    ).written
    assert [s["dt"] for r in results for s in r["started"]] == days

    # 2. The job runs in moto's Glue, with the trigger's arguments over the job's defaults.
    runs = GlueLauncher(endpoint_url=moto_endpoint).list_runs(JOB)
    assert sorted(r.arguments["--dt"] for r in runs) == days
    for run in runs:
        day = run.arguments["--dt"]
        assert run.arguments["--raw_key"] == f"raw/cotahist/dt={day}/part-0.parquet"
        assert run.arguments["--lake"] == LAKE
        assert "--run_date" not in run.arguments  # no stored value depends on the run's date
        assert run.arguments["--mode"] == "incremental"
        assert run.arguments["--tickers"] == TICKERS
    raw_table = catalog.get_table("raw_cotahist")
    assert raw_table.partitions == [{"dt": d} for d in days]

    if not HAVE_REFINE:
        pytest.xfail("b3lake.jobs.refine.job has not landed: refine step of the e2e not run")

    # 3. Refine: each run's argv exactly as Glue builds it, storage and catalog on moto.
    from b3lake.jobs.refine.job import main

    t0 = time.perf_counter()
    reports = []
    for run in sorted(runs, key=lambda r: r.arguments["--dt"]):
        argv = glue_argv(JOB, run.id, run.arguments)
        reports.append(main(argv, storage=storage, catalog=catalog))
    timings["refine"] = time.perf_counter() - t0

    # 4. Objects under refined/ and the partitions in moto's Glue Data Catalog agree.
    tickers = sorted(TICKERS.split(","))
    quotes = catalog.get_table("refined_quotes")
    assert quotes.location == "refined/quotes/"
    assert [k.name for k in quotes.partition_keys] == ["dt", "ticker"]
    assert quotes.partitions == [{"dt": d, "ticker": t} for d in days for t in tickers]
    refined_keys = storage.list_keys("refined/quotes/")
    assert refined_keys == [
        f"refined/quotes/dt={p['dt']}/ticker={p['ticker']}/part-0.parquet"
        for p in quotes.partitions
    ]
    glue = boto3.client("glue", endpoint_url=moto_endpoint)
    one = glue.get_partition(
        DatabaseName="default", TableName="refined_quotes", PartitionValues=[days[0], "PETR4"]
    )["Partition"]
    assert one["StorageDescriptor"]["Location"] == (
        f"{LAKE}/refined/quotes/dt={days[0]}/ticker=PETR4/"
    )
    monthly = catalog.get_table("refined_monthly")
    assert monthly.partitions == [{"month": days[0][:7]}]
    fs, base = storage.arrow_filesystem()
    petr4 = pq.read_table(
        f"{base}/refined/quotes/dt={days[-1]}/ticker=PETR4/part-0.parquet", filesystem=fs
    )
    assert petr4.num_rows == 1
    assert petr4.column("close_lag_2")[0].as_py() is not None  # windows saw the earlier sessions
    names = {t.name for t in catalog.list_tables()}
    assert {"raw_cotahist", "refined_quotes", "refined_monthly"} <= names

    # 5. Athena over HTTP: moto runs no SQL, so the expected rows are injected through its API.
    close = petr4.column("close")[0].as_py()
    assert (
        moto_api(
            moto_endpoint,
            "/moto-api/static/athena/query-results",
            {
                "results": [
                    {
                        "rows": [
                            {"Data": [{"VarCharValue": "ticker"}, {"VarCharValue": "close"}]},
                            {"Data": [{"VarCharValue": "PETR4"}, {"VarCharValue": str(close)}]},
                        ],
                        "column_info": [
                            {"Name": "ticker", "Label": "ticker", "Type": "varchar"},
                            {"Name": "close", "Label": "close", "Type": "double"},
                        ],
                    }
                ]
            },
        )
        == 201
    )
    athena = AthenaQueryEngine(
        workgroup="b3lake", database="default", endpoint_url=moto_endpoint, poll_interval=0
    )
    answer = athena.query(
        f"SELECT ticker, close FROM refined_quotes WHERE dt = DATE '{days[-1]}' AND ticker = 'PETR4'"
    )
    assert answer.to_pylist() == [{"ticker": "PETR4", "close": close}]
    timings["total"] = time.perf_counter() - started
    print("e2e timings (s):", {k: round(v, 2) for k, v in timings.items()})
