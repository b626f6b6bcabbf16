"""Normalisation and hashing of user data, one pure function per field rule (contract section 3).

Two layers:

* ``normalize_<field>(raw) -> str | None`` turns a raw cell into the normalised plaintext the contract
  describes (``"  Person@Example.COM "`` -> ``"person@example.com"``), or None when nothing usable is left.
  ``normalize_phone`` also returns an outcome, because how a phone got its country code is worth reporting.
* ``prepare_<field>(raw, ...) -> (value or None, outcome)`` is what the target calls per record: it applies
  the pre-hashed checks, normalises, and for hashed fields returns the lowercase SHA-256 hex, ready to send.

Hashing is ``sha256_hex(nfc_text)``: SHA-256 over the UTF-8 bytes of the normalised (Unicode NFC) value, as
lowercase hex. Every normaliser applies NFC first, so NFC and NFD spellings of a name give the same hash.

Order of checks in every hashed ``prepare_*`` (the contract's "never hash twice" rule comes first):

1. blank after trimming                        -> not sent, ``<field>_empty``
2. 64 hex characters (any case)                -> sent lowercased as is, ``<field>_prehashed``
3. 32 or 40 hex characters (MD5 / SHA-1 look)  -> not sent, ``<field>_foreign_hash_dropped``
   (not applied to ``external_id``: an opaque id may legitimately be 32 hex digits, e.g. a UUID without
   hyphens)
4. normalise; nothing usable                   -> not sent, ``<field>_invalid``
5. hash                                        -> sent, ``<field>_hashed``

Outcome codes (``<field>`` is the Snap field name; the caller counts them in the run report's
``normalisation``):

* every hashed field: ``_empty``, ``_prehashed``, ``_foreign_hash_dropped``, ``_invalid``, ``_hashed``;
* ``ph`` replaces ``ph_hashed`` by where its country code came from: ``ph_international`` (``+`` or ``00``
  prefix), ``ph_row_country`` (the row's country), ``ph_default_country`` (``default_phone_country``); and
  adds ``ph_unknown_country`` (national number, no country known: not sent);
* ``st`` adds ``st_name_mapped`` (a US state or Canadian province name turned into its code) and
  ``st_unmapped`` (another region name, sent lowercase without spaces or punctuation);
* plain (unhashed) fields: ``madid_kept``, ``madid_zero_dropped`` (the all-zero id a device sends when ad
  tracking is limited: it identifies nobody), ``client_ip_address_kept`` / ``_invalid``,
  ``client_user_agent_kept``, ``sc_click_id_kept``, and ``_empty`` for each.

Decisions worth knowing:

* Phones go through ``phonenumbers`` and must pass ``is_valid_number`` (not only ``is_possible_number``): a
  hash of a number outside any assigned range can never match, would inflate the match-key coverage in the
  report, and ``is_possible_number`` also accepts 7-digit US local numbers that have no area code. The price
  is ~9 us per phone on top of ~15 us for ``parse``; keep ``phonenumbers`` current so new ranges are known.
  A leading ``+`` or ``00`` means a country code follows (``011`` too, for NANP rows, as phonenumbers knows
  it); a national number uses the row's country, else ``default_phone_country``; with neither it is not sent.
  Extensions are dropped (E.164 has none).
* Emails: trim and lowercase; a value that does not look like ``local@domain.tld`` (or has inner whitespace)
  is invalid rather than repaired.
* Names and cities keep only letters (and combining marks, for scripts that need them) and, for cities,
  digits: spaces, hyphens, apostrophes and dots go (``Jean-Luc`` -> ``jeanluc``, ``Menlo Park`` ->
  ``menlopark``).
* Dates of birth: ISO ``YYYY-MM-DD`` (also with a time part), ``YYYYMMDD``, ``YYYY/MM/DD``, slashed or dashed
  ``MM/DD/YYYY`` (US order; read as day-first only when the first number is above 12), dotted ``DD.MM.YYYY``
  (European order), and month names (``July 4, 1990``, ``4 Jul 1990``, ``04-Jul-1990``). Two-digit years are
  invalid (the century would be a guess), and so are dates before 1900 or in the future.
* ZIP codes: lowercase without spaces. US rules (first 5 digits; 3-4 digit values zero-padded, as spreadsheets
  strip leading zeros) apply when the row's country is US, or when no country is given and the value has the
  unmistakable US ZIP+4 shape ``12345-6789``.
* Countries: alpha-2 codes, alpha-3 codes, names, official and common names (accents and punctuation ignored)
  and a few everyday aliases (``USA``, ``UK``, ``England``...) become lowercase alpha-2. ``UK`` is read as
  ``gb``.
* States: two letters pass through lowercased; US state (incl. DC and territories) and Canadian province names
  are mapped to their codes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Final

import phonenumbers
import pycountry

#: (value to send or None, outcome code)
Result = tuple[str | None, str]

_HEX_CHARS: Final = frozenset("0123456789abcdefABCDEF")
_FOREIGN_HASH_LENGTHS: Final = frozenset({32, 40})


def sha256_hex(text: str) -> str:
    """Lowercase SHA-256 hex of the UTF-8 bytes of ``text`` (callers pass normalised, NFC text)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _is_hex(text: str) -> bool:
    return _HEX_CHARS.issuperset(text)


def _nfc(text: str) -> str:
    # ASCII is already NFC; skipping the call keeps the common case cheap.
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def _compact_key(text: str) -> str:
    """Lookup key: accents, case, spaces and punctuation ignored (``Côte d'Ivoire`` -> ``cotedivoire``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isalnum()).casefold()


_ASCII_NON_LETTERS: Final = {code: None for code in range(128) if not chr(code).isalpha()}
_ASCII_NON_ALNUM: Final = {code: None for code in range(128) if not chr(code).isalnum()}


def _letters_only(text: str, keep_digits: bool = False) -> str:
    """Lowercased letters (plus combining marks, and digits if asked) of NFC text."""
    lowered = _nfc(text).lower()
    if lowered.isalpha():
        return lowered
    if lowered.isascii():  # the common case: one C-level pass instead of a per-character loop
        return lowered.translate(_ASCII_NON_ALNUM if keep_digits else _ASCII_NON_LETTERS)
    return "".join(
        ch
        for ch in lowered
        if ch.isalpha() or (keep_digits and ch.isdigit()) or unicodedata.category(ch).startswith("M")
    )


# ----------------------------------------------------------------------------------------------------
# Lookup tables, built once at import.

_COUNTRY_ALIASES: Final[dict[str, str]] = {
    "usa": "us",
    "unitedstatesofamerica": "us",
    "america": "us",
    "uk": "gb",
    "greatbritain": "gb",
    "england": "gb",
    "scotland": "gb",
    "wales": "gb",
    "northernireland": "gb",
    "britain": "gb",
    "russia": "ru",
    "southkorea": "kr",
    "korea": "kr",
    "turkey": "tr",
    "holland": "nl",
    "thenetherlands": "nl",
    "uae": "ae",
    "ivorycoast": "ci",
    "czechrepublic": "cz",
    "macedonia": "mk",
    "swaziland": "sz",
    "burma": "mm",
    "capeverde": "cv",
    "vatican": "va",
    "vaticancity": "va",
    "palestine": "ps",
    "micronesia": "fm",
    "drc": "cd",
    "drcongo": "cd",
    "democraticrepublicofthecongo": "cd",
    "republicofthecongo": "cg",
}


def _build_country_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for country in pycountry.countries:
        alpha_2 = country.alpha_2.lower()
        lookup[alpha_2] = alpha_2
        lookup[country.alpha_3.lower()] = alpha_2
        for attribute in ("name", "official_name", "common_name"):
            name = getattr(country, attribute, None)
            if name:
                lookup.setdefault(_compact_key(name), alpha_2)
    for alias, alpha_2 in _COUNTRY_ALIASES.items():
        lookup.setdefault(alias, alpha_2)
    return lookup


def _build_state_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for country_code in ("US", "CA"):
        for subdivision in pycountry.subdivisions.get(country_code=country_code) or ():
            code = subdivision.code.split("-", 1)[1].lower()
            lookup[_compact_key(subdivision.name)] = code
    # Common spellings pycountry does not carry.
    lookup.update({"washingtondc": "dc", "dc": "dc", "quebec": "qc", "pei": "pe", "newfoundland": "nl"})
    return lookup


#: compact country name / alpha-2 / alpha-3 -> lowercase alpha-2
COUNTRY_LOOKUP: Final[dict[str, str]] = _build_country_lookup()
#: compact US state / Canadian province name -> lowercase two-letter code
STATE_LOOKUP: Final[dict[str, str]] = _build_state_lookup()
ALPHA_2_CODES: Final[frozenset[str]] = frozenset(c.alpha_2.lower() for c in pycountry.countries)

_GENDERS: Final[dict[str, str]] = {"m": "m", "male": "m", "man": "m", "f": "f", "female": "f", "woman": "f"}

_EMAIL_RE: Final = re.compile(r"[^@\s]+@[^@\s.][^@\s]*\.[^@\s]+")
_ZIP_PLUS_4_RE: Final = re.compile(r"(\d{5})[- ]\d{4}")
_ISO_DATE_RE: Final = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?")
_COMPACT_DATE_RE: Final = re.compile(r"(\d{4})(\d{2})(\d{2})")
_MONTH_FIRST_DATE_RE: Final = re.compile(r"(\d{1,2})[/-](\d{1,2})[/-](\d{4})")
_DAY_FIRST_DATE_RE: Final = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_MONTH_NAME_FORMATS: Final = ("%B %d %Y", "%b %d %Y", "%d %B %Y", "%d %b %Y")
_ALL_ZERO_MADID: Final = "00000000-0000-0000-0000-000000000000"


# ----------------------------------------------------------------------------------------------------
# Normalisers: raw cell -> normalised plaintext (or None).


def normalize_email(raw: str) -> str | None:
    email = _nfc(raw).strip().lower()
    return email if _EMAIL_RE.fullmatch(email) else None


def normalize_name(raw: str) -> str | None:
    """First or last name: lowercase letters only (NFC), punctuation and spaces removed."""
    return _letters_only(raw) or None


def normalize_gender(raw: str) -> str | None:
    return _GENDERS.get(raw.strip().strip(".").lower())


def _valid_date(year: int, month: int, day: int) -> str | None:
    if not 1900 <= year <= dt.date.today().year:
        return None
    try:
        birth = dt.date(year, month, day)
    except ValueError:
        return None
    return birth.strftime("%Y%m%d") if birth <= dt.date.today() else None


def normalize_date_of_birth(raw: str) -> str | None:
    """YYYYMMDD from the common date formats (formats and ambiguity: see the module docstring)."""
    text = raw.strip()
    if match := _ISO_DATE_RE.fullmatch(text) or _COMPACT_DATE_RE.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
        return _valid_date(year, month, day)
    if match := _MONTH_FIRST_DATE_RE.fullmatch(text):
        first, second, year = (int(part) for part in match.groups())
        month, day = (second, first) if first > 12 else (first, second)
        return _valid_date(year, month, day)
    if match := _DAY_FIRST_DATE_RE.fullmatch(text):
        day, month, year = (int(part) for part in match.groups())
        return _valid_date(year, month, day)
    words = " ".join(text.replace(",", " ").replace("-", " ").split())
    for date_format in _MONTH_NAME_FORMATS:
        try:
            parsed = dt.datetime.strptime(words, date_format)
        except ValueError:
            continue
        return _valid_date(parsed.year, parsed.month, parsed.day)
    return None


def normalize_city(raw: str) -> str | None:
    """Lowercase, no spaces or punctuation: ``Menlo Park`` -> ``menlopark``."""
    return _letters_only(raw, keep_digits=True) or None


@lru_cache(maxsize=4096)
def _state(raw: str) -> tuple[str | None, bool]:
    """(normalised state, whether a name was mapped to a code)."""
    text = _nfc(raw).strip().lower()
    if len(text) == 2 and text.isalpha():
        return text, False
    code = STATE_LOOKUP.get(_compact_key(text))
    if code:
        return code, True
    return _letters_only(text) or None, False


def normalize_state(raw: str) -> str | None:
    """Two-letter code lowercased; US state and Canadian province names mapped; other regions compacted."""
    return _state(raw)[0]


@lru_cache(maxsize=4096)
def normalize_country(raw: str) -> str | None:
    """Lowercase ISO-3166 alpha-2 from a code (alpha-2 or alpha-3) or a name; None if unknown."""
    text = raw.strip()
    key = _compact_key(text)
    if len(key) == 2 and not (len(text) == 2 and text.isalpha()):
        return None  # "N/A" is not Namibia: a two-letter code must be written as two letters
    return COUNTRY_LOOKUP.get(key)


#: Cells that mean "no value" in exports; treated as blank, so the default country still applies to phones.
BLANK_PLACEHOLDERS: Final[frozenset[str]] = frozenset(
    {"n/a", "n.a.", "na", "none", "null", "nil", "unknown", "-", "--", "?", "#n/a", "(blank)"}
)


def is_placeholder(text: str) -> bool:
    """True for a cell that only says it is empty (``N/A``, ``null``, ``-``)."""
    return text.strip().casefold() in BLANK_PLACEHOLDERS


def normalize_zip(raw: str, country: str | None = None) -> str | None:
    """Lowercase, no spaces; US ZIPs: 5 digits. ``country``: the row's lowercase alpha-2 code, or None."""
    text = raw.strip()
    if country == "us":
        digits = "".join(ch for ch in text if ch.isdigit())
        if len(digits) in (3, 4) and digits == text:
            return digits.zfill(5)
        return digits[:5] if len(digits) >= 5 else None
    if country is None and (match := _ZIP_PLUS_4_RE.fullmatch(text)):
        return match.group(1)
    compact = "".join(_nfc(text).lower().split())
    return compact or None


def normalize_external_id(raw: str) -> str | None:
    return _nfc(raw).strip().lower() or None


def normalize_phone(raw: str, row_country: str | None, default_country: str | None) -> Result:
    """E.164 digits without ``+`` (``(415) 555-0100`` with US -> ``14155550100``), and how the code was found.

    ``row_country`` and ``default_country`` are ISO alpha-2 codes in any case. Returns ``(None, outcome)`` for
    an unknown country or an invalid number.
    """
    # NFKC folds full-width digits and plus signs (common in East Asian data) into ASCII.
    text = (raw if raw.isascii() else unicodedata.normalize("NFKC", raw)).strip()
    if text.startswith("+"):
        region, outcome = None, "ph_international"
    elif text.startswith("00"):
        # Where the row's (or default) country dials abroad with another prefix that also starts with 00
        # (0011 in Australia, 0015/0021 carrier codes in Brazil), phonenumbers knows it; elsewhere 00 is +.
        known = row_country or default_country
        if known and (e164 := _valid_e164(text, known.upper())) is not None:
            return e164, "ph_international"
        text, region, outcome = "+" + text[2:], None, "ph_international"
    elif row_country:
        region, outcome = row_country.upper(), "ph_row_country"
    elif default_country:
        region, outcome = default_country.upper(), "ph_default_country"
    else:
        return None, "ph_unknown_country"
    e164 = _valid_e164(text, region)
    return (e164, outcome) if e164 is not None else (None, "ph_invalid")


def _valid_e164(text: str, region: str | None) -> str | None:
    """E.164 digits without ``+`` of a valid number, else None."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]


# ----------------------------------------------------------------------------------------------------
# Preparers: raw cell -> (value to send or None, outcome). What the event builder calls per record.


def _precheck(field: str, raw: str, drop_foreign: bool = True) -> Result | None:
    """The checks that come before any normalisation: blank, pre-hashed, hashed by another algorithm."""
    text = raw.strip()
    if not text:
        return None, f"{field}_empty"
    length = len(text)
    if length == 64 and _is_hex(text):
        return text.lower(), f"{field}_prehashed"
    if drop_foreign and length in _FOREIGN_HASH_LENGTHS and _is_hex(text):
        return None, f"{field}_foreign_hash_dropped"
    return None


def _hashed_preparer(
    field: str, normalizer: Callable[[str], str | None], drop_foreign: bool = True
) -> Callable[[str], Result]:
    hashed, invalid = f"{field}_hashed", f"{field}_invalid"

    def prepare(raw: str) -> Result:
        early = _precheck(field, raw, drop_foreign)
        if early is not None:
            return early
        normalised = normalizer(raw)
        if normalised is None:
            return None, invalid
        return sha256_hex(normalised), hashed

    prepare.__name__ = prepare.__qualname__ = f"prepare_{field}"
    prepare.__doc__ = f"Raw {field} cell -> (SHA-256 hex or None, outcome)."
    return prepare


prepare_em = _hashed_preparer("em", normalize_email)
prepare_fn = _hashed_preparer("fn", normalize_name)
prepare_ln = _hashed_preparer("ln", normalize_name)
prepare_ge = _hashed_preparer("ge", normalize_gender)
prepare_db = _hashed_preparer("db", normalize_date_of_birth)
prepare_ct = _hashed_preparer("ct", normalize_city)
prepare_country = _hashed_preparer("country", normalize_country)
prepare_external_id = _hashed_preparer("external_id", normalize_external_id, drop_foreign=False)


def prepare_st(raw: str) -> Result:
    early = _precheck("st", raw)
    if early is not None:
        return early
    state, name_mapped = _state(raw)
    if state is None:
        return None, "st_invalid"
    if name_mapped:
        return sha256_hex(state), "st_name_mapped"
    return sha256_hex(state), "st_hashed" if len(state) == 2 else "st_unmapped"


def prepare_zp(raw: str, country: str | None = None) -> Result:
    """``country``: the row's lowercase alpha-2 code (already normalised), or None."""
    early = _precheck("zp", raw)
    if early is not None:
        return early
    zip_code = normalize_zip(raw, country)
    if zip_code is None:
        return None, "zp_invalid"
    return sha256_hex(zip_code), "zp_hashed"


def prepare_ph(raw: str, row_country: str | None = None, default_country: str | None = None) -> Result:
    early = _precheck("ph", raw)
    if early is not None:
        return early
    digits, outcome = normalize_phone(raw, row_country, default_country)
    if digits is None:
        return None, outcome
    return sha256_hex(digits), outcome


def prepare_madid(raw: str) -> Result:
    """Mobile advertising id: lowercase, hyphens kept, NOT hashed (v3)."""
    madid = raw.strip().lower()
    if not madid:
        return None, "madid_empty"
    if madid == _ALL_ZERO_MADID:
        return None, "madid_zero_dropped"
    return madid, "madid_kept"


def prepare_client_ip_address(raw: str) -> Result:
    text = raw.strip()
    if not text:
        return None, "client_ip_address_empty"
    try:
        return str(ipaddress.ip_address(text)), "client_ip_address_kept"
    except ValueError:
        return None, "client_ip_address_invalid"


def _plain_preparer(field: str) -> Callable[[str], Result]:
    kept, empty = f"{field}_kept", f"{field}_empty"

    def prepare(raw: str) -> Result:
        text = raw.strip()
        return (text, kept) if text else (None, empty)

    prepare.__name__ = prepare.__qualname__ = f"prepare_{field}"
    return prepare


prepare_client_user_agent = _plain_preparer("client_user_agent")
prepare_sc_click_id = _plain_preparer("sc_click_id")

#: Single-argument preparers by Snap field (``ph`` and ``zp`` need the row's country: call them directly).
SIMPLE_PREPARERS: Final[dict[str, Callable[[str], Result]]] = {
    "em": prepare_em,
    "fn": prepare_fn,
    "ln": prepare_ln,
    "ge": prepare_ge,
    "db": prepare_db,
    "ct": prepare_ct,
    "st": prepare_st,
    "country": prepare_country,
    "external_id": prepare_external_id,
    "madid": prepare_madid,
    "client_ip_address": prepare_client_ip_address,
    "client_user_agent": prepare_client_user_agent,
    "sc_click_id": prepare_sc_click_id,
}
