"""Index levels: B3's index statistics grid parsed strictly, checked against the calendar,
replayed over HTTP and landed one object per index and session."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import responses
import yaml

from b3lake.errors import ConfigError, FetchError, ParseError, SourceError
from b3lake.sources.base import findings_of
from b3lake.sources.index_levels import client, years_of
from b3lake.sources.index_levels.parse import parse_file, parse_response

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "index_levels"
CASSETTE = FIXTURES / "GetPortfolioDay_IndexStatistics_IBOV_2022.yml"
STAMP = dt.datetime(2025, 4, 7, 8, 14, tzinfo=dt.UTC)


def recorded_body() -> dict[str, Any]:
    """The body B3 answered in the cassette (en-us numbers)."""
    doc = yaml.safe_load(CASSETTE.read_text(encoding="utf-8"))
    body: dict[str, Any] = json.loads(doc["http_interactions"][0]["response"]["body"]["string"])
    return body


def recorded_closes() -> dict[dt.date, Decimal]:
    """Every non-empty cell of the recorded grid, read independently of the parser."""
    out = {}
    for row in recorded_body()["results"]:
        for month in range(1, 13):
            text = row[f"rateValue{month}"]
            if text is not None:
                out[dt.date(2022, month, row["day"])] = Decimal(text.replace(",", ""))
    return out


def as_pt_br(doc: Any) -> Any:
    """The same answer in pt-br number format (1,234.56 -> 1.234,56), as B3 serves pt-br."""
    if isinstance(doc, dict):
        return {k: as_pt_br(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [as_pt_br(v) for v in doc]
    if isinstance(doc, str):
        return doc.replace(",", "_").replace(".", ",").replace("_", ".")
    return doc


def test_the_cassette_reproduces_every_recorded_close_exactly() -> None:
    table = parse_file(CASSETTE.read_bytes(), source_name=CASSETTE.name, ingested_at=STAMP)
    closes = recorded_closes()
    assert table.num_rows == len(closes) == 250
    rows = table.to_pylist()
    assert [r["date"] for r in rows] == sorted(closes)
    assert all(r["close"] == float(closes[r["date"]]) for r in rows)
    assert all(Decimal(r["close_text"].replace(",", "")) == closes[r["date"]] for r in rows)
    first, last = rows[0], rows[-1]
    assert (first["date"], first["close"], first["cell"], first["line_number"]) == (
        dt.date(2022, 1, 3),
        103921.59,
        "rateValue1",
        3,
    )
    assert (last["date"], last["close_text"]) == (dt.date(2022, 12, 29), "109,734.60")
    assert {r["index"] for r in rows} == {"IBOV"} and {r["language"] for r in rows} == {"en-us"}
    assert first["source_file"] == f"{CASSETTE.name}#1"
    assert findings_of(table) == []  # every 2022 session has a value, none is off-calendar


def test_pt_br_numbers_give_the_same_closes() -> None:
    en = parse_response(recorded_body(), source_name="en", index="IBOV", year=2022)
    pt = parse_response(as_pt_br(recorded_body()), source_name="pt", index="IBOV", year=2022)
    assert pt["close"].to_pylist() == en["close"].to_pylist()
    assert set(pt["language"].to_pylist()) == {"pt-br"}
    assert pt["close_text"][0].as_py() == "103.921,59"


def test_values_off_the_calendar_and_empty_sessions_are_findings_and_rows() -> None:
    body = recorded_body()
    body["results"][0]["rateValue1"] = "100,000.00"  # Saturday 2022-01-01 (New Year)
    body["results"][9]["rateValue1"] = None  # Monday 2022-01-10, a session
    body["min"]["rateValue1"] = "100,000.00"
    table = parse_response(body, source_name="derived", index="IBOV", year=2022)
    rows = {r["date"]: r for r in table.to_pylist()}
    assert rows[dt.date(2022, 1, 1)]["close"] == 100000.0
    gap = rows[dt.date(2022, 1, 10)]
    assert gap["close"] is None and gap["close_text"] is None and gap["line_number"] == 10
    messages = [str(f) for f in findings_of(table)]
    assert len(messages) == 2
    assert "derived:1 [rateValue1]" in messages[0] and "not a B3 session" in messages[0]
    assert "derived:10 [rateValue1]" in messages[1] and "missing_session" in messages[1]


def test_sessions_after_the_last_value_are_not_missing() -> None:
    """A year still being published: its empty cells after the last value are the future."""
    body = recorded_body()
    for row in body["results"]:
        for month in range(7, 13):
            row[f"rateValue{month}"] = None
    for block in ("min", "max"):
        for month in range(7, 13):
            body[block][f"rateValue{month}"] = None
    table = parse_response(body, source_name="h1", index="IBOV", year=2022)
    assert table.num_rows == 124 and findings_of(table) == []
    assert max(table["date"].to_pylist()) == dt.date(2022, 6, 30)


def _broken(path: list[Any], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(recorded_body())
    target: Any = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


@pytest.mark.parametrize(
    ("path", "value", "where", "message"),
    [
        (["results", 2, "rateValue1"], "103,92.159", "x:3 [rateValue1]", "not a valid en-us"),
        (["results", 2, "rateValue1"], "-1.00", "x:3 [rateValue1]", "positive"),
        (["results", 2, "rateValue1"], 103921.59, "x:3 [rateValue1]", "must be text"),
        (["results", 29, "rateValue2"], "1.00", "x:30 [rateValue2]", "does not exist"),
        (["results", 4, "day"], 4, "x:5 [day]", "repeats row 4"),
        (["results", 4, "day"], 32, "x:5 [day]", "1..31"),
        (["min", "rateValue3"], "1.00", "x [min.rateValue3]", "min of the month"),
        (["max", "rateValue12"], None, "x [max.rateValue12]", "empty, but the month"),
    ],
)
def test_malformed_cells_name_file_row_and_field(
    path: list[Any], value: Any, where: str, message: str
) -> None:
    with pytest.raises(ParseError, match=message) as info:
        parse_response(_broken(path, value), source_name="x", index="IBOV", year=2022)
    assert str(info.value).startswith(where)


def test_a_missing_cell_a_null_series_and_other_bodies() -> None:
    body = recorded_body()
    del body["results"][6]["rateValue8"]
    with pytest.raises(ParseError, match="missing cell") as info:
        parse_response(body, source_name="x", index="IBOV", year=2022)
    assert (info.value.line, info.value.field) == (7, "rateValue8")
    with pytest.raises(FetchError, match="no IFNM series for 2022"):
        parse_response({"results": None}, source_name="x", index="IFNM", year=2022)
    with pytest.raises(FetchError, match="HTML"):
        parse_response(b"<html>busy</html>", source_name="x", index="IBOV", year=2022)
    with pytest.raises(FetchError, match="empty"):
        parse_response(b"", source_name="x", index="IBOV", year=2022)
    with pytest.raises(ParseError, match="not a GetPortfolioDay"):
        parse_response({"page": {}}, source_name="x", index="IBOV", year=2022)
    with pytest.raises(SourceError, match="give --index and --year"):
        parse_file(json.dumps(recorded_body()), source_name="body.json")
    with pytest.raises(ParseError, match="asked for year 2022, not 2021"):
        parse_file(CASSETTE.read_bytes(), source_name="c.yml", year=2021)


def test_years_of_reads_lists_and_ranges() -> None:
    assert years_of(["2021", "2005-2007", 2006]) == [2005, 2006, 2007, 2021]
    with pytest.raises(ConfigError, match="range of years"):
        years_of(["2007-2005"])


# ------------------------------------------------------------------------------------ HTTP client


@responses.activate
def test_fetch_replays_the_recorded_answer_politely() -> None:
    body = CASSETTE.read_text(encoding="utf-8")
    recorded = yaml.safe_load(body)["http_interactions"][0]
    url = client.levels_url("IBOV", 2022, language="en-us")
    assert url == recorded["request"]["uri"]  # the URL B3 was asked, byte for byte
    responses.get(url, status=503)
    responses.get(url, body=recorded["response"]["body"]["string"])
    responses.get(client.levels_url("IFNM", 2022, language="en-us"), json={"results": None})
    waits: list[float] = []
    table, missing = client.fetch_levels(
        ["IBOV", "IFNM"],
        [2022],
        language="en-us",
        sleep=waits.append,
        backoff_seconds=0.5,
        min_interval_seconds=0.0,
    )
    assert table.num_rows == 250 and missing == ["IFNM 2022"]
    assert waits == [0.5] and len(responses.calls) == 3
    assert table["source_file"][0].as_py() == url


# ------------------------------------------------------------------------------------- raw layer


def test_extract_lands_one_object_per_index_and_session(tmp_path: Path) -> None:
    from b3lake.pipeline import Pipeline
    from b3lake.settings import Settings

    pipeline = Pipeline(Settings(lake=str(tmp_path / "lake")))
    report = pipeline.extract("index_levels", files=[CASSETTE])
    assert report.rows_read == 250 and len(report.sessions) == 250
    keys = [w.key for w in report.writes]
    assert keys[0] == "raw/index_levels/dt=2022-01-03/IBOV.parquet"
    again = pipeline.extract("index_levels", files=[CASSETTE])
    assert again.objects_written == 0 and again.objects_unchanged == 250


def test_the_schedule_asks_the_sessions_year_for_each_index() -> None:
    from b3lake.settings import Settings
    from b3lake.sources import registry

    source = registry.get("index_levels")
    settings = Settings(index_levels=["IBOV", "SMLL"])
    assert source.scheduled(dt.date(2024, 5, 2), settings) == [
        ("index_levels:IBOV", {"index": ["IBOV"], "year": ["2024"]}),
        ("index_levels:SMLL", {"index": ["SMLL"], "year": ["2024"]}),
    ]
