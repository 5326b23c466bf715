"""Index report (BVBG.087): B3's XML parsed strictly from its archive, replayed, landed."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
import responses

from b3lake.errors import FetchError, ParseError
from b3lake.sources.index_report import client
from b3lake.sources.index_report.parse import parse_index_report

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "index_report"
REPORT = FIXTURES / "IR210423.zip"


def xml() -> str:
    with zipfile.ZipFile(REPORT) as z:
        return z.read(z.namelist()[0]).decode("utf-8")


def test_the_indices_of_the_report() -> None:
    table = parse_index_report(REPORT.read_bytes(), source_name=REPORT.name)
    assert table.num_rows == 25 and set(table["date"].to_pylist()) == {dt.date(2021, 4, 23)}
    rows = {r["index"]: r for r in table.to_pylist()}
    ibov = rows["IBOV"]
    assert (ibov["open"], ibov["low"], ibov["high"], ibov["close"]) == (
        119372.04,
        119372.04,
        120814.83,
        120530.06,
    )
    assert (ibov["previous_close"], ibov["oscillation"], ibov["description"]) == (
        119371.48,
        0.0097,
        "IBOVESPA",
    )
    assert (ibov["rising"], ibov["falling"], ibov["stable"], ibov["line_number"]) == (
        61,
        20,
        1,
        771,
    )
    assert rows["TFIX"]["settlement_value"] is None  # B3 printed none for its test index
    assert {"IBXX", "SMLL", "IDIV", "IFIX"} <= set(rows)


def _edited(old: str, new: str, count: int = 1) -> bytes:
    text = xml()
    assert old in text
    return text.replace(old, new, count).encode()


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ('<ClsgPric Ccy="BRL">4000<', '<ClsgPric Ccy="BRL">4.000,00<', "SctyInf/ClsgPric", "plain"),
        ('<OpngPric Ccy="BRL">2800<', "<X>2800<", "SctyInf/OpngPric", "missing"),
        ('<MaxPric Ccy="BRL">8000<', '<MaxPric Ccy="BRL">3000<', "SctyInf/ClsgPric", "outside"),
        ("<TckrSymb>TFIX<", "<TckrSymb>IBOV<", "SctyInf/SctyId/TckrSymb", "listed twice"),
        ("<RsngShrsNb>6<", "<RsngShrsNb>6.5<", "RsngShrsNb", "integer"),
    ],
)
def test_malformed_fields_name_file_line_and_field(
    old: str, new: str, field: str, message: str
) -> None:
    data = _edited(old, new)
    if new.startswith("<X>"):
        data = data.replace(b"</OpngPric>", b"</X>", 1)
    with pytest.raises(ParseError, match=message) as info:
        parse_index_report(data, source_name="IR.xml")
    assert info.value.source == "IR.xml" and info.value.field == field
    assert info.value.line is not None and info.value.line > 80


def test_other_files_and_broken_xml_are_refused() -> None:
    with pytest.raises(ParseError, match="not a BVBG.087.01") as info:
        parse_index_report(
            _edited("<BizGrpTp>BVBG.087.01", "<BizGrpTp>BVBG.086.01"), source_name="x"
        )
    assert info.value.value == ["BVBG.086.01"]
    with pytest.raises(ParseError, match="not well-formed") as info:
        parse_index_report(_edited("</IndxInf>", "</IndxInfo>"), source_name="x")
    assert info.value.line is not None
    with pytest.raises(ParseError, match="no trade date"):
        parse_index_report(_edited("<Dt>2021-04-23</Dt>", "<D>2021-04-23</D>"), source_name="x")
    with pytest.raises(FetchError, match="HTML"):
        parse_index_report(b"<!DOCTYPE html><html>busy</html>", source_name="x")


@responses.activate
def test_fetch_replays_b3s_archive() -> None:
    day = dt.date(2021, 4, 23)
    url = client.index_report_url(day)
    assert url == "https://www.b3.com.br/pesquisapregao/download?filelist=IR210423.zip"
    outer = io.BytesIO()  # the service wraps the requested archive in its own zip
    with zipfile.ZipFile(outer, "w") as z:
        z.writestr("IR210423.zip", REPORT.read_bytes())
    responses.get(url, status=503)
    responses.get(url, body=outer.getvalue())
    responses.get(client.index_report_url(dt.date(2021, 4, 24)), body=b"PK\x05\x06" + b"\0" * 18)
    table, missing = client.fetch_index_report(day, sleep=lambda _: None)
    assert table.num_rows == 25 and missing == []
    empty, missing = client.fetch_index_report(dt.date(2021, 4, 24), sleep=lambda _: None)
    assert empty.num_rows == 0 and missing == ["IR210424.zip"]
    responses.get(client.index_report_url(dt.date(2021, 4, 26)), body=REPORT.read_bytes())
    with pytest.raises(FetchError, match="served the file of 2021-04-23"):
        client.fetch_index_report(dt.date(2021, 4, 26), sleep=lambda _: None)


def test_extract_lands_the_session(tmp_path: Path) -> None:
    from b3lake.pipeline import Pipeline
    from b3lake.settings import Settings

    report = Pipeline(Settings(lake=str(tmp_path / "lake"))).extract("index_report", files=[REPORT])
    assert [w.key for w in report.writes] == ["raw/index_report/dt=2021-04-23/part-0.parquet"]


def test_a_report_of_a_day_that_is_not_a_session_lands_with_a_finding() -> None:
    from b3lake.sources.base import findings_of

    table = parse_index_report(
        _edited("<Dt>2021-04-23</Dt>", "<Dt>2021-04-24</Dt>"), source_name="x"
    )
    (found,) = findings_of(table)
    assert found.field == "TradDt/Dt" and "2021-04-24, which is not a B3 session" in str(found)
