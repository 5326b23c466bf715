"""DuckDB over the lake: each catalogued table is a view on its Parquet files.

SQL is written for Athena (Trino dialect) and transpiled with sqlglot, so the same queries run
in both places.

Start-up is what made the dt x ticker layout unusable (50 s before ``SELECT 1`` at one year of
the whole market): the views used ``union_by_name``, so every connection read every file's
footer. Now:

* a view is created only for the tables a statement names (``SELECT 1`` touches no file), from
  the catalog's table definitions without their partition listings;
* no ``union_by_name``: the job conforms every file to the table's schema, so DuckDB binds a
  view from one footer;
* ``refined_quotes`` is served from the history layer (``refined_quotes_history``, one sorted
  file a year) when the lake has it: the refine job writes both from the same Arrow table, so the
  rows are the same (tests/query/test_duckdb_history.py proves it). The view selects the R6
  table's columns in its order (file columns, then ``dt``, ``ticker``), and keeps to the
  tickers the R6 table holds when the job narrowed it (``b3lake.partitioned_tickers`` in its properties).

A refined table of the registry (``b3lake.tables``) that the catalog does not know yet is an
empty view with the spec's columns: on AWS, Terraform defines the refined tables from the same
specs before any run, so Athena shows them empty too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from b3lake.catalog import Catalog, TableInfo, projection
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
    return _translate(sql, read=read)[0]


def _translate(sql: str, *, read: str = "trino") -> tuple[str, list[str]]:
    """:func:`transpile` and the tables the statement reads (one parse for both)."""
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

    tree = statements[0]
    return tree.transform(rewrite).sql(dialect="duckdb"), _tables_of(tree)


def _tables_of(tree: Any) -> list[str]:
    from sqlglot import exp

    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    names = {t.name.lower() for t in tree.find_all(exp.Table) if t.name}
    return sorted(names - ctes)


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


def _registered_refined_tables(database: str) -> list[TableInfo]:
    """The registry's refined tables as the catalog would describe them (Terraform's tables)."""
    from b3lake import tables

    return [
        TableInfo(
            name=spec.name,
            database=database,
            location=spec.location,
            columns=list(spec.columns),
            partition_keys=list(spec.partition_keys),
        )
        for spec in tables.refined_tables()
    ]


# A table -> the table that holds the same rows in a layout DuckDB reads fast.
SERVED_FROM = {"refined_quotes": "refined_quotes_history"}


def referenced_tables(sql: str) -> list[str]:
    """The table names a (Trino) statement reads, lower-cased, without CTE names."""
    import sqlglot

    try:
        tree = sqlglot.parse_one(sql, read="trino")
    except sqlglot.errors.ParseError:
        return []
    return _tables_of(tree)


class DuckDBQueryEngine:
    def __init__(self, storage: Storage, catalog: Catalog) -> None:
        self.storage = storage
        self.catalog = catalog
        self._con: Any = None
        self._tables: dict[str, TableInfo] = {}
        self._views: set[str] = set()

    def _view_sql(self, table: TableInfo) -> str:
        if self.storage.root.startswith("s3://"):
            raise QueryError("DuckDB queries a local lake; use --backend aws (Athena) for S3")
        # One glob per table: DuckDB lists the files itself (much faster than naming each of the
        # dt x ticker layout's many small files) and prunes partitions on WHERE clauses.
        glob = self.storage.uri(table.location.rstrip("/")) + "/**/*.parquet"
        hive_types = ", ".join(
            f"'{c.name}': {_DUCK_TYPES.get(c.type, 'VARCHAR')}" for c in table.partition_keys
        )
        options = "hive_partitioning = true"
        if hive_types:
            options += f", hive_types = {{{hive_types}}}"
        path = glob.replace("'", "''")
        return f"CREATE OR REPLACE VIEW \"{table.name}\" AS SELECT * FROM read_parquet('{path}', {options})"

    def _served_sql(self, table: TableInfo, source: TableInfo) -> str | None:
        """``table`` as a view over ``source`` (same rows), or None when ``source`` has no files."""
        glob = self.storage.uri(source.location.rstrip("/")) + "/**/*.parquet"
        files = self.storage.list_keys(source.location)
        if not any(k.endswith(".parquet") for k in files):
            return None
        path = glob.replace("'", "''")
        names = [c.name for c in [*table.columns, *table.partition_keys]]
        cols = ", ".join(f'"{n}"' for n in names)
        where = ""
        params = table.parameters
        narrowed = params.get(projection.TICKERS) or params.get(projection.OLD_TICKERS, "")
        if narrowed:  # refined_quotes holds these tickers only (``--partitioned_tickers``)
            values = ", ".join("'" + t.replace("'", "''") + "'" for t in narrowed.split(","))
            where = f" WHERE ticker IN ({values})"
        return (
            f'CREATE OR REPLACE VIEW "{table.name}" AS SELECT {cols} FROM '
            f"read_parquet('{path}'){where}"
        )

    def _ensure_sql_view(self, con: Any, name: str) -> bool:
        """A view of ``b3lake.query.views`` (adjusted_quotes…) over its catalogued tables; False
        when ``name`` is not one. Not made (an unknown table) when an input is not catalogued."""
        from b3lake.query import views

        view = views.by_name(name)
        if view is None:
            return False
        if name in self._views or not views.can_create(view, set(self._tables)):
            return True
        self._views.add(name)
        for need in view.needs:
            self._ensure_view(con, need)
        con.execute(transpile(views.create_statement(view)))
        return True

    def _ensure_view(self, con: Any, name: str) -> None:
        import duckdb

        if self._ensure_sql_view(con, name):
            return
        table = self._tables.get(name)
        if table is None or name in self._views:
            return
        self._views.add(name)
        source = self._tables.get(SERVED_FROM.get(name, ""))
        if source is not None and not self.storage.root.startswith("s3://"):
            served = self._served_sql(table, source)
            if served is not None:
                con.execute(served)
                return
        try:
            con.execute(self._view_sql(table))
        except duckdb.IOException:
            # Catalogued but no files yet (e.g. nothing quarantined): an empty table
            # with the catalogued columns, as Athena would show it.
            con.execute(_empty_view_sql(table))

    def connect(self) -> Any:
        """The connection; views are made as statements name their tables (:meth:`views`)."""
        import duckdb

        if self._con is None:
            con = duckdb.connect()
            # Footers of the partition files are read once per connection.
            con.execute("SET parquet_metadata_cache = true")
            self._tables = {t.name.lower(): t for t in self.catalog.list_tables(partitions=False)}
            for spec in _registered_refined_tables(self.catalog.database):
                self._tables.setdefault(spec.name, spec)
            self._con = con
        return self._con

    def views(self, names: list[str] | None = None) -> Any:
        """The connection with views for ``names`` (every catalogued table when None)."""
        con = self.connect()
        for name in self._tables if names is None else names:
            self._ensure_view(con, name.lower())
        return con

    def query(self, sql: str) -> pa.Table:
        import duckdb

        duck_sql, tables = _translate(sql)
        con = self.views(tables)
        try:
            return con.execute(duck_sql).to_arrow_table()
        except duckdb.Error as exc:
            message = str(exc).splitlines()[0]
            raise QueryError(message, source=sql.strip()[:80]) from exc
