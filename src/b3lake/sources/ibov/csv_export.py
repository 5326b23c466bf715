"""The "Carteira do Dia" CSV export (``IBOVDia_dd-mm-yy.csv``, or GetDownloadPortfolioDay's body).

latin-1, ``;``-separated: a title line (``IBOV - Carteira do Dia 03/10/25``), a header, one row
per constituent (B3 ends each with ``;``), then the total and "Redutor" rows.

The same file opened and re-saved by a spreadsheet program lands the same rows: its title line is
padded with ``;``, its rows lose the trailing ``;``, and the total is written ``100``. When the
title line carries no date, a pt-br export's file name gives it (``IBOVDia_dd-mm-yy``).

Decision: a malformed "Redutor" value (B3 printed one as ``18.296.80337677573``) does not reject
the file. The reductor is the index's divisor, read by nothing downstream, while the constituents,
quantities and weights are intact and pass every check; rejecting would lose a day's portfolio over
a figure nobody uses. The rows land with ``reductor`` null and a quality finding naming file, line
and field (kept in the raw object's metadata and printed by the extract). A malformed constituent
or total still rejects the file.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

import pyarrow as pa

from b3lake.errors import FetchError, ParseError
from b3lake.sources.base import Finding, with_findings
from b3lake.sources.ibov.common import (
    Row,
    check_and_build,
    parse_header_date,
    resolve_date,
    text_or_none,
)
from b3lake.sources.numbers import (
    EN_US,
    PT_BR,
    normalize_language,
    parse_decimal,
    parse_int,
)


def _key(name: str) -> str:
    """Header cell -> comparable key (no accents, case, spaces or punctuation)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]", "", plain.lower())


_CSV_COLUMNS: dict[str, tuple[str, str]] = {
    # key: (our column, language evidence)
    "codigo": ("ticker", PT_BR),
    "acao": ("asset", PT_BR),
    "tipo": ("share_type", PT_BR),
    "qtdeteorica": ("quantity", PT_BR),
    "setor": ("sector", PT_BR),
    "partacum": ("accum", ""),
    "partacum2": ("accum", ""),
    "code": ("ticker", EN_US),
    "stock": ("asset", EN_US),
    "asset": ("asset", EN_US),
    "type": ("share_type", EN_US),
    "theoreticalqty": ("quantity", EN_US),
    "theoricalqty": ("quantity", EN_US),
    "sector": ("sector", EN_US),
    "part": ("part", ""),
}
# The title line: ``IBOV - Carteira do Dia 03/10/25`` (a spreadsheet pads it with ``;``).
_TITLE = re.compile(r"^\s*(?P<index>[A-Z0-9]+)\s+-\s+.*?(?:(?P<date>\d{2}/\d{2}/\d{2,4})\s*)?$")
# B3 names a pt-br export ``IBOVDia_dd-mm-yy.csv``: the date when the title line has none.
_FILE_DATE = re.compile(r"Dia_(?P<d>\d{2})-(?P<m>\d{2})-(?P<y>\d{2}|\d{4})(?!\d)")
_TOTAL_KEYS = ("quantidadeteoricatotal", "totaltheoreticalquantity", "totaltheorethicalquantity")
_REDUCTOR_KEYS = ("redutor", "reductor")


def _csv_column(cell: str) -> str | None:
    key = _key(cell)
    if key.startswith("part") and ("acum" in key or "accum" in key):
        return "accum"
    entry = _CSV_COLUMNS.get(key)
    return entry[0] if entry else None


def _file_name_date(name: str) -> dt.date | None:
    """``IBOVDia_03-10-25.csv`` -> 2025-10-03 (B3's day-first name of a pt-br export)."""
    match = _FILE_DATE.search(name.rsplit("/", 1)[-1])
    if match is None:
        return None
    year = int(match["y"]) + (2000 if len(match["y"]) == 2 else 0)
    try:
        return dt.date(year, int(match["m"]), int(match["d"]))
    except ValueError:
        return None


def _decode_csv(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data.decode("utf-8-sig")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # B3's exports are latin-1


def parse_portfolio_csv(
    data: bytes,
    *,
    source_name: str,
    index: str = "IBOV",
    portfolio_date: dt.date | None = None,
    ingested_at: dt.datetime | None = None,
    language: str | None = None,
) -> pa.Table:
    """Parse a "Carteira do Dia" CSV export (``IBOVDia_dd-mm-yy.csv`` or GetDownloadPortfolioDay).

    The index and date come from the title line (``IBOV - Carteira do Dia 03/10/25``) and must
    agree with ``index``/``portfolio_date`` when those are given. ``line_number`` is the file line.
    """
    source = source_name
    text = _decode_csv(data)
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise FetchError("empty CSV", source=source)
    if lines[0].lstrip().startswith("<"):
        raise FetchError("got an HTML page instead of CSV", source=source, value=lines[0][:80])

    # Find the header row; everything above it is the title.
    header_at = None
    columns: list[str | None] = []
    for i, line in enumerate(lines[:5]):
        cells = [c.strip() for c in line.rstrip().removesuffix(";").split(";")]
        mapped = [_csv_column(c) for c in cells]
        if "ticker" in mapped and "quantity" in mapped and "part" in mapped:
            header_at, columns = i, mapped
            break
    if header_at is None:
        raise ParseError(
            "no header row (Código;Ação;Tipo;Qtde. Teórica;Part. (%))",
            source=source,
            line=1,
            value=lines[0][:80],
        )
    header_keys = {_key(c) for c in lines[header_at].split(";")}
    evidence = {_CSV_COLUMNS[k][1] for k in header_keys if k in _CSV_COLUMNS} - {""}
    if language is not None:
        lang = normalize_language(language, source=source)
    elif len(evidence) == 1:
        lang = evidence.pop()
    else:
        raise ParseError(
            "cannot tell the CSV's language: pass language=", source=source, line=header_at + 1
        )

    title_index, title_date = None, None
    for i in range(header_at):
        match = _TITLE.match(lines[i].rstrip().rstrip(";"))
        if match:
            title_index = match["index"]
            if match["date"]:
                title_date = parse_header_date(match["date"], language=lang, source=source)
    if title_date is None and portfolio_date is None and lang == PT_BR:
        title_date = _file_name_date(source)
    if title_index is not None and title_index != index:
        raise ParseError(
            f"the file is the {title_index} portfolio, not {index}: pass index=",
            source=source,
            line=1,
            field="index",
            value=title_index,
        )
    day = resolve_date(title_date, portfolio_date, source=source)

    def num(value: str, field: str, line: int, *, integer: bool = False) -> Any:
        if not value.strip():
            raise ParseError("missing value", source=source, line=line, field=field)
        fn = parse_int if integer else parse_decimal
        return fn(value, language=lang, source=source, line=line, field=field)

    width = len(columns)
    rows: list[Row] = []
    total = reductor = total_part = None
    trailer = False
    findings: list[Finding] = []
    for i in range(header_at + 1, len(lines)):
        line_no = i + 1
        raw = lines[i]
        if not raw.strip():
            continue
        cells = [c.strip() for c in raw.split(";")]
        first = _key(cells[0])
        if first in _TOTAL_KEYS:
            values = [c for c in cells[1:] if c]
            if len(values) != 2:
                raise ParseError(
                    "total row needs quantity and participation",
                    source=source,
                    line=line_no,
                    value=raw,
                )
            total = num(values[0], "total_quantity", line_no, integer=True)
            total_part = num(values[1], "total_part", line_no)
            continue
        if first in _REDUCTOR_KEYS:
            values = [c for c in cells[1:] if c]
            if len(values) != 1:
                raise ParseError(
                    "reductor row needs one value", source=source, line=line_no, value=raw
                )
            trailer = True
            try:
                reductor = num(values[0], "reductor", line_no)
            except ParseError as exc:
                # The reductor is the index's divisor, not a constituent's figure: the weights and
                # quantities are intact (and checked below), so they land with a null reductor.
                findings.append(Finding.of(exc, "reductor is malformed: stored as null"))
            continue
        if total is not None or trailer:
            raise ParseError(
                "constituent row after the totals", source=source, line=line_no, value=raw
            )
        if raw.rstrip().endswith(";"):
            cells.pop()  # rows end with a ';'
        if len(cells) != width:
            raise ParseError(
                f"expected {width} fields, got {len(cells)}", source=source, line=line_no, value=raw
            )
        rec = {col: cell for col, cell in zip(columns, cells, strict=True) if col}
        if not rec.get("ticker"):
            raise ParseError("missing ticker", source=source, line=line_no, field="ticker")
        rows.append(
            Row(
                ticker=rec["ticker"].upper(),
                asset=text_or_none(rec.get("asset")),
                share_type=text_or_none(rec.get("share_type")),
                sector=text_or_none(rec.get("sector")),
                quantity=num(rec["quantity"], "quantity", line_no, integer=True),
                participation=num(rec["part"], "part", line_no),
                participation_accum=num(rec["accum"], "accum", line_no)
                if rec.get("accum")
                else None,
                line=line_no,
                part_text=rec["part"],
            )
        )
    if total is None:
        raise ParseError("no total row (Quantidade Teórica Total)", source=source, line=len(lines))
    segment = 2 if "sector" in columns else 1
    table = check_and_build(
        rows,
        index=index,
        day=day,
        language=lang,
        segment=segment,
        reductor=reductor,
        total=total,
        total_part=total_part,
        source=source,
        ingested_at=ingested_at,
    )
    return with_findings(table, findings)
