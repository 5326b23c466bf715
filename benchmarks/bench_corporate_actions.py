"""Cost of corporate actions in the daily run, on the 1-year benchmark lake (a script; prints figures).

The lake is ``bench_refine.py``'s generator (250 synthetic full-market sessions built from the real
2021 sample); the last 23 sessions are refined first (not timed). Then, each variant in its own
process, the rounds interleaved, medians reported:

* ``daily``        the daily run of the last session on a lake with no corporate action at all
                   (the baseline);
* ``daily_events`` the same run on a lake holding a year of events (``--events`` cash events and a
                   split, spread over the year's sessions and tickers), none of them on the last
                   session: the corporate-action step reads the refined events and stops;
* ``daily_exdate`` the same run when the last session is the ex-date of an event (the factors
                   are recomputed: the closes of the sessions it rewrote are looked up again);
* ``event``        the run a new event's raw object starts (``--raw_key raw/corporate_actions/…``):
                   it re-reads that date's events and recomputes the factors, and rewrites no quote
                   partition.

Every variant reports the objects it wrote under ``refined/quotes/`` (by modification time), so
"a new event does not rewrite the lake" is a measured figure, not a claim.

Usage: ``python benchmarks/bench_corporate_actions.py [--repeat 3] [--events 500]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
STATE = "_bench/corporate_actions.json"
ROWS = "_bench/corporate_actions_rows.json"


def _storage(lake: Path):  # type: ignore[no-untyped-def]
    from b3lake.storage.local import LocalStorage

    return LocalStorage(lake)


def _sessions(lake: Path) -> list[dt.date]:
    from b3lake.lake.manifest import raw_index as _raw_index

    return sorted(_raw_index(_storage(lake), "cotahist"))


def _run(lake: Path, **arguments: str):  # type: ignore[no-untyped-def]
    from b3lake.jobs.refine.job import main
    from b3lake.launchers.local import glue_argv

    args = {"lake": str(lake), **arguments}
    return main(glue_argv("b3lake-refine", "jr_bench_ca", args))


def _event_rows(ticker: str, day: dt.date, label: str, value: float, line: int):  # type: ignore[no-untyped-def]
    from b3lake.sources.corporate_actions import parse

    stock = label in ("DESDOBRAMENTO", "GRUPAMENTO", "BONIFICACAO")
    return {
        "issuer": ticker[:4],
        "endpoint": parse.SUPPLEMENT if stock else parse.CASH_DIVIDENDS,
        "section": "stockDividends" if stock else "results",
        "label": label,
        "ticker": ticker,
        "type_stock": None if stock else "ON",
        "last_date_prior": day,
        "value_cash": None if stock else value,
        "factor": value if stock else None,
        "source_file": "bench",
        "line_number": line,
        "ingested_at": dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
    }


def _land_events(lake: Path, rows: list[dict[str, object]]) -> list[str]:
    import pyarrow as pa

    from b3lake.lake.raw_writer import RawWriter
    from b3lake.sources.corporate_actions import parse

    table = pa.Table.from_pylist(rows, schema=parse.SCHEMA)
    writer = RawWriter(_storage(lake))
    keys = []
    for day, part in parse.split_by_date(table).items():
        for endpoint in sorted(set(part["endpoint"].to_pylist())):
            mine = part.filter(pa.compute.equal(part["endpoint"], endpoint))
            keys.append(writer.write("corporate_actions", day, mine, f"BENCH_{endpoint}").key)
    return keys


def prepare(lake: Path, n_events: int) -> dict[str, object]:
    """The lake, its last 23 sessions refined, and the events' plan (cached in the lake)."""
    import numpy as np
    from bench_refine import build_lake

    from b3lake.sources import calendar

    storage = _storage(lake)
    if storage.exists(STATE):
        return dict(json.loads(storage.get_bytes(STATE)))
    info = build_lake(lake, 250)
    sessions = _sessions(lake)
    _run(lake, mode="incremental", dt=sessions[-23].isoformat())
    last = sessions[-1]
    tickers = sorted(
        k.split("ticker=")[1].split("/")[0]
        for k in storage.list_keys(f"refined/quotes/dt={last.isoformat()}/")
    )
    rng = np.random.default_rng(11)
    # Event dates whose next B3 session is also the next lake session (the generator's days are
    # weekdays, B3's calendar has holidays), never the last two sessions.
    ok = [
        d
        for d, nxt in zip(sessions[:-3], sessions[1:-2], strict=True)
        if calendar.is_session(d)
        and calendar.sessions(nxt, nxt) == [nxt]
        and calendar.sessions(d, nxt) == [d, nxt]
    ]
    rows = []
    for i in range(n_events):
        day = ok[int(rng.integers(len(ok)))]
        rows.append(
            _event_rows(tickers[int(rng.integers(len(tickers)))], day, "DIVIDENDO", 0.05, i + 1)
        )
    rows.append(_event_rows(tickers[0], ok[len(ok) // 2], "DESDOBRAMENTO", 100.0, n_events + 1))
    prior = sessions[-2]
    if calendar.sessions(prior, last) != [prior, last]:
        raise SystemExit(f"the lake's last two sessions {prior}, {last} are not B3's: no ex-date")
    storage.put_bytes(ROWS, json.dumps(rows, default=str).encode())
    state = {
        **info,
        "prior": prior.isoformat(),
        "last": last.isoformat(),
        "ticker": tickers[len(tickers) // 2],
        "tickers_last_session": len(tickers),
    }
    storage.put_bytes(STATE, json.dumps(state).encode())
    return state


def _set_state(lake: Path, state: dict[str, object], variant: str) -> str | None:
    """Put the lake in the variant's state (not timed); the raw key of the new event, if any."""
    storage = _storage(lake)
    ca = [
        k
        for prefix in (
            "raw/corporate_actions/",
            "refined/corporate_actions/",
            "refined/corporate_action_factors/",
            "refined/quality_corporate_actions/",
            "quarantine/refined_corporate_actions/",
            "_b3lake/cache/",
        )
        for k in storage.list_keys(prefix)
    ]
    storage.delete_keys(ca)
    if variant == "daily":
        return None
    rows = json.loads(storage.get_bytes(ROWS))
    for r in rows:
        r["last_date_prior"] = dt.date.fromisoformat(r["last_date_prior"])
        r["ingested_at"] = dt.datetime.fromisoformat(r["ingested_at"])
    keys = _land_events(lake, rows)
    _run(lake, mode="incremental", raw_key=keys[0])  # no refined events yet: every date is read
    if variant == "daily_events":
        return None
    prior = dt.date.fromisoformat(str(state["prior"]))
    (key,) = _land_events(lake, [_event_rows(str(state["ticker"]), prior, "DIVIDENDO", 0.1, 1)])
    if variant == "daily_exdate":
        _run(lake, mode="incremental", raw_key=key)
    return key


def child(variant: str, lake: Path) -> dict[str, float]:
    import importlib

    for name in (
        "pyarrow",
        "b3lake.jobs.refine.job",
        "b3lake.jobs.refine.steps.corporate_actions",
        "sqlframe.duckdb",
        "b3lake.engines.sqlframe_duckdb",
        "exchange_calendars",
    ):
        importlib.import_module(name)
    storage = _storage(lake)
    state = json.loads(storage.get_bytes(STATE))
    key = _set_state(lake, state, variant)
    quotes_before = {
        k: os.stat(storage.uri(k)).st_mtime_ns for k in storage.list_keys("refined/quotes/")
    }
    start = time.perf_counter()
    if variant == "event":
        report = _run(lake, mode="incremental", raw_key=str(key))
    else:
        report = _run(lake, mode="incremental", dt=str(state["last"]))
    seconds = time.perf_counter() - start
    after = {k: os.stat(storage.uri(k)).st_mtime_ns for k in storage.list_keys("refined/quotes/")}
    rewritten = sum(1 for k, t in after.items() if quotes_before.get(k) != t)
    return {
        "seconds": seconds,
        "corporate_actions_seconds": report.seconds.get("corporate_actions", 0.0),
        "quote_objects_written": rewritten,
        "quote_objects": len(after),
        "events": report.refined_rows.get("refined_corporate_actions", 0),
        "factors": report.refined_rows.get("corporate_action_factors", -1),
    }


def measure(variant: str, lake: Path) -> dict[str, float]:
    from bench_refine import measure_child

    cmd = [sys.executable, __file__, "--child", variant, "--lake", str(lake)]
    result, peak = measure_child(cmd, variant)
    result["peak_rss_gb"] = round(peak / 1e9, 2)
    return dict(result)


VARIANTS = ("daily", "daily_events", "daily_exdate", "event")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child")
    parser.add_argument("--lake", type=Path, default=Path("/tmp/b3lake-bench-ca/lake-250"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--events", type=int, default=500)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.lake)))
        return
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()}")
    t = time.perf_counter()
    state = prepare(args.lake, args.events)
    print(
        f"lake: {state['sessions']} sessions, {state['raw_rows']:,} raw rows, "
        f"{state['tickers_last_session']} tickers on the last session; "
        f"{args.events + 1} events (prepared in {time.perf_counter() - t:.0f} s)",
        flush=True,
    )
    runs: dict[str, list[dict[str, float]]] = {v: [] for v in VARIANTS}
    for round_ in range(1, args.repeat + 1):
        for v in VARIANTS:
            runs[v].append(measure(v, args.lake))
            print(f"  round {round_} {v}: {runs[v][-1]}", flush=True)
    base = sorted(r["seconds"] for r in runs["daily"])[(args.repeat - 1) // 2]
    print(
        f"\n{'variant':<14}{'median s':>10}{'x daily':>9}{'CA step s':>11}{'quote objs':>12}  runs (s)"
    )
    for v in VARIANTS:
        ordered = sorted(runs[v], key=lambda r: r["seconds"])
        med = ordered[(len(ordered) - 1) // 2]
        print(
            f"{v:<14}{med['seconds']:>10.2f}{med['seconds'] / base:>9.2f}"
            f"{med['corporate_actions_seconds']:>11.2f}{int(med['quote_objects_written']):>12}  "
            f"{[round(r['seconds'], 2) for r in runs[v]]}"
        )


if __name__ == "__main__":
    main()
