"""The one HTTP helper every source uses: timeouts, retries with backoff, the session closed.

Transient failures (connection errors, timeouts, broken bodies, HTTP 408/425/429/5xx, and whatever a
source's ``check`` reports as :class:`Transient`, e.g. a truncated zip) are retried ``retries``
times, sleeping ``backoff_seconds * 2**(attempt - 1)``; anything else fails at once. Every failure is
a :class:`~b3lake.errors.FetchError` naming the URL. A session passed in belongs to the caller; one
the helper creates is closed when the :class:`Http` context ends (or after :func:`get_bytes`).

``requests`` is imported lazily (source declarations and the trigger Lambda stay light).
:func:`retrying` is the same policy for calls that are not plain GETs (the yfinance downloader).

Politeness: ``min_interval_seconds`` spaces the requests of one :class:`Http` (every attempt,
retries included) at least that far apart, so a loop over hundreds of issuers or years asks B3
at a steady, bounded rate (``clock`` and ``sleep`` are injectable: tests do not wait). An empty
2xx body is :class:`EmptyBody` (a FetchError): B3's listed-companies API answers an issuer it does
not know that way, and a caller may take it as "no data" rather than a failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from b3lake.errors import FetchError

if TYPE_CHECKING:
    import requests

T = TypeVar("T")

RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 2.0

#: ``check(url, body, response)`` raises FetchError (permanent) or Transient (retried) for a bad 2xx.
Check = Callable[[str, bytes, Any], None]


class Transient(FetchError):
    """A failure worth another attempt (raised by a ``check``, or built from a 5xx)."""


class EmptyBody(FetchError):
    """A 2xx answer with an empty body (permanent: not retried)."""


def retrying(
    call: Callable[[], T],
    *,
    source: str,
    retries: int = DEFAULT_RETRIES,
    backoff_seconds: float = DEFAULT_BACKOFF,
    sleep: Callable[[float], None] = time.sleep,
    transient: Callable[[Exception], bool] = lambda exc: isinstance(exc, Transient),
) -> T:
    """``call()`` until it succeeds, retrying exceptions ``transient`` accepts; then FetchError."""
    last: Exception | None = None
    for attempt in range(max(retries, 0) + 1):
        if attempt:
            sleep(backoff_seconds * 2 ** (attempt - 1))
        try:
            return call()
        except Exception as exc:
            if not transient(exc):
                raise
            last = exc
    assert last is not None
    message = last.message if isinstance(last, FetchError) else str(last)
    raise FetchError(
        f"gave up after {max(retries, 0) + 1} attempts: {message}", source=source
    ) from last


class Http:
    """GETs with one policy; ``with Http() as http:`` closes the session it created."""

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff_seconds: float = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
        min_interval_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        import requests

        self._own = session is None
        self.session = session if session is not None else requests.Session()
        self.timeout_seconds = timeout_seconds
        self.retries = retries
        self.backoff_seconds = backoff_seconds
        self.sleep = sleep
        self.min_interval_seconds = max(0.0, min_interval_seconds)
        self.clock = clock
        self._last: float | None = None
        self.requests = 0  # attempts made (every retry counts)

    def _wait_turn(self) -> None:
        """Sleep until ``min_interval_seconds`` have passed since the previous request began."""
        if self.min_interval_seconds and self._last is not None:
            wait = self._last + self.min_interval_seconds - self.clock()
            if wait > 0:
                self.sleep(wait)
        self._last = self.clock()
        self.requests += 1

    def close(self) -> None:
        if self._own:
            self.session.close()

    def __enter__(self) -> Http:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def get(
        self,
        url: str,
        *,
        check: Check | None = None,
        status_hints: Mapping[int, str] | None = None,
    ) -> bytes:
        """The body of a 2xx answer to ``GET url`` (an empty body is a FetchError)."""
        import requests

        broken = (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        )

        def once() -> bytes:
            self._wait_turn()
            try:
                response = self.session.get(url, timeout=self.timeout_seconds)
                body = response.content
            except broken as exc:
                raise Transient(f"request failed: {exc}", source=url) from exc
            except requests.RequestException as exc:
                raise FetchError(f"request failed: {exc}", source=url) from exc
            status = response.status_code
            if status in RETRY_STATUS:
                raise Transient(f"HTTP {status} {response.reason}", source=url, value=status)
            if status >= 400:
                hint = (status_hints or {}).get(status, "")
                raise FetchError(f"HTTP {status} {response.reason}{hint}", source=url, value=status)
            if not body.strip():
                raise EmptyBody("empty response body", source=url)
            if check is not None:
                check(url, body, response)
            return body

        return retrying(
            once,
            source=url,
            retries=self.retries,
            backoff_seconds=self.backoff_seconds,
            sleep=self.sleep,
        )


def get_bytes(
    url: str,
    *,
    session: requests.Session | None = None,
    check: Check | None = None,
    status_hints: Mapping[int, str] | None = None,
    timeout_seconds: float = DEFAULT_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    backoff_seconds: float = DEFAULT_BACKOFF,
    sleep: Callable[[float], None] = time.sleep,
) -> bytes:
    """One GET with the policy above (the session closed afterwards if the helper made it)."""
    with Http(
        session,
        timeout_seconds=timeout_seconds,
        retries=retries,
        backoff_seconds=backoff_seconds,
        sleep=sleep,
    ) as http:
        return http.get(url, check=check, status_hints=status_hints)
