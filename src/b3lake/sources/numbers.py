"""Strict parsing of B3's locale-formatted numbers.

pt-BR ``4.273.841.357`` / ``2,483``; en-US ``99,015,750,716`` / ``2.663``.

Strict on purpose: B3 once printed a reductor as ``18.296.80337677573``; a lenient parser would
turn that into a plausible but wrong number. Anything that is not a well-formed number in the
given language raises :class:`ParseError` naming the field and the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from b3lake.errors import ParseError

PT_BR = "pt-br"
EN_US = "en-us"
LANGUAGES = (PT_BR, EN_US)

# (thousands separator, decimal separator) per language.
_SEPARATORS = {PT_BR: (".", ","), EN_US: (",", ".")}


def _patterns(thousands: str, decimal: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    t, d = re.escape(thousands), re.escape(decimal)
    integer = rf"(?:\d{{1,3}}(?:{t}\d{{3}})+|\d+)"
    return re.compile(rf"^[+-]?{integer}$"), re.compile(rf"^[+-]?{integer}(?:{d}\d+)?$")


_PATTERNS = {lang: _patterns(*seps) for lang, seps in _SEPARATORS.items()}


def normalize_language(language: str, *, source: str | None = None) -> str:
    """Return ``pt-br`` or ``en-us`` for any casing/underscore spelling; reject anything else."""
    lang = language.strip().lower().replace("_", "-")
    if lang not in LANGUAGES:
        raise ParseError(
            f"unknown language, expected one of {LANGUAGES}",
            source=source,
            field="language",
            value=language,
        )
    return lang


def parse_int(
    text: str,
    *,
    language: str,
    source: str | None = None,
    line: int | None = None,
    field: str | None = None,
) -> int:
    """Parse an integer written with the language's thousands separator (``1.234`` pt-BR)."""
    value = str(text).strip()
    if not _PATTERNS[language][0].match(value):
        raise ParseError(
            f"not a valid {language} integer", source=source, line=line, field=field, value=text
        )
    return int(value.replace(_SEPARATORS[language][0], ""))


def parse_decimal(
    text: str,
    *,
    language: str,
    source: str | None = None,
    line: int | None = None,
    field: str | None = None,
) -> float:
    """Parse a decimal in the language's format (``15.019.274,20`` pt-BR, ``2.663`` en-US)."""
    value = str(text).strip()
    if not _PATTERNS[language][1].match(value):
        raise ParseError(
            f"not a valid {language} number", source=source, line=line, field=field, value=text
        )
    thousands, decimal = _SEPARATORS[language]
    return float(Decimal(value.replace(thousands, "").replace(decimal, ".")))


def decimal_places(text: str, *, language: str) -> int:
    """Digits after the decimal separator (used to size rounding tolerances)."""
    _, decimal = _SEPARATORS[language]
    value = str(text).strip()
    return len(value.rsplit(decimal, 1)[1]) if decimal in value else 0


def guess_language(values: Iterable[str], *, source: str | None = None) -> str | None:
    """Infer the number language from values that are unambiguous; None if none of them is.

    ``1.234,5`` or ``1.234.567`` can only be pt-BR, ``1,234.5`` or ``1,234,567`` only en-US;
    ``2,483`` could be either and gives no evidence. Conflicting evidence raises ParseError.
    """
    votes: dict[str, str] = {}
    for raw in values:
        value = str(raw).strip()
        dots, commas = value.count("."), value.count(",")
        if dots and commas:
            lang = PT_BR if value.rfind(",") > value.rfind(".") else EN_US
        elif dots > 1:
            lang = PT_BR
        elif commas > 1:
            lang = EN_US
        else:
            continue
        votes.setdefault(lang, value)
    if len(votes) > 1:
        raise ParseError(
            "numbers mix pt-br and en-us formats",
            source=source,
            field="language",
            value=sorted(votes.values()),
        )
    return next(iter(votes), None)
