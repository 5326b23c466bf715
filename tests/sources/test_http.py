"""The one HTTP policy of every source: retries with backoff, timeouts, the session closed."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import responses

from b3lake.errors import FetchError
from b3lake.sources import http
from b3lake.sources.ibov import fetch_portfolio, portfolio_url

URL = "https://example.b3/file"


@responses.activate
def test_transient_errors_are_retried_with_backoff() -> None:
    responses.get(URL, status=503)
    responses.get(URL, body=requests.ConnectionError("reset"))
    responses.get(URL, body=b"ok")
    waits: list[float] = []
    assert http.get_bytes(URL, sleep=waits.append, backoff_seconds=0.5) == b"ok"
    assert waits == [0.5, 1.0]


@responses.activate
def test_permanent_errors_fail_at_once_naming_the_url() -> None:
    responses.get(URL, status=404)
    with pytest.raises(FetchError, match="HTTP 404 Not Found: gone") as info:
        http.get_bytes(URL, status_hints={404: ": gone"}, sleep=lambda _: None)
    assert info.value.source == URL and len(responses.calls) == 1


@responses.activate
def test_a_check_can_ask_for_another_attempt() -> None:
    responses.get(URL, body=b"partial")
    responses.get(URL, body=b"complete")

    def check(url: str, body: bytes, response: Any) -> None:
        if body == b"partial":
            raise http.Transient("truncated", source=url)

    assert http.get_bytes(URL, check=check, sleep=lambda _: None) == b"complete"


def test_the_timeout_reaches_the_session() -> None:
    seen: list[float] = []

    class Session(requests.Session):
        def get(self, url: str | bytes, **kwargs: Any) -> requests.Response:  # type: ignore[override]
            seen.append(kwargs["timeout"])
            response = requests.Response()
            response.status_code, response._content = 200, b"x"
            return response

    assert http.get_bytes(URL, session=Session(), timeout_seconds=7.5) == b"x"
    assert seen == [7.5]


class _Recording(requests.Session):
    instances: list[_Recording] = []

    def __init__(self) -> None:
        super().__init__()
        self.closed = False
        _Recording.instances.append(self)

    def close(self) -> None:
        self.closed = True
        super().close()


@responses.activate
def test_the_helper_closes_the_session_it_made_not_the_callers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    responses.get(URL, body=b"x")
    monkeypatch.setattr(requests, "Session", _Recording)
    _Recording.instances.clear()
    http.get_bytes(URL)
    assert [s.closed for s in _Recording.instances] == [True]
    mine = _Recording()
    http.get_bytes(URL, session=mine)
    assert mine.closed is False


@responses.activate
def test_the_ibov_client_uses_one_session_for_every_page_and_closes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = portfolio_url("IBOV", language="en-us", page_size=2)
    page = {
        "page": {"pageNumber": 1, "pageSize": 2, "totalRecords": 1, "totalPages": 1},
        "header": {"date": "04/07/25", "text": "Total Theoretical Quantity"},
        "results": [{"cod": "PETR4", "theoricalQty": "1,000", "part": "100.000"}],
    }
    responses.get(url, json=page)
    monkeypatch.setattr(requests, "Session", _Recording)
    _Recording.instances.clear()
    table = fetch_portfolio("IBOV", language="en-us", page_size=2, segment=1)
    assert table.num_rows == 1
    assert [s.closed for s in _Recording.instances] == [True]


@responses.activate
def test_requests_are_spaced_by_the_minimum_interval() -> None:
    """Politeness: every attempt (retries too) starts at least ``min_interval_seconds`` after
    the previous one; a slow answer counts towards the interval."""
    for _ in range(3):
        responses.get(URL, body=b"ok")
    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(round(seconds, 6))
        now[0] += seconds

    with http.Http(min_interval_seconds=1.0, sleep=sleep, clock=lambda: now[0]) as client:
        client.get(URL)
        now[0] += 0.25  # the answer took a quarter of a second
        client.get(URL)
        now[0] += 2.0  # the caller was busy for longer than the interval
        client.get(URL)
    assert waits == [0.75] and client.requests == 3


@responses.activate
def test_an_empty_body_is_its_own_error() -> None:
    responses.get(URL, body=b"  ")
    with pytest.raises(http.EmptyBody, match="empty response body") as info:
        http.get_bytes(URL, sleep=lambda _: None)
    assert isinstance(info.value, FetchError) and len(responses.calls) == 1
