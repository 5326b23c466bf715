"""Source ``corporate_actions``: B3's own record of cash distributions and stock events.

``parse`` holds the pure, strict parsers of ``GetListedCashDividends`` and
``GetListedSupplementCompany`` bodies (and of vcr cassettes that recorded them); ``client`` the
HTTP client (paging, retries, requests spaced politely); ``schedule`` which issuers the daily
extract asks (every issuer of the landed tickers, or the settings' list, in batches). Raw layout: ``raw/corporate_actions/dt=<last date prior>/
<ISSUER>_<Endpoint>.parquet`` – one object per issuer, endpoint and date, so every event lands
under the session that still carries the right (a session of B3's calendar, known from the body,
never the wall clock), a re-fetch of an unchanged history rewrites nothing and fires nothing, and
a new event writes (and triggers the refine for) its own date only.

This module is the source's declaration (``SOURCE``, registered in ``b3lake.sources.registry``) and
stays light to import: the parsers' names are re-exported lazily. ``parse.SOURCE`` is the name.
"""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from b3lake.errors import ConfigError, SourceError
from b3lake.sources.base import Fetched, Param, Request

if TYPE_CHECKING:
    import pyarrow as pa

    from b3lake.settings import Settings
    from b3lake.sources.corporate_actions import client, parse
    from b3lake.sources.corporate_actions.parse import (
        CASH_DIVIDENDS,
        ENDPOINTS,
        SCHEMA,
        SUPPLEMENT,
        load_bodies,
        parse_cash_dividends,
        parse_file,
        parse_supplement,
        split_by_date,
        ticker_for,
    )

__all__ = [
    "CASH_DIVIDENDS",
    "ENDPOINTS",
    "SCHEMA",
    "SOURCE",
    "SUPPLEMENT",
    "client",
    "load_bodies",
    "object_name",
    "parse",
    "parse_cash_dividends",
    "parse_file",
    "parse_supplement",
    "split_by_date",
    "ticker_for",
]


def __getattr__(name: str) -> Any:
    if name in ("parse", "client"):
        return importlib.import_module(f"{__name__}.{name}")
    if name in __all__ and name not in ("SOURCE", "object_name"):
        return getattr(importlib.import_module(f"{__name__}.parse"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def object_name(issuer: str, endpoint: str) -> str:
    """The raw object's name inside its ``dt=`` folder: ``ABEV_GetListedCashDividends``."""
    return f"{issuer}_{endpoint}"


class CorporateActionsSource:
    name = "corporate_actions"
    raw = "corporate_actions"
    summary = "Land B3's corporate actions (cash and stock events) in raw/corporate_actions/dt=…/."
    example = (
        "b3lake extract corporate-actions --issuer ABEV --file GetListedCashDividends_ABEV.json"
    )
    file_help = "Saved GetListedCashDividends / GetListedSupplementCompany body or vcr cassette."
    params = (
        Param(
            "issuer",
            "Issuer code (ABEV); repeatable. Downloads both endpoints; with --file, at most one "
            "(a cash dividends body does not name its issuer).",
            kind="list",
        ),
        Param(
            "min_interval",
            "Seconds between two requests to B3 (default 0.5; the schedule passes the settings').",
        ),
    )
    merge_key = None
    land_each_input = False

    def raw_schema(self) -> pa.Schema:
        from b3lake.sources.corporate_actions.parse import SCHEMA

        return SCHEMA

    def _codes(self, request: Request) -> list[str]:
        return [c.strip().upper() for c in request.get("issuer", []) if c.strip()]

    def parse(self, path: Path, request: Request) -> pa.Table:
        from b3lake.sources.corporate_actions.parse import parse_file

        codes = self._codes(request)
        if len(codes) > 1:
            raise SourceError("with --file give at most one --issuer", field="issuer")
        return parse_file(
            path.read_bytes(), source_name=path.name, issuer=codes[0] if codes else None
        )

    def fetch(self, request: Request) -> Fetched:
        from b3lake.sources.corporate_actions import client, parse

        codes = self._codes(request)
        if not codes:
            raise SourceError("give --issuer (e.g. ABEV) or --file", field="issuer")
        try:
            pause = float(request.get("min_interval", client.MIN_INTERVAL))
        except ValueError:
            raise ConfigError(
                "not a number of seconds", field="--min-interval", value=request["min_interval"]
            ) from None
        table, missing = client.fetch_issuers(codes, min_interval_seconds=pause)
        shown = ", ".join(codes[:5]) + (f" and {len(codes) - 5} more" if len(codes) > 5 else "")
        inputs = f"{parse.CASH_DIVIDENDS} + {parse.SUPPLEMENT} for {shown}"
        return Fetched(table, input=inputs, missing=missing)

    def groups(self, table: pa.Table) -> list[pa.Table]:
        """One group per (issuer, endpoint): each lands as its own object of a session."""
        import pyarrow.compute as pc

        pairs = sorted(
            set(zip(table["issuer"].to_pylist(), table["endpoint"].to_pylist(), strict=True))
        )
        return [
            table.filter(
                pc.and_(pc.equal(table["issuer"], issuer), pc.equal(table["endpoint"], endpoint))
            )
            for issuer, endpoint in pairs
        ]

    def split(self, table: pa.Table) -> dict[dt.date, pa.Table]:
        from b3lake.sources.corporate_actions.parse import split_by_date

        return split_by_date(table)

    def object_name(self, day: dt.date, rows: pa.Table, request: Request) -> str:
        return object_name(rows["issuer"][0].as_py(), rows["endpoint"][0].as_py())

    def scheduled(self, day: dt.date, settings: Settings) -> list[tuple[str, dict[str, Any]]]:
        """Every issuer of the landed tickers (or the settings' issuers), this session's batch
        of them (``corporate_actions.schedule``), asked politely."""
        from b3lake.sources.corporate_actions.schedule import scheduled_issuers

        issuers = scheduled_issuers(settings, day)
        if not issuers:
            return []
        pause = str(settings.corporate_actions.min_interval_seconds)
        return [(self.name, {"issuer": issuers, "min_interval": pause})]


SOURCE = CorporateActionsSource()
