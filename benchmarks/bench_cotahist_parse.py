"""Benchmark: the vectorised COTAHIST parser against a naive line-by-line Python parser.

Why: an annual COTAHIST file has about a million records; the parser must keep the laptop run
and a Lambda/Glue run short. This synthesises a full-size annual file by repeating the real
bundled sample's records (its market mix: options, spot, odd lot, FIIs...), checks both parsers
return the same table, then times each in a fresh child process (records/s and peak memory).

    .venv/bin/python benchmarks/bench_cotahist_parse.py [--records 1000000] [--naive-records N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import resource
import sys
import tempfile
import time
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from b3lake.sources.cotahist import RAW_COTAHIST_SCHEMA, parse_cotahist

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "COTAHIST_A2021.ZIP"
WHEN = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
LINE = 247  # 245 characters + CRLF


def synthesise(records: int, folder: Path) -> tuple[Path, Path]:
    """A COTAHIST_A2021-shaped text file and zip with ``records`` type-01 records."""
    with zipfile.ZipFile(SAMPLE) as archive:
        text = archive.read("COTAHIST_A2021.TXT")
    header, body, trailer = text[:LINE], text[LINE:-LINE], text[-LINE:]
    repeats = -(-records // (len(body) // LINE))
    body = (body * repeats)[: records * LINE]
    trailer = trailer[:31] + f"{records + 2:011d}".encode() + trailer[42:]
    txt = folder / "COTAHIST_A2021.TXT"
    txt.write_bytes(header + body + trailer)
    zipped = folder / "COTAHIST_A2021.ZIP"
    with zipfile.ZipFile(zipped, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(txt, "COTAHIST_A2021.TXT")
    return txt, zipped


def naive_parse(path: Path, source_name: str, ingested_at: dt.datetime) -> pa.Table:
    """The obvious implementation: one Python iteration per line, same output and checks."""
    names = [f.name for f in RAW_COTAHIST_SCHEMA]
    columns: dict[str, list[Any]] = {name: [] for name in names}
    with open(path, encoding="latin-1", newline="") as handle:
        lines = handle.read().splitlines()
    if not lines[0].startswith("00COTAHIST") or not lines[-1].startswith("99COTAHIST"):
        raise ValueError("missing header or trailer")
    if int(lines[-1][31:42]) != len(lines):
        raise ValueError("trailer count mismatch")

    def date(text: str, line: int) -> dt.date | None:
        if text == "99991231":
            return None
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))

    def dec(text: str, places: int = 2) -> Decimal:
        if not text.isdigit():
            raise ValueError(text)
        return Decimal(int(text)).scaleb(-places)

    prices = ("preabe", "premax", "premin", "premed", "preult", "preofc", "preofv")
    for number, line in enumerate(lines[1:-1], start=2):
        if len(line) != 245 or line[:2] != "01":
            raise ValueError(f"line {number}")
        row = columns
        row["tipreg"].append(1)
        row["datpre"].append(date(line[2:10], number))
        row["codbdi"].append(line[10:12].rstrip(" "))
        row["codneg"].append(line[12:24].rstrip(" "))
        row["tpmerc"].append(line[24:27].rstrip(" "))
        row["nomres"].append(line[27:39].rstrip(" "))
        row["especi"].append(line[39:49].rstrip(" "))
        row["prazot"].append(line[49:52].rstrip(" "))
        row["modref"].append(line[52:56].rstrip(" "))
        for k, name in enumerate(prices):
            row[name].append(dec(line[56 + 13 * k : 69 + 13 * k]))
        row["totneg"].append(int(line[147:152]))
        row["quatot"].append(int(line[152:170]))
        row["voltot"].append(dec(line[170:188]))
        row["preexe"].append(dec(line[188:201]))
        row["indopc"].append(int(line[201]))
        row["datven"].append(date(line[202:210], number))
        row["fatcot"].append(int(line[210:217]))
        row["ptoexe"].append(dec(line[217:230], 6))
        row["codisi"].append(line[230:242].rstrip(" "))
        row["dismes"].append(int(line[242:245]))
        row["source_file"].append(source_name)
        row["line_number"].append(number)
        row["ingested_at"].append(ingested_at)
    return pa.table(columns, schema=RAW_COTAHIST_SCHEMA)


def _rss_kib() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() // 1024


def _timed(kind: str, path: str, out: Any) -> None:
    """Child process: parse once, report seconds, rows and peak RSS growth."""
    start_rss = _rss_kib()
    started = time.perf_counter()
    if kind == "naive":
        table = naive_parse(Path(path), Path(path).name, WHEN)
    else:
        table = parse_cotahist(path, ingested_at=WHEN)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    out.send((seconds, table.num_rows, (peak - start_rss) / 1024, table.nbytes / 2**20))


def run(kind: str, path: Path) -> tuple[float, int, float, float]:
    ctx = mp.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_timed, args=(kind, str(path), sender))
    child.start()
    result: tuple[float, int, float, float] = receiver.recv()
    child.join()
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--check-records", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3, help="vectorised runs (best is kept)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        small_txt, _ = synthesise(args.check_records, Path(tmp))
        fast = parse_cotahist(small_txt, ingested_at=WHEN)
        slow = naive_parse(small_txt, small_txt.name, WHEN)
        assert fast.equals(slow), "the two parsers disagree"
        print(f"check: both parsers return the same {fast.num_rows:,}-row table")

        txt, zipped = synthesise(args.records, Path(tmp))
        print(
            f"file: {args.records:,} records, text {txt.stat().st_size / 2**20:.0f} MiB, "
            f"zip {zipped.stat().st_size / 2**20:.0f} MiB; python {sys.version.split()[0]}, "
            f"pyarrow {pa.__version__}"
        )
        results = {}
        for label, kind, path in [
            ("vectorised, text", "fast", txt),
            ("vectorised, zip ", "fast", zipped),
            ("naive, text     ", "naive", txt),
        ]:
            runs = [run(kind, path) for _ in range(args.repeat if kind == "fast" else 1)]
            seconds, rows, peak_mib, table_mib = min(runs)
            results[label] = rows / seconds
            print(
                f"{label}: {seconds:6.2f} s  {rows / seconds:>12,.0f} records/s  "
                f"peak RSS +{peak_mib:,.0f} MiB (table {table_mib:,.0f} MiB)"
            )
        ratio = results["vectorised, text"] / results["naive, text     "]
        print(f"speed-up (text): {ratio:.1f}x")


if __name__ == "__main__":
    main()
