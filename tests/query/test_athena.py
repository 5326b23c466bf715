"""AthenaQueryEngine against moto's Athena (in-process; moto runs no SQL, so results are
injected into its queue) and botocore's Stubber for what moto cannot do (FAILED with a reason,
several result pages)."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import boto3
import pyarrow as pa
import pytest
from botocore.stub import Stubber
from moto.athena.models import QueryResults, athena_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_api import state_manager

from b3lake.errors import QueryError
from b3lake.query import QueryEngine
from b3lake.query.athena import AthenaQueryEngine, result_to_arrow

pytestmark = pytest.mark.aws

COLUMNS = [
    {"Name": "ticker", "Label": "ticker", "Type": "varchar"},
    {"Name": "dt", "Label": "dt", "Type": "date"},
    {"Name": "close", "Label": "close", "Type": "double"},
    {"Name": "volume", "Label": "volume", "Type": "bigint"},
    {"Name": "trades", "Label": "trades", "Type": "integer"},
    {"Name": "preult", "Label": "preult", "Type": "decimal", "Precision": 13, "Scale": 2},
    {"Name": "ingested_at", "Label": "ingested_at", "Type": "timestamp"},
    {"Name": "ok", "Label": "ok", "Type": "boolean"},
]


def _row(*values: str | None) -> dict[str, Any]:
    return {"Data": [{} if v is None else {"VarCharValue": v} for v in values]}


HEADER = _row(*[c["Name"] for c in COLUMNS])
ROWS = [
    _row(
        "PETR4",
        "2021-01-04",
        "28.91",
        "71225700",
        "43000",
        "28.91",
        "2021-01-05 09:00:00.123",
        "true",
    ),
    _row("VALE3", "2021-01-04", None, None, None, None, None, None),
]


def _inject(rows: list[dict[str, Any]], columns: list[dict[str, Any]]) -> None:
    backend = athena_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    backend.query_results_queue.append(QueryResults(rows=rows, column_info=columns))


def test_query_returns_typed_arrow_and_sends_workgroup_and_database(athena: Any) -> None:
    _inject([HEADER, *ROWS], COLUMNS)
    engine = AthenaQueryEngine(workgroup="b3lake", database="default", poll_interval=0)
    assert isinstance(engine, QueryEngine)
    table = engine.query("SELECT * FROM refined_quotes WHERE dt = DATE '2021-01-04'")
    assert table.schema == pa.schema(
        [
            ("ticker", pa.string()),
            ("dt", pa.date32()),
            ("close", pa.float64()),
            ("volume", pa.int64()),
            ("trades", pa.int32()),
            ("preult", pa.decimal128(13, 2)),
            ("ingested_at", pa.timestamp("us")),
            ("ok", pa.bool_()),
        ]
    )
    assert table.to_pylist()[0] == {
        "ticker": "PETR4",
        "dt": dt.date(2021, 1, 4),
        "close": 28.91,
        "volume": 71225700,
        "trades": 43000,
        "preult": decimal.Decimal("28.91"),
        "ingested_at": dt.datetime(2021, 1, 5, 9, 0, 0, 123000),
        "ok": True,
    }
    assert table.to_pylist()[1]["close"] is None  # missing VarCharValue is NULL
    (execution_id,) = athena.list_query_executions(WorkGroup="b3lake")["QueryExecutionIds"]
    execution = athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
    assert execution["QueryExecutionContext"]["Database"] == "default"
    assert execution["WorkGroup"] == "b3lake"


def test_empty_result(athena: Any) -> None:
    engine = AthenaQueryEngine(workgroup="b3lake", database="default", poll_interval=0)
    table = engine.query("SELECT 1 WHERE false")
    assert table.num_rows == 0


def test_waits_with_backoff_then_cancels_at_the_timeout(athena: Any) -> None:
    state_manager.set_transition("athena::execution", {"progression": "manual", "times": 10_000})
    try:
        slept: list[float] = []
        engine = AthenaQueryEngine(
            workgroup="b3lake",
            database="default",
            poll_interval=0.5,
            timeout=0,
            sleep=slept.append,
        )
        with pytest.raises(QueryError, match="still QUEUED after 0 s; cancelled"):
            engine.query("SELECT count(*) FROM refined_quotes")
        (execution_id,) = athena.list_query_executions()["QueryExecutionIds"]
        state = athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
        assert state["Status"]["State"] == "CANCELLED"

        calls = {"n": 0}

        def sleep(seconds: float) -> None:
            slept.append(seconds)
            calls["n"] += 1
            if calls["n"] == 6:
                state_manager.unset_transition("athena::execution")  # now it finishes

        engine = AthenaQueryEngine(workgroup="b3lake", database="default", sleep=sleep)
        engine.query("SELECT 1")
        assert slept == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    finally:
        state_manager.unset_transition("athena::execution")


def test_cancelled_query_is_a_query_error(athena: Any) -> None:
    state_manager.set_transition("athena::execution", {"progression": "manual", "times": 10_000})
    try:
        engine = AthenaQueryEngine(workgroup="b3lake", database="default")

        def cancel_it(_: float) -> None:
            for execution_id in athena.list_query_executions()["QueryExecutionIds"]:
                athena.stop_query_execution(QueryExecutionId=execution_id)

        engine._sleep = cancel_it
        with pytest.raises(QueryError, match="CANCELLED: no reason given"):
            engine.query("SELECT 1")
    finally:
        state_manager.unset_transition("athena::execution")


# -- what moto cannot do: a FAILED query with Athena's reason, several pages ----------------


def _stubbed() -> tuple[AthenaQueryEngine, Stubber]:
    client = boto3.client("athena", region_name="us-east-1")
    return AthenaQueryEngine(
        workgroup="b3lake", database="default", client=client, sleep=lambda _: None
    ), Stubber(client)


def _execution(state: str, **status: Any) -> dict[str, Any]:
    return {
        "QueryExecution": {
            "QueryExecutionId": "q-1",
            "StatementType": "DML",
            "Status": {"State": state, **status},
        }
    }


def test_failed_query_raises_with_athenas_reason() -> None:
    engine, stub = _stubbed()
    reason = "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved"
    stub.add_response(
        "start_query_execution",
        {"QueryExecutionId": "q-1"},
        {
            "QueryString": "SELECT nope FROM refined_quotes",
            "WorkGroup": "b3lake",
            "QueryExecutionContext": {"Database": "default", "Catalog": "AwsDataCatalog"},
        },
    )
    stub.add_response("get_query_execution", _execution("RUNNING"))
    stub.add_response("get_query_execution", _execution("FAILED", StateChangeReason=reason))
    with stub, pytest.raises(QueryError) as caught:
        engine.query("SELECT nope FROM refined_quotes")
    assert reason in str(caught.value)
    assert "FAILED" in str(caught.value)
    stub.assert_no_pending_responses()


def test_refused_at_submission_is_a_query_error() -> None:
    engine, stub = _stubbed()
    stub.add_client_error(
        "start_query_execution", "InvalidRequestException", "WorkGroup b3lake is not found."
    )
    with stub, pytest.raises(QueryError, match="InvalidRequestException"):
        engine.query("SELECT 1")


def test_results_are_read_across_pages_header_only_on_the_first() -> None:
    engine, stub = _stubbed()
    columns = [{"Name": "n", "Label": "n", "Type": "integer"}]
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"})
    stub.add_response("get_query_execution", _execution("SUCCEEDED"))
    stub.add_response(
        "get_query_results",
        {
            "ResultSet": {
                "Rows": [_row("n"), _row("1"), _row("2")],
                "ResultSetMetadata": {"ColumnInfo": columns},
            },
            "NextToken": "page-2",
        },
    )
    stub.add_response(
        "get_query_results",
        {"ResultSet": {"Rows": [_row("3")], "ResultSetMetadata": {"ColumnInfo": columns}}},
        {"QueryExecutionId": "q-1", "NextToken": "page-2"},
    )
    with stub:
        table = engine.query("SELECT n FROM t")
    assert table.column("n").to_pylist() == [1, 2, 3]
    assert table.schema.field("n").type == pa.int32()


def test_unparseable_values_stay_text_and_complex_types_are_strings() -> None:
    table = result_to_arrow(
        [
            {"Name": "a", "Type": "integer"},
            {"Name": "b", "Type": "array"},
            {"Name": "c", "Type": "double"},
            {"Name": "d", "Type": "timestamp with time zone"},
        ],
        [["x", "[1, 2]", "NaN", "2021-01-04 10:00:00.000 UTC"]],
    )
    assert table.column("a").to_pylist() == ["x"]
    assert table.column("b").to_pylist() == ["[1, 2]"]
    assert str(table.column("c")[0]) == "nan"
    assert table.column("d").to_pylist() == [dt.datetime(2021, 1, 4, 10, tzinfo=dt.UTC)]
