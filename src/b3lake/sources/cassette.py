"""Recorded HTTP answers: vcr cassettes (R ``vcr``, Ruby ``VCR``) and B3's base64 JSON URLs.

Peers record B3's JSON endpoints as vcr cassettes (ropensci/rb3's ``tests/fixtures/*.yml``); the
sources that parse them (corporate actions, index levels) read them through :func:`interactions`,
strictly: a file that is not YAML, has no interactions, an interaction without a URI or a body,
or a recorded answer that is not an HTTP 200 is an error naming the file and the interaction
(``file#3``). Nothing is tolerated: a cassette is test evidence, and a partial one would land a
partial history.

B3's ``sistemaswebb3-listados`` proxies take their parameters as the base64 of a compact JSON
object in the last path segment (``…/IndexCall/GetPortfolioDay/eyJsYW5n…``):
``b3lake.sources.ibov.client.encode_params`` builds it, :func:`b3_params` reads a recorded URI
back.

``yaml`` is imported lazily (only a cassette needs it).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from b3lake.errors import FetchError, ParseError


@dataclass(frozen=True)
class Interaction:
    """One recorded request and its 200 answer."""

    uri: str
    body: str
    where: str  # ``file#n``: the file and the interaction's 1-based position


def is_cassette(text: str) -> bool:
    """True when ``text`` looks like a vcr cassette (YAML with ``http_interactions``)."""
    return text.lstrip().startswith("http_interactions")


def interactions(text: str, *, source: str) -> list[Interaction]:
    """The interactions of a cassette, each a 200 answer (errors name ``file#n``)."""
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ParseError(f"cassette is not YAML: {exc}", source=source) from None
    items = doc.get("http_interactions") if isinstance(doc, Mapping) else None
    if not isinstance(items, list) or not items:
        raise ParseError(
            "cassette has no http_interactions", source=source, field="http_interactions"
        )
    out = []
    for i, item in enumerate(items, start=1):
        where = f"{source}#{i}"
        try:
            uri = item["request"]["uri"]
            response = item["response"]
            status = response["status"]
            body = response["body"]["string"]
        except (KeyError, TypeError):
            raise ParseError(
                "interaction lacks request.uri or response.body.string", source=where
            ) from None
        code = (
            status.get("status_code", status.get("code")) if isinstance(status, Mapping) else status
        )
        if str(code) != "200":
            raise FetchError(f"recorded response is HTTP {code}", source=where, field="status")
        out.append(Interaction(str(uri), "" if body is None else str(body), where))
    return out


def b3_params(uri: str, *, source: str) -> tuple[str, dict[str, Any]]:
    """``(method, params)`` of a B3 proxy URI (``…/<Method>/<base64 JSON>``)."""
    parts = uri.split("?")[0].rstrip("/").split("/")
    if len(parts) < 2:
        raise ParseError("not a B3 proxy URI", source=source, field="uri", value=uri)
    try:
        params = json.loads(base64.b64decode(parts[-1], validate=True).decode("utf-8"))
    except (binascii.Error, ValueError):
        raise ParseError(
            "request parameters are not base64 JSON", source=source, field="uri", value=parts[-1]
        ) from None
    if not isinstance(params, dict):
        raise ParseError(
            "request parameters are not an object", source=source, field="uri", value=params
        )
    return parts[-2], params
