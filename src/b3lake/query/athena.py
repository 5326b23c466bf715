"""The QueryEngine port on Athena: start, poll, page through the results, return Arrow.

Results come from ``GetQueryResults`` (strings) and are typed with the result set metadata, so a
caller gets the same ``pyarrow.Table`` shape as from DuckDB. That API returns 1,000 rows a page,
which suits the report queries (aggregates, a few tickers); a bulk export would read the CSV
Athena leaves in the workgroup's output location instead.
"""

from __future__ import annotations

import datetime as dt
import decimal
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from b3lake import awsclients
from b3lake.errors import QueryError

if TYPE_CHECKING:
    import pyarrow as pa

_DONE = {"SUCCEEDED", "FAILED", "CANCELLED"}


def _bool(value: str) -> bool:
    return value.strip().lower() == "true"


def _timestamp(value: str) -> dt.datetime:
    # Athena prints "2021-01-04 10:00:00.000"; with a zone, "… UTC" (only UTC is typed).
    text = value.strip()
    if text.endswith(" UTC"):
        return dt.datetime.fromisoformat(text[:-4]).replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(text)


def _column_type(info: dict[str, Any]) -> tuple[pa.DataType, Callable[[str], Any]]:
    """Arrow type and string parser for one Athena ``ColumnInfo`` (unknown types stay strings)."""
    import pyarrow as pa

    name = str(info.get("Type", "varchar")).lower()
    simple: dict[str, tuple[pa.DataType, Callable[[str], Any]]] = {
        "boolean": (pa.bool_(), _bool),
        "tinyint": (pa.int8(), int),
        "smallint": (pa.int16(), int),
        "integer": (pa.int32(), int),
        "int": (pa.int32(), int),
        "bigint": (pa.int64(), int),
        "real": (pa.float32(), float),
        "float": (pa.float32(), float),
        "double": (pa.float64(), float),
        "date": (pa.date32(), dt.date.fromisoformat),
        "timestamp": (pa.timestamp("us"), _timestamp),
    }
    if name in simple:
        return simple[name]
    if name == "timestamp with time zone":
        return pa.timestamp("us", tz="UTC"), _timestamp
    if name == "decimal":
        precision = int(info.get("Precision") or 38)
        scale = int(info.get("Scale") or 0)
        return pa.decimal128(precision, scale), decimal.Decimal
    return pa.string(), str


def result_to_arrow(column_info: list[dict[str, Any]], rows: list[list[str | None]]) -> pa.Table:
    """Rows of Athena strings (None = NULL) as a typed Arrow table."""
    import pyarrow as pa

    arrays, fields = [], []
    for i, info in enumerate(column_info):
        arrow_type, parse = _column_type(info)
        name = str(info.get("Label") or info.get("Name") or f"_col{i}")
        try:
            values = [None if row[i] is None else parse(row[i]) for row in rows]  # type: ignore[arg-type]
            array = pa.array(values, type=arrow_type)
        except (ValueError, TypeError, decimal.InvalidOperation, pa.ArrowException):
            # A value Athena printed in a form we do not parse: keep the column, as text.
            array = pa.array([row[i] for row in rows], type=pa.string())
        arrays.append(array)
        fields.append(pa.field(name, array.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


class AthenaQueryEngine:
    """Runs Athena (Trino) SQL in one workgroup and database."""

    def __init__(
        self,
        *,
        workgroup: str,
        database: str,
        endpoint_url: str | None = None,
        session: Any = None,
        region: str | None = None,
        catalog: str = "AwsDataCatalog",
        output_location: str | None = None,
        poll_interval: float = 0.5,
        max_poll_interval: float = 5.0,
        timeout: float = 900.0,
        client: Any = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.workgroup = workgroup
        self.database = database
        self.catalog = catalog
        # None = the workgroup's configured output location (Terraform sets and enforces it).
        self.output_location = output_location
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.timeout = timeout
        self.session = session
        self.endpoint_url = endpoint_url
        self.region = region
        self._client = client
        self._sleep = sleep

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = awsclients.client(
                "athena", endpoint_url=self.endpoint_url, session=self.session, region=self.region
            )
        return self._client

    def start(self, sql: str) -> str:
        """Submit a query; its execution id."""
        from botocore.exceptions import BotoCoreError, ClientError

        request: dict[str, Any] = {
            "QueryString": sql,
            "WorkGroup": self.workgroup,
            "QueryExecutionContext": {"Database": self.database, "Catalog": self.catalog},
        }
        if self.output_location:
            request["ResultConfiguration"] = {"OutputLocation": self.output_location}
        try:
            return str(self.client.start_query_execution(**request)["QueryExecutionId"])
        except (ClientError, BotoCoreError) as exc:
            code = awsclients.error_code(exc) or type(exc).__name__
            raise QueryError(
                f"Athena refused the query: {code}: {exc}", source=_short(sql)
            ) from exc

    def wait(self, execution_id: str, sql: str = "") -> dict[str, Any]:
        """Poll with backoff until done; QueryError with Athena's reason unless SUCCEEDED."""
        deadline = time.monotonic() + self.timeout
        interval = self.poll_interval
        while True:
            execution = self.client.get_query_execution(QueryExecutionId=execution_id)
            execution = execution["QueryExecution"]
            status = execution.get("Status", {})
            state = status.get("State")
            if state == "SUCCEEDED":
                return execution
            if state in _DONE:
                reason = (
                    status.get("StateChangeReason")
                    or status.get("AthenaError", {}).get("ErrorMessage")
                    or "no reason given"
                )
                raise QueryError(
                    f"Athena query {state}: {reason}", source=_short(sql or execution_id)
                )
            if time.monotonic() >= deadline:
                self.client.stop_query_execution(QueryExecutionId=execution_id)
                raise QueryError(
                    f"Athena query still {state} after {self.timeout:g} s; cancelled",
                    source=_short(sql or execution_id),
                )
            self._sleep(interval)
            interval = min(interval * 2, self.max_poll_interval)

    def results(self, execution_id: str, *, statement_type: str | None = "DML") -> pa.Table:
        """All result pages as Arrow; the header row Athena puts first for SELECTs is dropped."""
        column_info: list[dict[str, Any]] | None = None
        rows: list[list[str | None]] = []
        pages = self.client.get_paginator("get_query_results").paginate(
            QueryExecutionId=execution_id
        )
        for page in pages:
            result_set = page.get("ResultSet", {})
            if column_info is None:
                column_info = result_set.get("ResultSetMetadata", {}).get("ColumnInfo", [])
            for row in result_set.get("Rows", []):
                rows.append([cell.get("VarCharValue") for cell in row.get("Data", [])])
        column_info = column_info or []
        labels = [str(c.get("Label") or c.get("Name")) for c in column_info]
        if statement_type == "DML" and rows and rows[0] == labels:
            rows = rows[1:]
        width = len(column_info)
        rows = [(r + [None] * width)[:width] for r in rows]
        return result_to_arrow(column_info, rows)

    def ensure_views(self, sql: str) -> None:
        """``CREATE OR REPLACE VIEW`` (once per engine) for the views ``sql`` names
        (``b3lake.query.views``: adjusted_quotes…), so they exist in the Glue catalog."""
        from b3lake.query import views

        done: set[str] = self.__dict__.setdefault("_views_created", set())
        for view in views.named_in(sql):
            if view.name in done:
                continue
            ddl = views.create_statement(view)
            self.wait(self.start(ddl), ddl)
            done.add(view.name)

    def query(self, sql: str) -> pa.Table:
        from botocore.exceptions import BotoCoreError, ClientError

        if not sql.lstrip().upper().startswith("CREATE"):
            self.ensure_views(sql)
        execution_id = self.start(sql)
        try:
            execution = self.wait(execution_id, sql)
            return self.results(execution_id, statement_type=execution.get("StatementType", "DML"))
        except (ClientError, BotoCoreError) as exc:
            code = awsclients.error_code(exc) or type(exc).__name__
            raise QueryError(
                f"Athena query {execution_id}: {code}: {exc}", source=_short(sql)
            ) from exc


def _short(sql: str) -> str:
    return " ".join(sql.split())[:80]
