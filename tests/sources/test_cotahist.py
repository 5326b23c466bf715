"""COTAHIST parser and downloader, against real B3 files and a malformed corpus built from them."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
import requests
import responses

from b3lake.errors import FetchError, ParseError
from b3lake.sources.cotahist import (
    RAW_COTAHIST_SCHEMA,
    cotahist_file_name,
    download_cotahist,
    parse_cotahist,
    split_by_session,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "cotahist"
DAILY = FIXTURES / "COTAHIST_D04012016.TXT"
MISMATCH = FIXTURES / "COTAHIST_D04012016_trailer_mismatch.TXT"
DEMO = FIXTURES / "DemoCotacoesHistoricas12022003.txt"
ANNUAL = ROOT / "data" / "sample" / "COTAHIST_A2021.ZIP"
WHEN = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)


# ----------------------------------------------------------------------------- helpers


def reference_row(line: str) -> dict[str, Any]:
    """An independent, naive reading of one type-01 line (B3's 1-based positions)."""

    def s(a: int, b: int) -> str:
        return line[a - 1 : b]

    def date(a: int, b: int) -> dt.date | None:
        text = s(a, b)
        return None if text == "99991231" else dt.datetime.strptime(text, "%Y%m%d").date()

    def dec(a: int, b: int, places: int = 2) -> Decimal:
        return Decimal(int(s(a, b))).scaleb(-places)

    prices = ["preabe", "premax", "premin", "premed", "preult", "preofc", "preofv"]
    row: dict[str, Any] = {
        "tipreg": int(s(1, 2)),
        "datpre": date(3, 10),
        "codbdi": s(11, 12).rstrip(" "),
        "codneg": s(13, 24).rstrip(" "),
        "tpmerc": s(25, 27).rstrip(" "),
        "nomres": s(28, 39).rstrip(" "),
        "especi": s(40, 49).rstrip(" "),
        "prazot": s(50, 52).rstrip(" "),
        "modref": s(53, 56).rstrip(" "),
    }
    for k, name in enumerate(prices):
        row[name] = dec(57 + 13 * k, 69 + 13 * k)
    row.update(
        totneg=int(s(148, 152)),
        quatot=int(s(153, 170)),
        voltot=dec(171, 188),
        preexe=dec(189, 201),
        indopc=int(s(202, 202)),
        datven=date(203, 210),
        fatcot=int(s(211, 217)),
        ptoexe=dec(218, 230, 6),
        codisi=s(231, 242).rstrip(" "),
        dismes=int(s(243, 245)),
    )
    return row


def raw_lines(data: bytes) -> list[str]:
    return data.decode("latin-1").split("\r\n")


def annual_text() -> bytes:
    with zipfile.ZipFile(ANNUAL) as archive:
        return archive.read("COTAHIST_A2021.TXT")


def zipped(text: bytes, member: str = "COTAHIST_D04012016.TXT") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, text)
    return out.getvalue()


def rows_of(table: pa.Table, codneg: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = table.filter(pc.equal(table["codneg"], codneg)).to_pylist()
    return rows


def with_line(lines: list[str], number: int, new: str) -> bytes:
    """The file with its 1-based line ``number`` replaced."""
    copy = list(lines)
    copy[number - 1] = new
    return "\r\n".join(copy).encode("latin-1")


def put(line: str, start: int, text: str) -> str:
    """``line`` with ``text`` written at B3's 1-based position ``start``."""
    return line[: start - 1] + text + line[start - 1 + len(text) :]


@pytest.fixture(scope="module")
def annual() -> pa.Table:
    return parse_cotahist(ANNUAL, ingested_at=WHEN)


@pytest.fixture(scope="module")
def daily_lines() -> list[str]:
    return raw_lines(DAILY.read_bytes())


# ------------------------------------------------------------------------ real files


def test_fixtures_are_byte_exact() -> None:
    expected = {
        DAILY: "56de2fc6b505fee020c1fe7aac7f46285e0818ceec182e0d1de6566bdffe50db",
        MISMATCH: "1369aa3ed60472783c6c3ea995995642c5fa4b0c8ee3f266d5aefed30bca327a",
        DEMO: "13cac8b9e5fcd5da310b629911f45861919fd56057338cab023c73f5adfa4b16",
    }
    for path, digest in expected.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, path.name


def test_annual_sample_counts_and_schema(annual: pa.Table) -> None:
    assert annual.schema.equals(RAW_COTAHIST_SCHEMA)
    assert annual.num_rows == 110_290
    assert len(pc.unique(annual["codneg"])) == 15_759
    assert pc.min(annual["datpre"]).as_py() == dt.date(2021, 1, 4)
    assert pc.max(annual["datpre"]).as_py() == dt.date(2021, 1, 26)
    assert set(annual["source_file"].unique().to_pylist()) == {"COTAHIST_A2021.ZIP"}
    assert set(annual["ingested_at"].unique().to_pylist()) == {WHEN}
    assert annual["line_number"].to_pylist()[:3] == [2, 3, 4]
    assert annual["line_number"][-1].as_py() == 110_291
    # Options carry an expiry date; the spot market's 99991231 ("none") is null.
    assert annual["datven"].null_count == 33_123


def test_annual_petr4_first_session_matches_the_raw_line(annual: pa.Table) -> None:
    row = next(r for r in rows_of(annual, "PETR4") if r["datpre"] == dt.date(2021, 1, 4))
    line = raw_lines(annual_text())[row["line_number"] - 1]
    assert line.startswith("012021010402PETR4       010PETROBRAS   PN      N2   R$")
    assert row["preabe"] == Decimal("28.65")
    assert row["preult"] == Decimal("28.91")
    assert row["premax"] == Decimal("29.18")
    assert row["totneg"] == 9323
    assert row["quatot"] == 74_719_700
    assert row["voltot"] == Decimal("2153768758.00")
    assert row["especi"] == "PN      N2"  # inner spaces kept, trailing ones trimmed
    assert row["prazot"] == ""
    assert row["codbdi"] == "02" and row["tpmerc"] == "010"
    assert row["datven"] is None and row["codisi"] == "BRPETRACNPR6"
    assert row == {
        **reference_row(line),
        "source_file": "COTAHIST_A2021.ZIP",
        "line_number": row["line_number"],
        "ingested_at": WHEN,
    }


def test_annual_random_rows_match_a_naive_reading_of_their_lines(annual: pa.Table) -> None:
    lines = raw_lines(annual_text())
    picks = random.Random(2021).sample(range(annual.num_rows), 400)
    sample = annual.take(pa.array(picks)).to_pylist()
    for row in sample:
        expected = reference_row(lines[row["line_number"] - 1])
        assert {k: row[k] for k in expected} == expected, row["line_number"]


def test_daily_file_every_row_matches_its_line(daily_lines: list[str]) -> None:
    table = parse_cotahist(DAILY, ingested_at=WHEN)
    assert table.num_rows == 1_743
    for row in table.to_pylist():
        expected = reference_row(daily_lines[row["line_number"] - 1])
        assert {k: row[k] for k in expected} == expected


def test_daily_petr4_and_an_option(daily_lines: list[str]) -> None:
    table = parse_cotahist(DAILY)
    (petr4,) = rows_of(table, "PETR4")
    assert petr4["datpre"] == dt.date(2016, 1, 4)
    assert (petr4["preabe"], petr4["preult"]) == (Decimal("6.57"), Decimal("6.87"))
    assert (petr4["quatot"], petr4["voltot"]) == (45_962_100, Decimal("314449892.00"))
    assert (petr4["nomres"], petr4["especi"]) == ("PETROBRAS", "PN")
    (option,) = rows_of(table, "CMIGA68")
    assert option["tpmerc"] == "070"
    assert option["datven"] == dt.date(2016, 1, 18)
    assert option["preexe"] == Decimal("6.66")
    assert option["especi"] == "PN      N1"


def test_demo_file() -> None:
    table = parse_cotahist(DEMO)
    assert table.num_rows == 551
    assert set(table["datpre"].unique().to_pylist()) == {dt.date(2003, 2, 12)}
    (vale,) = rows_of(table, "VALE3")
    assert vale["preult"] == Decimal("103.21")
    assert (vale["fatcot"], vale["codisi"]) == (1, "BRVALEACNOR0")
    (cmig4,) = rows_of(table, "CMIG4")
    assert cmig4["fatcot"] == 1000  # quoted per thousand shares in 2003
    assert (cmig4["preult"], cmig4["quatot"]) == (Decimal("24.31"), 408_000_000)
    assert (cmig4["voltot"], cmig4["especi"]) == (Decimal("10025640.00"), "PN *    N1")
    assert sorted(pc.unique(table["indopc"]).to_pylist()) == [0, 6, 8]


def test_zip_text_path_and_bytes_give_the_same_records() -> None:
    text = DAILY.read_bytes()
    from_path = parse_cotahist(str(DAILY), ingested_at=WHEN)
    from_bytes = parse_cotahist(text, source_name="COTAHIST_D04012016.TXT", ingested_at=WHEN)
    from_zip = parse_cotahist(zipped(text), source_name="COTAHIST_D04012016.ZIP", ingested_at=WHEN)
    assert from_path.equals(from_bytes)
    assert from_zip.drop_columns(["source_file"]).equals(from_path.drop_columns(["source_file"]))
    assert from_zip["source_file"][0].as_py() == "COTAHIST_D04012016.ZIP"
    assert parse_cotahist(text)["source_file"][0].as_py() == "<bytes>"


def test_lf_endings_and_a_missing_final_newline_are_fine() -> None:
    text = DAILY.read_bytes()
    expected = parse_cotahist(text, ingested_at=WHEN)
    assert parse_cotahist(text.replace(b"\r\n", b"\n"), ingested_at=WHEN).equals(expected)
    assert parse_cotahist(text.rstrip(b"\r\n"), ingested_at=WHEN).equals(expected)
    mixed = text.replace(b"\r\n", b"\n", 100)
    assert parse_cotahist(mixed, ingested_at=WHEN).equals(expected)


def test_ingested_at_defaults_to_now_utc_and_naive_means_utc() -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    stamp = parse_cotahist(DEMO)["ingested_at"][0].as_py()
    assert before <= stamp <= dt.datetime.now(dt.UTC)
    naive = parse_cotahist(DEMO, ingested_at=dt.datetime(2024, 1, 2, 3, 4, 5))
    assert naive["ingested_at"][0].as_py() == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def test_latin1_text_is_decoded(daily_lines: list[str]) -> None:
    line = put(daily_lines[1], 28, "AÇÚCAR GUAR")
    table = parse_cotahist(with_line(daily_lines, 2, line))
    assert table["nomres"][0].as_py() == "AÇÚCAR GUAR"
    assert table["codneg"][0].as_py() == daily_lines[1][12:24].rstrip()


def test_only_header_and_trailer_is_an_empty_table(daily_lines: list[str]) -> None:
    trailer = put(daily_lines[-2], 32, "00000000002")
    table = parse_cotahist("\r\n".join([daily_lines[0], trailer, ""]).encode("latin-1"))
    assert table.num_rows == 0 and table.schema.equals(RAW_COTAHIST_SCHEMA)
    assert split_by_session(table) == {}


# ---------------------------------------------------------------------- rejections


def test_real_trailer_mismatch_file_is_rejected() -> None:
    with pytest.raises(ParseError) as caught:
        parse_cotahist(MISMATCH)
    error = caught.value
    assert (error.source, error.line, error.field) == (MISMATCH.name, 506, "trailer record count")
    message = str(error)
    assert message.startswith("COTAHIST_D04012016_trailer_mismatch.TXT:506 [trailer record count]")
    assert "1745" in message and "506" in message


def bad_files(lines: list[str]) -> dict[str, tuple[bytes, int | None, str | None, str]]:
    """Malformed inputs from real lines: name -> (bytes, line, field, text in the message)."""
    n = len(lines) - 1  # the split leaves an empty string after the final CRLF
    record = lines[4]  # line 5
    return {
        "short record": (with_line(lines, 5, record[:-1]), 5, "record length", "244 characters"),
        "long record": (with_line(lines, 5, record + "0"), 5, "record length", "246 characters"),
        "empty line": (with_line(lines, 9, ""), 9, "record length", "0 characters"),
        "bad digit in price": (
            with_line(lines, 5, put(record, 115, "A")),
            5,
            "preult",
            "not an unsigned number",
        ),
        "space in volume": (
            with_line(lines, 7, put(lines[6], 171, " ")),
            7,
            "voltot",
            "not an unsigned number",
        ),
        "impossible date": (
            with_line(lines, 5, put(record, 3, "20160230")),
            5,
            "datpre",
            "not a valid date",
        ),
        "month 13 expiry": (
            with_line(lines, 6, put(lines[5], 203, "20161301")),
            6,
            "datven",
            "not a valid date",
        ),
        "missing header": (
            "\r\n".join(lines[1:]).encode("latin-1"),
            1,
            "tipreg",
            "missing header",
        ),
        "missing trailer": (
            "\r\n".join(lines[: n - 1] + [""]).encode("latin-1"),
            n - 1,
            "tipreg",
            "missing trailer",
        ),
        "stray record type": (
            with_line(lines, 8, put(lines[7], 1, "02")),
            8,
            "tipreg",
            "expected 01",
        ),
        "empty file": (b"", None, None, "empty file"),
        "html page": (
            b"<!DOCTYPE html><html><body>Erro</body></html>" + b" " * 200 + b"\r\n",
            1,
            "tipreg",
            "HTML",
        ),
    }


@pytest.mark.parametrize("case", list(bad_files(raw_lines(DAILY.read_bytes()))))
def test_malformed_input_is_rejected_naming_file_line_and_field(case: str) -> None:
    data, line, field, text = bad_files(raw_lines(DAILY.read_bytes()))[case]
    with pytest.raises(ParseError) as caught:
        parse_cotahist(data, source_name="COTAHIST_D04012016.TXT")
    error = caught.value
    assert (error.source, error.line, error.field) == ("COTAHIST_D04012016.TXT", line, field)
    assert text in str(error)
    assert str(error).startswith("COTAHIST_D04012016.TXT")


def test_the_earliest_problem_is_reported_with_a_count(daily_lines: list[str]) -> None:
    lines = list(daily_lines)
    lines[9] = put(lines[9], 57, "X")  # preabe, line 10
    lines[3] = put(lines[3], 243, "1 3")  # dismes, line 4
    lines[1500] = put(lines[1500], 3, "20161301")  # datpre, line 1501
    with pytest.raises(ParseError) as caught:
        parse_cotahist("\r\n".join(lines).encode("latin-1"), source_name="f.TXT")
    assert (caught.value.line, caught.value.field) == (4, "dismes")
    assert caught.value.value == "1 3"
    assert "2 more bad fields" in str(caught.value)


def test_line_break_inside_a_record_is_rejected(daily_lines: list[str]) -> None:
    line = put(daily_lines[2], 30, "\r")
    with pytest.raises(ParseError) as caught:
        parse_cotahist(with_line(daily_lines, 3, line), source_name="f.TXT")
    assert (caught.value.line, caught.value.field) == (3, "nomres")


def test_trailer_count_that_is_not_a_number(daily_lines: list[str]) -> None:
    lines = list(daily_lines)
    lines[-2] = put(lines[-2], 32, "0000000174X")
    with pytest.raises(ParseError, match="not a number") as caught:
        parse_cotahist("\r\n".join(lines).encode("latin-1"))
    assert caught.value.field == "trailer record count"


def test_truncated_and_corrupt_zips_are_rejected() -> None:
    archive = zipped(DAILY.read_bytes())
    with pytest.raises(ParseError, match="truncated or corrupt zip") as caught:
        parse_cotahist(archive[: len(archive) // 2], source_name="COTAHIST_D04012016.ZIP")
    assert caught.value.source == "COTAHIST_D04012016.ZIP"
    flipped = bytearray(archive)
    flipped[200] ^= 0xFF  # inside the deflated data: bad CRC or bad stream
    with pytest.raises(ParseError, match="zip"):
        parse_cotahist(bytes(flipped), source_name="COTAHIST_D04012016.ZIP")


def test_zip_named_file_that_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "COTAHIST_A2020.ZIP"
    path.write_bytes(b"<html><body>Not found</body></html>")
    with pytest.raises(ParseError, match="HTML") as caught:
        parse_cotahist(path)
    assert caught.value.source == "COTAHIST_A2020.ZIP"
    with pytest.raises(ParseError, match="cannot read"):
        parse_cotahist(tmp_path / "missing.TXT")


def test_zip_with_two_data_files_is_rejected() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("a.TXT", DEMO.read_bytes())
        archive.writestr("b.TXT", DEMO.read_bytes())
    with pytest.raises(ParseError, match="exactly one"):
        parse_cotahist(out.getvalue(), source_name="x.ZIP")


# ------------------------------------------------------------------- split by session


def test_split_by_session_on_the_annual_sample(annual: pa.Table) -> None:
    sessions = split_by_session(annual)
    assert len(sessions) == 16
    assert list(sessions) == sorted(sessions)
    assert list(sessions)[0] == dt.date(2021, 1, 4)
    assert dt.date(2021, 1, 25) not in sessions  # São Paulo anniversary: B3 closed
    assert sum(t.num_rows for t in sessions.values()) == annual.num_rows
    for day, table in sessions.items():
        assert table["datpre"].unique().to_pylist() == [day]
        assert table.schema.equals(RAW_COTAHIST_SCHEMA)


def test_split_by_session_sorts_unsorted_input() -> None:
    a, b = parse_cotahist(DAILY, ingested_at=WHEN), parse_cotahist(DEMO, ingested_at=WHEN)
    sessions = split_by_session(pa.concat_tables([a, b, a.slice(0, 10)]))
    assert list(sessions) == [dt.date(2003, 2, 12), dt.date(2016, 1, 4)]
    assert sessions[dt.date(2003, 2, 12)].equals(b)
    day = sessions[dt.date(2016, 1, 4)]
    assert day.num_rows == 1_753
    assert day.slice(0, 1_743).equals(a)  # stable: file order kept within a session


# ------------------------------------------------------------------------ download


def test_file_names() -> None:
    assert cotahist_file_name(2019) == "COTAHIST_A2019.ZIP"
    assert cotahist_file_name(2020, month=1) == "COTAHIST_M012020.ZIP"
    assert cotahist_file_name(2020, day=dt.date(2020, 1, 2)) == "COTAHIST_D02012020.ZIP"
    with pytest.raises(ValueError):
        cotahist_file_name(2021, day=dt.date(2020, 1, 2))
    with pytest.raises(ValueError):
        cotahist_file_name(2020, month=13)


BASE = "https://bvmf.bmfbovespa.com.br/InstDados/SerHist/"
DAILY_URL = BASE + "COTAHIST_D04012016.ZIP"


def no_sleep(_: float) -> None:
    pass


@responses.activate
def test_download_returns_the_zip_and_it_parses() -> None:
    body = zipped(DAILY.read_bytes())
    responses.get(DAILY_URL, body=body, content_type="application/x-zip-compressed")
    data = download_cotahist(year=2016, day=dt.date(2016, 1, 4))
    assert data == body
    assert parse_cotahist(data, source_name="COTAHIST_D04012016.ZIP").num_rows == 1_743


@responses.activate
def test_download_404_is_not_retried() -> None:
    responses.get(DAILY_URL, status=404)
    with pytest.raises(FetchError, match="404") as caught:
        download_cotahist(year=2016, day=dt.date(2016, 1, 4), sleep=no_sleep)
    assert caught.value.source == DAILY_URL
    assert len(responses.calls) == 1


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"<html><head><title>Erro</title></head></html>", "text/html", "HTML page"),
        (b"", "application/zip", "empty response body"),
        (b"COTAHIST but not zipped", "application/zip", "not a zip"),
    ],
)
@responses.activate
def test_download_rejects_bodies_that_are_not_a_zip(
    body: bytes, content_type: str, message: str
) -> None:
    url = BASE + "COTAHIST_A2021.ZIP"
    responses.get(url, body=body, content_type=content_type)
    with pytest.raises(FetchError, match=message) as caught:
        download_cotahist(year=2021, sleep=no_sleep)
    assert caught.value.source == url


@responses.activate
def test_download_retries_server_errors_with_backoff() -> None:
    url = BASE + "COTAHIST_M012021.ZIP"
    responses.get(url, status=503)
    responses.get(url, status=502)
    responses.get(url, body=ANNUAL.read_bytes())
    waits: list[float] = []
    data = download_cotahist(year=2021, month=1, sleep=waits.append, backoff_seconds=0.5)
    assert data == ANNUAL.read_bytes()
    assert waits == [0.5, 1.0]


@responses.activate
def test_download_gives_up_after_the_retries() -> None:
    url = BASE + "COTAHIST_A2021.ZIP"
    responses.get(url, body=requests.ConnectionError("connection reset"))
    with pytest.raises(FetchError, match="gave up after 3 attempts") as caught:
        download_cotahist(year=2021, retries=2, sleep=no_sleep)
    assert len(responses.calls) == 3
    assert "connection reset" in str(caught.value)


@responses.activate
def test_download_retries_a_truncated_zip() -> None:
    body = zipped(DAILY.read_bytes())
    responses.get(DAILY_URL, body=body[:-30])
    responses.get(DAILY_URL, body=body)
    assert download_cotahist(year=2016, day=dt.date(2016, 1, 4), sleep=no_sleep) == body


class FakeResponse:
    def __init__(self, status: int, body: bytes) -> None:
        self.status_code, self.content, self.reason = status, body, "OK"
        self.headers = {"Content-Type": "application/zip"}


class FakeSession:
    """A requests.Session stand-in that records the URLs it was asked for."""

    def __init__(self, *responses_: FakeResponse) -> None:
        self.queue, self.urls = list(responses_), list[str]()

    def get(self, url: str, timeout: float) -> FakeResponse:
        self.urls.append(url)
        return self.queue.pop(0)


def test_download_with_an_injected_session_and_base_url() -> None:
    body = zipped(DEMO.read_bytes(), "COTAHIST_D12022003.TXT")
    session = FakeSession(FakeResponse(500, b""), FakeResponse(200, body))
    data = download_cotahist(
        year=2003,
        day=dt.date(2003, 2, 12),
        session=session,  # type: ignore[arg-type]
        base_url="https://mirror.example/b3",
        sleep=no_sleep,
    )
    assert data == body
    assert session.urls == ["https://mirror.example/b3/COTAHIST_D12022003.ZIP"] * 2
