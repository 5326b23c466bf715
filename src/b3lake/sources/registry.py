"""The one registry of sources: every command, the extract Lambda and the raw layout read it.

To add a source: write one module (or package) under ``b3lake.sources`` whose import is light and
which defines ``SOURCE`` (an object satisfying :class:`b3lake.sources.base.Source`), then add its
module path to :data:`BUILTIN` below. That is all: the ``extract <name>`` subcommand, ``run
--<name>-file``, ``sources = ["<name>"]`` in settings, the scheduled extract, ``raw/<raw>/`` and
the trigger's list of known prefixes follow (see docs/architecture.md, "How to add a source").

A test or a plugin registers an object at run time with :func:`register` (and removes it with
:func:`unregister`). Decision: the built-in modules are imported on the first look-up, not when this
module is imported, so importing it loads no source code until something asks (the trigger
Lambda checks an event's ``raw/<raw>/`` prefix against ``raw_names()``).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from b3lake.errors import ConfigError

if TYPE_CHECKING:
    from b3lake.sources.base import Source

#: The built-in sources, in the order commands list them. One line per source.
BUILTIN: tuple[str, ...] = (
    "b3lake.sources.cotahist",
    "b3lake.sources.ibov",
    "b3lake.sources.yfinance",
    "b3lake.sources.corporate_actions",
    "b3lake.sources.index_levels",
    "b3lake.sources.curves",
    "b3lake.sources.index_report",
)

_sources: dict[str, Source] = {}
_loaded = False


def _load() -> dict[str, Source]:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in BUILTIN:
            register(importlib.import_module(module).SOURCE)
    return _sources


def register(source: Source) -> Source:
    """Add a source (its ``name`` and ``raw`` must be new); returns it (usable as a decorator)."""
    sources = _load()
    for other in sources.values():
        if other is source:
            return source
        if source.name in (other.name, other.raw) or source.raw in (other.name, other.raw):
            raise ConfigError(
                f"source {source.name!r} (raw/{source.raw}/) clashes with {other.name!r}",
                source="sources.registry",
            )
    sources[source.name] = source
    return source


def unregister(name: str) -> None:
    """Remove a source added with :func:`register` (tests)."""
    _load().pop(name, None)


def all_sources() -> list[Source]:
    """Every registered source, built-in ones first."""
    return list(_load().values())


def names() -> tuple[str, ...]:
    return tuple(_load())


def raw_names() -> tuple[str, ...]:
    """The ``raw/<raw>/`` prefixes of every source."""
    return tuple(s.raw for s in _load().values())


def check_names(names: Iterable[str], *, field: str = "sources") -> None:
    """ConfigError naming ``field`` and the unknown names, if any is not a registered source."""
    known = tuple(_load())
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ConfigError(
            f"unknown source(s) {unknown} (known: {', '.join(known)})", field=field, value=unknown
        )


def get(name: str) -> Source:
    """The source called ``name`` (its settings/CLI name, or its raw prefix)."""
    sources = _load()
    if name in sources:
        return sources[name]
    for source in sources.values():
        if source.raw == name:
            return source
    raise ConfigError(f"unknown source (known: {', '.join(sources)})", field="source", value=name)
