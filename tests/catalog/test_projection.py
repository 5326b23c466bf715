"""Athena partition projection properties of the R6 table, kept by the job in both catalogs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from b3lake.catalog import Column, projection
from b3lake.catalog.glue import GlueCatalog

COLUMNS = [Column("close", "double")]
KEYS = [Column("dt", "date"), Column("ticker", "string")]


def test_the_properties_are_a_function_of_the_first_session_and_the_tickers() -> None:
    first = projection.refined_quotes_parameters("2021-01-05", ["VALE3", "PETR4"])
    assert first["projection.ticker.values"] == "PETR4,VALE3"
    assert first["projection.dt.range"] == "2021-01-05,NOW"
    assert first["projection.enabled"] == "true" and projection.TICKERS not in first
    narrowed = projection.refined_quotes_parameters(
        "2021-01-04", ["PETR4", "ABEV3", "PETR4"], ("PETR4",)
    )
    assert narrowed["projection.ticker.values"] == "ABEV3,PETR4"
    assert narrowed["projection.dt.range"] == "2021-01-04,NOW"
    assert narrowed[projection.TICKERS] == "PETR4"
    assert (
        projection.refined_quotes_parameters(None, []) == {}
    )  # nothing written yet: no projection
    # Twenty years of calendar days x the whole market, against x ~100 tickers.
    days = (dt.date(2006, 1, 1), dt.date(2025, 12, 31))
    assert projection.full_scan_partitions(*days, 2000) > 1_000_000
    assert projection.full_scan_partitions(*days, 100) < 1_000_000


def test_a_ticker_gone_from_the_lake_leaves_the_projection(tmp_path: Any) -> None:
    """The job sets the ticker list to the tickers the lake holds (the history layer's years):
    a corrected session that drops a ticker's only rows drops it from the list, as a rebuild
    would (the list no longer only grows)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "jobs"))
    import pyarrow.compute as pc
    import refine_helpers as H

    from b3lake.catalog.local import LocalCatalog
    from b3lake.jobs.refine.job import main

    day = sorted(H.sample_sessions())[0]
    storage = H.sample_lake(tmp_path, days=[day])
    main(H.argv(tmp_path, mode="full", tickers="PETR4,VALE3"))
    values = LocalCatalog(storage).get_table("refined_quotes").parameters
    assert values["projection.ticker.values"] == "PETR4,VALE3"
    table = H.sample_sessions()[day]
    key = H.write_cotahist(storage, day, table.filter(pc.not_equal(table["codneg"], "VALE3")))
    main(H.argv(tmp_path, raw_key=key, tickers="PETR4,VALE3"))
    values = LocalCatalog(storage).get_table("refined_quotes").parameters
    assert values["projection.ticker.values"] == "PETR4"
    assert values["projection.dt.range"] == f"{day.isoformat()},NOW"


@pytest.fixture
def glue() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("glue", region_name="us-east-1")


@pytest.mark.aws
def test_glue_keeps_the_projection_properties(glue: Any) -> None:
    catalog = GlueCatalog("default", lake="s3://b3lake-lake/lake")
    params = projection.refined_quotes_parameters("2021-01-04", ["PETR4"])
    catalog.upsert_table(
        "refined_quotes",
        location="refined/quotes/",
        columns=COLUMNS,
        partition_keys=KEYS,
        parameters=params,
    )
    table = glue.get_table(DatabaseName="default", Name="refined_quotes")["Table"]
    assert table["Parameters"]["projection.ticker.values"] == "PETR4"
    assert table["Parameters"]["classification"] == "parquet"
    info = catalog.get_table("refined_quotes", partitions=False)
    assert info.parameters["projection.dt.range"] == "2021-01-04,NOW" and info.partitions == []
    more = projection.refined_quotes_parameters("2021-01-04", ["PETR4", "VALE3"])
    catalog.upsert_table(
        "refined_quotes",
        location="refined/quotes/",
        columns=COLUMNS,
        partition_keys=KEYS,
        parameters=more,
    )
    got = glue.get_table(DatabaseName="default", Name="refined_quotes")["Table"]["Parameters"]
    assert got["projection.ticker.values"] == "PETR4,VALE3"
