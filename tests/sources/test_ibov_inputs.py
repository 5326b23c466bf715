"""The IBOV inputs users really have, landed through ``extract ibov`` (issue 12, point 6).

* the export re-saved by a spreadsheet program (tests/fixtures/ibov/IBOVDia_03-10-25_resaved.csv,
  derived from the real export as PROVENANCE.md says; the derivation is re-run below);
* a saved GetTheoricalPortfolio response, which carries no date: ``--date`` gives it;
* an export whose "Redutor" trailer is malformed (B3 printed one as ``18.296.80337677573``).

Each lands with the right number of constituents and weights summing to 100.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from b3lake.errors import ConfigError, ParseError
from b3lake.pipeline import Pipeline
from b3lake.settings import Settings
from b3lake.sources import ibov
from b3lake.sources.base import findings_of
from b3lake.storage.local import LocalStorage

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ibov"
EXPORT = FIXTURES / "IBOVDia_03-10-25.csv"
RESAVED = FIXTURES / "IBOVDia_03-10-25_resaved.csv"
THEORETICAL = FIXTURES / "GetTheoricalPortfolio_IBOV_2022_ptbr.json"
LINEAGE = ("source_file", "ingested_at")


def resave_like_a_spreadsheet(export: bytes) -> bytes:
    """What PROVENANCE.md describes: every row 5 columns wide (the title padded with ';', the
    rows' trailing ';' dropped), and the total participation written as the number 100."""
    out = []
    for line in export.decode("latin-1").splitlines():
        cells = line.split(";")
        if line.endswith(";"):
            cells = cells[:-1]
        if cells[0].startswith("Quantidade Te"):
            cells[4] = "100"
        out.append(";".join(cells + [""] * (5 - len(cells))))
    return ("\n".join(out) + "\n").encode("latin-1")


def _land(
    tmp_path: Path, *files: Path, refine: bool = False, **options: object
) -> tuple[pa.Table, Any]:
    """Land through the generic extract; the refine the raw object fires only when asked."""
    pipeline = Pipeline(Settings(lake=str(tmp_path / "lake")))
    if not refine:
        pipeline.writer.notify = None
    report = pipeline.extract("ibov", files=list(files), **options)
    [write] = report.writes
    data = LocalStorage(tmp_path / "lake").get_bytes(write.key)
    return pq.read_table(io.BytesIO(data)), report


def _check_portfolio(table: pa.Table, constituents: int) -> None:
    assert table.num_rows == constituents
    assert len(table.column("ticker").unique()) == constituents
    assert sum(table.column("participation").to_pylist()) == pytest.approx(100, abs=0.05)


# ------------------------------------------------------------------- the re-saved export


def test_the_fixture_is_the_documented_derivation_of_the_real_export() -> None:
    assert resave_like_a_spreadsheet(EXPORT.read_bytes()) == RESAVED.read_bytes()
    text = RESAVED.read_bytes().decode("latin-1").splitlines()
    assert text[0] == "IBOV - Carteira do Dia 03/10/25;;;;"
    assert text[2] == "ALOS3;ALLOS;ON  ED  NM;466.632.333;0,544"
    assert text[-2].endswith(";90.587.133.892;100")


def test_a_resaved_export_lands_like_the_original(tmp_path: Path) -> None:
    original, _ = _land(tmp_path / "a", EXPORT)
    resaved, report = _land(tmp_path / "b", RESAVED)
    _check_portfolio(resaved, 82)
    assert report.writes[0].key == "raw/ibov_portfolio/dt=2025-10-03/IBOV.parquet"
    assert resaved.drop_columns(list(LINEAGE)).equals(original.drop_columns(list(LINEAGE)))
    assert report.findings == []


def test_without_a_date_in_the_title_the_file_name_gives_it(tmp_path: Path) -> None:
    data = RESAVED.read_bytes().replace(b"Carteira do Dia 03/10/25;", b"Carteira do Dia;", 1)
    saved = tmp_path / "IBOVDia_03-10-25.csv"
    saved.write_bytes(data)
    table, report = _land(tmp_path, saved)
    _check_portfolio(table, 82)
    assert set(table.column("portfolio_date").to_pylist()) == {dt.date(2025, 10, 3)}
    # With neither a title date nor B3's file name, the date must be given.
    renamed = tmp_path / "carteira.csv"
    renamed.write_bytes(data)
    with pytest.raises(ParseError, match="pass --date"):
        _land(tmp_path / "c", renamed)
    table, _ = _land(tmp_path / "d", renamed, date="2025-10-03")
    _check_portfolio(table, 82)


# ------------------------------------------------------------ a response without a date


def test_a_theoretical_portfolio_response_lands_with_date(tmp_path: Path) -> None:
    table, report = _land(tmp_path, THEORETICAL, date="2022-01-03")
    _check_portfolio(table, 92)
    assert report.writes[0].key == "raw/ibov_portfolio/dt=2022-01-03/IBOV.parquet"
    with pytest.raises(ParseError, match="pass --date YYYY-MM-DD") as info:
        _land(tmp_path / "again", THEORETICAL)
    assert "portfolio_date" not in str(info.value)
    with pytest.raises(ConfigError, match="--date is for saved files"):
        Pipeline(Settings(lake=str(tmp_path / "api"))).extract("ibov", date="2022-01-03")


def test_the_cli_lands_a_response_with_date_and_asks_for_it_without(
    tmp_path: Path, run_cli: Any
) -> None:
    lake = str(tmp_path / "lake")
    out = run_cli("--lake", lake, "extract", "ibov", "--file", str(THEORETICAL), cwd=tmp_path)
    assert out.returncode == 1
    assert "pass --date YYYY-MM-DD" in out.stderr and "portfolio_date=" not in out.stderr
    out = run_cli(
        "--lake",
        lake,
        "extract",
        "ibov",
        "--file",
        str(THEORETICAL),
        "--date",
        "2022-01-03",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert "ibov_portfolio: 92 rows read, 1 session(s), 1 raw object(s) written" in out.stdout
    keys = LocalStorage(tmp_path / "lake").list_keys("raw/ibov_portfolio/")
    assert keys == ["raw/ibov_portfolio/dt=2022-01-03/IBOV.parquet"]


# --------------------------------------------------------------- a malformed reductor


def test_a_malformed_reductor_lands_the_constituents_with_a_finding(tmp_path: Path) -> None:
    data = EXPORT.read_bytes().replace(
        b"Redutor;;;15.019.274,20202473", b"Redutor;;;18.296.80337677573", 1
    )
    saved = tmp_path / EXPORT.name
    saved.write_bytes(data)
    table, report = _land(tmp_path, saved, refine=True)
    _check_portfolio(table, 82)
    assert table.column("reductor").null_count == 82
    refined = LocalStorage(tmp_path / "lake").list_keys("refined/ibov_portfolio/")
    assert refined == ["refined/ibov_portfolio/dt=2025-10-03/part-0.parquet"]
    [finding] = report.findings
    assert finding.startswith("IBOVDia_03-10-25.csv:86 [reductor]: reductor is malformed")
    assert "18.296.80337677573" in finding and "quality finding" in report.line()
    # The raw object keeps the finding (file, line, field) in its metadata.
    [kept] = findings_of(table)
    assert (kept.source, kept.line, kept.field) == ("IBOVDia_03-10-25.csv", 86, "reductor")
    # Every other figure is still checked: a broken weight still rejects the file.
    broken = data.replace(b"VALE3;VALE;ON      NM;4.267.772.018;11,587;", b"VALE3;VALE;ON;1;x;")
    with pytest.raises(ParseError):
        ibov.parse_portfolio_csv(broken, source_name="x.csv")
