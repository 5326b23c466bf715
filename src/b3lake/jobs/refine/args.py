"""The refine job's arguments, declared once: ``RefineArgs``.

Everything that starts a refine builds its arguments here and the job reads them back here: the
trigger Lambda (``to_arguments()`` per event), the local launcher and ``b3lake refine`` (through
``Settings.refine_args()``), the Glue script and the local entry point (``from_argv()``), and
Terraform's Glue job defaults (its names are ``RefineArgs.deployment_names()``, checked by
tests/infra). So a setting that changes refined data (the universe) means the same on every path.

Decisions:

* Every run carries every data-changing argument explicitly (the universe included): a run never
  depends on which defaults the Glue job happened to be deployed with.
* Lists are comma-separated. An empty list is sent as ``none``, never as an empty string: Glue
  drops empty argument values, and ``--exclude_especi`` followed by the next option would then
  fail to parse. ``--tickers none`` (the default) means no ticker filter.
* Standard library only: the trigger Lambda imports this module.
"""

from __future__ import annotations

import argparse
import warnings
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any

from b3lake.errors import ConfigError
from b3lake.lake import layout

MODES = ("incremental", "full")
EMPTY = "none"  # how an empty list travels (see the module docstring)


@dataclass(frozen=True)
class Universe:
    """Which COTAHIST records become quotes: market types, BDI codes, optional tickers."""

    tpmerc: tuple[str, ...] = ("010",)
    codbdi: tuple[str, ...] = ("02", "12")
    tickers: tuple[str, ...] = ()  # empty: every ticker the market filters keep
    # ESPECI ``IBO`` marks the Ibovespa's own record (IBOV11, BDI 02, TPMERC 010): an index
    # level with the index's statistics, not a tradable security.
    exclude_especi: tuple[str, ...] = ("IBO",)

    @classmethod
    def of(cls, **lists: Any) -> Universe:
        """From lists (settings, JSON): ``Universe.of(tickers=["PETR4"])``."""
        return cls(**{k: tuple(str(v) for v in values) for k, values in lists.items()})


def _encode(values: tuple[str, ...]) -> str:
    return ",".join(values) if values else EMPTY


def _decode(text: str) -> tuple[str, ...]:
    if text.strip().lower() == EMPTY:
        return ()
    return tuple(v.strip() for v in text.split(",") if v.strip())


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError("expected YYYY-MM-DD", field=name, value=value) from None


@dataclass(frozen=True)
class RefineArgs:
    """One refine run's arguments (Glue passes each as ``--name value``)."""

    lake: str
    # A session to re-refine whatever the manifest says (a run started by hand); every run also
    # refines every raw object pending since the manifest (jobs/refine/changes.py).
    dt: date | None = None
    raw_key: str | None = None  # the raw object that announced it (its dt= is the session)
    mode: str = "incremental"
    catalog_database: str = "default"
    universe: Universe = Universe()
    # The tickers the R6 table (refined/quotes/dt=…/ticker=…/) holds; () = the whole universe (the
    # history layer and the other tables always hold it). Not a setting: sent only when set, so
    # a Glue job default (extra_default_arguments) stays in force for the trigger's runs.
    r6_tickers: tuple[str, ...] = ()

    #: Set per run by whoever starts it; the rest are deployment-wide (Terraform's job defaults).
    PER_RUN = ("dt", "raw_key")
    #: Accepted and ignored (with a warning), so runs started by an older trigger still parse.
    RETIRED = ("run_date",)
    #: Left out of ``to_arguments()`` when empty (job defaults, if any, apply).
    OPTIONAL = ("r6_tickers",)

    # -- names -------------------------------------------------------------------------------
    @staticmethod
    def names() -> tuple[str, ...]:
        """Every argument name, in order (``dt``, ``raw_key``, ``lake``, …, ``exclude_especi``)."""
        own = [f.name for f in fields(RefineArgs) if f.name != "universe"]
        order = ["dt", "raw_key", "lake", "mode", "catalog_database"]
        assert sorted(own) == sorted([*order, *RefineArgs.OPTIONAL])
        return (*order, *(f.name for f in fields(Universe)), *RefineArgs.OPTIONAL)

    @staticmethod
    def deployment_names() -> tuple[str, ...]:
        """The arguments a deployment fixes for every run (the Glue job's default arguments)."""
        return tuple(n for n in RefineArgs.names() if n not in RefineArgs.PER_RUN)

    @staticmethod
    def universe_arguments(universe: Universe = Universe()) -> dict[str, str]:
        """The universe as job arguments (``--tpmerc``: ``010``, …); by default the default one,
        which ``dist/manifest.json`` carries as the Glue job's ``refine_arguments``."""
        return {f"--{f.name}": _encode(getattr(universe, f.name)) for f in fields(Universe)}

    # -- to and from argv --------------------------------------------------------------------
    def to_arguments(self) -> dict[str, str]:
        """``{"--lake": …, "--tpmerc": "010", …}`` for ``start_job_run``; unset ones left out."""
        values: dict[str, str | None] = {
            "dt": self.dt.isoformat() if self.dt else None,
            "raw_key": self.raw_key,
            "lake": self.lake,
            "mode": self.mode,
            "catalog_database": self.catalog_database,
        }
        for name, value in self.universe_arguments(self.universe).items():
            values[name[2:]] = value
        values["r6_tickers"] = ",".join(self.r6_tickers) if self.r6_tickers else None
        return {f"--{n}": values[n] for n in self.names() if values[n] is not None}  # type: ignore[misc]

    def deployment_arguments(self) -> dict[str, str]:
        """``to_arguments()`` without the per-run ones (what Terraform sets on the Glue job)."""
        keep = {f"--{n}" for n in self.deployment_names()}
        return {k: v for k, v in self.to_arguments().items() if k in keep}

    def for_run(self, **changes: Any) -> RefineArgs:
        """A copy with per-run values: ``defaults.for_run(dt=day, raw_key=key)``."""
        return replace(self, **changes)

    @classmethod
    def from_argv(cls, argv: list[str]) -> RefineArgs:
        """From Glue's ``sys.argv`` (``script --JOB_ID … --dt … --lake …``); Glue's own options
        are ignored. ConfigError naming the argument on a bad value or a missing one."""
        parser = argparse.ArgumentParser(prog="refine", add_help=False, allow_abbrev=False)
        for name in (*cls.names(), *cls.RETIRED):
            parser.add_argument(f"--{name}", default=None)
        known, _ = parser.parse_known_args(argv[1:])
        for name in cls.RETIRED:
            if getattr(known, name) is not None:
                warnings.warn(
                    f"--{name} is retired and ignored: stored values no longer depend on the "
                    "run's date",
                    DeprecationWarning,
                    stacklevel=2,
                )
        if not known.lake:
            raise ConfigError("--lake is required", field="lake")
        mode = known.mode or "incremental"
        if mode not in MODES:
            raise ConfigError("--mode must be incremental or full", field="mode", value=mode)
        day = _date(known.dt, "dt") if known.dt else None
        if known.raw_key:
            key_day = layout.parse_raw_key(known.raw_key).dt
            if day is not None and day != key_day:
                raise ConfigError(
                    "--dt and --raw_key name different sessions", field="dt", value=known.dt
                )
            day = key_day
        default = Universe()
        universe = Universe(
            **{
                f.name: (
                    getattr(default, f.name)
                    if getattr(known, f.name) is None
                    else _decode(getattr(known, f.name))
                )
                for f in fields(Universe)
            }
        )
        return cls(
            lake=known.lake,
            dt=day,
            raw_key=known.raw_key,
            mode=mode,
            catalog_database=known.catalog_database or "default",
            universe=universe,
            r6_tickers=_decode(known.r6_tickers) if known.r6_tickers else (),
        )
