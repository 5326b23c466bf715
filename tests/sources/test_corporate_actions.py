"""Corporate actions: B3's recorded bodies and cassettes parsed strictly, replayed over HTTP, landed raw."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import requests
import responses

from b3lake.errors import FetchError, ParseError, SourceError
from b3lake.sources import corporate_actions as ca
from b3lake.sources.corporate_actions import client

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "corporate_actions"
CASH_JSON = FIXTURES / "GetListedCashDividends_ABEV.json"
CASH_YML = FIXTURES / "GetListedCashDividends_ABEV.yml"
SUPP_JSON = FIXTURES / "GetListedSupplementCompany_ABEV.json"
SUPP_YML = FIXTURES / "GetListedSupplementCompany_ABEV.yml"
KRSA_JSON = FIXTURES / "GetListedSupplementCompany_KRSA_extracted.json"
PETR_YML = FIXTURES / "GetListedCashDividends_PETROBRAS_trimmed.yml"
INGESTED = dt.datetime(2022, 12, 8, 8, 36, tzinfo=dt.UTC)


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    return table.drop_columns(["source_file", "ingested_at"]).to_pylist()


def _cash_doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(CASH_JSON.read_text(encoding="utf-8"))
    return doc


def test_cash_dividends_body_of_abev() -> None:
    table = ca.parse_file(
        CASH_JSON.read_bytes(), source_name=CASH_JSON.name, issuer="ABEV", ingested_at=INGESTED
    )
    assert table.schema == ca.SCHEMA
    assert table.num_rows == 29
    assert set(table["ticker"].to_pylist()) == {"ABEV3"}
    assert set(table["endpoint"].to_pylist()) == {ca.CASH_DIVIDENDS}
    row = next(r for r in table.to_pylist() if r["last_date_prior"] == dt.date(2021, 1, 13))
    assert row["label"] == "DIVIDENDO"
    assert row["value_cash"] == 0.0767
    assert row["closing_price_prior_ex_date"] == 16.17
    assert row["corporate_action_price"] == 0.474335
    assert row["date_closing_price_prior_ex_date"] == dt.date(2021, 1, 13)
    assert row["approved_on"] == dt.date(2020, 12, 21)
    assert row["type_stock"] == "ON"
    assert row["line_number"] == 3
    assert min(table["last_date_prior"].to_pylist()) == dt.date(2014, 1, 14)
    assert set(table["label"].to_pylist()) <= {"DIVIDENDO", "JRS CAP PROPRIO"}


def test_cassette_gives_the_same_rows_as_the_body() -> None:
    body = ca.parse_file(CASH_JSON.read_bytes(), source_name="b", issuer="ABEV")
    cassette = ca.parse_file(CASH_YML.read_bytes(), source_name="c", issuer="ABEV")
    # The cassette's request names the trading name it asked by.
    assert set(cassette["trading_name"].to_pylist()) == {"AMBEVSA"}
    assert _rows(body.drop_columns(["trading_name"])) == _rows(
        cassette.drop_columns(["trading_name"])
    )
    supp_body = ca.parse_file(SUPP_JSON.read_bytes(), source_name="b")
    supp_cassette = ca.parse_file(SUPP_YML.read_bytes(), source_name="c")
    assert _rows(supp_body) == _rows(supp_cassette)


def test_supplement_company_of_abev() -> None:
    table = ca.parse_file(SUPP_JSON.read_bytes(), source_name=SUPP_JSON.name, issuer="abev")
    rows = table.to_pylist()
    assert [(r["section"], r["label"]) for r in rows] == [
        ("cashDividends", "DIVIDENDO"),
        ("cashDividends", "JRS CAP PROPRIO"),
        ("subscriptions", "SUBSCRICAO"),
    ]
    assert {r["ticker"] for r in rows} == {"ABEV3"}  # through the ISIN BRABEVACNOR1
    assert rows[0]["value_cash"] == 0.1334 and rows[0]["payment_date"] == dt.date(2021, 12, 30)
    assert rows[2]["subscription_percentage"] == 0.139940902
    assert rows[2]["subscription_price"] == 16.09
    assert rows[2]["trading_period"] == "30/04/2014 a 22/05/2014"
    assert rows[0]["trading_name"] == "AMBEV S/A"


def test_krsa_reverse_split() -> None:
    table = ca.parse_file(KRSA_JSON.read_bytes(), source_name=KRSA_JSON.name)
    (row,) = table.to_pylist()
    assert (row["ticker"], row["label"], row["factor"]) == ("KRSA3", "GRUPAMENTO", 0.1)
    assert row["last_date_prior"] == dt.date(2024, 10, 10)
    assert row["section"] == "stockDividends"


def test_trimmed_cassette_is_rejected_rows_are_missing() -> None:
    with pytest.raises(FetchError, match=r"hold 2 results, the API announced 233") as info:
        ca.parse_file(PETR_YML.read_bytes(), source_name=PETR_YML.name, issuer="PETR")
    assert info.value.source == PETR_YML.name


@pytest.mark.parametrize(
    ("issuer", "type_stock", "isin", "ticker"),
    [
        ("ABEV", "ON", None, "ABEV3"),
        ("PETR", "PN", None, "PETR4"),
        ("USIM", "PNA", None, "USIM5"),
        ("ELET", "PNB", None, "ELET6"),
        ("SANB", "UNT", None, "SANB11"),
        ("ABEV", "XX", None, None),
        ("ABEV", None, "BRABEVACNOR1", "ABEV3"),
        ("PETR", None, "BRPETRACNPR6", "PETR4"),
        ("SANB", None, "BRSANBCDAM13", "SANB11"),
        ("ABEV", None, "BRABEVDBS000", None),
    ],
)
def test_ticker_mapping(
    issuer: str, type_stock: str | None, isin: str | None, ticker: str | None
) -> None:
    assert ca.ticker_for(issuer, type_stock, isin) == ticker


# ----------------------------------------------------------------------------- malformed bodies


def test_html_and_empty_bodies() -> None:
    with pytest.raises(FetchError, match="HTML page") as info:
        ca.parse_file(b"<!DOCTYPE html><html>blocked</html>", source_name="x.json", issuer="ABEV")
    assert info.value.source == "x.json"
    with pytest.raises(FetchError, match="empty"):
        ca.parse_file(b"  \n", source_name="x.json", issuer="ABEV")
    with pytest.raises(FetchError, match="no company"):
        ca.parse_file(b"[]", source_name="x.json")
    with pytest.raises(ParseError, match="neither"):
        ca.parse_file(b'{"foo": 1}', source_name="x.json")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("valueCash", "", "missing value"),
        ("valueCash", "0.0767", "not a valid pt-br number"),
        ("corporateAction", None, "missing value"),
        ("lastDatePriorEx", "2021-01-13", "not a dd/mm/yyyy date"),
        ("lastDatePriorEx", "31/02/2021", "impossible date"),
        ("lastDateTimePriorEx", "2021-01-14T00:00:00", "disagrees with lastDatePriorEx"),
        ("typeStock", "", "missing value"),
    ],
)
def test_malformed_cash_row_names_file_row_and_field(field: str, value: Any, message: str) -> None:
    doc = _cash_doc()
    bad = copy.deepcopy(doc)
    if value is None:
        del bad["results"][2][field]
    else:
        bad["results"][2][field] = value
    with pytest.raises(ParseError, match=message) as info:
        ca.parse_file(json.dumps(bad).encode(), source_name="cash.json", issuer="ABEV")
    assert (info.value.source, info.value.line, info.value.field) == ("cash.json", 3, field)


def test_malformed_supplement_rows() -> None:
    doc = json.loads(KRSA_JSON.read_text())
    bad = copy.deepcopy(doc)
    del bad[0]["stockDividends"][0]["factor"]
    with pytest.raises(ParseError, match="missing value") as info:
        ca.parse_file(json.dumps(bad), source_name="krsa.json")
    assert "stockDividends" in str(info.value.source) and info.value.field == "factor"
    bad = copy.deepcopy(doc)
    del bad[0]["subscriptions"]
    with pytest.raises(ParseError, match="missing section"):
        ca.parse_file(json.dumps(bad), source_name="krsa.json")
    with pytest.raises(ParseError, match="not ABEV"):
        ca.parse_file(json.dumps(doc), source_name="krsa.json", issuer="ABEV")


def test_cash_body_needs_its_issuer() -> None:
    with pytest.raises(ParseError, match="does not name its issuer") as info:
        ca.parse_file(CASH_JSON.read_bytes(), source_name=CASH_JSON.name)
    assert info.value.field == "issuer"


def test_cassette_with_an_error_response() -> None:
    text = SUPP_YML.read_text().replace("status_code: 200", "status_code: 500", 1)
    with pytest.raises(FetchError, match="HTTP 500"):
        ca.parse_file(text, source_name="s.yml")
    with pytest.raises(ParseError, match="http_interactions"):
        ca.parse_file("foo: bar\n", source_name="s.yml")


def test_unknown_labels_are_kept_for_the_refine_to_quarantine() -> None:
    doc = _cash_doc()
    doc["results"][0]["corporateAction"] = "AMORTIZACAO NOVA"
    table = ca.parse_file(json.dumps(doc), source_name="c.json", issuer="ABEV")
    assert table["label"][0].as_py() == "AMORTIZACAO NOVA"


# ----------------------------------------------------------------------------------- HTTP client


def _register_abev(page_size: int) -> None:
    responses.get(client.supplement_url("ABEV"), body=SUPP_JSON.read_bytes())
    results = _cash_doc()["results"]
    pages = [results[i : i + page_size] for i in range(0, len(results), page_size)]
    for n, chunk in enumerate(pages, start=1):
        page = {
            "pageNumber": n,
            "pageSize": page_size,
            "totalRecords": len(results),
            "totalPages": len(pages),
        }
        responses.get(
            client.cash_dividends_url("AMBEVSA", page_number=n, page_size=page_size),
            json={"page": page, "results": chunk},
        )


@responses.activate
def test_fetch_issuer_follows_every_page() -> None:
    _register_abev(page_size=10)
    table = client.fetch_issuer("ABEV", page_size=10, ingested_at=INGESTED)
    cash = table.filter(pa.compute.equal(table["endpoint"], ca.CASH_DIVIDENDS))
    assert cash.num_rows == 29
    assert table.num_rows == 32
    local = ca.parse_file(CASH_JSON.read_bytes(), source_name="x", issuer="ABEV")
    assert _rows(cash.drop_columns(["trading_name"])) == _rows(local.drop_columns(["trading_name"]))
    assert len(responses.calls) == 4  # the company, then three pages


@responses.activate
def test_fetch_retries_transient_failures() -> None:
    url = client.supplement_url("KRSA")
    responses.get(url, status=503)
    responses.get(url, body=requests.ConnectionError("reset"))
    responses.get(url, body=KRSA_JSON.read_bytes())
    waits: list[float] = []
    body = client.get_body(requests.Session(), url, sleep=waits.append, backoff=0.5)
    assert json.loads(body)[0]["code"] == "KRSA"
    assert waits == [0.5, 1.0]


@responses.activate
def test_fetch_gives_up_and_names_the_url() -> None:
    url = client.supplement_url("KRSA")
    for _ in range(3):
        responses.get(url, status=502)
    with pytest.raises(FetchError, match="gave up after 3 attempts") as info:
        client.get_body(requests.Session(), url, retries=2, sleep=lambda _: None)
    assert info.value.source == url
    responses.get(client.supplement_url("ABEV"), status=404)
    with pytest.raises(FetchError, match="HTTP 404"):
        client.fetch_issuer("ABEV", sleep=lambda _: None)


@responses.activate
def test_fetch_rejects_an_html_page() -> None:
    responses.get(client.supplement_url("ABEV"), body="<html>maintenance</html>")
    with pytest.raises(FetchError, match="HTML"):
        client.fetch_issuer("ABEV", sleep=lambda _: None)


# ------------------------------------------------------------------------------------ raw layer


def test_extract_lands_one_object_per_issuer_endpoint_and_date(tmp_path: Path) -> None:
    from b3lake.pipeline import Pipeline
    from b3lake.settings import Settings

    pipeline = Pipeline(Settings(lake=str(tmp_path / "lake")))
    report = pipeline.extract("corporate_actions", issuer=["ABEV"], files=[CASH_YML, SUPP_JSON])
    assert report.rows_read == 32
    keys = sorted(w.key for w in report.writes)
    assert "raw/corporate_actions/dt=2021-01-13/ABEV_GetListedCashDividends.parquet" in keys
    assert "raw/corporate_actions/dt=2021-12-17/ABEV_GetListedSupplementCompany.parquet" in keys
    assert all(w.written for w in report.writes)
    again = pipeline.extract("corporate_actions", issuer=["ABEV"], files=[CASH_YML, SUPP_JSON])
    assert again.objects_written == 0 and again.objects_unchanged == len(report.writes)
    with pytest.raises(SourceError, match="--issuer"):
        pipeline.extract("corporate_actions")
