"""The SQL views (adjusted_quotes, quality_unexplained_jumps) in Athena: created by the engine,
once, before the first query that names them (moto's Athena records the statements)."""

from __future__ import annotations

from typing import Any

import pytest

from b3lake.query import views
from b3lake.query.athena import AthenaQueryEngine

pytestmark = pytest.mark.aws


def _statements(athena: Any) -> list[str]:
    ids = athena.list_query_executions(WorkGroup="b3lake")["QueryExecutionIds"]
    return [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"]["Query"] for i in ids]


def test_views_are_created_once_before_the_first_query_naming_them(athena: Any) -> None:
    engine = AthenaQueryEngine(workgroup="b3lake", database="default", poll_interval=0)
    engine.query("SELECT count(*) FROM quality_unexplained_jumps")
    engine.query("SELECT dt, close, adj_close FROM adjusted_quotes WHERE ticker = 'ABEV3'")
    engine.query("SELECT count(*) FROM refined_quotes")
    statements = _statements(athena)
    ddl = [s for s in statements if s.startswith("CREATE OR REPLACE VIEW")]
    named = views.named_in("quality_unexplained_jumps adjusted_quotes")
    assert sorted(ddl) == sorted(views.create_statement(v) for v in named)
    assert len(statements) == len(ddl) + 3  # each view once, then the three queries


def test_view_sql_is_athena_sql_that_duckdb_also_runs() -> None:
    import sqlglot

    from b3lake.query.duckdb import transpile

    for view in views.VIEWS:
        statement = views.create_statement(view)
        assert sqlglot.parse_one(statement, read="trino") is not None
        assert "CREATE OR REPLACE VIEW" in transpile(statement)
    assert [v.name for v in views.named_in("select * from QUALITY_UNEXPLAINED_JUMPS")] == [
        "adjusted_quotes",
        "quality_unexplained_jumps",
    ]
    assert views.named_in("SELECT * FROM refined_quotes") == []


def test_views_read_the_history_layer_never_the_r6_table() -> None:
    """``adjusted_quotes`` gives the same rows on Athena and locally whatever ``--partitioned_tickers``
    keeps in the R6 table: no view reads the R6 table (``refined_quotes``); the quote views read
    the history layer (every ticker), as the Athena statements themselves say."""
    import sqlglot
    from sqlglot import exp

    def tables_of(view: views.View) -> set[str]:
        tree = sqlglot.parse_one(views.create_statement(view), read="trino")
        ctes = {c.alias for c in tree.find_all(exp.CTE)}
        return {t.name for t in tree.find_all(exp.Table)} - ctes - {view.name}

    read = {v.name: tables_of(v) for v in views.VIEWS}
    assert not any("refined_quotes" in names for names in read.values()), read
    assert read["adjusted_quotes"] == {"refined_quotes_history", "corporate_action_factors"}
