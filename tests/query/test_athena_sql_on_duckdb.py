"""The same Athena (Trino) SQL runs locally on DuckDB through ``query.duckdb.transpile``.

Each case runs the transpiled statement on DuckDB and checks the value Athena would return.
Where DuckDB's answer has another type than Trino's, the test says so.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from b3lake.query.duckdb import transpile


def _one(sql: str) -> Any:
    return duckdb.sql(transpile(sql)).fetchone()[0]  # type: ignore[index]


def test_date_add_days_back_from_current_date() -> None:
    value = _one("SELECT date_add('day', -7, current_date)")
    today = duckdb.sql("SELECT current_date").fetchone()[0]  # type: ignore[index]
    # Trino returns a date; DuckDB a timestamp at midnight. Comparisons with date columns
    # (WHERE dt >= date_add(...)) behave the same.
    assert value == dt.datetime.combine(today - dt.timedelta(days=7), dt.time())
    assert (
        _one(
            "SELECT count(*) FROM (VALUES DATE '2021-01-04') t(dt) "
            "WHERE dt >= date_add('day', -7, DATE '2021-01-08')"
        )
        == 1
    )


def test_date_diff() -> None:
    assert _one("SELECT date_diff('day', DATE '2021-01-04', DATE '2021-02-01')") == 28


def test_approx_distinct() -> None:
    sql = "SELECT approx_distinct(t) FROM (VALUES ('PETR4'), ('VALE3'), ('PETR4')) v(t)"
    assert "APPROX_COUNT_DISTINCT" in transpile(sql).upper()
    assert _one(sql) == 2


def test_date_format_mysql_style_pattern() -> None:
    assert _one("SELECT date_format(DATE '2021-01-04', '%Y-%m')") == "2021-01"
    assert _one("SELECT date_format(TIMESTAMP '2021-01-04 10:05:00', '%Y-%m-%d %H:%i')") == (
        "2021-01-04 10:05"
    )


def test_format_datetime_joda_pattern() -> None:
    # sqlglot passes format_datetime through; transpile maps its Joda pattern to strftime.
    assert _one("SELECT format_datetime(TIMESTAMP '2021-01-04 10:00:00', 'yyyy-MM')") == "2021-01"
    assert (
        _one("SELECT format_datetime(TIMESTAMP '2021-01-04 10:05:09', 'dd/MM/yy HH:mm:ss')")
        == "04/01/21 10:05:09"
    )


def test_cast_to_varchar_and_try_cast() -> None:
    assert _one("SELECT CAST(42 AS varchar)") == "42"
    assert _one("SELECT CAST(DATE '2021-01-04' AS varchar)") == "2021-01-04"
    assert _one("SELECT try_cast('x' AS integer)") is None


def test_quoted_identifiers_and_reserved_words() -> None:
    sql = 'SELECT "close", "date" FROM (SELECT DOUBLE \'28.9\' AS "close", 1 AS "date") AS "t"'
    assert duckdb.sql(transpile(sql)).fetchone() == (28.9, 1)


def test_date_trunc_month() -> None:
    # Trino: DATE '2021-01-01'; DuckDB: a timestamp at midnight (equal when compared).
    value = _one("SELECT date_trunc('month', DATE '2021-01-14')")
    assert value in (dt.date(2021, 1, 1), dt.datetime(2021, 1, 1))


def test_window_and_lag_as_athena_writes_them() -> None:
    sql = (
        "SELECT t, c, lag(c, 1) OVER (PARTITION BY t ORDER BY d) AS prev "
        "FROM (VALUES ('A', 1, 10.0), ('A', 2, 11.0)) v(t, d, c) ORDER BY d"
    )
    rows = duckdb.sql(transpile(sql)).fetchall()
    assert [r[2] for r in rows] == [None, 10.0]
