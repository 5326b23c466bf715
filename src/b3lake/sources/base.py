"""The ``Source`` protocol: everything the pipeline, the CLI and the extract Lambda need of a source.

A source is one declaration (an object satisfying :class:`Source`) in one module or package under
``b3lake.sources``, registered once in :mod:`b3lake.sources.registry`. Everything else loops over the
registry: ``Pipeline.extract`` (parse saved files or fetch, split by session, land), the CLI's
``extract <name>`` subcommands (built from :attr:`Source.params`), ``run`` (``--<name>-file``), the
extract Lambda (:meth:`Source.scheduled`), the raw layout (``raw/<raw>/``) and the trigger's list of
known raw prefixes.

Decision: a declaration module imports only the standard library at import time (heavy work lives in
submodules imported inside the methods). The trigger Lambda and the CLI read the registry at start-up
and must stay light (a test imports the registry and checks that pyarrow, numpy and requests stay out).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from b3lake.errors import B3LakeError, ConfigError, SourceError

if TYPE_CHECKING:
    import pyarrow as pa

    from b3lake.settings import Settings

ParamKind = Literal["str", "int", "date", "list"]


@dataclass(frozen=True)
class Param:
    """One extract option of a source: the CLI flag ``--<name>`` (``_`` → ``-``), a request key.

    ``kind`` converts the CLI text (``date`` = ``YYYY-MM-DD``, ``list`` = comma-separated);
    ``setting`` names the :class:`~b3lake.settings.Settings` attribute that gives the default when
    the option is not given (e.g. yfinance's ``tickers``). A ``list`` flag may be repeated, and
    each value may hold several comma-separated items.
    """

    name: str
    help: str
    kind: ParamKind = "str"
    default: Any = None
    setting: str | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class Request:
    """What to extract: saved ``files`` (parsed) or, when there are none, the ``options`` to fetch."""

    files: tuple[Path, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.options.get(name)

    def get(self, name: str, default: Any = None) -> Any:
        value = self.options.get(name)
        return default if value is None else value


@dataclass
class Fetched:
    """A network extract: the rows, a description of what was read, and what had no data."""

    table: pa.Table
    input: str
    missing: list[str] = field(default_factory=list)


@runtime_checkable
class Source(Protocol):
    """One data source. Attributes are plain values; methods may import heavy libraries."""

    #: The name in settings (``sources = [...]``), the CLI (``extract <name>``, ``run --<name>-file``).
    name: str
    #: Raw prefix and table: ``raw/<raw>/dt=…/<object>.parquet``, catalogued as ``raw_<raw>``.
    raw: str
    #: One line for ``--help``, and an example command.
    summary: str
    example: str
    #: Help of ``--file`` (what saved files look like).
    file_help: str
    #: Extract options besides ``--file`` (see :class:`Param`).
    params: tuple[Param, ...]
    #: With a key, an existing object keeps its rows whose key is absent from the new rows
    #: (yfinance: tickers extracted on other runs); None replaces the object.
    merge_key: str | None
    #: True: each input is split and landed on its own (bounded memory for large files);
    #: False: all inputs are combined per session first (several files make one object).
    land_each_input: bool

    def raw_schema(self) -> pa.Schema:
        """The Arrow schema of the raw objects (lineage columns included)."""
        ...

    def parse(self, path: Path, request: Request) -> pa.Table:
        """Rows of one saved file (raises SourceError/ParseError naming file, line and field)."""
        ...

    def fetch(self, request: Request) -> Fetched:
        """Rows downloaded from the network for ``request.options``."""
        ...

    def groups(self, table: pa.Table) -> list[pa.Table]:
        """Rows that land as separate objects of a session (most sources: ``[table]``; corporate
        actions: one group per issuer and endpoint)."""
        ...

    def split(self, table: pa.Table) -> dict[dt.date, pa.Table]:
        """One table per session (the ``dt`` of its raw object), in date order."""
        ...

    def object_name(self, day: dt.date, rows: pa.Table, request: Request) -> str:
        """The name under ``raw/<raw>/dt=<day>/`` (without ``.parquet``) of the object of ``rows``."""
        ...

    def scheduled(self, day: dt.date, settings: Settings) -> list[tuple[str, dict[str, Any]]]:
        """What the scheduled extract lands for session ``day``: ``(label, options)`` pairs."""
        ...


FINDINGS_KEY = b"b3lake.findings"


@dataclass(frozen=True)
class Finding:
    """A problem in an input that did not stop it landing (file, line, field, what was done)."""

    message: str
    source: str | None = None
    line: int | None = None
    field: str | None = None
    value: Any = None

    @classmethod
    def of(cls, error: B3LakeError, action: str) -> Finding:
        """The finding for an error that was tolerated: ``action`` says what was done instead."""
        return cls(
            f"{action} ({error.message})", error.source, error.line, error.field, error.value
        )

    def __str__(self) -> str:
        return str(
            B3LakeError(
                self.message, source=self.source, line=self.line, field=self.field, value=self.value
            )
        )


def with_findings(table: pa.Table, findings: Sequence[Finding]) -> pa.Table:
    """The table with its findings in the schema metadata (the raw writer keeps it in the object)."""
    if not findings:
        return table
    meta = dict(table.schema.metadata or {})
    meta[FINDINGS_KEY] = json.dumps([asdict(f) for f in findings], default=str).encode()
    return table.replace_schema_metadata(meta)


def findings_of(table: pa.Table) -> list[Finding]:
    """The findings :func:`with_findings` attached (none for most tables)."""
    raw = (table.schema.metadata or {}).get(FINDINGS_KEY)
    return [Finding(**f) for f in json.loads(raw)] if raw else []


def off_calendar(
    day: dt.date, *, source: str, line: int | None = None, field: str | None = None
) -> list[Finding]:
    """A finding when a file's date is not a B3 session (nothing for dates the calendar does
    not cover): such a file lands, as B3 published it, and the extract says so."""
    from b3lake.sources import calendar

    first, last = calendar.calendar_range()
    if not first <= day <= last or calendar.is_session(day):
        return []
    return [
        Finding(
            f"the file is of {day.isoformat()}, which is not a B3 session: landed as published",
            source=source,
            line=line,
            field=field,
            value=day.isoformat(),
        )
    ]


def split_by_date(table: pa.Table, column: str) -> dict[dt.date, pa.Table]:
    """Rows grouped by a date column, in date order (file order kept within a day)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if table.num_rows == 0:
        return {}
    if table.column(column).null_count:
        raise SourceError(f"{column} has nulls: cannot split by session", field=column)
    return {
        day: table.filter(pc.equal(table[column], pa.scalar(day)))
        for day in sorted(set(table.column(column).to_pylist()))
    }


def convert(param: Param, value: Any) -> Any:
    """A CLI/event value converted to the parameter's kind (None stays None)."""
    if value is None:
        return None
    try:
        if param.kind == "int":
            return int(value)
        if param.kind == "date":
            return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        if param.kind == "list":
            items: Sequence[Any] = [value] if isinstance(value, str) else value
            return [part.strip() for v in items for part in str(v).split(",") if part.strip()]
    except ValueError:
        message = "not a date (use YYYY-MM-DD)" if param.kind == "date" else f"not an {param.kind}"
        raise ConfigError(message, field=param.flag, value=value) from None
    return value
