"""Strict parsers of B3's corporate-action bodies (and of vcr cassettes that recorded them).

Two endpoints of ``sistemaswebb3-listados.b3.com.br/listedCompaniesProxy/CompanyCall``:

* ``GetListedCashDividends`` – a paged object ``{"page": {...}, "results": [...]}``; each result is
  one cash event of one share class (``typeStock``) with B3's closing price before the ex-date and
  its own adjustment percentage (``corporateActionPrice``). The body does not name the issuer (the
  request asked by ``tradingName``), so the issuer code comes from the caller.
* ``GetListedSupplementCompany`` – a one-element list: the company (``code``, ``tradingName``…)
  with ``cashDividends``, ``stockDividends`` and ``subscriptions``, each row naming its ISIN.

Both become rows of one raw schema (:data:`SCHEMA`): B3's fields in snake case, typed (pt-BR
numbers, ``dd/mm/yyyy`` dates), plus ``endpoint``/``section`` (where the row came from), the
ticker and lineage. Decisions:

* **Strict.** An HTML page, an empty body, a body of neither shape, a cassette whose response is
  not a 200, a missing required field (label, last date prior, the cash value, the factor, the
  subscription percentage), a malformed number or date, pages that hold fewer rows than the API
  announced (``totalRecords``): each raises :class:`ParseError`/:class:`FetchError` naming the file
  (and the row's position and field). Nothing of such a body is landed.
* **Labels are kept verbatim.** The raw layer is B3's record; an unknown label (B3 adds some, e.g.
  ``REST CAP DIN``) is landed as is and quarantined by the refine with its reason, so a new label
  never blocks an issuer's whole history and is never silently dropped either.
* **Ticker.** ``typeStock`` maps to the class digit (ON → 3, PN → 4, PNA → 5, PNB → 6, PNC → 7,
  PND → 8, UNT → 11) after the issuer code; a row with an ISIN (``BRABEVACNOR1``) maps through it
  (issuer ``ABEV``, ``ACNOR`` → 3, ``ACNPR`` → 4 …, ``CDAM`` → 11). An unmappable class leaves the
  ticker null: the refine quarantines the row ("no ticker").
* ``line_number`` is the row's 1-based position in its list (``results`` of the merged pages, or
  the company's section).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from b3lake.errors import FetchError, ParseError
from b3lake.sources.numbers import PT_BR, parse_decimal

SOURCE = "corporate_actions"
CASH_DIVIDENDS = "GetListedCashDividends"
SUPPLEMENT = "GetListedSupplementCompany"
ENDPOINTS = (CASH_DIVIDENDS, SUPPLEMENT)

#: B3's share classes and the digit that follows the issuer code in the ticker.
TYPE_STOCK_SUFFIX = {
    "ON": "3",
    "PN": "4",
    "PNA": "5",
    "PNB": "6",
    "PNC": "7",
    "PND": "8",
    "UNT": "11",
}
#: ISIN characters 7-11 (after ``BR`` and the issuer) and the ticker digit they mean.
ISIN_CLASS_SUFFIX = {
    "ACNOR": "3",
    "ACNPR": "4",
    "ACNPA": "5",
    "ACNPB": "6",
    "ACNPC": "7",
    "ACNPD": "8",
}

SCHEMA = pa.schema(
    [
        pa.field("issuer", pa.string(), nullable=False),
        pa.field("endpoint", pa.string(), nullable=False),
        pa.field("section", pa.string(), nullable=False),
        pa.field("label", pa.string(), nullable=False),
        pa.field("ticker", pa.string()),
        pa.field("type_stock", pa.string()),
        pa.field("isin", pa.string()),
        pa.field("asset_issued", pa.string()),
        pa.field("last_date_prior", pa.date32(), nullable=False),
        pa.field("approved_on", pa.date32()),
        pa.field("payment_date", pa.date32()),
        pa.field("value_cash", pa.float64()),
        pa.field("factor", pa.float64()),
        pa.field("ratio", pa.float64()),
        pa.field("quoted_per_shares", pa.float64()),
        pa.field("closing_price_prior_ex_date", pa.float64()),
        pa.field("date_closing_price_prior_ex_date", pa.date32()),
        pa.field("corporate_action_price", pa.float64()),
        pa.field("subscription_percentage", pa.float64()),
        pa.field("subscription_price", pa.float64()),
        pa.field("subscription_date", pa.date32()),
        pa.field("trading_period", pa.string()),
        pa.field("related_to", pa.string()),
        pa.field("remarks", pa.string()),
        pa.field("trading_name", pa.string()),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("line_number", pa.int64(), nullable=False),
        pa.field("ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)

_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
_ISSUER = re.compile(r"^[A-Z0-9]{4}$")
_ISIN = re.compile(r"^[A-Z]{2}[A-Z0-9]{9}[0-9]$")


class NoCompany(FetchError):
    """B3 knows no company for the issuer code asked (an empty list, or an empty body)."""


@dataclass(frozen=True)
class Body:
    """One endpoint's decoded JSON (all pages merged), where it came from and what it names."""

    endpoint: str
    doc: Any
    source: str
    params: Mapping[str, Any]


# ------------------------------------------------------------------------------ small parsers


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _date(value: Any, *, source: str, line: int | None, field: str) -> dt.date | None:
    text = _text(value)
    if text is None:
        return None
    match = _DATE.match(text)
    if match is None:
        raise ParseError(
            "not a dd/mm/yyyy date", source=source, line=line, field=field, value=value
        )
    day, month, year = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ParseError(
            "impossible date", source=source, line=line, field=field, value=value
        ) from None


def _number(value: Any, *, source: str, line: int | None, field: str) -> float | None:
    text = _text(value)
    if text is None:
        return None
    return parse_decimal(text, language=PT_BR, source=source, line=line, field=field)


def _required(value: Any, *, source: str, line: int, field: str) -> Any:
    if _text(value) is None:
        raise ParseError("missing value", source=source, line=line, field=field)
    return value


@dataclass(frozen=True)
class _Fields:
    """Typed reads of one row's fields, errors naming its source, position and field."""

    item: Mapping[str, Any]
    source: str
    line: int

    def _value(self, field: str, required: bool) -> Any:
        value = self.item.get(field)
        if required:
            value = _required(value, source=self.source, line=self.line, field=field)
        return value

    def date(self, field: str, *, required: bool = False) -> dt.date | None:
        value = self._value(field, required)
        return _date(value, source=self.source, line=self.line, field=field)

    def num(self, field: str, *, required: bool = False) -> float | None:
        value = self._value(field, required)
        return _number(value, source=self.source, line=self.line, field=field)


def ticker_for(
    issuer: str | None, type_stock: str | None = None, isin: str | None = None
) -> str | None:
    """The B3 ticker of a share class: through the ISIN when given, else issuer + ``typeStock``."""
    if isin:
        if not _ISIN.match(isin):
            return None
        code = isin[2:6]
        suffix = ISIN_CLASS_SUFFIX.get(isin[6:11])
        if suffix is None and isin[6:10] == "CDAM":
            suffix = "11"
        return code + suffix if suffix else None
    if issuer and type_stock:
        suffix = TYPE_STOCK_SUFFIX.get(type_stock.strip().upper())
        return issuer + suffix if suffix else None
    return None


def normalize_issuer(issuer: str | None, *, source: str | None = None) -> str | None:
    """``abev`` → ``ABEV``; anything but four letters/digits is a ParseError."""
    if issuer is None:
        return None
    code = issuer.strip().upper()
    if not _ISSUER.match(code):
        raise ParseError(
            "an issuer code has four letters (ABEV)", source=source, field="issuer", value=issuer
        )
    return code


def trading_name_param(trading_name: str) -> str:
    """The ``tradingName`` GetListedCashDividends expects: ``AMBEV S/A`` → ``AMBEVSA``."""
    return re.sub(r"[^A-Z0-9]", "", trading_name.upper())


# --------------------------------------------------------------------------- bodies, cassettes


def _decode(data: bytes | str, *, source: str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ParseError("body is not UTF-8", source=source) from None


def _json(text: str, *, source: str) -> Any:
    body = text.strip()
    if not body:
        raise FetchError("empty body, expected JSON", source=source)
    if body.startswith("<"):
        raise FetchError("got an HTML page instead of JSON", source=source, value=body[:80])
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise ParseError(f"body is not JSON: {exc.msg}", source=source, value=body[:80]) from None


def endpoint_of(doc: Any, *, source: str) -> str:
    """Which endpoint answered ``doc``, from its shape."""
    if isinstance(doc, Mapping) and "results" in doc:
        return CASH_DIVIDENDS
    if (
        isinstance(doc, list)
        and doc
        and all(isinstance(d, Mapping) for d in doc)
        and any(k in doc[0] for k in ("cashDividends", "stockDividends", "subscriptions"))
    ):
        return SUPPLEMENT
    if isinstance(doc, list) and not doc:
        raise NoCompany("empty list: B3 knows no company for this request", source=source)
    raise ParseError(
        f"neither a {CASH_DIVIDENDS} nor a {SUPPLEMENT} body",
        source=source,
        value=type(doc).__name__,
    )


def _uri_params(uri: str, *, source: str) -> tuple[str, dict[str, Any]]:
    """``(endpoint, params)`` of a CompanyCall URI (``…/CompanyCall/<Method>/<base64 JSON>``)."""
    from b3lake.sources.cassette import b3_params

    endpoint, params = b3_params(uri, source=source)
    if endpoint not in ENDPOINTS:
        raise ParseError(
            "cassette request is not a CompanyCall of a known endpoint",
            source=source,
            field="uri",
            value=uri,
        )
    return endpoint, params


def _cassette_bodies(text: str, *, source: str) -> list[Body]:
    """The responses of a vcr cassette (R ``vcr`` and Ruby ``VCR`` layouts), pages merged."""
    from b3lake.sources.cassette import interactions

    pages: dict[tuple[str, str], list[tuple[Mapping[str, Any], Any]]] = {}
    for item in interactions(text, source=source):
        where, uri, body = item.where, item.uri, item.body
        endpoint, params = _uri_params(str(uri), source=where)
        found = _json(str(body), source=where)
        if endpoint_of(found, source=where) != endpoint:
            raise ParseError(f"the body is not a {endpoint} answer", source=where)
        key = (
            endpoint,
            json.dumps({k: v for k, v in params.items() if k != "pageNumber"}, sort_keys=True),
        )
        pages.setdefault(key, []).append((params, found))
    bodies = []
    for (endpoint, _), answers in pages.items():
        asked = answers[0][0]
        if endpoint == CASH_DIVIDENDS:
            docs = sorted(
                (a for a in answers), key=lambda a: int(a[1].get("page", {}).get("pageNumber", 1))
            )
            bodies.append(
                Body(endpoint, merge_pages([d for _, d in docs], source=source), source, asked)
            )
        else:
            bodies.append(Body(endpoint, answers[-1][1], source, asked))
    return bodies


def merge_pages(docs: Sequence[Mapping[str, Any]], *, source: str) -> dict[str, Any]:
    """One GetListedCashDividends answer from its pages; FetchError if rows are missing."""
    results: list[Any] = []
    announced = None
    for doc in docs:
        page = doc.get("page") or {}
        if announced is None and "totalRecords" in page:
            try:
                announced = int(page["totalRecords"])
            except (TypeError, ValueError):
                raise ParseError(
                    "bad page block", source=source, field="page.totalRecords", value=page
                ) from None
        chunk = doc.get("results")
        if chunk is None:
            chunk = []
        if not isinstance(chunk, list):
            raise ParseError("results is not a list", source=source, field="results")
        results.extend(chunk)
    if announced is not None and announced != len(results):
        raise FetchError(
            f"the pages hold {len(results)} results, the API announced {announced} (totalRecords)",
            source=source,
            field="page.totalRecords",
        )
    return {"page": {"totalRecords": len(results)}, "results": results}


def load_bodies(data: bytes | str, *, source_name: str) -> list[Body]:
    """A saved body (JSON) or a vcr cassette (YAML) as the endpoint answers it holds."""
    text = _decode(data, source=source_name)
    stripped = text.lstrip()
    if not stripped:
        raise FetchError("empty file", source=source_name)
    if stripped.startswith(("{", "[", "<")):
        doc = _json(text, source=source_name)
        endpoint = endpoint_of(doc, source=source_name)
        if endpoint == CASH_DIVIDENDS:
            doc = merge_pages([doc], source=source_name)
        return [Body(endpoint, doc, source_name, {})]
    return _cassette_bodies(text, source=source_name)


# ------------------------------------------------------------------------------------- rows


def _stamp(ingested_at: dt.datetime | None) -> dt.datetime:
    if ingested_at is None:
        return dt.datetime.now(dt.UTC)
    return ingested_at if ingested_at.tzinfo else ingested_at.replace(tzinfo=dt.UTC)


def _table(rows: list[dict[str, Any]], ingested_at: dt.datetime | None) -> pa.Table:
    stamp = _stamp(ingested_at)
    for row in rows:
        row["ingested_at"] = stamp
    columns = {f.name: [r.get(f.name) for r in rows] for f in SCHEMA}
    return pa.Table.from_pydict(columns, schema=SCHEMA)


def parse_cash_dividends(
    doc: Mapping[str, Any] | bytes | str,
    *,
    issuer: str,
    source_name: str,
    trading_name: str | None = None,
    ingested_at: dt.datetime | None = None,
) -> pa.Table:
    """Rows of a GetListedCashDividends answer (``results``, pages merged) for ``issuer``."""
    source = source_name
    code = normalize_issuer(issuer, source=source)
    if not isinstance(doc, Mapping):
        found = _json(_decode(doc, source=source), source=source)
        if endpoint_of(found, source=source) != CASH_DIVIDENDS:
            raise ParseError(f"not a {CASH_DIVIDENDS} body", source=source)
        doc = merge_pages([found], source=source)
    results = doc.get("results")
    if not isinstance(results, list):
        raise ParseError("results is not a list", source=source, field="results")
    rows = []
    for line, item in enumerate(results, start=1):
        if not isinstance(item, Mapping):
            raise ParseError("result is not an object", source=source, line=line, value=item)

        f = _Fields(item, source, line)
        date, num = f.date, f.num

        label = str(
            _required(
                item.get("corporateAction"), source=source, line=line, field="corporateAction"
            )
        ).strip()
        type_stock = (
            str(_required(item.get("typeStock"), source=source, line=line, field="typeStock"))
            .strip()
            .upper()
        )
        last = date("lastDatePriorEx", required=True)
        stamp_text = _text(item.get("lastDateTimePriorEx"))
        if (
            stamp_text is not None
            and last is not None
            and not stamp_text.startswith(last.isoformat())
        ):
            raise ParseError(
                f"disagrees with lastDatePriorEx {item.get('lastDatePriorEx')}",
                source=source,
                line=line,
                field="lastDateTimePriorEx",
                value=stamp_text,
            )
        rows.append(
            {
                "issuer": code,
                "endpoint": CASH_DIVIDENDS,
                "section": "results",
                "label": label,
                "ticker": ticker_for(code, type_stock),
                "type_stock": type_stock,
                "last_date_prior": last,
                "approved_on": date("dateApproval"),
                "value_cash": num("valueCash", required=True),
                "ratio": num("ratio"),
                "quoted_per_shares": num("quotedPerShares"),
                "closing_price_prior_ex_date": num("closingPricePriorExDate"),
                "date_closing_price_prior_ex_date": date("dateClosingPricePriorExDate"),
                "corporate_action_price": num("corporateActionPrice"),
                "trading_name": trading_name,
                "source_file": source,
                "line_number": line,
            }
        )
    return _table(rows, ingested_at)


_SECTIONS = {
    "cashDividends": ("rate", "value_cash"),
    "stockDividends": ("factor", "factor"),
    "subscriptions": ("percentage", "subscription_percentage"),
}


def parse_supplement(
    doc: Sequence[Any] | bytes | str,
    *,
    source_name: str,
    issuer: str | None = None,
    ingested_at: dt.datetime | None = None,
) -> pa.Table:
    """Rows of a GetListedSupplementCompany answer: its cash, stock and subscription events."""
    source = source_name
    if isinstance(doc, bytes | str):
        doc = _json(_decode(doc, source=source), source=source)
    if endpoint_of(doc, source=source) != SUPPLEMENT:
        raise ParseError(f"not a {SUPPLEMENT} body", source=source)
    if len(doc) != 1:
        raise ParseError("expected one company", source=source, value=len(doc))
    company = doc[0]
    assert isinstance(company, Mapping)  # endpoint_of checked every element
    code = normalize_issuer(_text(company.get("code")), source=source)
    if code is None:
        raise ParseError("missing company code", source=source, field="code")
    wanted = normalize_issuer(issuer, source=source)
    if wanted is not None and wanted != code:
        raise ParseError(
            f"the body is the company {code}, not {wanted}", source=source, field="code", value=code
        )
    trading_name = _text(company.get("tradingName"))
    rows = []
    for section, (value_field, column) in _SECTIONS.items():
        items = company.get(section)
        if items is None:
            raise ParseError("missing section", source=source, field=section)
        if not isinstance(items, list):
            raise ParseError("section is not a list", source=source, field=section)
        for line, item in enumerate(items, start=1):
            where = f"{source} {section}"
            if not isinstance(item, Mapping):
                raise ParseError("row is not an object", source=where, line=line, value=item)

            f = _Fields(item, where, line)
            date, num = f.date, f.num

            label = str(
                _required(item.get("label"), source=where, line=line, field="label")
            ).strip()
            isin = _text(item.get("isinCode")) or _text(item.get("assetIssued"))
            row: dict[str, Any] = {
                "issuer": code,
                "endpoint": SUPPLEMENT,
                "section": section,
                "label": label,
                "ticker": ticker_for(code, isin=isin),
                "isin": isin,
                "asset_issued": _text(item.get("assetIssued")),
                "last_date_prior": date("lastDatePrior", required=True),
                "approved_on": date("approvedOn"),
                "remarks": _text(item.get("remarks")),
                "trading_name": trading_name,
                "source_file": source,
                "line_number": line,
                column: num(value_field, required=True),
            }
            if section == "cashDividends":
                row["payment_date"] = date("paymentDate")
                row["related_to"] = _text(item.get("relatedTo"))
            elif section == "subscriptions":
                row["subscription_price"] = num("priceUnit")
                row["subscription_date"] = date("subscriptionDate")
                row["trading_period"] = _text(item.get("tradingPeriod"))
            rows.append(row)
    return _table(rows, ingested_at)


def parse_file(
    data: bytes | str,
    *,
    source_name: str,
    issuer: str | None = None,
    ingested_at: dt.datetime | None = None,
) -> pa.Table:
    """Every row of a saved body or cassette of either endpoint.

    A GetListedCashDividends body does not name its issuer: pass ``issuer`` (a supplement body
    names it, and must agree with ``issuer`` when given).
    """
    parts = []
    for body in load_bodies(data, source_name=source_name):
        if body.endpoint == SUPPLEMENT:
            parts.append(
                parse_supplement(
                    body.doc, source_name=source_name, issuer=issuer, ingested_at=ingested_at
                )
            )
            continue
        code = issuer or _text(body.params.get("issuingCompany"))
        if code is None:
            raise ParseError(
                f"a {CASH_DIVIDENDS} body does not name its issuer: give the issuer code (--issuer)",
                source=source_name,
                field="issuer",
            )
        trading = _text(body.params.get("tradingName"))
        parts.append(
            parse_cash_dividends(
                body.doc,
                issuer=code,
                source_name=source_name,
                trading_name=trading,
                ingested_at=ingested_at,
            )
        )
    return pa.concat_tables(parts) if parts else _table([], ingested_at)


def split_by_date(table: pa.Table) -> dict[dt.date, pa.Table]:
    """Rows per ``last_date_prior`` (the raw object's ``dt``), each sorted deterministically."""
    import pyarrow.compute as pc

    out = {}
    for day in sorted(set(table.column("last_date_prior").to_pylist())):
        part = table.filter(pc.equal(table["last_date_prior"], pa.scalar(day, pa.date32())))
        out[day] = part.sort_by(
            [
                ("issuer", "ascending"),
                ("endpoint", "ascending"),
                ("section", "ascending"),
                ("line_number", "ascending"),
            ]
        )
    return out
