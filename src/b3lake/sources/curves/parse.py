"""Strict parser of B3's ``TaxaSwap.txt`` ("Mercado de Derivativos - Taxas de Mercado para Swaps").

One fixed-width file a session with every curve B3 computes (about 120 since ~2005: ``PRE`` = DI x
pré, ``DIC`` = DI x IPCA, ``DOC`` = cupom cambial limpo, ``APR`` = the DI futures' settlement
curve, ...), one line per vertex, 72 characters, latin-1. Layout (1-based positions, as rb3's
template ``TaxaSwap.yaml`` and B3's ``TaxaSwap.xls`` describe it):

====== ===== ============================================== =====================
pos    width field                                          raw column
====== ===== ============================================== =====================
1-6    6     Identificação da transação (sequence)          ``seq``
7-9    3     Complemento da transação                       ``complement``
10-11  2     Tipo de registro                               ``record_type``
12-19  8     Data de geração do arquivo (YYYYMMDD)          ``date``
20-21  2     Código das curvas a termo                      ``curve_group``
22-26  5     Código da taxa                                 ``curve``
27-41  15    Descrição da taxa                              ``description``
42-46  5     Número de dias corridos                        ``calendar_days``
47-51  5     Número de dias de saque (business days)        ``business_days``
52     1     Sinal da taxa teórica (+/-)                    (in ``rate``)
53-66  14    Taxa teórica, 7 implied decimals (% a year)    ``rate``
67     1     Característica do vértice (F fixo, M móvel)    ``vertex_type``
68-72  5     Código do vértice                              ``vertex``
====== ===== ============================================== =====================

(the order of the two day counts is the data's: a vertex of 3 calendar days is 1 business day
after a Friday). ``rate`` is kept exact, ``decimal(16,7)``: ``+00000139000000`` is 13.9 % a year.

The download is a zip holding a self-extracting archive (``TS<yymmdd>.ex_``, a Windows stub with a
zip inside) holding ``TaxaSwap.txt``: :func:`unpack` opens the layers (``b3lake.sources.archive``); a zip with no
member (22 bytes, what B3 serves for a day without a file) is ``NoFile``.

Strict: a line that is not 72 characters, a field that is not digits where digits belong, an
impossible date, a sign other than ``+``/``-``, a vertex type other than ``F``/``M``, more business
days than calendar days, lines of another date than the first, a sequence that does not increase,
a curve with the same calendar day twice: each is a ParseError naming the file, the line and the
field. Nothing of such a file is landed. A file of a day that is not a B3 session lands with a
finding (``base.off_calendar``).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pyarrow as pa

from b3lake.errors import FetchError, ParseError
from b3lake.sources.archive import NoFile, member
from b3lake.sources.base import off_calendar, with_findings

__all__ = ["RECORD_LENGTH", "SCHEMA", "NoFile", "parse_taxa_swap", "unpack"]

RECORD_LENGTH = 72
TEXT_NAME = "taxaswap.txt"
RATE_TYPE = pa.decimal128(16, 7)

SCHEMA = pa.schema(
    [
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("complement", pa.string(), nullable=False),
        pa.field("record_type", pa.string(), nullable=False),
        pa.field("date", pa.date32(), nullable=False),
        pa.field("curve_group", pa.string(), nullable=False),
        pa.field("curve", pa.string(), nullable=False),
        pa.field("description", pa.string(), nullable=False),
        pa.field("calendar_days", pa.int32(), nullable=False),
        pa.field("business_days", pa.int32(), nullable=False),
        pa.field("rate", RATE_TYPE, nullable=False),
        pa.field("vertex_type", pa.string(), nullable=False),
        pa.field("vertex", pa.string(), nullable=False),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("line_number", pa.int64(), nullable=False),
        pa.field("ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)

# (name, first, last) 1-based inclusive, and which fields must be digits.
_FIELDS = (
    ("seq", 1, 6),
    ("complement", 7, 9),
    ("record_type", 10, 11),
    ("date", 12, 19),
    ("curve_group", 20, 21),
    ("curve", 22, 26),
    ("description", 27, 41),
    ("calendar_days", 42, 46),
    ("business_days", 47, 51),
    ("sign", 52, 52),
    ("rate", 53, 66),
    ("vertex_type", 67, 67),
    ("vertex", 68, 72),
)
_DIGITS = {"seq", "complement", "record_type", "date", "calendar_days", "business_days", "rate"}
_DIGITS.add("vertex")
_CODE = re.compile(r"^[A-Z0-9]+$")


def _stamp(ingested_at: dt.datetime | None) -> dt.datetime:
    if ingested_at is None:
        return dt.datetime.now(dt.UTC)
    return ingested_at if ingested_at.tzinfo else ingested_at.replace(tzinfo=dt.UTC)


def unpack(data: bytes, *, source: str) -> bytes:
    """The bytes of ``TaxaSwap.txt`` inside B3's download (plain text passes through)."""
    if not data.startswith(b"PK") and data[:2] != b"MZ":
        if data.lstrip()[:1] == b"<":
            raise FetchError("got an HTML page instead of a file", source=source, value=data[:80])
        return data
    return member(data, source=source, wanted=lambda n: n == TEXT_NAME, what="TaxaSwap.txt")[1]


def _date(text: str, *, source: str, line: int) -> dt.date:
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise ParseError(
            "impossible date", source=source, line=line, field="date", value=text
        ) from None


def parse_taxa_swap(
    data: bytes, *, source_name: str, ingested_at: dt.datetime | None = None
) -> pa.Table:
    """Rows of a ``TaxaSwap.txt`` (or of B3's archive holding it), one per curve vertex."""
    source = source_name
    text = unpack(data, source=source).decode("latin-1")
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise FetchError("empty file", source=source)
    columns: dict[str, list[object]] = {f.name: [] for f in SCHEMA}
    first_date: dt.date | None = None
    last_seq = -1
    seen: dict[tuple[str, int], int] = {}
    for number, raw in enumerate(lines, start=1):
        if len(raw) != RECORD_LENGTH:
            raise ParseError(
                f"a record is {RECORD_LENGTH} characters, this one {len(raw)}",
                source=source,
                line=number,
                value=raw[:80],
            )
        cut = {name: raw[a - 1 : b] for name, a, b in _FIELDS}
        for name in _DIGITS:
            if not cut[name].isdigit():
                raise ParseError(
                    "not digits", source=source, line=number, field=name, value=cut[name]
                )
        curve = cut["curve"].strip()
        if not _CODE.match(curve) or not _CODE.match(cut["curve_group"].strip() or "?"):
            field = "curve" if not _CODE.match(curve) else "curve_group"
            raise ParseError(
                "not a code", source=source, line=number, field=field, value=cut[field]
            )
        if cut["sign"] not in ("+", "-"):
            raise ParseError("sign is + or -", source=source, line=number, field="sign")
        if cut["vertex_type"] not in ("F", "M"):
            raise ParseError(
                "vertex type is F or M",
                source=source,
                line=number,
                field="vertex_type",
                value=cut["vertex_type"],
            )
        day = _date(cut["date"], source=source, line=number)
        if first_date is None:
            first_date = day
        elif day != first_date:
            raise ParseError(
                f"the file is of {first_date}, this line of {day}",
                source=source,
                line=number,
                field="date",
                value=cut["date"],
            )
        seq = int(cut["seq"])
        if seq <= last_seq:
            raise ParseError(
                "the sequence does not increase", source=source, line=number, field="seq", value=seq
            )
        last_seq = seq
        calendar_days, business_days = int(cut["calendar_days"]), int(cut["business_days"])
        if business_days > calendar_days:
            raise ParseError(
                f"{business_days} business days in {calendar_days} calendar days",
                source=source,
                line=number,
                field="business_days",
            )
        key = (curve, calendar_days)
        if key in seen:
            raise ParseError(
                f"curve {curve} has {calendar_days} calendar days twice (line {seen[key]})",
                source=source,
                line=number,
                field="calendar_days",
            )
        seen[key] = number
        rate = Decimal(cut["rate"]).scaleb(-7) * (-1 if cut["sign"] == "-" else 1)
        row = {
            "seq": seq,
            "complement": cut["complement"],
            "record_type": cut["record_type"],
            "date": day,
            "curve_group": cut["curve_group"].strip(),
            "curve": curve,
            "description": cut["description"].strip(),
            "calendar_days": calendar_days,
            "business_days": business_days,
            "rate": rate,
            "vertex_type": cut["vertex_type"],
            "vertex": cut["vertex"],
            "source_file": source,
            "line_number": number,
        }
        for name, value in row.items():
            columns[name].append(value)
    stamp = _stamp(ingested_at)
    columns["ingested_at"] = [stamp] * len(lines)
    table = pa.Table.from_pydict(columns, schema=SCHEMA)
    assert first_date is not None
    return with_findings(table, off_calendar(first_date, source=source, field="date"))
