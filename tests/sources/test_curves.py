"""Yield curves: B3's TaxaSwap file parsed strictly (and unpacked from B3's archive), replayed
over HTTP and landed one object a session."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
import responses

from b3lake.errors import FetchError, ParseError
from b3lake.sources.archive import NoFile
from b3lake.sources.curves import client
from b3lake.sources.curves.parse import parse_taxa_swap, unpack

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "curves"
APR_2014 = FIXTURES / "TaxaSwap.txt"
SAMPLE_2026 = FIXTURES / "TaxaSwap-sample.txt"


def file_rates(path: Path) -> list[tuple[str, int, int, Decimal]]:
    """(curve, calendar days, business days, rate %) of every line, read by position alone."""
    out = []
    for line in path.read_text(encoding="latin-1").splitlines():
        sign = -1 if line[51] == "-" else 1
        rate = sign * Decimal(line[52:66]) / Decimal(10**7)
        out.append((line[21:26].strip(), int(line[41:46]), int(line[46:51]), rate))
    return out


def b3_archive(text: bytes, day: dt.date) -> bytes:
    """B3's download as peers describe it, built around a real TaxaSwap.txt: a zip holding
    TS<yymmdd>.ex_, a self-extracting stub (``MZ``...) followed by a zip holding the text."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("TaxaSwap.txt", text)
    sfx = b"MZ" + b"\x90\x00" * 256 + inner.getvalue()
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(client.file_name(day), sfx)
    return outer.getvalue()


EMPTY_ZIP = b"PK\x05\x06" + b"\x00" * 18  # 22 bytes: what B3 serves for a day without a file


def test_every_vertex_is_read_exactly() -> None:
    table = parse_taxa_swap(APR_2014.read_bytes(), source_name=APR_2014.name)
    rows = table.to_pylist()
    assert [(r["curve"], r["calendar_days"], r["business_days"], r["rate"]) for r in rows] == (
        file_rates(APR_2014)
    )
    assert table.num_rows == 348 and {r["date"] for r in rows} == {dt.date(2014, 12, 12)}
    first = rows[0]
    assert (first["seq"], first["description"], first["vertex_type"], first["vertex"]) == (
        697,
        "DIxPRE Aj. PRE",
        "F",
        "00001",
    )
    assert first["rate"] == Decimal("11.5900000") and rows[-1]["calendar_days"] == 13030
    sample = parse_taxa_swap(SAMPLE_2026.read_bytes(), source_name=SAMPLE_2026.name).to_pylist()
    assert [(r["curve"], r["calendar_days"], r["rate"]) for r in sample] == [
        ("DOC", 3, Decimal("43.5200000")),
        ("DOC", 4, Decimal("32.1800000")),
        ("PRE", 3, Decimal("13.9000000")),
        ("PRE", 4, Decimal("13.8110000")),
    ]


def test_b3s_archive_is_unpacked_and_an_empty_one_is_no_file() -> None:
    text = SAMPLE_2026.read_bytes()
    assert unpack(b3_archive(text, dt.date(2026, 9, 11)), source="TS260911.ex_") == text
    with pytest.raises(NoFile, match="no file for this session"):
        unpack(EMPTY_ZIP, source="TS260912.ex_")
    with pytest.raises(FetchError, match="HTML"):
        unpack(b"<html>erro</html>", source="x")
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("readme.txt", b"?")
    with pytest.raises(ParseError, match="no TaxaSwap.txt"):
        unpack(other.getvalue(), source="x")


def _line(n: int = 1) -> str:
    return SAMPLE_2026.read_text(encoding="latin-1").splitlines()[n - 1]


@pytest.mark.parametrize(
    ("edit", "field", "message"),
    [
        (lambda s: s[:-1], None, "72 characters, this one 71"),
        (lambda s: s[:41] + "0000A" + s[46:], "calendar_days", "not digits"),
        (lambda s: s[:11] + "20260931" + s[19:], "date", "impossible date"),
        (lambda s: s[:51] + "*" + s[52:], "sign", "sign is"),
        (lambda s: s[:66] + "X" + s[67:], "vertex_type", "F or M"),
        (lambda s: s[:41] + "00001" + "00003" + s[51:], "business_days", "3 business days"),
        (lambda s: s[:11] + "20260910" + s[19:], "date", "the file is of 2026-09-11"),
        (lambda s: s[:21] + "P?E  " + s[26:], "curve", "not a code"),
    ],
)
def test_malformed_lines_name_file_line_and_field(
    edit: object, field: str | None, message: str
) -> None:
    lines = SAMPLE_2026.read_text(encoding="latin-1").splitlines()
    lines[2] = edit(lines[2])  # type: ignore[operator]
    with pytest.raises(ParseError, match=message) as info:
        parse_taxa_swap("\n".join(lines).encode("latin-1"), source_name="TS.txt")
    assert (info.value.source, info.value.line, info.value.field) == ("TS.txt", 3, field)


def test_sequence_and_repeated_vertices_are_refused() -> None:
    lines = SAMPLE_2026.read_text(encoding="latin-1").splitlines()
    with pytest.raises(ParseError, match="does not increase") as info:
        parse_taxa_swap("\n".join([lines[0], lines[0]]).encode(), source_name="t")
    assert info.value.line == 2
    twice = "014690" + lines[3][6:41] + lines[2][41:]  # PRE again at 3 days
    with pytest.raises(ParseError, match="3 calendar days twice"):
        parse_taxa_swap("\n".join([*lines, twice]).encode(), source_name="t")
    with pytest.raises(FetchError, match="empty file"):
        parse_taxa_swap(b"\r\n", source_name="t")


@responses.activate
def test_fetch_replays_b3s_download_and_a_day_without_file() -> None:
    day = dt.date(2026, 9, 11)
    assert client.taxa_swap_url(day) == (
        "https://www.b3.com.br/pesquisapregao/download?filelist=TS260911.ex_"
    )
    responses.get(client.taxa_swap_url(day), status=502)
    responses.get(client.taxa_swap_url(day), body=b3_archive(SAMPLE_2026.read_bytes(), day))
    responses.get(client.taxa_swap_url(dt.date(2026, 9, 12)), body=EMPTY_ZIP)
    waits: list[float] = []
    table, missing = client.fetch_taxa_swap(day, sleep=waits.append, backoff_seconds=0.5)
    assert table.num_rows == 4 and missing == [] and waits == [0.5]
    assert table["source_file"][0].as_py() == client.taxa_swap_url(day)
    empty, missing = client.fetch_taxa_swap(dt.date(2026, 9, 12), sleep=lambda _: None)
    assert empty.num_rows == 0 and missing == ["TS260912.ex_"]


@responses.activate
def test_fetch_refuses_another_days_file() -> None:
    day = dt.date(2026, 9, 14)
    responses.get(client.taxa_swap_url(day), body=b3_archive(SAMPLE_2026.read_bytes(), day))
    with pytest.raises(FetchError, match="B3 served the file of 2026-09-11"):
        client.fetch_taxa_swap(day, sleep=lambda _: None)


def test_extract_lands_one_object_a_session(tmp_path: Path) -> None:
    from b3lake.pipeline import Pipeline
    from b3lake.settings import Settings
    from b3lake.sources import registry

    pipeline = Pipeline(Settings(lake=str(tmp_path / "lake")))
    report = pipeline.extract("curves", files=[APR_2014, SAMPLE_2026])
    assert [w.key for w in report.writes] == [
        "raw/taxa_swap/dt=2014-12-12/part-0.parquet",
        "raw/taxa_swap/dt=2026-09-11/part-0.parquet",
    ]
    day = dt.date(2026, 9, 11)
    assert registry.get("curves").scheduled(day, Settings()) == [("curves", {"date": day})]


def test_a_file_of_a_day_that_is_not_a_session_lands_with_a_finding() -> None:
    from b3lake.sources.base import findings_of

    saturday = SAMPLE_2026.read_text(encoding="latin-1").replace("20260911", "20260912")
    table = parse_taxa_swap(saturday.encode("latin-1"), source_name="TS.txt")
    assert table.num_rows == 4
    (found,) = findings_of(table)
    assert "2026-09-12, which is not a B3 session" in str(found) and found.field == "date"
    assert findings_of(parse_taxa_swap(SAMPLE_2026.read_bytes(), source_name="t")) == []
