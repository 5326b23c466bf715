"""Helpers of the corporate-action refine tests: real B3 bodies as raw objects, synthetic quotes."""

from __future__ import annotations

import csv
import datetime as dt
import functools
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from b3lake.lake.raw_writer import RawWriter
from b3lake.sources import corporate_actions as ca
from b3lake.storage import Storage

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "corporate_actions"
CASH_YML = FIXTURES / "GetListedCashDividends_ABEV.yml"
SUPP_JSON = FIXTURES / "GetListedSupplementCompany_ABEV.json"
KRSA_JSON = FIXTURES / "GetListedSupplementCompany_KRSA_extracted.json"
DERIVED_CSV = FIXTURES / "cash_dividends_2015-2023_derived.csv"
INGESTED = dt.datetime(2022, 12, 8, tzinfo=dt.UTC)


@functools.cache
def abev_raw() -> pa.Table:
    return pa.concat_tables(
        [
            ca.parse_file(
                CASH_YML.read_bytes(),
                source_name=CASH_YML.name,
                issuer="ABEV",
                ingested_at=INGESTED,
            ),
            ca.parse_file(SUPP_JSON.read_bytes(), source_name=SUPP_JSON.name, ingested_at=INGESTED),
        ]
    )


@functools.cache
def krsa_raw() -> pa.Table:
    return ca.parse_file(KRSA_JSON.read_bytes(), source_name=KRSA_JSON.name, ingested_at=INGESTED)


def land(storage: Storage, table: pa.Table) -> list[str]:
    """Raw objects as the extract writes them (no event: the tests start runs themselves)."""
    writer = RawWriter(storage)
    keys = []
    pairs = sorted(
        set(zip(table["issuer"].to_pylist(), table["endpoint"].to_pylist(), strict=True))
    )
    for issuer, endpoint in pairs:
        part = table.filter(
            pc.and_(pc.equal(table["issuer"], issuer), pc.equal(table["endpoint"], endpoint))
        )
        for day, rows in ca.split_by_date(part).items():
            keys.append(
                writer.write("corporate_actions", day, rows, ca.object_name(issuer, endpoint)).key
            )
    return keys


def _pt(text: str) -> float | None:
    return float(text.replace(".", "").replace(",", ".")) if text.strip() else None


@functools.cache
def derived_csv_raw() -> pa.Table:
    """The derived CSV's 3,054 cash events as raw rows (B3's GetListedCashDividends fields)."""
    rows: list[dict[str, Any]] = []
    with DERIVED_CSV.open(encoding="utf-8") as handle:
        for line, rec in enumerate(csv.DictReader(handle), start=2):
            ticker = rec["ticker"]
            day = rec["date_closing_price_prior_ex_date"]
            rows.append(
                {
                    "issuer": ticker[:4],
                    "endpoint": ca.CASH_DIVIDENDS,
                    "section": "results",
                    "label": rec["corporate_action"],
                    "ticker": ticker,
                    "type_stock": rec["type_stock"],
                    "last_date_prior": dt.date.fromisoformat(rec["last_date_prior_ex"]),
                    "approved_on": dt.date.fromisoformat(rec["date_approval"]),
                    "value_cash": _pt(rec["value_cash"]),
                    "ratio": _pt(rec["ratio"]),
                    "quoted_per_shares": _pt(rec["quoted_per_shares"]),
                    "closing_price_prior_ex_date": _pt(rec["closing_price_prior_ex_date"]),
                    "date_closing_price_prior_ex_date": dt.date.fromisoformat(day) if day else None,
                    "corporate_action_price": _pt(rec["corporate_action_price"]),
                    "source_file": DERIVED_CSV.name,
                    "line_number": line,
                    "ingested_at": INGESTED,
                }
            )
    columns = {f.name: [r.get(f.name) for r in rows] for f in ca.SCHEMA}
    return pa.Table.from_pydict(columns, schema=ca.SCHEMA)


def calendar_table() -> pa.Table:
    from b3lake.jobs.refine.steps.corporate_actions import _calendar_table

    return _calendar_table()


def yfinance_rows(ticker: str, closes: dict[dt.date, float], volume: int = 1000) -> pa.Table:
    """Raw yfinance rows (the raw schema) with the given closes (open = high = low = close)."""
    from b3lake.sources.yfinance import SCHEMA

    days = sorted(closes)
    n = len(days)
    values = [closes[d] for d in days]
    data = {
        "ticker": [ticker] * n,
        "date": days,
        "open": values,
        "high": values,
        "low": values,
        "close": values,
        "adj_close": values,
        "volume": [volume] * n,
        "source_file": [f"synthetic_{ticker}.csv"] * n,
        "line_number": list(range(2, n + 2)),
        "ingested_at": [INGESTED] * n,
    }
    return pa.Table.from_pydict({f.name: data[f.name] for f in SCHEMA}, schema=SCHEMA)
