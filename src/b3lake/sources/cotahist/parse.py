"""B3 COTAHIST ("Séries Históricas") files: a strict, vectorised parser.

COTAHIST is fixed width: a ``00COTAHIST`` header, 245-character type-01 records, and a
``99COTAHIST`` trailer whose count (positions 32-42) covers every line. An annual file has
about a million records, so the parser never loops over lines in Python: the bytes are viewed
as an ``(n, 245)`` numpy array and each field is a column slice, validated and converted with
vector operations. A file is all or nothing: the first problem (in file order) raises
:class:`ParseError` naming the file, the 1-based line and the field, and nothing is returned.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from b3lake.errors import ParseError

__all__ = [
    "RAW_COTAHIST_SCHEMA",
    "RECORD_LENGTH",
    "ZIP_MAGIC",
    "parse_cotahist",
    "split_by_session",
]

RECORD_LENGTH = 245
# DATVEN for instruments without an expiry; stored as null rather than a fake date in 9999.
NO_EXPIRY = 99991231

PRICE = pa.decimal128(13, 2)

RAW_COTAHIST_SCHEMA = pa.schema(
    [
        ("tipreg", pa.int8()),
        ("datpre", pa.date32()),
        ("codbdi", pa.string()),
        ("codneg", pa.string()),
        ("tpmerc", pa.string()),
        ("nomres", pa.string()),
        ("especi", pa.string()),
        ("prazot", pa.string()),
        ("modref", pa.string()),
        ("preabe", PRICE),
        ("premax", PRICE),
        ("premin", PRICE),
        ("premed", PRICE),
        ("preult", PRICE),
        ("preofc", PRICE),
        ("preofv", PRICE),
        ("totneg", pa.int64()),
        ("quatot", pa.int64()),
        ("voltot", pa.decimal128(18, 2)),
        ("preexe", PRICE),
        ("indopc", pa.int8()),
        ("datven", pa.date32()),
        ("fatcot", pa.int32()),
        ("ptoexe", pa.decimal128(13, 6)),
        ("codisi", pa.string()),
        ("dismes", pa.int16()),
        ("source_file", pa.string()),
        ("line_number", pa.int64()),
        ("ingested_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass(frozen=True)
class _Field:
    name: str
    start: int  # 0-based, inclusive (the layout's 1-based position minus one)
    end: int  # exclusive
    kind: str  # "text" | "int" | "decimal" | "date"


# Record 01, B3 layout positions (1-based, inclusive) converted to slices.
_FIELDS = (
    _Field("datpre", 2, 10, "date"),
    _Field("codbdi", 10, 12, "text"),
    _Field("codneg", 12, 24, "text"),
    _Field("tpmerc", 24, 27, "text"),
    _Field("nomres", 27, 39, "text"),
    _Field("especi", 39, 49, "text"),
    _Field("prazot", 49, 52, "text"),
    _Field("modref", 52, 56, "text"),
    _Field("preabe", 56, 69, "decimal"),
    _Field("premax", 69, 82, "decimal"),
    _Field("premin", 82, 95, "decimal"),
    _Field("premed", 95, 108, "decimal"),
    _Field("preult", 108, 121, "decimal"),
    _Field("preofc", 121, 134, "decimal"),
    _Field("preofv", 134, 147, "decimal"),
    _Field("totneg", 147, 152, "int"),
    _Field("quatot", 152, 170, "int"),
    _Field("voltot", 170, 188, "decimal"),
    _Field("preexe", 188, 201, "decimal"),
    _Field("indopc", 201, 202, "int"),
    _Field("datven", 202, 210, "date"),
    _Field("fatcot", 210, 217, "int"),
    _Field("ptoexe", 217, 230, "decimal"),
    _Field("codisi", 230, 242, "text"),
    _Field("dismes", 242, 245, "int"),
)
_FIELD_ORDER = {f.name: i for i, f in enumerate(_FIELDS)}
_TRAILER_COUNT = slice(31, 42)  # positions 32-42
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
# Rows per block: all field slices of one block stay in the CPU cache (about 4 MB of records).
_BLOCK_ROWS = 16384
_THREADS = min(4, os.cpu_count() or 1)
# Per column of a record: allowed byte range [_LOW, _LOW + _SPAN] ('0'-'9' or printable ASCII).
_LOW = np.full(RECORD_LENGTH, 0x20, dtype=np.uint8)
_SPAN = np.full(RECORD_LENGTH, 0x5E, dtype=np.uint8)
_SPAN[:2] = 0xFF  # tipreg, checked with the frame
for _f in _FIELDS:
    if _f.kind != "text":
        _LOW[_f.start : _f.end], _SPAN[_f.start : _f.end] = ord("0"), 9
_POWERS = {w: 10 ** np.arange(w - 1, -1, -1, dtype=np.int64) for w in range(1, 19)}


@dataclass
class _Problem:
    """The first bad row of one field; the earliest across fields is reported."""

    row: int  # 0-based index into the type-01 records
    field: str
    message: str
    value: str
    count: int


# --------------------------------------------------------------------------- input


def _read_input(data: bytes | str | Path, source_name: str | None) -> tuple[bytes, str]:
    """Bytes and the name used for lineage and errors (a path's file name, else ``<bytes>``)."""
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data), source_name or "<bytes>"
    path = Path(data)
    name = source_name or path.name
    try:
        return path.read_bytes(), name
    except OSError as exc:
        raise ParseError(f"cannot read file: {exc.strerror or exc}", source=str(path)) from exc


def _unzip(raw: bytes, source: str) -> bytes:
    """The text member of a COTAHIST zip; a truncated or corrupt archive is a ParseError."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = [i for i in archive.infolist() if not i.is_dir()]
            if len(members) > 1:
                members = [i for i in members if i.filename.upper().endswith(".TXT")]
            if len(members) != 1:
                names = [i.filename for i in archive.infolist()]
                raise ParseError(
                    "zip must hold exactly one COTAHIST text file", source=source, value=names
                )
            return archive.read(members[0])
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        raise ParseError(f"truncated or corrupt zip archive ({exc})", source=source) from exc


# ----------------------------------------------------------------------- structure


def _records(text: bytes, source: str) -> np.ndarray:
    """An ``(lines, 245)`` uint8 view of the file, after checking every line is 245 characters.

    The fast path assumes uniform CRLF or LF endings and checks the terminator bytes at their
    fixed positions (no scan of the whole file); anything else goes through :func:`_diagnose`.
    """
    if not text:
        raise ParseError("empty file", source=source)
    first_nl = text.find(b"\n")
    crlf = first_nl > 0 and text[first_nl - 1] == 0x0D
    terminator = b"\r\n" if crlf else b"\n"
    stride = RECORD_LENGTH + len(terminator)
    data = text if text.endswith(b"\n") else text + terminator
    if len(data) % stride == 0:
        rows = np.frombuffer(data, np.uint8).reshape(-1, stride)
        ends = rows[:, RECORD_LENGTH:]
        ok = (ends[:, -1] == 0x0A).all() and (not crlf or (ends[:, 0] == 0x0D).all())
        if ok:
            return rows[:, :RECORD_LENGTH]
    return _diagnose(text, source)


def _diagnose(text: bytes, source: str) -> np.ndarray:
    """Find the first line that is not 245 characters; or normalise mixed CRLF/LF endings."""
    buf = np.frombuffer(text, np.uint8)
    newlines = np.flatnonzero(buf == 0x0A)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [buf.size]))
    if starts[-1] == buf.size:  # the file ends with a newline: no last empty line
        starts, ends = starts[:-1], ends[:-1]
    has_cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 0x0D)
    lengths = ends - starts - has_cr
    bad = np.flatnonzero(lengths != RECORD_LENGTH)
    if bad.size:
        i = int(bad[0])
        more = f"; {bad.size - 1} more bad lines" if bad.size > 1 else ""
        raise ParseError(
            f"record is {int(lengths[i])} characters, expected {RECORD_LENGTH}{more}",
            source=source,
            line=i + 1,
            field="record length",
            value=text[starts[i] : starts[i] + 40].decode("latin-1"),
        )
    keep = np.ones(buf.size, dtype=bool)
    keep[newlines] = False
    keep[(ends - 1)[has_cr]] = False
    return buf[keep].reshape(-1, RECORD_LENGTH)


def _check_frame(lines: np.ndarray, text: bytes, source: str) -> None:
    """Header first, trailer last, its line count equal to the file's, only 01 in between."""
    n = lines.shape[0]
    head = lines[0, :10].tobytes()
    if head != b"00COTAHIST":
        if text.lstrip()[:1] == b"<":
            message = "an HTML page, not a COTAHIST file (B3 serves one for files it lacks)"
        else:
            message = "missing header: the first line must start with 00COTAHIST"
        raise ParseError(
            message, source=source, line=1, field="tipreg", value=head.decode("latin-1")
        )
    tail = lines[-1, :10].tobytes()
    if n < 2 or tail != b"99COTAHIST":
        raise ParseError(
            "missing trailer: the last line must start with 99COTAHIST (truncated file?)",
            source=source,
            line=n,
            field="tipreg",
            value=tail.decode("latin-1"),
        )
    count_text = lines[-1, _TRAILER_COUNT].tobytes().decode("latin-1")
    if not count_text.isdigit():
        raise ParseError(
            "trailer record count is not a number",
            source=source,
            line=n,
            field="trailer record count",
            value=count_text,
        )
    if int(count_text) != n:
        raise ParseError(
            f"trailer says the file has {int(count_text)} lines but it has {n} "
            "(header and trailer included): the file is incomplete or altered",
            source=source,
            line=n,
            field="trailer record count",
            value=count_text,
        )
    types = lines[1:-1, :2]
    bad = np.flatnonzero((types[:, 0] != ord("0")) | (types[:, 1] != ord("1")))
    if bad.size:
        i = int(bad[0])
        raise ParseError(
            "unexpected record type between header and trailer, expected 01",
            source=source,
            line=i + 2,
            field="tipreg",
            value=lines[i + 1, :10].tobytes().decode("latin-1"),
        )


# -------------------------------------------------------------------------- fields


def _numbers(raw: np.ndarray, bad_rows: np.ndarray | None) -> np.ndarray:
    """Unsigned integers from validated ASCII digit columns (-1 where the row is bad).

    Σ(b - 48)·10^k = Σ b·10^k - 48·Σ10^k: one einsum pass over the raw bytes, no digit copy.
    """
    powers = _POWERS[raw.shape[1]]
    out: np.ndarray = np.einsum("ij,j->i", raw, powers, dtype=np.int64, casting="unsafe")
    out -= 48 * int(powers.sum())
    if bad_rows is not None:
        out[bad_rows] = -1
    return out


def _dates(values: np.ndarray, field: str, row0: int, problems: list[_Problem]) -> np.ndarray:
    """Days since epoch (int32) from YYYYMMDD; impossible dates are problems; no expiry → -1."""
    year, month, day = values // 10000, values // 100 % 100, values % 100
    ok = (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)
    months = np.where(ok, (year - 1970) * 12 + month - 1, 0).astype("datetime64[M]")
    days = months.astype("datetime64[D]") + np.where(ok, day - 1, 0)
    ok &= days.astype("datetime64[M]") == months  # 31 April, 29 February 2021...
    null = values < 0  # non-digits, already reported
    if field == "datven":
        null |= values == NO_EXPIRY
    bad = ~(ok | null)
    if bad.any():
        i = int(np.argmax(bad))
        value = f"{int(values[i]):08d}"
        count = int(bad.sum())
        problems.append(_Problem(row0 + i, field, "not a valid date YYYYMMDD", value, count))
    out = days.astype(np.int64).astype(np.int32)
    out[null] = -1
    return out


def _text(
    raw: np.ndarray, plain: bool, field: str, row0: int, problems: list[_Problem]
) -> pa.Array:
    """Right-trimmed strings from fixed-width latin-1 bytes (transcoded to UTF-8 only if needed).

    ``plain`` says the bytes are printable ASCII, hence already UTF-8: one copy, one trim.
    """
    chars = np.ascontiguousarray(raw)
    n, width = chars.shape
    if plain:
        offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
        strings = pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars))
        return pc.ascii_rtrim(strings, characters=" ")
    breaks = ((chars == 0x0A) | (chars == 0x0D)).any(axis=1)
    if breaks.any():
        i = int(np.argmax(breaks))
        value = chars[i].tobytes().decode("latin-1")
        count = int(breaks.sum())
        problems.append(_Problem(row0 + i, field, "line break inside a record", value, count))
    flat = chars.ravel()
    high = flat >= 0x80
    size = 1 + high.astype(np.int64)
    out = np.repeat(flat, size)
    at = (np.cumsum(size) - size)[high]
    out[at] = 0xC0 | (flat[high] >> 6)
    out[at + 1] = 0x80 | (flat[high] & 0x3F)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(width + high.reshape(n, width).sum(axis=1), out=offsets[1:])
    strings = pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(out))
    return pc.utf8_rtrim(strings, characters=" ")


def _parse_block(block: np.ndarray, row0: int) -> tuple[dict[str, Any], list[_Problem]]:
    """Every field of a cache-sized block of type-01 records, and the problems found in it.

    One vector comparison flags, per column, bytes that are not digits (numeric fields) or not
    printable ASCII (text fields); only flagged fields take a slower path.
    """
    problems: list[_Problem] = []
    parts: dict[str, Any] = {}
    flagged: np.ndarray = (block - _LOW) > _SPAN
    suspect = np.asarray(flagged.any(axis=0))
    for f in _FIELDS:
        raw = block[:, f.start : f.end]
        dirty = bool(suspect[f.start : f.end].any())
        if f.kind == "text":
            parts[f.name] = _text(raw, not dirty, f.name, row0, problems)
            continue
        bad_rows: np.ndarray | None = None
        if dirty:
            rows = np.asarray(flagged[:, f.start : f.end].any(axis=1))
            i = int(np.argmax(rows))
            value = raw[i].tobytes().decode("latin-1")
            count = int(rows.sum())
            problems.append(_Problem(row0 + i, f.name, "not an unsigned number", value, count))
            bad_rows = rows
        values = _numbers(raw, bad_rows)
        parts[f.name] = _dates(values, f.name, row0, problems) if f.kind == "date" else values
    return parts, problems


def _decimal(unscaled: np.ndarray, type_: pa.DataType) -> pa.Array:
    """decimal128 straight from non-negative unscaled integers (the implied decimals)."""
    words = np.zeros((unscaled.size, 2), dtype=np.int64)  # little-endian: low word, high word 0
    words[:, 0] = unscaled
    return pa.Array.from_buffers(type_, unscaled.size, [None, pa.py_buffer(words)])


def _repeated(value: str, n: int) -> pa.Array:
    """A string column holding one value n times, without n Python strings."""
    data = value.encode("utf-8")
    offsets = np.arange(n + 1, dtype=np.int64) * len(data)
    strings = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data * n))
    return strings.cast(pa.string())


def _build_table(body: np.ndarray, source: str, ingested_at: dt.datetime) -> pa.Table:
    """Parse block by block (cache-sized), report the earliest problem, else assemble the table."""
    n = body.shape[0]
    starts = range(0, max(n, 1), _BLOCK_ROWS)
    problems: list[_Problem] = []
    parts: dict[str, list[Any]] = {f.name: [] for f in _FIELDS}
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:  # numpy and arrow release the GIL
        for block_parts, block_problems in pool.map(
            lambda row0: _parse_block(body[row0 : row0 + _BLOCK_ROWS], row0), starts
        ):
            problems += block_problems
            for name, values in block_parts.items():
                parts[name].append(values)
    if problems:
        first = min(problems, key=lambda p: (p.row, _FIELD_ORDER[p.field]))
        more = sum(p.count for p in problems) - 1
        suffix = f" ({more} more bad fields in this file)" if more > 0 else ""
        raise ParseError(
            first.message + suffix,
            source=source,
            line=first.row + 2,
            field=first.field,
            value=first.value,
        )
    arrays: list[pa.Array] = [pa.array(np.ones(n, dtype=np.int8))]
    for f in _FIELDS:
        target = RAW_COTAHIST_SCHEMA.field(f.name).type
        chunks = parts[f.name]
        if f.kind == "text":
            arrays.append(pa.concat_arrays(chunks))
            continue
        values = np.concatenate(chunks)
        if f.kind == "date":
            mask = values < 0
            arrays.append(pa.array(values, type=pa.int32(), mask=mask).cast(pa.date32()))
        elif f.kind == "decimal":
            arrays.append(_decimal(values, target))
        else:
            arrays.append(pa.array(values, type=pa.int64()).cast(target))
    arrays.append(_repeated(source, n))
    arrays.append(pa.array(np.arange(2, n + 2, dtype=np.int64)))
    micros = round(ingested_at.timestamp() * 1_000_000)
    stamps = pa.py_buffer(np.full(n, micros, dtype=np.int64))
    arrays.append(pa.Array.from_buffers(pa.timestamp("us", tz="UTC"), n, [None, stamps]))
    return pa.Table.from_arrays(arrays, schema=RAW_COTAHIST_SCHEMA)


# --------------------------------------------------------------------------- public


def parse_cotahist(
    data: bytes | str | Path,
    *,
    source_name: str | None = None,
    ingested_at: dt.datetime | None = None,
) -> pa.Table:
    """Every type-01 record of a COTAHIST file (annual, monthly or daily; zip or text).

    ``data`` is a path (``str`` or ``Path``) or the file's bytes. ``source_name`` names the file
    in ``source_file`` and in errors (default: the path's file name, or ``<bytes>``).
    ``ingested_at`` is lineage only (default: now; a naive datetime is taken as UTC).
    Raises :class:`ParseError` naming file, line and field on the first problem in the file.
    """
    raw, source = _read_input(data, source_name)
    is_zip = raw[:4] in ZIP_MAGIC
    if raw and not is_zip and source.lower().endswith(".zip"):
        if raw.lstrip()[:1] == b"<":
            raise ParseError("an HTML page, not a zip archive", source=source)
        raise ParseError("not a zip archive although the name ends in .zip", source=source)
    text = _unzip(raw, source) if is_zip else raw
    lines = _records(text, source)
    _check_frame(lines, text, source)
    if ingested_at is None:
        ingested_at = dt.datetime.now(dt.UTC)
    elif ingested_at.tzinfo is None:
        ingested_at = ingested_at.replace(tzinfo=dt.UTC)
    return _build_table(lines[1:-1], source, ingested_at)


def split_by_session(table: pa.Table) -> dict[dt.date, pa.Table]:
    """One table per trading session (``datpre``), in date order; zero-copy slices when sorted."""
    if table.num_rows == 0:
        return {}
    column = table.column("datpre")
    if column.null_count:
        raise ParseError("datpre has nulls: cannot split by session", field="datpre")
    days = column.cast(pa.int32()).to_numpy()
    if (np.diff(days) < 0).any():
        order = np.argsort(days, kind="stable")
        table, days = table.take(pa.array(order)), days[order]
    bounds = np.concatenate(([0], np.flatnonzero(np.diff(days)) + 1, [days.size]))
    epoch = dt.date(1970, 1, 1)
    return {
        epoch + dt.timedelta(days=int(days[a])): table.slice(int(a), int(b - a))
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    }
