"""Strict parser of B3's index report, BVBG.087 (ISO 20022 XML, ``IR<yymmdd>.zip``).

The file of a session (``BVBG.087.01_BV…xml``, message ``bvmf.218.01``, ``IndxRpt``) holds, per
index (``IndxInf``): its ticker (``SctyInf/SctyId/TckrSymb``), B3's instrument id, open
(``OpngPric``), low (``MinPric``), high (``MaxPric``), average (``TradAvrgPric``), the previous
session's close (``PrvsDayClsgPric``), close (``ClsgPric``), the index value (``IndxVal``), the
change (``OscnVal``, a fraction: 0.0097 is +0.97 %), and outside ``SctyInf`` the description
(``AsstDesc``), the settlement value (``SttlmVal``) and the counts of rising, falling and stable
constituents. The same file lists ETFs' indicative values (``IOPVInf``) and BDR reference prices
(``BDRInf``); this source lands the indices only.

Strict: not XML, another business file (``BizGrpTp`` other than ``BVBG.087.01``), no trade date,
an index without a ticker, a price that is not a plain decimal, a missing open/low/high/close, a
low above the open or close or a high below them, the same ticker twice: each is a ParseError
naming the file, the XML line of the ``IndxInf`` (or of the field) and the field (its path). A
report of a day that is not a B3 session lands with a finding (``base.off_calendar``).
Line numbers come from expat (the standard library's parser, which also refuses entity
expansion attacks); the tree is small (a few thousand elements).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

import pyarrow as pa

from b3lake.errors import FetchError, ParseError
from b3lake.sources.archive import member
from b3lake.sources.base import off_calendar, with_findings

BUSINESS_FILE = "BVBG.087.01"

SCHEMA = pa.schema(
    [
        pa.field("index", pa.string(), nullable=False),
        pa.field("date", pa.date32(), nullable=False),
        pa.field("description", pa.string()),
        pa.field("security_id", pa.int64()),
        pa.field("open", pa.float64(), nullable=False),
        pa.field("low", pa.float64(), nullable=False),
        pa.field("high", pa.float64(), nullable=False),
        pa.field("average", pa.float64()),
        pa.field("previous_close", pa.float64()),
        pa.field("close", pa.float64(), nullable=False),
        pa.field("index_value", pa.float64()),
        pa.field("oscillation", pa.float64()),
        pa.field("settlement_value", pa.float64()),
        pa.field("rising", pa.int32()),
        pa.field("falling", pa.int32()),
        pa.field("stable", pa.int32()),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("line_number", pa.int64(), nullable=False),
        pa.field("ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_INTEGER = re.compile(r"^\d+$")
_TICKER = re.compile(r"^[A-Z0-9]{2,12}$")

# column -> (path under IndxInf, kind, required)
_FIELDS: dict[str, tuple[str, str, bool]] = {
    "security_id": ("SctyInf/FinInstrmId/OthrId/Id", "int", False),
    "open": ("SctyInf/OpngPric", "num", True),
    "low": ("SctyInf/MinPric", "num", True),
    "high": ("SctyInf/MaxPric", "num", True),
    "average": ("SctyInf/TradAvrgPric", "num", False),
    "previous_close": ("SctyInf/PrvsDayClsgPric", "num", False),
    "close": ("SctyInf/ClsgPric", "num", True),
    "index_value": ("SctyInf/IndxVal", "num", False),
    "oscillation": ("SctyInf/OscnVal", "num", False),
    "description": ("AsstDesc", "text", False),
    "settlement_value": ("SttlmVal", "num", False),
    "rising": ("RsngShrsNb", "int", False),
    "falling": ("FlngShrsNb", "int", False),
    "stable": ("StblShrsNb", "int", False),
}


@dataclass
class Node:
    tag: str  # local name (namespace dropped: the file nests two namespaces)
    line: int
    text: str = ""
    children: list[Node] = field(default_factory=list)

    def find(self, path: str) -> Node | None:
        node: Node | None = self
        for part in path.split("/"):
            node = next((c for c in node.children if c.tag == part), None) if node else None
        return node

    def iter(self, tag: str) -> list[Node]:
        out, todo = [], [self]
        while todo:
            node = todo.pop()
            if node.tag == tag:
                out.append(node)
            todo.extend(reversed(node.children))
        return out


def read_tree(data: bytes, *, source: str) -> Node:
    """The document as :class:`Node` s with their line numbers (expat; errors name the line)."""
    parser = expat.ParserCreate(namespace_separator="}")
    root = Node("#document", 0)
    stack = [root]

    def start(name: str, attrs: dict[str, str]) -> None:
        node = Node(name.rsplit("}", 1)[-1], parser.CurrentLineNumber)
        stack[-1].children.append(node)
        stack.append(node)

    def end(name: str) -> None:
        node = stack.pop()
        node.text = node.text.strip()

    def chars(text: str) -> None:
        stack[-1].text += text

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise ParseError(f"not well-formed XML: {exc}", source=source, line=exc.lineno) from None
    return root


def _stamp(ingested_at: dt.datetime | None) -> dt.datetime:
    if ingested_at is None:
        return dt.datetime.now(dt.UTC)
    return ingested_at if ingested_at.tzinfo else ingested_at.replace(tzinfo=dt.UTC)


def _value(node: Node, column: str, *, source: str) -> Any:
    path, kind, required = _FIELDS[column]
    found = node.find(path)
    if found is None or not found.text:
        if required:
            raise ParseError("missing", source=source, line=node.line, field=path)
        return None
    text = found.text
    if kind == "text":
        return text
    pattern = _INTEGER if kind == "int" else _NUMBER
    if not pattern.match(text):
        what = "an integer" if kind == "int" else "a plain decimal"
        raise ParseError(f"not {what}", source=source, line=found.line, field=path, value=text)
    return int(text) if kind == "int" else float(text)


def unpack(data: bytes, *, source: str) -> bytes:
    """The XML inside B3's download (``IR<yymmdd>.zip``, possibly a zip in a zip)."""
    if data.startswith(b"PK"):
        return member(data, source=source, wanted=lambda n: n.endswith(".xml"), what="an XML")[1]
    if not data.strip():
        raise FetchError("empty file", source=source)
    if data.lstrip()[:5].lower() in (b"<html", b"<!doc"):
        raise FetchError("got an HTML page instead of the report", source=source, value=data[:80])
    return data


def parse_index_report(
    data: bytes, *, source_name: str, ingested_at: dt.datetime | None = None
) -> pa.Table:
    """One row per index of a BVBG.087 file (or of B3's archive holding it)."""
    source = source_name
    tree = read_tree(unpack(data, source=source), source=source)
    kinds = [n for n in tree.iter("BizGrpTp")]
    if not kinds or {n.text for n in kinds} != {BUSINESS_FILE}:
        got = sorted({n.text for n in kinds}) or None
        raise ParseError(
            f"not a {BUSINESS_FILE} index report", source=source, field="BizGrpTp", value=got
        )
    reports = tree.iter("IndxRpt")
    if len(reports) != 1:
        raise ParseError("expected one IndxRpt", source=source, field="IndxRpt", value=len(reports))
    report = reports[0]
    date_node = report.find("TradDt/Dt")
    if date_node is None:
        raise ParseError("no trade date", source=source, line=report.line, field="TradDt/Dt")
    try:
        day = dt.date.fromisoformat(date_node.text)
    except ValueError:
        raise ParseError(
            "not a date",
            source=source,
            line=date_node.line,
            field="TradDt/Dt",
            value=date_node.text,
        ) from None
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for node in report.children:
        if node.tag != "IndxInf":
            continue
        ticker_node = node.find("SctyInf/SctyId/TckrSymb")
        ticker = ticker_node.text if ticker_node is not None else ""
        if not _TICKER.match(ticker):
            raise ParseError(
                "no index ticker", source=source, line=node.line, field="SctyInf/SctyId/TckrSymb"
            )
        if ticker in seen:
            raise ParseError(
                f"{ticker} is listed twice (line {seen[ticker]})",
                source=source,
                line=node.line,
                field="SctyInf/SctyId/TckrSymb",
            )
        seen[ticker] = node.line
        row = {column: _value(node, column, source=source) for column in _FIELDS}
        for price in ("open", "close"):
            if not row["low"] <= row[price] <= row["high"]:
                raise ParseError(
                    f"{price} {row[price]} is outside low..high {row['low']}..{row['high']}",
                    source=source,
                    line=node.line,
                    field=_FIELDS[price][0],
                )
        row.update(index=ticker, date=day, source_file=source, line_number=node.line)
        rows.append(row)
    if not rows:
        raise ParseError("the report lists no index", source=source, field="IndxInf")
    stamp = _stamp(ingested_at)
    columns = {f.name: [r.get(f.name) for r in rows] for f in SCHEMA if f.name != "ingested_at"}
    columns["ingested_at"] = [stamp] * len(rows)
    table = pa.Table.from_pydict(columns, schema=SCHEMA)
    found = off_calendar(day, source=source, line=date_node.line, field="TradDt/Dt")
    return with_findings(table, found)
