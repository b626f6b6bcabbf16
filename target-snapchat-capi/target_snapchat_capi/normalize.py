"""Normalisation and hashing of user data, one pure function per field rule (contract sections 3 and 3a).

Two layers:

* ``normalize_<field>(raw) -> str | None`` turns a raw cell into the normalised plaintext the contract
  describes (``"  Person@Example.COM "`` -> ``"person@example.com"``), or None when nothing usable is left.
  ``normalize_phone`` returns ``(digits or None, outcome)``, because why a phone was (not) sent is reported.
* ``prepare_<field>(raw, ...) -> (value or None, outcome)`` is what the target calls per record: it cleans
  the cell, applies the pre-hashed checks, normalises, and for hashed fields returns the lowercase SHA-256 hex.

Every field, before its own rule (section 3a): Unicode format characters (category Cf: BOM, zero-width
space/joiner, direction marks, embeddings, isolates, tags) are dropped, then a leading Excel text apostrophe
(``'75008``), then surrounding whitespace; then NFC. Hashing is ``sha256_hex(nfc_text)``.

Outcome codes are ``<field>_<reason>`` with ``<field>`` the Snap field name and ``<reason>`` a ``Reason``;
``OUTCOME_PARTS`` splits a code back and ``summarise_outcomes`` turns the run's counter into
``{field: {"sent": n, "not_sent": {reason: n}}}`` for the report. Order of checks in every hashed preparer:

1. blank after cleaning                          -> not sent, ``empty``
2. a placeholder (``N/A``, ``null``, ``-``, ``unknown``...) -> not sent, ``placeholder``
3. 64 hex characters (any case)                  -> sent lowercased as is, ``prehashed``
4. 32 or 40 hex characters (MD5 / SHA-1 look)    -> not sent, ``foreign_hash_dropped``, in every hashed
   field as section 3a says, ``external_id`` included (a UUID without hyphens is dropped: write it with them)
5. the field's rule; nothing usable              -> not sent, a field-specific reason (below)
6. hash                                          -> sent, ``hashed`` (``ph``: where its country code came from)

Field-specific reasons: em ``not_an_address``; ph ``no_country``, ``impossible_length``, ``local_only``,
``unknown_country_code``, ``not_a_number`` (sent as ``international``, ``row_country``, ``default_country``);
fn/ln/ct/st ``no_letters``; ge ``not_a_gender``; db ``not_a_date``, ``two_digit_year``, ``out_of_range``;
st sent as ``hashed`` (a two-letter code), ``name_mapped`` or ``unmapped``; zp ``too_short``; country
``unknown_country``; madid ``zero_dropped`` (sent as ``kept``); client_ip_address ``not_an_ip``. The caller
uses ``invalid`` for a cell that is no scalar (an object, a list).

Choices where section 3a is silent (all for the match rate; the contract document lists them):

* Placeholders are not sent in any hashed field (a first name "Unknown" or "N/A" matches nobody).
  ``NA`` written as two letters is still Namibia in the country field.
* Phones: ``is_possible_number`` in its strict form (``IS_POSSIBLE``): a local-only length (a US number
  without its area code) is ``local_only``, not sent, since its hash cannot match anyone. A ``+`` counts only
  before the first digit. A trailing bracketed label without digits (``(mobile)``) is dropped with the
  extension. A ``+`` followed by a zero-led prefix that is neither ``00`` nor the row plan's prefix is
  ``unknown_country_code``. Where the row plan's own international prefix gives an impossible number (Singapore
  reads ``0044…`` as ``004`` + ``4…``), ``00`` is tried next. Full-width digits are folded (NFKC).
  A national Mexican number written with the country code but no ``+`` (``52 1 55…``) is read as ``+52``.
* Email: ``mailto:`` loses its ``?query``; a domain starting or ending with a dot is not an address.
* Dates of birth: numeric dates whose first number cannot be a month (``31/12/1990``) are read day-first
  even without ``day_first`` (and the mirror case with it); a time part after the date is ignored;
  English month names only.
* Cities and other regions keep digits; two letters in the state field pass as a code for any country.
* Zip: without a country, only the unmistakable US ZIP+4 shape (``12345-6789``) gets US rules.
* Countries: names in every CLDR locale babel ships; a name two locales give to different countries is
  dropped as ambiguous (English names and codes always win). The table of all locales is built on the first
  country that English and the codes cannot read (about a second, once per run), so files with codes or
  English names never pay for it.

Caches: names, cities, states, countries and genders repeat heavily (a few hundred distinct values in a
million rows), so their preparers keep bounded caches (``CACHE_LIMIT`` entries each, filled until full).
Phones and zips do not repeat; phones have exact fast paths instead (``_fast_international`` for numbers
after ``+`` or an international prefix that need no stripping, ``_fast_nanp`` for US/Canadian national
numbers), proved identical to phonenumbers' parse by ``tests/target/test_phone_fast_path.py``.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import ipaddress
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any, Final, NamedTuple, TypeVar

import phonenumbers
import pycountry
from babel import Locale, localedata
from phonenumbers import PhoneNumberFormat, ValidationResult
from target_snapchat_capi.capi import USER_FIELDS
from target_snapchat_capi.state_names import US_CA_SUBDIVISIONS

#: (value to send or None, outcome code ``<field>_<reason>``)
Result = tuple[str | None, str]

_T = TypeVar("_T")


class Reason(enum.StrEnum):
    """The reason part of an outcome code ``<field>_<reason>``: why a value was sent or not."""

    __hash__ = str.__hash__  # Enum's own __hash__ is Python code; outcome lookups run per cell

    # sent
    HASHED = "hashed"
    PREHASHED = "prehashed"
    KEPT = "kept"  # plain (unhashed) fields
    INTERNATIONAL = "international"  # ph: "+" or an international prefix
    ROW_COUNTRY = "row_country"  # ph: national number, the row's country
    DEFAULT_COUNTRY = "default_country"  # ph: national number, default_phone_country
    NAME_MAPPED = "name_mapped"  # st: a state/province name or abbreviation became its code
    UNMAPPED = "unmapped"  # st: another region, sent compacted
    # not sent
    EMPTY = "empty"
    PLACEHOLDER = "placeholder"
    FOREIGN_HASH = "foreign_hash_dropped"
    INVALID = "invalid"  # the cell is no scalar (set by the caller)
    NOT_AN_ADDRESS = "not_an_address"
    NO_COUNTRY = "no_country"
    IMPOSSIBLE_LENGTH = "impossible_length"
    LOCAL_ONLY = "local_only"
    UNKNOWN_COUNTRY_CODE = "unknown_country_code"
    NOT_A_NUMBER = "not_a_number"
    NO_LETTERS = "no_letters"
    NOT_A_GENDER = "not_a_gender"
    NOT_A_DATE = "not_a_date"
    TWO_DIGIT_YEAR = "two_digit_year"
    OUT_OF_RANGE = "out_of_range"
    TOO_SHORT = "too_short"
    UNKNOWN_COUNTRY = "unknown_country"
    ZERO_DROPPED = "zero_dropped"
    NOT_AN_IP = "not_an_ip"


SENT_REASONS: Final[frozenset[Reason]] = frozenset(
    {
        Reason.HASHED,
        Reason.PREHASHED,
        Reason.KEPT,
        Reason.INTERNATIONAL,
        Reason.ROW_COUNTRY,
        Reason.DEFAULT_COUNTRY,
        Reason.NAME_MAPPED,
        Reason.UNMAPPED,
    }
)


#: every outcome code -> (Snap field, reason)
OUTCOME_PARTS: Final[dict[str, tuple[str, Reason]]] = {
    f"{field}_{reason}": (field, reason) for field in USER_FIELDS for reason in Reason
}


def summarise_outcomes(counts: Mapping[str, int]) -> dict[str, dict[str, Any]]:
    """Per field: how many values were sent, and how many were not, by reason.

    ``{"ph": {"sent": 8120, "not_sent": {"no_country": 311, "impossible_length": 42}}}``, fields and reasons
    sorted. Codes that are not user-field outcomes (``value_invalid``, ``contents_invalid``) are left out.
    """
    sent: Counter[str] = Counter()
    not_sent: dict[str, dict[str, int]] = {}
    for code, count in sorted(counts.items()):
        parts = OUTCOME_PARTS.get(code)
        if parts is None or not count:
            continue
        field, reason = parts
        if reason in SENT_REASONS:
            sent[field] += count
        else:
            not_sent.setdefault(field, {})[str(reason)] = count
    return {
        field: {"sent": sent[field], "not_sent": not_sent.get(field, {})}
        for field in sorted(sent.keys() | not_sent.keys())
    }


# ----------------------------------------------------------------------------------------------------
# Shared helpers

_HEX_CHARS: Final = frozenset("0123456789abcdefABCDEF")
_FOREIGN_HASH_LENGTHS: Final = frozenset({32, 40})
CACHE_LIMIT: Final = 8192


def sha256_hex(text: str) -> str:
    """Lowercase SHA-256 hex of the UTF-8 bytes of ``text`` (callers pass normalised, NFC text)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _is_hex(text: str) -> bool:
    return _HEX_CHARS.issuperset(text)


def _format_characters() -> dict[int, None]:
    """Every Unicode Cf character (BOM, ZWSP, ZWJ, LRM/RLM, embeddings, isolates, tags) -> deleted."""
    ranges = (range(0x80, 0x20000), range(0xE0000, 0xE0080))
    return {code: None for span in ranges for code in span if unicodedata.category(chr(code)) == "Cf"}


_DROP_FORMAT: Final = _format_characters()


def clean(raw: str) -> str:
    """Section 3a's first step for every field: Cf characters and an Excel apostrophe dropped, trimmed, NFC."""
    if raw.isascii():  # ASCII has no Cf characters and is already NFC
        text = raw.strip()
        if text[:1] == "'":
            text = text[1:].strip()
        return text
    text = raw.translate(_DROP_FORMAT).strip()
    if text[:1] in ("'", "\u2019"):
        text = text[1:].strip()
    return unicodedata.normalize("NFC", text)


def _nfc(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def _compact_key(text: str) -> str:
    """Lookup key: accents, case, spaces and punctuation ignored (``Côte d'Ivoire`` -> ``cotedivoire``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isalnum()).casefold()


#: Cells that only say they are empty. Not sent in any hashed field; a phone on such a row uses the default.
BLANK_PLACEHOLDERS: Final[frozenset[str]] = frozenset(
    {
        "n/a",
        "n.a.",
        "n.a",
        "na",
        "none",
        "null",
        "nil",
        "unknown",
        "unk",
        "-",
        "--",
        "---",
        "?",
        "??",
        "#n/a",
        "(blank)",
        "(none)",
        "(null)",
        "not available",
        "not applicable",
        "undefined",
        "nan",
    }
)


def is_placeholder(text: str) -> bool:
    """True for a cell that only says it is empty (``N/A``, ``null``, ``-``)."""
    return text.strip().casefold() in BLANK_PLACEHOLDERS


def _bounded_cache(function: Callable[[str], _T], limit: int = CACHE_LIMIT) -> Callable[[str], _T]:
    """Memoise a one-argument pure function; stops adding once ``limit`` values are held (bounded memory)."""
    cache: dict[str, _T] = {}

    def cached(raw: str) -> _T:
        try:
            return cache[raw]
        except KeyError:
            pass
        value = function(raw)
        if len(cache) < limit:
            cache[raw] = value
        return value

    cached.__name__ = cached.__qualname__ = function.__name__
    cached.__doc__ = function.__doc__
    cached.cache = cache  # type: ignore[attr-defined]  # tests look inside
    return cached


def _keep_letters(text: str, keep_digits: bool) -> str:
    """Lowercased letters of every script (with their combining marks), and decimal digits if asked."""
    lowered = text.lower()
    if lowered.isalpha():
        return lowered
    if lowered.isascii():  # the common case: one C-level pass instead of a per-character loop
        return lowered.translate(_ASCII_NON_ALNUM if keep_digits else _ASCII_NON_LETTERS)
    kept: list[str] = []
    previous_kept = False
    for ch in lowered:
        if ch.isalpha() or (keep_digits and ch.isdecimal()):
            kept.append(ch)
            previous_kept = True
        elif previous_kept and unicodedata.category(ch)[0] == "M" and not _is_variation_selector(ch):
            kept.append(ch)  # a mark belongs to the letter before it (Devanagari vowel signs, Thai tones)
        else:
            previous_kept = False
    return "".join(kept)


def _is_variation_selector(ch: str) -> bool:
    code = ord(ch)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


_ASCII_NON_LETTERS: Final = {code: None for code in range(128) if not chr(code).isalpha()}
_ASCII_NON_DIGITS: Final = {code: None for code in range(128) if not chr(code).isdigit()}
_ASCII_NON_ALNUM: Final = {code: None for code in range(128) if not chr(code).isalnum()}


# ----------------------------------------------------------------------------------------------------
# Email


def normalize_email(raw: str) -> str | None:
    """``mailto:`` and ``Name <addr>`` unwrapped, lower case, one trailing dot dropped; None if no address."""
    return _email(clean(raw))


def _email(text: str) -> str | None:
    """The email rule on a cleaned cell."""
    text = text.lower()
    if ":" in text or text[-1:] in (">", "."):  # the rare wrappings, tested once for the common case
        if text.startswith("mailto:"):
            text = text[7:].split("?", 1)[0]
        if text[-1:] == ">" and "<" in text:
            text = text[text.rindex("<") + 1 : -1].strip()
        if text[-1:] == ".":
            text = text[:-1]
    local, at, domain = text.partition("@")
    if (
        not at
        or not local
        or "." not in domain
        or "@" in domain
        or ".." in text
        or domain[0] == "."
        or domain[-1] == "."
        or len(text.split(maxsplit=1)) != 1
    ):
        return None
    return text


# ----------------------------------------------------------------------------------------------------
# Names, gender, city


def normalize_name(raw: str) -> str | None:
    """First or last name: letters of every script, lower case; punctuation, digits, symbols, emoji removed."""
    return _keep_letters(clean(raw), keep_digits=False) or None


def _name(text: str) -> str | None:
    return _keep_letters(text, keep_digits=False) or None


def _city(text: str) -> str | None:
    return _keep_letters(text, keep_digits=True) or None


_GENDERS: Final[dict[str, str]] = {"m": "m", "male": "m", "man": "m", "f": "f", "female": "f", "woman": "f"}


def normalize_gender(raw: str) -> str | None:
    """``m``/``f`` from m, f, male, female, man, woman, M., F. in any case; anything else None."""
    return _gender(clean(raw))


def _gender(text: str) -> str | None:
    text = text.lower()
    return _GENDERS.get(text[:-1] if text.endswith(".") else text)


def normalize_city(raw: str) -> str | None:
    """Lower case, spaces and punctuation removed, digits kept: ``Menlo Park`` -> ``menlopark``."""
    return _keep_letters(clean(raw), keep_digits=True) or None


# ----------------------------------------------------------------------------------------------------
# Date of birth

_MONTHS: Final[dict[str, int]] = {
    name: number
    for number, full in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )
    for name in (full, full[:3])
} | {"sept": 9}
_ISO_DATE_RE: Final = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ]\d.*)?")
_TRAILING_TIME_RE: Final = re.compile(r"\s+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[ap]\.?m\.?)?$", re.IGNORECASE)
_DATE_TOKEN_RE: Final = re.compile(r"[^\W_]+")
_ORDINAL_RE: Final = re.compile(r"(\d{1,2})(?:st|nd|rd|th)", re.IGNORECASE)


def read_date_of_birth(raw: str, day_first: bool = False) -> tuple[str | None, Reason]:
    """(``YYYYMMDD`` or None, reason): the section 3a forms; ``day_first`` for numeric day/month order."""
    return _date_of_birth(clean(raw), day_first)


def _date_of_birth(text: str, day_first: bool) -> tuple[str | None, Reason]:
    if ":" in text:
        text = _TRAILING_TIME_RE.sub("", text)
    if match := _ISO_DATE_RE.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
        return _checked_date(year, month, day)
    if text.isdigit():
        if len(text) == 8:
            return _checked_date(int(text[:4]), int(text[4:6]), int(text[6:]))
        return None, Reason.NOT_A_DATE  # Excel serials and bare numbers are not read
    tokens = [_ORDINAL_RE.sub(r"\1", token) for token in _DATE_TOKEN_RE.findall(text)]
    if len(tokens) != 3:
        return None, Reason.NOT_A_DATE
    named = [token for token in tokens if token.isalpha()]
    if named:
        return _named_month_date(tokens, named)
    if not all(token.isdigit() for token in tokens):
        return None, Reason.NOT_A_DATE
    return _numeric_date(tokens, dotted="." in text and "/" not in text, day_first=day_first)


def _named_month_date(tokens: list[str], named: list[str]) -> tuple[str | None, Reason]:
    month = _MONTHS.get(named[0].lower()) if len(named) == 1 else None
    numbers = [token for token in tokens if token.isdigit()]
    if month is None or len(numbers) != 2:
        return None, Reason.NOT_A_DATE
    short, long = sorted(numbers, key=len)
    if len(long) != 4 or len(short) > 2:
        return None, Reason.TWO_DIGIT_YEAR if len(long) == 2 else Reason.NOT_A_DATE
    return _checked_date(int(long), month, int(short))


def _numeric_date(tokens: list[str], dotted: bool, day_first: bool) -> tuple[str | None, Reason]:
    first, second, third = tokens
    if len(first) == 4:
        return _checked_date(int(first), int(second), int(third))
    if len(third) != 4:
        return None, Reason.TWO_DIGIT_YEAR if len(third) == 2 else Reason.NOT_A_DATE
    a, b = int(first), int(second)
    if dotted or day_first:
        day, month = (a, b) if b <= 12 or a > 12 else (b, a)
    else:
        month, day = (a, b) if a <= 12 or b > 12 else (b, a)
    return _checked_date(int(third), month, day)


def _checked_date(year: int, month: int, day: int) -> tuple[str | None, Reason]:
    try:
        birth = dt.date(year, month, day)
    except ValueError:
        return None, Reason.NOT_A_DATE
    if year < 1900 or birth > dt.date.today():
        return None, Reason.OUT_OF_RANGE
    return f"{year:04d}{month:02d}{day:02d}", Reason.HASHED


def normalize_date_of_birth(raw: str, day_first: bool = False) -> str | None:
    """``YYYYMMDD`` from the common date formats, or None (rules in ``read_date_of_birth``)."""
    return read_date_of_birth(raw, day_first)[0]


# ----------------------------------------------------------------------------------------------------
# Country

# Colloquial, historic and export-specific names CLDR and pycountry do not carry (compact keys).
_COUNTRY_ALIASES: Final[dict[str, str]] = {
    "america": "us",
    "unitedstatesofamerica": "us",
    "uk": "gb",
    "greatbritain": "gb",
    "britain": "gb",
    "england": "gb",
    "scotland": "gb",
    "wales": "gb",
    "northernireland": "gb",
    "republicofireland": "ie",
    "eire": "ie",
    "holland": "nl",
    "russia": "ru",
    "korea": "kr",
    "republicofkorea": "kr",
    "southkorea": "kr",
    "koreasouth": "kr",
    "northkorea": "kp",
    "koreanorth": "kp",
    "turkey": "tr",
    "uae": "ae",
    "ivorycoast": "ci",
    "czechrepublic": "cz",
    "macedonia": "mk",
    "theformeryugoslavrepublicofmacedonia": "mk",
    "swaziland": "sz",
    "burma": "mm",
    "capeverde": "cv",
    "easttimor": "tl",
    "zaire": "cd",
    "drc": "cd",
    "drcongo": "cd",
    "demrepcongo": "cd",
    "congodemrep": "cd",
    "congorep": "cg",
    "libyanarabjamahiriya": "ly",
    "syrianarabrepublic": "sy",
    "vatican": "va",
    "vaticancity": "va",
    "holysee": "va",
    "palestine": "ps",
    "micronesia": "fm",
    "laos": "la",
    "brunei": "bn",
    "hongkongsar": "hk",
    "macausar": "mo",
    "macaosar": "mo",
}
_DOTTED_CODE_RE: Final = re.compile(r"[A-Za-z]\.?[A-Za-z]\.?")


def _build_country_lookup() -> dict[str, str]:
    """Codes and English names (pycountry's short, official and common names, and "Republic of Korea" forms)."""
    lookup: dict[str, str] = {}
    for country in pycountry.countries:
        alpha_2 = country.alpha_2.lower()
        lookup[alpha_2] = alpha_2
        lookup[country.alpha_3.lower()] = alpha_2
        for attribute in ("name", "official_name", "common_name"):
            name = getattr(country, attribute, None)
            if name:
                lookup.setdefault(_compact_key(name), alpha_2)
                if ", " in name:  # "Korea, Republic of" -> "Republic of Korea"
                    head, _, tail = name.partition(", ")
                    lookup.setdefault(_compact_key(f"{tail} {head}"), alpha_2)
    for alias, alpha_2 in _COUNTRY_ALIASES.items():
        lookup.setdefault(alias, alpha_2)
    return lookup


#: compact English name / alpha-2 / alpha-3 -> lowercase alpha-2
COUNTRY_LOOKUP: Final[dict[str, str]] = _build_country_lookup()
ALPHA_2_CODES: Final[frozenset[str]] = frozenset(c.alpha_2.lower() for c in pycountry.countries)
_NUMERIC_COUNTRY: Final[dict[str, str]] = {c.numeric: c.alpha_2.lower() for c in pycountry.countries}


class _CldrCountryNames:
    """Compact territory names of every CLDR language babel ships -> alpha-2; None where languages disagree.

    Built on first use (about a second): a file of codes and English names never pays for it. English CLDR
    names come first and are never overruled.
    """

    def __init__(self) -> None:
        self._table: dict[str, str | None] | None = None

    def get(self, key: str) -> str | None:
        if self._table is None:
            self._table = self._build()
        return self._table.get(key)

    @staticmethod
    def _build() -> dict[str, str | None]:
        english = dict(_territory_keys(Locale("en").territories.items()))
        table: dict[str, str | None] = dict(english)
        names: set[tuple[str, str]] = set()
        for identifier in localedata.locale_identifiers():
            if "_" in identifier and not identifier.split("_")[1].istitle():
                continue  # territory variants (de_AT, es_MX) repeat their language's names
            names.update(Locale.parse(identifier).territories.items())
        for key, alpha_2 in sorted(_territory_keys(names)):
            if key not in english and table.setdefault(key, alpha_2) not in (alpha_2, None):
                table[key] = None  # two countries share this name in different languages
        return table


def _territory_keys(pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """(compact name, alpha-2) for CLDR (code, name) pairs of ISO countries (not regions such as 001 or EU)."""
    keys: set[tuple[str, str]] = set()
    for code, name in pairs:
        alpha_2 = code.lower()
        if len(code) == 2 and alpha_2 in ALPHA_2_CODES:
            key = _compact_key(name)
            if not key.isascii() or len(key) > 2:
                keys.add((key, alpha_2))
    return keys


_CLDR_COUNTRY_NAMES: Final = _CldrCountryNames()


def _country_from_key(key: str) -> str | None:
    if code := COUNTRY_LOOKUP.get(key):
        return code
    if key.startswith("the") and (code := COUNTRY_LOOKUP.get(key[3:])):
        return code
    if key.endswith("sar") and (code := COUNTRY_LOOKUP.get(key[:-3])):
        return code
    return None


def read_country(raw: str) -> tuple[str | None, Reason]:
    """(lowercase alpha-2 or None, reason) from a code (alpha-2, alpha-3, numeric) or a name in any language."""
    text = clean(raw)
    if not text:
        return None, Reason.EMPTY
    if text.casefold() in BLANK_PLACEHOLDERS and text.casefold() != "na":
        return None, Reason.PLACEHOLDER
    if text.isdigit():
        code = _NUMERIC_COUNTRY.get(text.zfill(3)) if len(text) <= 3 else None
        return (code, Reason.HASHED) if code else (None, Reason.UNKNOWN_COUNTRY)
    if ", " in text:  # "Korea, South" -> "South Korea"; "Bahamas, The" -> "The Bahamas"
        head, _, tail = text.partition(", ")
        code, _ = read_country(f"{tail} {head}")
        if code:
            return code, Reason.HASHED
    key = _compact_key(text)
    if key.isascii() and len(key) <= 2 and not _DOTTED_CODE_RE.fullmatch(text):
        return None, Reason.UNKNOWN_COUNTRY  # a two-letter code must be written as letters ("N/A" is no code)
    code = _country_from_key(key)
    if code is None and (len(key) > 2 or not key.isascii()):
        code = _CLDR_COUNTRY_NAMES.get(key)
        if code is None and key.startswith("the"):
            code = _CLDR_COUNTRY_NAMES.get(key[3:])
    return (code, Reason.HASHED) if code else (None, Reason.UNKNOWN_COUNTRY)


_read_country_cached: Final = _bounded_cache(read_country)


def normalize_country(raw: str) -> str | None:
    """Lowercase ISO-3166 alpha-2, or None for a placeholder or a value that names no country."""
    return _read_country_cached(raw)[0]


# ----------------------------------------------------------------------------------------------------
# State

# Traditional (GPO) abbreviations of US states and Canadian provinces; pycountry has names and codes only.
_TRADITIONAL_STATE_ABBREVIATIONS: Final[dict[str, str]] = {
    "ala": "al",
    "ariz": "az",
    "ark": "ar",
    "calif": "ca",
    "cal": "ca",
    "colo": "co",
    "conn": "ct",
    "del": "de",
    "fla": "fl",
    "ill": "il",
    "ind": "in",
    "kan": "ks",
    "kans": "ks",
    "mass": "ma",
    "mich": "mi",
    "minn": "mn",
    "miss": "ms",
    "mont": "mt",
    "neb": "ne",
    "nebr": "ne",
    "nev": "nv",
    "nmex": "nm",
    "ndak": "nd",
    "sdak": "sd",
    "okla": "ok",
    "ore": "or",
    "oreg": "or",
    "penn": "pa",
    "penna": "pa",
    "tenn": "tn",
    "tex": "tx",
    "wash": "wa",
    "wva": "wv",
    "wis": "wi",
    "wisc": "wi",
    "wyo": "wy",
    "washingtondc": "dc",
    "alta": "ab",
    "man": "mb",
    "nfld": "nl",
    "newfoundland": "nl",
    "ont": "on",
    "que": "qc",
    "pei": "pe",
    "sask": "sk",
    "nwt": "nt",
}
_ISO_SUBDIVISION_RE: Final = re.compile(r"(US|CA)[-\s]([A-Z]{2})", re.IGNORECASE)


def _build_state_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for iso_code, name in US_CA_SUBDIVISIONS.items():
        lookup[_compact_key(name)] = iso_code.split("-", 1)[1].lower()
    for abbreviation, code in _TRADITIONAL_STATE_ABBREVIATIONS.items():
        lookup.setdefault(abbreviation, code)
    return lookup


#: compact US state / Canadian province name or traditional abbreviation -> lowercase two-letter code
STATE_LOOKUP: Final[dict[str, str]] = _build_state_lookup()
_US_CA_CODES: Final = frozenset(STATE_LOOKUP.values())


def read_state(raw: str) -> tuple[str | None, Reason]:
    """(normalised state or None, reason): ``hashed`` for a two-letter code, ``name_mapped``, ``unmapped``."""
    text = clean(raw)
    if match := _ISO_SUBDIVISION_RE.fullmatch(text):
        code = match.group(2).lower()
        if code in _US_CA_CODES:
            return code, Reason.NAME_MAPPED
    key = _compact_key(text)
    if len(key) == 2 and key.isalpha() and key.isascii():
        return key, Reason.HASHED
    if code := STATE_LOOKUP.get(key):
        return code, Reason.NAME_MAPPED
    compact = _keep_letters(text, keep_digits=True)
    return (compact, Reason.UNMAPPED) if compact else (None, Reason.NO_LETTERS)


def normalize_state(raw: str) -> str | None:
    """Two-letter code lowercased; US/Canadian names, ISO codes and abbreviations mapped; others compacted."""
    return read_state(raw)[0]


# ----------------------------------------------------------------------------------------------------
# Zip

_ZIP_PLUS_4_RE: Final = re.compile(r"(\d{5})[- ]\d{4}")


def read_zip(raw: str, country: str | None = None) -> tuple[str | None, Reason]:
    """(normalised zip or None, reason). ``country``: the row's lowercase alpha-2 code, or None."""
    return _zip(clean(raw), country)


def _zip(text: str, country: str | None) -> tuple[str | None, Reason]:
    if country == "us":
        if text.isdigit():
            digits = text
        elif text.isascii():
            digits = text.translate(_ASCII_NON_DIGITS)
        else:
            digits = "".join(ch for ch in text if ch.isdigit())
        if len(digits) == 4 and digits == text:
            return "0" + digits, Reason.HASHED  # a spreadsheet dropped the leading zero
        return (digits[:5], Reason.HASHED) if len(digits) >= 5 else (None, Reason.TOO_SHORT)
    if country is None and (match := _ZIP_PLUS_4_RE.fullmatch(text)):
        return match.group(1), Reason.HASHED
    compact = "".join(text.lower().split())
    return (compact, Reason.HASHED) if compact else (None, Reason.EMPTY)


def normalize_zip(raw: str, country: str | None = None) -> str | None:
    """Lowercase, no spaces; US ZIPs: 5 digits. ``country``: the row's lowercase alpha-2 code, or None."""
    return read_zip(raw, country)[0]


def normalize_external_id(raw: str) -> str | None:
    return clean(raw).lower() or None


def _external_id(text: str) -> str | None:
    return text.lower() or None


# ----------------------------------------------------------------------------------------------------
# Phone

#: a trailing extension: x123, ext. 12, extension 12, #77, ;ext=123
_PHONE_EXTENSION_RE: Final = re.compile(
    r"[\s,;]*(?:(?<![a-z])(?:e?xt(?:ension)?|x)\s*[.:=]?|\#)\s*\d+\W*$", re.IGNORECASE
)
#: a trailing bracketed label without digits: (mobile), [work]
_PHONE_LABEL_RE: Final = re.compile(r"\s*[(\[][^\d)\]]*[)\]]\W*$")
_PHONE_START_RE: Final = re.compile(r"[\d+]")
_PHONE_FIRST_CHARACTERS: Final = frozenset("+0123456789")
_EXTENSION_HINTS: Final = frozenset("xX#")  # every extension form has one (x, ext, extension, #)
_PHONE_COMPACT: Final = str.maketrans(
    {
        **{chr(code): None for code in range(128) if not chr(code).isalnum() and chr(code) != "+"},
        **{letter: phonenumbers.convert_alpha_characters_in_number(letter) for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
        **{letter: phonenumbers.convert_alpha_characters_in_number(letter) for letter in "abcdefghijklmnopqrstuvwxyz"},
    }
)
_PHONE_REGIONS: Final = frozenset(phonenumbers.SUPPORTED_REGIONS)
#: the international (IDD) prefix of each dialling plan as phonenumbers knows it (011, 0011, 001…); on demand,
#: as phonenumbers loads a region's metadata on first use
_idd_patterns: dict[str, re.Pattern[str] | None] = {}


def _idd_pattern(region: str) -> re.Pattern[str] | None:
    try:
        return _idd_patterns[region]
    except KeyError:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        prefix = metadata.international_prefix if metadata is not None else None
        pattern = _idd_patterns[region] = re.compile(prefix) if prefix else None
        return pattern


_NANP_FAST_REGIONS: Final = frozenset({"US", "CA"})
_NANP_AREA_FIRST: Final = frozenset("23456789")
_MEXICO_RETIRED_PREFIXES: Final = (("044", 13), ("045", 13), ("01", 12))
_PARSE_ERROR_REASONS: Final = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: Reason.UNKNOWN_COUNTRY_CODE,
    phonenumbers.NumberParseException.NOT_A_NUMBER: Reason.NOT_A_NUMBER,
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: Reason.IMPOSSIBLE_LENGTH,
    phonenumbers.NumberParseException.TOO_SHORT_NSN: Reason.IMPOSSIBLE_LENGTH,
    phonenumbers.NumberParseException.TOO_LONG: Reason.IMPOSSIBLE_LENGTH,
}
_POSSIBILITY_REASONS: Final = {
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: Reason.LOCAL_ONLY,
    ValidationResult.INVALID_COUNTRY_CODE: Reason.UNKNOWN_COUNTRY_CODE,
}
_MAX_PHONE_DIGITS: Final = 20

#: (E.164 digits without "+" or None, reason)
PhoneResult = tuple[str | None, Reason]


def phone_digits(raw: str) -> tuple[bool, str]:
    """(whether a ``+`` leads, digits): prefix text, quotes, brackets, extension, labels gone; letters dialled."""
    text = clean(raw)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)  # full-width digits and plus signs (East Asian data)
    if text[:1] not in _PHONE_FIRST_CHARACTERS:
        start = _PHONE_START_RE.search(text)
        if start is None:
            return False, ""
        text = text[start.start() :]
    if not _EXTENSION_HINTS.isdisjoint(text):
        text = _PHONE_EXTENSION_RE.sub("", text)
    if text[-1:] in (")", "]"):
        text = _PHONE_LABEL_RE.sub("", text)
    if not text.isascii():  # digits of other scripts (Arabic-Indic, Devanagari…) dialled as 0-9
        text = "".join(
            str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text if ch.isascii() or ch.isdecimal()
        )
    compact = text.translate(_PHONE_COMPACT)
    plus = compact.startswith("+")
    return plus, compact.replace("+", "")


def _possible_e164(text: str, region: str | None) -> PhoneResult:
    """The general path: phonenumbers' parse and its possible-length check (strict: not local-only)."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        return None, _PARSE_ERROR_REASONS.get(error.error_type, Reason.NOT_A_NUMBER)
    possibility = phonenumbers.is_possible_number_with_reason(number)
    if possibility != ValidationResult.IS_POSSIBLE:
        return None, _POSSIBILITY_REASONS.get(possibility, Reason.IMPOSSIBLE_LENGTH)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)[1:], Reason.HASHED


def _fast_nanp(digits: str, region: str | None) -> PhoneResult | None:
    """What phonenumbers gives a US/Canadian national number of the commonest shapes, without parsing; else None.

    Ten digits, or eleven with the leading 1, where the area code starts with 2-9: phonenumbers strips
    nothing from those and their length is the plan's. ``tests/target/test_phone_fast_path.py`` proves
    agreement with the general path.
    """
    if region in _NANP_FAST_REGIONS:
        length = len(digits)
        if length == 10 and digits[0] in _NANP_AREA_FIRST:
            return "1" + digits, Reason.HASHED
        if length == 11 and digits[0] == "1" and digits[1] in _NANP_AREA_FIRST:
            return digits, Reason.HASHED
    return None


class _CallingCodePlan(NamedTuple):
    """What phonenumbers' parse and possible-length check use of one country calling code's metadata."""

    national_prefix: re.Pattern[str] | None  # national_prefix_for_parsing
    possible_lengths: frozenset[int]
    local_only_lengths: frozenset[int]


_calling_code_plans: dict[int, _CallingCodePlan | None] = {}


def _calling_code_plan(code: int) -> _CallingCodePlan | None:
    try:
        return _calling_code_plans[code]
    except KeyError:
        pass
    region = phonenumbers.region_code_for_country_code(code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(code, region)
    plan = None
    if metadata is not None and metadata.general_desc is not None:
        lengths = metadata.general_desc.possible_length or ()
        if lengths and lengths[0] != -1:
            prefix = metadata.national_prefix_for_parsing
            plan = _CallingCodePlan(
                re.compile(prefix) if prefix else None,
                frozenset(lengths),
                frozenset(metadata.general_desc.possible_length_local_only or ()),
            )
    _calling_code_plans[code] = plan
    return plan


def _fast_international(digits: str) -> PhoneResult | None:
    """What phonenumbers gives ``+`` + ``digits`` when nothing needs stripping, without parsing; else None.

    The country code is read as phonenumbers reads it (the first 1-3 digits that are a calling code); the
    rest must not start with 0 or with the plan's national prefix (phonenumbers would try to strip it) and
    its length must be one of the plan's possible lengths, not a local-only one. Anything else takes the
    general path.
    """
    if digits[:1] in ("", "0"):
        return None
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    national = digits[size:]
    plan = _calling_code_plan(code)
    if (
        plan is None
        or len(national) not in plan.possible_lengths
        or len(national) in plan.local_only_lengths
        or national[:1] == "0"
        or (plan.national_prefix is not None and plan.national_prefix.match(national))
    ):
        return None
    return digits, Reason.HASHED


def _international(digits: str, fast: bool) -> PhoneResult:
    """Digits after ``+`` or an international prefix: country code first."""
    if len(digits) == 13 and digits.startswith("521"):
        digits = "52" + digits[3:]  # Mexico's retired mobile "1" after +52
    if fast and (result := _fast_international(digits)) is not None:
        return result
    return _possible_e164("+" + digits, None)


def _national(digits: str, region: str, fast: bool) -> PhoneResult:
    if region == "MX":
        for prefix, length in _MEXICO_RETIRED_PREFIXES:  # 044/045 (mobile) and 01 (long distance), retired
            if len(digits) == length and digits.startswith(prefix):
                digits = digits[len(prefix) :]
                break
        else:
            if len(digits) == 13 and digits.startswith("521"):
                return _international(digits, fast)
    if fast and (result := _fast_nanp(digits, region)) is not None:
        return result
    return _possible_e164(digits, region)


def _strip_idd(digits: str, plan: str | None) -> str | None:
    """The digits after the plan's international prefix (as phonenumbers reads it), or None if none leads."""
    pattern = _idd_pattern(plan) if plan else None
    if pattern is None:
        return None
    match = pattern.match(digits)
    if match is None or match.end() >= len(digits) or digits[match.end()] == "0":
        return None
    return digits[match.end() :]


def e164_from_digits(
    plus: bool, digits: str, row_region: str | None, default_region: str | None, fast: bool = True
) -> tuple[str | None, Reason]:
    """The phone rules of section 3a on (leading ``+``, digits); regions are upper-case alpha-2 or None.

    ``fast=False`` forces the general phonenumbers path (the fast-path test compares both).
    """
    if not digits:
        return None, Reason.NOT_A_NUMBER
    if len(digits) > _MAX_PHONE_DIGITS:
        return None, Reason.IMPOSSIBLE_LENGTH
    if row_region not in _PHONE_REGIONS:
        row_region = None  # a territory without a dialling plan of its own (AQ, BV…): the default decides
    plan = row_region or default_region
    if plus:
        return _after_plus(digits, plan, fast)
    if digits[0] == "0" and (international := _after_international_prefix(digits, plan, fast)) is not None:
        return international
    if plan is None or plan not in _PHONE_REGIONS:
        return None, Reason.NO_COUNTRY
    e164, reason = _national(digits, plan, fast)
    if e164 is None:
        return None, reason
    return e164, Reason.ROW_COUNTRY if row_region else Reason.DEFAULT_COUNTRY


def _sent_as_international(result: PhoneResult) -> PhoneResult:
    e164, reason = result
    return e164, Reason.INTERNATIONAL if e164 else reason


def _after_plus(digits: str, plan: str | None, fast: bool) -> PhoneResult:
    if digits[0] == "0":  # "+001…", "+0064…", "+011…": the prefix after "+" is noise
        rest = _strip_idd(digits, plan)
        if rest is None and digits.startswith("00") and digits[2:3] not in ("", "0"):
            rest = digits[2:]
        if rest is None:
            return None, Reason.UNKNOWN_COUNTRY_CODE
        digits = rest
    return _sent_as_international(_international(digits, fast))


def _after_international_prefix(digits: str, plan: str | None, fast: bool) -> PhoneResult | None:
    """The plan's own international prefix (011, 0011, 001…) first, then 00; None when neither leads."""
    rest = _strip_idd(digits, plan)
    if rest is not None:
        result = _international(rest, fast)
        if result[0] is not None or not digits.startswith("00") or rest == digits[2:]:
            return _sent_as_international(result)
    if digits.startswith("00"):
        return _sent_as_international(_international(digits[2:], fast))
    return None


def read_phone(
    raw: str, row_country: str | None, default_country: str | None, fast: bool = True
) -> tuple[str | None, Reason]:
    """(E.164 digits without ``+`` or None, reason) for a raw phone cell.

    ``row_country``: the row's country as alpha-2 in any case, or None when the row has none or it cannot be
    read; ``default_country`` (``default_phone_country``) is then used, for national numbers and for the
    dialling plan's international prefixes.
    """
    plus, digits = phone_digits(raw)
    return e164_from_digits(
        plus,
        digits,
        row_country.upper() if row_country else None,
        default_country.upper() if default_country else None,
        fast,
    )


def normalize_phone(raw: str, row_country: str | None, default_country: str | None) -> Result:
    """E.164 digits without ``+`` (``(415) 555-0100`` with US -> ``14155550100``), and the outcome code."""
    digits, reason = read_phone(raw, row_country, default_country)
    return digits, f"ph_{reason}"


# ----------------------------------------------------------------------------------------------------
# Preparers: raw cell -> (value to send or None, outcome). What the event builder calls per record.


def _outcomes(field: str) -> dict[Reason, str]:
    return {reason: f"{field}_{reason}" for reason in Reason}


def _precheck(codes: Mapping[Reason, str], text: str) -> Result | None:
    """The checks before the field's rule on a cleaned cell: blank, placeholder, pre-hashed, foreign hash."""
    if not text:
        return None, codes[Reason.EMPTY]
    length = len(text)
    if length == 64 and _is_hex(text):
        return text.lower(), codes[Reason.PREHASHED]
    if length in _FOREIGN_HASH_LENGTHS and _is_hex(text):
        return None, codes[Reason.FOREIGN_HASH]
    if length <= 15 and not text[0].isdigit() and text.casefold() in BLANK_PLACEHOLDERS:
        return None, codes[Reason.PLACEHOLDER]
    return None


def _hashed_preparer(
    field: str,
    reader: Callable[[str], tuple[str | None, Reason]],
    cached: bool = False,
) -> Callable[[str], Result]:
    codes = _outcomes(field)

    def prepare(raw: str) -> Result:
        text = clean(raw)
        early = _precheck(codes, text)
        if early is not None:
            return early
        normalised, reason = reader(text)
        if normalised is None:
            return None, codes[reason]
        return sha256_hex(normalised), codes[reason]

    prepare.__name__ = prepare.__qualname__ = f"prepare_{field}"
    prepare.__doc__ = f"Raw {field} cell -> (SHA-256 hex or None, outcome)."
    return _bounded_cache(prepare) if cached else prepare


def _reader(normalizer: Callable[[str], str | None], failure: Reason) -> Callable[[str], tuple[str | None, Reason]]:
    def read(text: str) -> tuple[str | None, Reason]:
        value = normalizer(text)
        return (value, Reason.HASHED) if value is not None else (None, failure)

    return read


# Readers take the cleaned cell: the preparer cleans once.
prepare_em = _hashed_preparer("em", _reader(_email, Reason.NOT_AN_ADDRESS))
prepare_fn = _hashed_preparer("fn", _reader(_name, Reason.NO_LETTERS), cached=True)
prepare_ln = _hashed_preparer("ln", _reader(_name, Reason.NO_LETTERS), cached=True)
prepare_ge = _hashed_preparer("ge", _reader(_gender, Reason.NOT_A_GENDER), cached=True)
prepare_ct = _hashed_preparer("ct", _reader(_city, Reason.NO_LETTERS), cached=True)
prepare_st = _hashed_preparer("st", read_state, cached=True)
prepare_external_id = _hashed_preparer("external_id", _reader(_external_id, Reason.EMPTY))
_DB_CODES: Final = _outcomes("db")
_ZP_CODES: Final = _outcomes("zp")
_PH_CODES: Final = _outcomes("ph")
_COUNTRY_CODES: Final = _outcomes("country")


def prepare_db(raw: str, day_first: bool = False) -> Result:
    """Raw date of birth -> (SHA-256 of ``YYYYMMDD`` or None, outcome); ``day_first`` for numeric dates."""
    text = clean(raw)
    early = _precheck(_DB_CODES, text)
    if early is not None:
        return early
    birth, reason = _date_of_birth(text, day_first)
    return (sha256_hex(birth) if birth else None), _DB_CODES[reason]


def _prepare_country(raw: str) -> Result:
    text = clean(raw)
    if text.casefold() == "na":
        return sha256_hex("na"), _COUNTRY_CODES[Reason.HASHED]
    early = _precheck(_COUNTRY_CODES, text)
    if early is not None:
        return early
    code, reason = _read_country_cached(text)
    return (sha256_hex(code) if code else None), _COUNTRY_CODES[reason]


prepare_country: Final = _bounded_cache(_prepare_country)
prepare_country.__name__ = "prepare_country"


def prepare_zp(raw: str, country: str | None = None) -> Result:
    """``country``: the row's lowercase alpha-2 code (already normalised), or None."""
    text = clean(raw)
    early = _precheck(_ZP_CODES, text)
    if early is not None:
        return early
    zip_code, reason = _zip(text, country)
    return (sha256_hex(zip_code) if zip_code else None), _ZP_CODES[reason]


def prepare_ph(raw: str, row_country: str | None = None, default_country: str | None = None) -> Result:
    """Raw phone -> (SHA-256 of the E.164 digits or None, outcome). Countries: alpha-2 in any case, or None.

    Pass ``default_country`` also when the row's country is unreadable (``row_country=None``): section 3a.
    """
    text = clean(raw)
    early = _precheck(_PH_CODES, text)
    if early is not None:
        return early
    digits, reason = read_phone(text, row_country, default_country)
    return (sha256_hex(digits) if digits else None), _PH_CODES[reason]


_ALL_ZERO_MADID: Final = frozenset("0-")


def prepare_madid(raw: str) -> Result:
    """Mobile advertising id: lower case, hyphens kept, braces dropped, NOT hashed (v3); all-zero not sent."""
    madid = clean(raw).lower()
    if madid.startswith("{") and madid.endswith("}"):
        madid = madid[1:-1].strip()
    if not madid:
        return None, "madid_empty"
    if _ALL_ZERO_MADID.issuperset(madid):
        return None, "madid_zero_dropped"
    return madid, "madid_kept"


def prepare_client_ip_address(raw: str) -> Result:
    text = clean(raw)
    if not text:
        return None, "client_ip_address_empty"
    try:
        return str(ipaddress.ip_address(text)), "client_ip_address_kept"
    except ValueError:
        return None, "client_ip_address_not_an_ip"


def _plain_preparer(field: str) -> Callable[[str], Result]:
    kept, empty = f"{field}_kept", f"{field}_empty"

    def prepare(raw: str) -> Result:
        text = clean(raw)
        return (text, kept) if text else (None, empty)

    prepare.__name__ = prepare.__qualname__ = f"prepare_{field}"
    return prepare


prepare_client_user_agent = _plain_preparer("client_user_agent")
prepare_sc_click_id = _plain_preparer("sc_click_id")


def simple_preparers(day_first: bool = False) -> dict[str, Callable[[str], Result]]:
    """Single-argument preparers by Snap field (``ph`` and ``zp`` need the row's country: call them directly).

    ``day_first``: the setting for numeric dates of birth (``03/04/1990`` is 3 April when true).
    """
    return {
        "em": prepare_em,
        "fn": prepare_fn,
        "ln": prepare_ln,
        "ge": prepare_ge,
        "db": partial(prepare_db, day_first=True) if day_first else prepare_db,
        "ct": prepare_ct,
        "st": prepare_st,
        "country": prepare_country,
        "external_id": prepare_external_id,
        "madid": prepare_madid,
        "client_ip_address": prepare_client_ip_address,
        "client_user_agent": prepare_client_user_agent,
        "sc_click_id": prepare_sc_click_id,
    }


SIMPLE_PREPARERS: Final[dict[str, Callable[[str], Result]]] = simple_preparers()
