"""DuckDB over the lake: each catalogued table is a view on its Parquet files.

SQL is written for Athena (Trino dialect) and transpiled with sqlglot, so the same queries run
in both places.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from b3lake.catalog import Catalog, TableInfo
from b3lake.errors import QueryError
from b3lake.storage import Storage

if TYPE_CHECKING:
    import pyarrow as pa

_DUCK_TYPES = {"string": "VARCHAR", "date": "DATE", "int": "INTEGER", "bigint": "BIGINT"}


# Joda-Time pattern letters (Trino's format_datetime) as strftime directives, longest first.
_JODA = [
    ("yyyy", "%Y"), ("yy", "%y"), ("MMMM", "%B"), ("MMM", "%b"), ("MM", "%m"), ("dd", "%d"),
    ("HH", "%H"), ("hh", "%I"), ("mm", "%M"), ("ss", "%S"), ("SSS", "%g"), ("EEEE", "%A"),
    ("EEE", "%a"), ("a", "%p"),
]  # fmt: skip


def _joda_to_strftime(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        for joda, directive in _JODA:
            if pattern.startswith(joda, i):
                out.append(directive)
                i += len(joda)
                break
        else:
            out.append(pattern[i].replace("%", "%%"))
            i += 1
    return "".join(out)


def transpile(sql: str, *, read: str = "trino") -> str:
    """Athena (Trino) SQL as DuckDB SQL.

    sqlglot does the dialect work; ``format_datetime`` (a Joda pattern, which sqlglot passes
    through) becomes ``strftime``.
    """
    import sqlglot
    from sqlglot import exp

    try:
        statements = sqlglot.parse(sql, read=read)
    except sqlglot.errors.ParseError as exc:
        raise QueryError(f"cannot parse SQL: {exc}", source=sql.strip()[:80]) from exc
    if len(statements) != 1 or statements[0] is None:
        raise QueryError("one statement at a time", source=sql.strip()[:80])

    def rewrite(node: exp.Expression) -> exp.Expression:
        if (
            isinstance(node, exp.Anonymous)
            and str(node.this).lower() == "format_datetime"
            and len(node.expressions) == 2
            and isinstance(node.expressions[1], exp.Literal)
        ):
            value, pattern = node.expressions
            return exp.Anonymous(
                this="strftime",
                expressions=[value, exp.Literal.string(_joda_to_strftime(pattern.this))],
            )
        return node

    return statements[0].transform(rewrite).sql(dialect="duckdb")


def _duck_type(hive: str) -> str:
    return {
        "string": "VARCHAR",
        "tinyint": "TINYINT",
        "smallint": "SMALLINT",
        "int": "INTEGER",
        "bigint": "BIGINT",
        "float": "FLOAT",
        "double": "DOUBLE",
        "boolean": "BOOLEAN",
        "date": "DATE",
        "timestamp": "TIMESTAMPTZ",
    }.get(hive, hive.upper())


def _empty_view_sql(table: TableInfo) -> str:
    cols = ", ".join(
        f'CAST(NULL AS {_duck_type(c.type)}) AS "{c.name}"'
        for c in [*table.columns, *table.partition_keys]
    )
    return f'CREATE OR REPLACE VIEW "{table.name}" AS SELECT {cols or "NULL AS x"} WHERE false'


class DuckDBQueryEngine:
    def __init__(self, storage: Storage, catalog: Catalog) -> None:
        self.storage = storage
        self.catalog = catalog
        self._con: Any = None

    def _view_sql(self, table: TableInfo) -> str:
        if self.storage.root.startswith("s3://"):
            raise QueryError("DuckDB queries a local lake; use --backend aws (Athena) for S3")
        # One glob per table: DuckDB lists the files itself (much faster than naming each of the
        # dt x ticker layout's many small files) and prunes partitions on WHERE clauses.
        glob = self.storage.uri(table.location.rstrip("/")) + "/**/*.parquet"
        hive_types = ", ".join(
            f"'{c.name}': {_DUCK_TYPES.get(c.type, 'VARCHAR')}" for c in table.partition_keys
        )
        options = "hive_partitioning = true, union_by_name = true"
        if hive_types:
            options += f", hive_types = {{{hive_types}}}"
        path = glob.replace("'", "''")
        return f"CREATE OR REPLACE VIEW \"{table.name}\" AS SELECT * FROM read_parquet('{path}', {options})"

    def connect(self) -> Any:
        import duckdb

        if self._con is None:
            con = duckdb.connect()
            # Footers of the many small partition files are read once per connection.
            con.execute("SET parquet_metadata_cache = true")
            for table in self.catalog.list_tables():
                try:
                    con.execute(self._view_sql(table))
                except duckdb.IOException:
                    # Catalogued but no files yet (e.g. nothing quarantined): an empty table
                    # with the catalogued columns, as Athena would show it.
                    con.execute(_empty_view_sql(table))
            self._create_views(con)
            self._con = con
        return self._con

    def _create_views(self, con: Any) -> None:
        """The views of ``b3lake.query.views`` whose tables are catalogued (adjusted_quotes…)."""
        from b3lake.query import views

        for view in views.available({t.name for t in self.catalog.list_tables()}):
            con.execute(transpile(views.create_statement(view)))

    def query(self, sql: str) -> pa.Table:
        import duckdb

        con = self.connect()
        try:
            return con.execute(transpile(sql)).to_arrow_table()
        except duckdb.Error as exc:
            message = str(exc).splitlines()[0]
            raise QueryError(message, source=sql.strip()[:80]) from exc
