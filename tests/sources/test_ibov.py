"""IBOV portfolio: the real B3 CSV export and recorded JSON responses, parsed and replayed."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import requests
import responses

from b3lake.errors import FetchError, ParseError
from b3lake.sources import ibov
from b3lake.sources.base import findings_of
from b3lake.sources.numbers import guess_language, parse_decimal, parse_int

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ibov"
CSV_FILE = FIXTURES / "IBOVDia_03-10-25.csv"
DAY_JSON = FIXTURES / "GetPortfolioDay_IBOV_2025-04-07.json"
THEORETICAL_JSON = FIXTURES / "GetTheoricalPortfolio_IBOV_2022_ptbr.json"
INGESTED = dt.datetime(2025, 10, 4, 12, 0, tzinfo=dt.UTC)


def _by_ticker(table: pa.Table) -> dict[str, dict[str, Any]]:
    return {row["ticker"]: row for row in table.to_pylist()}


@pytest.fixture(scope="module")
def csv_table() -> pa.Table:
    return ibov.parse_portfolio_csv(
        CSV_FILE.read_bytes(), source_name=CSV_FILE.name, ingested_at=INGESTED
    )


@pytest.fixture(scope="module")
def day_doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(DAY_JSON.read_text(encoding="utf-8"))
    return doc


@pytest.fixture(scope="module")
def day_table() -> pa.Table:
    return ibov.parse_portfolio_json(
        DAY_JSON.read_bytes(), source_name=DAY_JSON.name, ingested_at=INGESTED
    )


@pytest.fixture(scope="module")
def theoretical_table() -> pa.Table:
    return ibov.parse_portfolio_json(
        THEORETICAL_JSON.read_bytes(),
        source_name=THEORETICAL_JSON.name,
        portfolio_date=dt.date(2022, 1, 3),
        ingested_at=INGESTED,
    )


# ---------------------------------------------------------------- numbers


def test_numbers_follow_the_language() -> None:
    assert parse_int("4.273.841.357", language="pt-br") == 4_273_841_357
    assert parse_decimal("2,483", language="pt-br") == 2.483
    assert parse_int("99,015,750,716", language="en-us") == 99_015_750_716
    assert parse_decimal("2.663", language="en-us") == 2.663
    assert parse_decimal("15.019.274,20202473", language="pt-br") == 15019274.20202473
    assert guess_language(["2,483", "4.273.841.357"]) == "pt-br"
    assert guess_language(["2.663", "99,015,750,716"]) == "en-us"
    assert guess_language(["2,483", "100"]) is None


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("18.296.80337677573", "pt-br"),  # the reductor B3 once printed
        ("18.296.80337677573", "en-us"),
        ("1,234,56", "en-us"),
        ("12.34.567", "pt-br"),
        ("1.234", "en-us-int"),
        ("", "pt-br"),
        ("abc", "pt-br"),
    ],
)
def test_malformed_numbers_raise(text: str, language: str) -> None:
    with pytest.raises(ParseError) as info:
        if language == "en-us-int":
            parse_int(text, language="en-us", field="qty")
        else:
            parse_decimal(text, language=language, field="reductor")
    assert repr(text) in str(info.value)


# ---------------------------------------------------------------- the real CSV export


def test_csv_export_parses_exactly(csv_table: pa.Table) -> None:
    assert csv_table.schema.equals(ibov.SCHEMA)
    assert csv_table.num_rows == 82
    rows = _by_ticker(csv_table)
    # Spot checks against the file text.
    assert (
        rows["ABEV3"]["theoretical_quantity"] == 4_273_841_357
    )  # ABEV3;AMBEV S/A;ON;4.273.841.357;2,358;
    assert rows["ABEV3"]["participation"] == 2.358
    assert rows["ABEV3"]["asset"] == "AMBEV S/A"
    assert rows["ABEV3"]["share_type"] == "ON"
    assert rows["VALE3"]["theoretical_quantity"] == 4_267_772_018
    assert rows["VALE3"]["participation"] == 11.587
    assert rows["WEGE3"]["theoretical_quantity"] == 1_485_954_732
    assert rows["WEGE3"]["participation"] == 2.483
    assert rows["WEGE3"]["share_type"] == "ON  EJ  NM"
    assert rows["ALOS3"]["line_number"] == 3
    first = rows["ALOS3"]
    assert first["index"] == "IBOV"
    assert first["portfolio_date"] == dt.date(2025, 10, 3)  # title "Carteira do Dia 03/10/25"
    assert first["reductor"] == 15019274.20202473
    assert first["theoretical_total"] == 90_587_133_892
    assert first["language"] == "pt-br"
    assert first["segment"] == 1
    assert first["sector"] is None
    assert first["participation_accum"] is None
    assert first["source_file"] == "IBOVDia_03-10-25.csv"
    assert first["ingested_at"] == INGESTED
    assert sum(csv_table.column("participation").to_pylist()) == pytest.approx(100.0, abs=0.05)
    assert sum(csv_table.column("theoretical_quantity").to_pylist()) == 90_587_133_892


def test_csv_title_must_match_index_and_date() -> None:
    with pytest.raises(ParseError, match="IBOV portfolio, not SMLL"):
        ibov.parse_portfolio_csv(CSV_FILE.read_bytes(), source_name="x", index="SMLL")
    with pytest.raises(ParseError, match="disagrees"):
        ibov.parse_portfolio_csv(
            CSV_FILE.read_bytes(), source_name="x", portfolio_date=dt.date(2025, 3, 10)
        )


def test_other_index_same_code() -> None:
    data = CSV_FILE.read_bytes().replace(b"IBOV - Carteira", b"SMLL - Carteira", 1)
    table = ibov.parse_portfolio_csv(data, source_name="SMLLDia.csv", index="SMLL")
    assert set(table.column("index").to_pylist()) == {"SMLL"}


def _csv_with(old: bytes, new: bytes) -> bytes:
    data = CSV_FILE.read_bytes()
    assert old in data
    return data.replace(old, new, 1)


def test_csv_malformed_reductor_lands_null_with_a_finding_naming_file_line_and_field() -> None:
    data = _csv_with(b"Redutor;;;15.019.274,20202473", b"Redutor;;;18.296.80337677573")
    table = ibov.parse_portfolio_csv(data, source_name="IBOVDia.csv")
    assert table.num_rows == 82 and table.column("reductor").null_count == 82
    [finding] = findings_of(table)
    assert (finding.source, finding.line, finding.field) == ("IBOVDia.csv", 86, "reductor")
    assert "18.296.80337677573" in str(finding) and str(finding).startswith("IBOVDia.csv:86 ")


def test_csv_weights_must_sum_to_100() -> None:
    data = _csv_with(
        b"VALE3;VALE;ON      NM;4.267.772.018;11,587;",
        b"VALE3;VALE;ON      NM;4.267.772.018;12,587;",
    )
    with pytest.raises(ParseError, match="participations sum to 101"):
        ibov.parse_portfolio_csv(data, source_name="x")


def test_csv_quantities_must_match_total() -> None:
    data = _csv_with(b"4.267.772.018", b"4.267.772.019")
    with pytest.raises(ParseError, match="theoretical quantities sum"):
        ibov.parse_portfolio_csv(data, source_name="x")


def test_csv_bad_row_names_line() -> None:
    data = _csv_with(
        b"ABEV3;AMBEV S/A;ON;4.273.841.357;2,358;", b"ABEV3;AMBEV S/A;4.273.841.357;2,358;"
    )
    with pytest.raises(ParseError, match=r"x:4: expected 5 fields"):
        ibov.parse_portfolio_csv(data, source_name="x")


def test_csv_html_and_empty_are_fetch_errors() -> None:
    with pytest.raises(FetchError, match="HTML"):
        ibov.parse_portfolio_csv(b"<html><body>Erro</body></html>", source_name="x")
    with pytest.raises(FetchError, match="empty"):
        ibov.parse_portfolio_csv(b"\r\n", source_name="x")


# ---------------------------------------------------------------- the real JSON responses


def test_portfolio_day_json_en_us_by_sector(day_table: pa.Table) -> None:
    assert day_table.schema.equals(ibov.SCHEMA)
    assert day_table.num_rows == 87
    rows = _by_ticker(day_table)
    wege = rows["WEGE3"]  # "part": "2.663", "theoricalQty": "1,243,177,587"
    assert wege["theoretical_quantity"] == 1_243_177_587
    assert wege["participation"] == 2.663
    assert wege["participation_accum"] == 2.663
    assert wege["sector"] == "Bens Indls / Máqs e Equips"
    assert rows["VALE3"]["theoretical_quantity"] == 4_270_903_023
    assert rows["VALE3"]["participation"] == 11.025
    assert rows["ITUB4"]["participation_accum"] == 18.461
    assert rows["PETR4"]["sector"] == "Petróleo, Gás e Biocombustíveis"
    # The header date "04/07/25" is month first in en-us: April 7th, not July 4th.
    assert wege["portfolio_date"] == dt.date(2025, 4, 7)
    assert wege["language"] == "en-us"
    assert wege["segment"] == 2
    assert wege["reductor"] == 16036751.16744128
    assert wege["theoretical_total"] == 99_015_750_716
    assert sum(day_table.column("participation").to_pylist()) == pytest.approx(100.0, abs=0.05)
    assert sum(day_table.column("theoretical_quantity").to_pylist()) == 99_015_750_716


def test_theoretical_json_pt_br(theoretical_table: pa.Table) -> None:
    assert theoretical_table.num_rows == 92
    rows = _by_ticker(theoretical_table)
    assert rows["ABEV3"]["theoretical_quantity"] == 4_380_195_841  # "4.380.195.841"
    assert rows["ABEV3"]["participation"] == 3.157  # "3,157"
    assert rows["VALE3"]["participation"] == 15.583
    assert rows["PETR4"]["theoretical_quantity"] == 4_566_442_248
    first = rows["ABEV3"]
    assert first["language"] == "pt-br"  # inferred from "4.380.195.841" / "18.673.489,42022432"
    assert first["segment"] == 1
    assert first["reductor"] == 18673489.42022432
    assert first["theoretical_total"] == 96_626_612_142
    # Printed weights sum to 100.001: rounding of 92 values at 3 decimals, within tolerance.
    assert sum(theoretical_table.column("participation").to_pylist()) == pytest.approx(
        100.001, abs=1e-6
    )


def test_theoretical_json_needs_a_date() -> None:
    with pytest.raises(ParseError, match="portfolio_date"):
        ibov.parse_portfolio_json(THEORETICAL_JSON.read_bytes(), source_name="t.json")


def test_header_date_follows_language(day_doc: dict[str, Any]) -> None:
    doc = copy.deepcopy(day_doc)
    assert doc["header"]["date"] == "04/07/25"
    en = ibov.parse_portfolio_json(doc, source_name="x", language="en-us")
    assert en.column("portfolio_date")[0].as_py() == dt.date(2025, 4, 7)
    # The same header in a pt-br response is day first; its numbers must be pt-br too.
    pt = copy.deepcopy(doc)
    for item in [pt["header"], *pt["results"]]:
        for key in ("part", "partAcum", "theoricalQty", "reductor"):
            if key in item:
                item[key] = item[key].replace(",", "_").replace(".", ",").replace("_", ".")
    pt["header"]["text"] = "Quantidade Teórica Total"
    table = ibov.parse_portfolio_json(pt, source_name="x")
    assert table.column("language")[0].as_py() == "pt-br"
    assert table.column("portfolio_date")[0].as_py() == dt.date(2025, 7, 4)
    assert (
        table.column("theoretical_quantity").to_pylist()
        == en.column("theoretical_quantity").to_pylist()
    )
    assert table.column("participation").to_pylist() == en.column("participation").to_pylist()


def test_wrong_language_is_caught_not_misread(day_doc: dict[str, Any]) -> None:
    with pytest.raises(ParseError, match="pt-br"):
        ibov.parse_portfolio_json(day_doc, source_name="x", language="pt-br")


def test_json_malformed_reductor_lands_null_with_a_finding() -> None:
    doc = json.loads(THEORETICAL_JSON.read_text(encoding="utf-8"))
    doc["header"]["reductor"] = "18.296.80337677573"
    table = ibov.parse_portfolio_json(
        doc, source_name="t.json", language="pt-br", portfolio_date=dt.date(2022, 1, 3)
    )
    assert table.num_rows == 92 and table.column("reductor").null_count == 92
    [finding] = findings_of(table)
    assert str(finding).startswith("t.json [reductor]: reductor is malformed: stored as null")
    assert "'18.296.80337677573'" in str(finding)


def test_json_weights_must_sum_to_100(day_doc: dict[str, Any]) -> None:
    doc = copy.deepcopy(day_doc)
    doc["results"] = doc["results"][:-1]
    with pytest.raises(ParseError, match="participations sum to"):
        ibov.parse_portfolio_json(doc, source_name="x")


def test_json_sector_accumulation_is_checked(day_doc: dict[str, Any]) -> None:
    doc = copy.deepcopy(day_doc)
    doc["results"][1]["partAcum"] = "3.357"  # EMBR3's sector really sums to 2.357
    with pytest.raises(ParseError, match=r"x:2 \[partAcum\]"):
        ibov.parse_portfolio_json(doc, source_name="x")


def test_json_duplicate_ticker(day_doc: dict[str, Any]) -> None:
    doc = copy.deepcopy(day_doc)
    doc["results"][1]["cod"] = "WEGE3"
    with pytest.raises(ParseError, match="listed twice"):
        ibov.parse_portfolio_json(doc, source_name="x")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (b"<!DOCTYPE html><html>Service Unavailable</html>", "HTML"),
        (b'{"page": {}, "header": {}, "results": []}', "no results"),
        (b"{not json", "not JSON"),
    ],
)
def test_json_bad_bodies_are_fetch_errors(body: bytes, message: str) -> None:
    with pytest.raises(FetchError, match=message):
        ibov.parse_portfolio_json(body, source_name="x")


# ---------------------------------------------------------------- CSV vs JSON


def test_csv_and_json_agree_where_comparable(csv_table: pa.Table, day_table: pa.Table) -> None:
    """2025-10-03 CSV vs 2025-04-07 JSON: two portfolios (two rebalancings apart) of one index.

    Comparable: the same B3 codes carry the same company and share class; the top of the
    ranking is the same; each full portfolio sums to 100. Not comparable: weights and quantities
    (prices moved, the September rebalancing changed the free float), and the constituent list.
    """
    csv_rows, json_rows = _by_ticker(csv_table), _by_ticker(day_table)
    common = csv_rows.keys() & json_rows.keys()
    assert len(common) == 75
    # Measured: entries and exits between April and October 2025, incl. renames/mergers
    # (CCRO3 -> MOTV3, NTCO3 -> NATU3, BRFS3 + MRFG3 -> MBRF3; JBSS3 moved to NYSE).
    assert csv_rows.keys() - json_rows.keys() == {
        "CEAB3", "CURY3", "DIRR3", "MBRF3", "MOTV3", "NATU3", "SMFT3"
    }  # fmt: skip
    assert json_rows.keys() - csv_rows.keys() == {
        "AMOB3", "AZUL4", "BRFS3", "CCRO3", "CRFB3", "JBSS3", "LWSA3", "MRFG3", "NTCO3",
        "PETZ3", "SMTO3", "STBP3",
    }  # fmt: skip
    for ticker in common:
        a, b = csv_rows[ticker], json_rows[ticker]
        assert a["asset"] == b["asset"], ticker
        assert a["share_type"].split()[0] == b["share_type"].split()[0], ticker  # ON / PN / UNT
        assert abs(a["participation"] - b["participation"]) < 1.5, ticker
    for table in (csv_table, day_table):
        top = table.sort_by([("participation", "descending")]).column("ticker")[:3].to_pylist()
        assert top == ["VALE3", "ITUB4", "PETR4"]
        assert sum(table.column("participation").to_pylist()) == pytest.approx(100, abs=0.05)
    # A ticker whose free float did not change keeps (almost) its quantity: BBAS3.
    assert csv_rows["BBAS3"]["theoretical_quantity"] == 2_842_496_541
    assert json_rows["BBAS3"]["theoretical_quantity"] == 2_842_613_858


# ---------------------------------------------------------------- fetch, replayed offline


def _pages(doc: dict[str, Any], size: int) -> list[dict[str, Any]]:
    results = doc["results"]
    total_pages = -(-len(results) // size)
    return [
        {
            "page": {
                "pageNumber": n + 1,
                "pageSize": size,
                "totalRecords": len(results),
                "totalPages": total_pages,
            },
            "header": doc["header"],
            "results": results[n * size : (n + 1) * size],
        }
        for n in range(total_pages)
    ]


@responses.activate
def test_fetch_follows_pagination(day_doc: dict[str, Any], day_table: pa.Table) -> None:
    pages = _pages(day_doc, 30)
    assert len(pages) == 3
    for n, page in enumerate(pages, start=1):
        url = ibov.portfolio_url("IBOV", language="en-us", segment=2, page_number=n, page_size=30)
        responses.get(url, json=page)
    table = ibov.fetch_portfolio(
        "IBOV", language="en-us", segment=2, page_size=30, ingested_at=INGESTED
    )
    assert len(responses.calls) == 3
    assert table.drop_columns(["source_file"]).equals(day_table.drop_columns(["source_file"]))
    assert table.column("source_file")[0].as_py().startswith(ibov.BASE_URL + "/GetPortfolioDay/")


def test_portfolio_url_encodes_params() -> None:
    url = ibov.portfolio_url("SMLL", language="en-us", segment=2, page_number=3)
    encoded = url.rsplit("/", 1)[1]
    assert json.loads(base64.b64decode(encoded)) == {
        "language": "en-us",
        "pageNumber": 3,
        "pageSize": 120,
        "index": "SMLL",
        "segment": "2",
    }


def test_fetch_with_injected_session(day_doc: dict[str, Any]) -> None:
    """Any requests.Session-like object works; the first page announces the page count."""
    pages = {
        ibov.portfolio_url("IBOV", language="en-us", segment=2, page_number=n + 1, page_size=50): p
        for n, p in enumerate(_pages(day_doc, 50))
    }

    class FakeSession(requests.Session):
        def get(self, url: str | bytes, **kwargs: Any) -> requests.Response:  # type: ignore[override]
            response = requests.Response()
            response.status_code = 200
            response._content = json.dumps(pages[str(url)]).encode()
            return response

    table = ibov.fetch_portfolio(
        "IBOV", language="en-us", segment=2, page_size=50, session=FakeSession()
    )
    assert table.num_rows == 87


@responses.activate
def test_fetch_errors_name_the_url(day_doc: dict[str, Any]) -> None:
    url = ibov.portfolio_url("IBOV")
    responses.get(url, body="<html><body>Bad gateway</body></html>", status=200)
    with pytest.raises(FetchError, match="HTML") as info:
        ibov.fetch_portfolio("IBOV")
    assert url in str(info.value)

    responses.replace(responses.GET, url, body="", status=200)
    with pytest.raises(FetchError, match="empty"):
        ibov.fetch_portfolio("IBOV")

    responses.replace(responses.GET, url, body="oops", status=503)
    calls, waits = len(responses.calls), list[float]()
    with pytest.raises(FetchError, match="gave up after 4 attempts: HTTP 503") as info:
        ibov.fetch_portfolio("IBOV", sleep=waits.append)
    assert url in str(info.value)
    assert len(responses.calls) - calls == 4 and waits == [2.0, 4.0, 8.0]  # the shared policy

    responses.replace(responses.GET, url, json={"page": {"totalPages": 0}, "results": None})
    with pytest.raises(FetchError, match="no results"):
        ibov.fetch_portfolio("IBOV")


@responses.activate
def test_fetch_network_error_and_short_pages(day_doc: dict[str, Any]) -> None:
    with pytest.raises(FetchError, match="request failed"):
        # Nothing registered: responses refuses the connection (transient: retried, then given up).
        ibov.fetch_portfolio("IBOV", sleep=lambda _: None)
    first = _pages(day_doc, 30)[0]
    first["page"]["totalPages"] = 1  # B3 announces 87 rows but serves one page
    responses.get(ibov.portfolio_url("IBOV", language="en-us", page_size=30), json=first)
    with pytest.raises(FetchError, match="announced 87"):
        ibov.fetch_portfolio("IBOV", language="en-us", page_size=30)


@responses.activate
def test_fetch_csv_decodes_base64(csv_table: pa.Table) -> None:
    url = ibov.download_url("IBOV")
    responses.get(url, body=base64.b64encode(CSV_FILE.read_bytes()))
    table = ibov.fetch_portfolio_csv("IBOV", ingested_at=INGESTED)
    assert table.drop_columns(["source_file"]).equals(csv_table.drop_columns(["source_file"]))
    assert table.column("source_file")[0].as_py() == url

    responses.replace(responses.GET, url, body="not base64 at all!")
    with pytest.raises(FetchError, match="not base64"):
        ibov.fetch_portfolio_csv("IBOV")
