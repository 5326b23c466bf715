"""One exception family; each error carries the input that caused it.

The CLI shows ``str(error)`` as one line and exits 1; ``--debug`` adds the traceback.
"""

from __future__ import annotations

from typing import Any


class B3LakeError(Exception):
    """Base of every error the pipeline raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        field: str | None = None,
        value: Any = None,
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.field = field
        self.value = value
        super().__init__(self.__str__())

    def __str__(self) -> str:
        location = self.source or ""
        if self.line is not None:
            location += f":{self.line}" if location else f"line {self.line}"
        if self.field is not None:
            location += f" [{self.field}]" if location else f"[{self.field}]"
        msg = self.message if self.value is None else f"{self.message} (got {self.value!r})"
        return f"{location}: {msg}" if location else msg


class ConfigError(B3LakeError):
    """A bad or missing setting."""


class SourceError(B3LakeError):
    """An input file or response that cannot be read or parsed."""


class ParseError(SourceError):
    """A record or field that does not match the source's format."""


class FetchError(SourceError):
    """A download that failed (HTTP error, HTML instead of JSON, empty body, no data)."""


class StorageError(B3LakeError):
    """A lake object that cannot be read or written."""


class CatalogError(B3LakeError):
    """An unknown table or a catalog that cannot be updated."""


class QueryError(B3LakeError):
    """A query that failed in the engine (DuckDB or Athena)."""


class JobError(B3LakeError):
    """A job run that could not be started or failed."""


class EventError(B3LakeError):
    """An event that is malformed (not an S3 notification we understand)."""


class QualityError(B3LakeError):
    """Row counts that do not reconcile: something would be lost."""


class RenamedWarning(FutureWarning):
    """An option, setting or variable was given by its old name: it still works, under its new
    one. A ``FutureWarning``, so that a user of the CLI, a Lambda or the Glue job sees it (Python
    hides a ``DeprecationWarning`` outside ``__main__``)."""


def warn_renamed(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Say once per call site that ``old`` is the deprecated spelling of ``new``."""
    import warnings

    warnings.warn(
        f"{old} is deprecated: it is {new} now (the old spelling still works, for now)",
        RenamedWarning,
        stacklevel=stacklevel,
    )
