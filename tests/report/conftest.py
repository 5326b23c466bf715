"""Lakes for the report tests: a small synthetic one with the documented refined schemas, and
the real pipeline output on the bundled sample (once the refine job exists)."""

from __future__ import annotations

import datetime as dt
import io
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from b3lake.catalog import Column
from b3lake.catalog.local import LocalCatalog
from b3lake.jobs.refine.schemas import REFINED_IBOV_PORTFOLIO, REFINED_MONTHLY, REFINED_QUOTES
from b3lake.storage.local import LocalStorage

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"

# The job's own schemas (file columns; partitions live in the key): the synthetic lake cannot drift.
QUOTES = REFINED_QUOTES
MONTHLY = REFINED_MONTHLY
PORTFOLIO = REFINED_IBOV_PORTFOLIO
# A subset of the job's quarantine columns is enough for the report.
QUARANTINE_QUOTES = pa.schema(
    [
        ("ticker", pa.string()),
        ("source", pa.string()),
        ("close", pa.float64()),
        ("rule", pa.string()),
        ("reason", pa.string()),
    ]
)

_HIVE = {pa.string(): "string", pa.float64(): "double", pa.int64(): "bigint", pa.int32(): "int"}
_HIVE[pa.date32()] = "date"

SYNTH_TICKERS = {"PETR4": 28.0, "VALE3": 90.0, "ITUB4": 31.0, "BBDC4": 27.0, "MGLU3": 25.0}
SYNTH_SKIPPED = dt.date(2021, 1, 15)  # a B3 session left out on purpose: "missing session"


def _columns(schema: pa.Schema) -> list[Column]:
    return [Column(f.name, _HIVE[f.type]) for f in schema]


def _put(storage: LocalStorage, key: str, table: pa.Table) -> None:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    storage.put_bytes(key, sink.getvalue())


def _ma(closes: list[float], n: int) -> float | None:
    return sum(closes[-n:]) / n if len(closes) >= n else None


def build_synthetic_lake(root: Path) -> Path:
    """Refined quotes for five tickers over January 2021 (one session skipped), two months of
    monthly rows, an IBOV portfolio with sectors, quarantined quotes; no IBOV quarantine table."""
    from b3lake.sources.calendar import sessions

    storage = LocalStorage(root)
    cat = LocalCatalog(storage, "default")
    days = [d for d in sessions(dt.date(2021, 1, 4), dt.date(2021, 1, 29)) if d != SYNTH_SKIPPED]
    cat.upsert_table(
        "refined_quotes",
        location="refined/quotes/",
        columns=_columns(QUOTES),
        partition_keys=[Column("dt", "date"), Column("ticker", "string")],
    )
    parts = []
    history_rows: list[dict[str, object]] = []
    for k, (ticker, base) in enumerate(SYNTH_TICKERS.items()):
        closes: list[float] = []
        for i, day in enumerate(days):
            close = round(
                base * (1 + 0.03 * math.sin(i / 3 + k) + 0.004 * i * (1 if k % 2 else -1)), 2
            )
            closes.append(close)

            volume = 1_000_000 * (5 - k) + 37_000 * i
            row = {
                "source": "cotahist",
                "isin": f"BR{ticker}ACNPR0",
                "name": f"{ticker[:4]} SA",
                "open": closes[-2] if len(closes) > 1 else close,
                "high": close * 1.01,
                "low": close * 0.99,
                "close": close,
                "avg_price": close,
                "volume": volume,
                "traded_value": volume * close,
                "trades": 1000 + i,
                "ma_5": _ma(closes, 5),
                "ma_7": _ma(closes, 7),
                "ma_21": _ma(closes, 21),
                "close_lag_1": closes[-2] if len(closes) > 1 else None,
                "close_lag_2": None,
                "close_lag_3": None,
                "close_delta": None,
                "pct_change": None,
                "days_since_prev_session": 1,
            }
            _put(
                storage,
                f"refined/quotes/dt={day.isoformat()}/ticker={ticker}/part-0.parquet",
                pa.Table.from_pylist([row], schema=QUOTES),
            )
            parts.append({"dt": day.isoformat(), "ticker": ticker})
            history_rows.append({"dt": day, "ticker": ticker, **row})
    cat.add_partitions("refined_quotes", parts)
    # The history layer holds the same rows (the report reads it), as the refine job writes it.
    from b3lake.jobs.refine.schemas import REFINED_QUOTES_HISTORY
    from b3lake.lake import quotes_history

    written = quotes_history.write(
        storage,
        "refined/quotes_history/",
        pa.Table.from_pylist(history_rows, schema=REFINED_QUOTES_HISTORY),
        REFINED_QUOTES_HISTORY,
        replace=None,
    )
    cat.upsert_table(
        "refined_quotes_history",
        location="refined/quotes_history/",
        columns=_columns(REFINED_QUOTES_HISTORY),
        partition_keys=[Column("year", "string")],
    )
    cat.add_partitions("refined_quotes_history", [{"year": v} for v, _, _ in written.written])

    cat.upsert_table(
        "refined_monthly",
        location="refined/monthly/",
        columns=_columns(MONTHLY),
        partition_keys=[Column("month", "string")],
    )
    for m, month in enumerate(["2020-12", "2021-01"]):
        rows = []
        for k, (ticker, base) in enumerate(SYNTH_TICKERS.items()):
            first, last = base, base * (1 + (0.05 if (k + m) % 2 else -0.03))
            rows.append(
                {
                    "ticker": ticker,
                    "source": "cotahist",
                    "sessions": 18,
                    "total_volume": 9_000_000 * (5 - k),
                    "total_traded_value": 9_000_000 * (5 - k) * base,
                    "avg_close": (first + last) / 2,
                    "first_close": first,
                    "last_close": last,
                    "monthly_return": last / first - 1,
                    "high": max(first, last) * 1.02,
                    "low": min(first, last) * 0.98,
                }
            )
        _put(
            storage,
            f"refined/monthly/month={month}/part-0.parquet",
            pa.Table.from_pylist(rows, schema=MONTHLY),
        )
    cat.add_partitions("refined_monthly", [{"month": "2020-12"}, {"month": "2021-01"}])

    cat.upsert_table(
        "refined_ibov_portfolio",
        location="refined/ibov_portfolio/",
        columns=_columns(PORTFOLIO),
        partition_keys=[Column("dt", "date")],
    )
    constituents = [
        ("VALE3", "VALE", "Materiais Básicos", "ON NM", 11.5),
        ("PETR4", "PETROBRAS", "Petróleo, Gás e Biocombustíveis", "PN N2", 8.2),
        ("ITUB4", "ITAUUNIBANCO", "Financeiro", "PN N1", 7.9),
        ("PETR3", "PETROBRAS", "Petróleo, Gás e Biocombustíveis", "ON N2", 4.1),
        ("BBDC4", "BRADESCO", "Financeiro", "PN N1", 3.6),
        ("B3SA3", "B3", "Financeiro", "ON NM", 3.2),
        ("WEGE3", "WEG", "Bens Industriais", "ON NM", 2.9),
        ("ABEV3", "AMBEV S/A", "Consumo não Cíclico", "ON", 2.4),
        ("MGLU3", "MAGAZ LUIZA", "Consumo Cíclico", "ON NM", 1.1),
    ]
    total = sum(c[4] for c in constituents)
    rows = [
        {
            "index": "IBOV",
            "ticker": t,
            "asset": a,
            "sector": s,
            "share_type": st,
            "weight": w / total,
            "theoretical_quantity": int(w * 1e8),
            "sector_weight": None,
            "share_type_weight": None,
        }
        for t, a, s, st, w in constituents
    ]
    _put(
        storage,
        "refined/ibov_portfolio/dt=2025-10-03/part-0.parquet",
        pa.Table.from_pylist(rows, schema=PORTFOLIO),
    )
    cat.add_partitions("refined_ibov_portfolio", [{"dt": "2025-10-03"}])

    cat.upsert_table(
        "quarantine_quotes",
        location="quarantine/refined_quotes/",
        columns=_columns(QUARANTINE_QUOTES),
        partition_keys=[Column("dt", "date")],
    )
    bad = [
        {
            "ticker": "XPTO3",
            "source": "cotahist",
            "close": -1.0,
            "rule": "positive_prices",
            "reason": "close <= 0",
        },
        {
            "ticker": "XPTO4",
            "source": "cotahist",
            "close": 0.0,
            "rule": "positive_prices",
            "reason": "close <= 0",
        },
        {
            "ticker": "ABCD3",
            "source": "cotahist",
            "close": 9.0,
            "rule": "high_ge_low",
            "reason": "high < low",
        },
    ]
    _put(
        storage,
        "quarantine/refined_quotes/dt=2021-01-05/part-0.parquet",
        pa.Table.from_pylist(bad, schema=QUARANTINE_QUOTES),
    )
    cat.add_partitions("quarantine_quotes", [{"dt": "2021-01-05"}])
    return root


@pytest.fixture(scope="session")
def synthetic_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_synthetic_lake(tmp_path_factory.mktemp("synthetic_lake"))


@pytest.fixture(params=["synthetic", pytest.param("sample", marks=pytest.mark.slow)])
def any_lake(request: pytest.FixtureRequest) -> Path:
    """Each report test runs on both lakes: the synthetic one and the pipeline run on the bundled
    sample (the run's one ``sample_lake`` of tests/conftest.py, built once per worker)."""
    if request.param == "synthetic":
        return Path(request.getfixturevalue("synthetic_lake"))
    lake, _ = request.getfixturevalue("sample_lake")
    return Path(lake)
