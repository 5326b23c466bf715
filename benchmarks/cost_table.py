"""The cost table of docs/deploy.md, computed from ``cost_counts.py``'s measured request counts.

Input: JSON lines of ``cost_counts.py`` for two universe sizes (``--tickers 10`` and ``20``) and
both codes (``after``: this tree; ``before``: the code before coalesced runs, ``--src``). Each
count is fitted linearly in tickers through the two sizes and evaluated at ``--market`` tickers
(the full spot market), then scaled linearly in sessions from the measured ``--sessions`` to the
scenario's (250 for a year or a burst of 250 objects, 5,000 for 20 years: extrapolated).

Prices: us-east-1 list prices (see ``PRICES``). Glue time cannot be measured offline: each run is
billed ``2 DPU x (START_MINUTES + files / FILES_PER_MINUTE)`` with at least 1 minute, both stated
assumptions. Athena is billed per query: the table gives the bytes of one full scan of the
quotes the scenario leaves, in the R6 table and in the history layer (bytes per row measured on
the bundled sample).

Usage: ``python benchmarks/cost_table.py counts.jsonl [--market 990]``
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

PRICES = {
    "s3_put_list_per_1000": 0.005,  # PUT, COPY, POST, LIST (S3 Standard)
    "s3_get_per_1000": 0.0004,  # GET, HEAD and other reads
    "glue_catalog_per_million": 1.00,  # requests beyond the 1M free each month
    "glue_dpu_hour": 0.44,
    "athena_per_tb": 5.00,
}
START_MINUTES = 1.5  # Glue 5.0 start-up plus the job's fixed work (assumption)
FILES_PER_MINUTE = 12_000  # 2 G.1X workers writing through S3 (assumption)
DPU = 2
# Measured on the bundled sample (16 sessions, full universe, one row per file in the R6 table).
R6_BYTES_PER_ROW = 63_381_393 / 15_846
HISTORY_BYTES_PER_ROW = 1_239_253 / 15_846
PUT_LIST = ("s3:PutObject", "s3:ListObjectsV2", "s3:ListObjectsV2(pyarrow)", "s3:CopyObject")
GETS = ("s3:GetObject", "s3:HeadObject", "s3:GetObject(pyarrow file)", "s3:HeadObject(pyarrow)")


def load(path: Path) -> dict[tuple[str, str], dict[int, dict]]:
    out: dict[tuple[str, str], dict[int, dict]] = defaultdict(dict)
    for line in path.read_text().splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            out[(row["scenario"], row["code"])][row["tickers"]] = row
    return out


def at_market(rows: dict[int, dict], market: int) -> dict[str, float]:
    """Each count fitted linearly in tickers through the two measured sizes."""
    (t1, r1), (t2, r2) = sorted(rows.items())[:2]

    def fit(a: float, b: float) -> float:
        return max(0.0, a + (b - a) / (t2 - t1) * (market - t1))

    keys = set(r1["requests"]) | set(r2["requests"])
    out = {k: fit(r1["requests"].get(k, 0), r2["requests"].get(k, 0)) for k in keys}
    out["runs"] = r1["runs"]
    out["runs_with_work"] = r1["runs_with_work"]
    out["partitions"] = fit(r1["partitions_written"], r2["partitions_written"])
    out["sessions"] = r1["sessions"]
    return out


def costs(c: dict[str, float], scale: float, runs: float, rows: float) -> dict[str, float]:
    put_list = sum(c.get(k, 0) for k in PUT_LIST) * scale
    gets = sum(c.get(k, 0) for k in GETS) * scale
    catalog = sum(v for k, v in c.items() if k.startswith("glue:") and k != "glue:JobRun")
    catalog -= c.get("glue:StartJobRun", 0) + c.get("glue:GetJobRuns", 0)
    catalog *= scale
    files = c["partitions"] * scale
    minutes = runs * DPU * max(1.0, START_MINUTES + files / max(runs, 1) / FILES_PER_MINUTE)
    return {
        "runs": runs,
        "dpu_minutes": minutes,
        "put_list": put_list,
        "gets": gets,
        "catalog": catalog,
        "r6_gb": rows * R6_BYTES_PER_ROW / 1e9,
        "history_gb": rows * HISTORY_BYTES_PER_ROW / 1e9,
        "usd": minutes / 60 * PRICES["glue_dpu_hour"]
        + put_list / 1000 * PRICES["s3_put_list_per_1000"]
        + gets / 1000 * PRICES["s3_get_per_1000"]
        + catalog / 1e6 * PRICES["glue_catalog_per_million"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("counts", type=Path)
    parser.add_argument("--market", type=int, default=990)
    args = parser.parse_args()
    data = load(args.counts)
    lines = [
        "| scenario | code | runs | Glue DPU-min | S3 PUT+LIST | S3 GET | catalog calls "
        "| USD (Glue+S3+catalog) | Athena full scan: R6 / history |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    scenarios = [
        ("daily run (1 session)", "daily", 1, None),
        ("burst of 250 objects (an annual file)", "burst", 250, None),
        ("1-year backfill (`--mode full`)", "full", 250, None),
        ("20-year backfill (`--mode full`, extrapolated)", "full", 5000, None),
    ]
    for title, name, sessions, _ in scenarios:
        for code in ("before", "after"):
            rows = data.get((name, code))
            if not rows or len(rows) < 2:
                continue
            c = at_market(rows, args.market)
            scale = 1.0 if name == "daily" else sessions / c["sessions"]
            if name == "burst":
                runs = c["runs"] * scale if code == "before" else c["runs"]
            else:
                runs = c["runs"]
            held = args.market * (sessions if name != "daily" else 5000)
            r = costs(c, scale, runs, held)
            lines.append(
                f"| {title} | {code} | {r['runs']:,.0f} | {r['dpu_minutes']:,.0f} "
                f"| {r['put_list']:,.0f} | {r['gets']:,.0f} | {r['catalog']:,.0f} "
                f"| {r['usd']:,.2f} | {r['r6_gb']:,.1f} GB / {r['history_gb']:,.2f} GB |"
            )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
