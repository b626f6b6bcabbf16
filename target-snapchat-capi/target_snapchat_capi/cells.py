"""Cell parsers: one source cell (text, number, datetime) to the value a CAPI field takes. Pure: no I/O, no logging.

The rules (event time, value, and the custom-data converters) are described in `events`' module docstring and in
the project's contract document.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import enum
import json
import math
import re
import unicodedata
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final, NamedTuple

import pycountry
from target_snapchat_capi.normalize import clean

_NUMERIC_RE: Final = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


class ValueReason(enum.StrEnum):
    """Why a value cell is not a number (the report and the rejection message say which)."""

    NOT_A_NUMBER = "not_a_number"
    AMBIGUOUS_SEPARATOR = "ambiguous_separator"  # "1,234": a thousands comma or a decimal comma?
    BAD_GROUPING = "bad_grouping"  # "1,23,4": digit groups of no known convention
    NOT_FINITE = "not_finite"


class ValueReading(NamedTuple):
    """A value cell read: the number (None if unreadable, then ``reason`` says why) and the currency marker."""

    number: float | int | None
    reason: ValueReason | None = None
    #: the currency symbol or code written beside the number (``$``, ``USD``, ``€``), else None
    currency_marker: str | None = None


#: spaces that group digits: space, no-break space, narrow no-break space, thin space, figure space
_GROUP_SPACES: Final = frozenset(" \u00a0\u202f\u2009\u2007")
_APOSTROPHES: Final = frozenset("'\u2019")
_GROUP_MARKS: Final = {ord(ch): "\x00" for ch in _GROUP_SPACES | _APOSTROPHES}
_WESTERN_GROUPS_RE: Final = re.compile(r"\d{1,3}(?:G\d{3})+".replace("G", "\x00"))
_INDIAN_GROUPS_RE: Final = re.compile(r"\d{1,2}(?:G\d{2})*G\d{3}".replace("G", "\x00"))
#: a currency marker before or after the number: a symbol, a code, or both (R$, US$, kr, CHF)
_VALUE_RE: Final = re.compile(
    r"(?P<sign>[-+]?)\s*(?P<pre>[^\d\s.,'\u2019()+-]{1,4})?\s*(?P<sign2>[-+]?)\s*"
    r"(?P<body>[\d.,'\u2019\s\u00a0\u202f\u2009\u2007]*\d[\d.,'\u2019\s\u00a0\u202f\u2009\u2007]*)"
    r"\s*(?P<post>[^\d\s.,'\u2019()+-]{1,4})?\s*(?P<trailing>-?)"
)


def _is_currency_marker(marker: str) -> bool:
    return (
        marker.upper() in CURRENCY_CODES
        or marker in CURRENCY_SYMBOLS
        or marker.lower() in AMBIGUOUS_CURRENCY_SYMBOLS
        or all(not ch.isascii() and unicodedata.category(ch) == "Sc" for ch in marker)
    )


def read_value(raw: Any) -> ValueReading:
    """A monetary value as a JSON number, or why not (contract section 3a; rules in ``_read_number_text``)."""
    if isinstance(raw, bool):
        return ValueReading(None, ValueReason.NOT_A_NUMBER)
    if isinstance(raw, int):
        return ValueReading(raw)
    if isinstance(raw, float | Decimal):
        number = float(raw)
        return ValueReading(number) if math.isfinite(number) else ValueReading(None, ValueReason.NOT_FINITE)
    if not isinstance(raw, str):
        return ValueReading(None, ValueReason.NOT_A_NUMBER)
    text = raw if _NUMERIC_RE.fullmatch(raw) else clean(raw)
    if _NUMERIC_RE.fullmatch(text):  # the machine form: every program writes numbers so
        number = float(text)
        return ValueReading(number) if math.isfinite(number) else ValueReading(None, ValueReason.NOT_FINITE)
    negative = False
    if text.startswith("(") and text.endswith(")"):  # accounting negative: (15.00), ($15.00)
        negative, text = True, text[1:-1].strip()
    elif len(text) > 2 and text[0] in "$€£¥₹" and text[1] == "(" and text.endswith(")"):
        negative, text = True, text[0] + text[2:-1]  # $(15.00)
    match = _VALUE_RE.fullmatch(text)
    if match is None:
        return ValueReading(None, ValueReason.NOT_A_NUMBER)
    pre, post = match.group("pre"), match.group("post")
    if (pre and post) or not all(_is_currency_marker(marker) for marker in (pre, post) if marker):
        return ValueReading(None, ValueReason.NOT_A_NUMBER)
    signs = [sign for sign in (match.group("sign"), match.group("sign2"), match.group("trailing")) if sign]
    if len(signs) > 1 or (negative and signs):
        return ValueReading(None, ValueReason.NOT_A_NUMBER)
    magnitude, reason = _read_number_text(match.group("body").strip())
    if magnitude is None:
        return ValueReading(None, reason)
    return ValueReading(-magnitude if negative or signs == ["-"] else magnitude, None, pre or post)


def _read_number_text(body: str) -> tuple[float | None, ValueReason | None]:
    """Digits with separators: ``1,234.56``, ``1.234,56``, ``1 234,56``, ``1'234.50``, ``1,00,000``.

    Spaces and apostrophes only group. With both ``.`` and ``,`` the later one is the decimal mark. A lone
    ``.`` is a decimal point (how programs write numbers); a lone ``,`` followed by exactly three digits after
    one to three digits (``1,234``) could be either and is ambiguous; any other lone ``,`` is a decimal comma.
    One mark repeated (``1.234.567``) groups.
    """
    body = body.translate(_GROUP_MARKS)
    last_dot, last_comma = body.rfind("."), body.rfind(",")
    decimal_mark: str | None = None
    if last_dot >= 0 and last_comma >= 0:
        decimal_mark = "." if last_dot > last_comma else ","
    elif last_dot >= 0 or last_comma >= 0:
        mark = "." if last_dot >= 0 else ","
        if body.count(mark) == 1:
            whole, _, fraction = body.partition(mark)
            plain_whole = whole.replace("\x00", "")
            if mark == "," and len(fraction) == 3 and "\x00" not in whole and 1 <= len(whole) <= 3 and whole[0] != "0":
                return None, ValueReason.AMBIGUOUS_SEPARATOR
            decimal_mark = mark if plain_whole or fraction else None
    if decimal_mark is not None:
        whole, _, fraction = body.rpartition(decimal_mark)
        if not fraction.isdigit():
            return None, ValueReason.NOT_A_NUMBER
    else:
        whole, fraction = body, ""
    grouping = {ch for ch in whole if not ch.isdigit()}
    if len(grouping) > 1:
        return None, ValueReason.BAD_GROUPING
    if grouping:
        separator = grouping.pop()
        uniform = whole.replace(separator, "\x00")
        if not (_WESTERN_GROUPS_RE.fullmatch(uniform) or _INDIAN_GROUPS_RE.fullmatch(uniform)):
            return None, ValueReason.BAD_GROUPING
        whole = uniform.replace("\x00", "")
    if not whole.isdigit() and not (whole == "" and fraction):
        return None, ValueReason.NOT_A_NUMBER
    number = float(f"{whole or '0'}.{fraction or '0'}")
    return (number, None) if math.isfinite(number) else (None, ValueReason.NOT_FINITE)


def parse_value(raw: Any) -> float | int | None:
    """A monetary value as a JSON number, or None if it is not one (``read_value`` says why)."""
    if type(raw) is str and _NUMERIC_RE.fullmatch(raw):  # the common case, without building a reading
        number = float(raw)
        return number if math.isfinite(number) else None
    return read_value(raw).number


# ----------------------------------------------------------------------------------------------------
# Currency

#: ISO-4217 alphabetic codes, built once.
CURRENCY_CODES: Final[frozenset[str]] = frozenset(currency.alpha_3 for currency in pycountry.currencies)
#: Symbols that name one currency (section 3a: € £ ₹ RMB; the rest are as unambiguous).
CURRENCY_SYMBOLS: Final[dict[str, str]] = {
    "€": "EUR",
    "£": "GBP",
    "₹": "INR",
    "RMB": "CNY",
    "rmb": "CNY",
    "₩": "KRW",
    "₽": "RUB",
    "₺": "TRY",
    "₪": "ILS",
    "₫": "VND",
    "฿": "THB",
    "₱": "PHP",
    "₴": "UAH",
    "₦": "NGN",
    "zł": "PLN",
    "R$": "BRL",
    "US$": "USD",
    "C$": "CAD",
    "CA$": "CAD",
    "A$": "AUD",
    "AU$": "AUD",
    "NZ$": "NZD",
    "HK$": "HKD",
    "S$": "SGD",
    "MX$": "MXN",
}
#: Symbols several currencies use: read only when default_currency is one of them (else invalid_currency).
AMBIGUOUS_CURRENCY_SYMBOLS: Final[dict[str, frozenset[str]]] = {
    "$": frozenset(
        {
            "USD",
            "CAD",
            "AUD",
            "NZD",
            "SGD",
            "HKD",
            "TWD",
            "MXN",
            "ARS",
            "CLP",
            "COP",
            "UYU",
            "BSD",
            "BBD",
            "BZD",
            "BMD",
            "BND",
            "FJD",
            "GYD",
            "JMD",
            "KYD",
            "LRD",
            "NAD",
            "SBD",
            "SRD",
            "TTD",
            "XCD",
            "CUP",
            "DOP",
        }
    ),
    "¥": frozenset({"JPY", "CNY"}),
    "￥": frozenset({"JPY", "CNY"}),
    "kr": frozenset({"SEK", "NOK", "DKK", "ISK"}),
    "kr.": frozenset({"SEK", "NOK", "DKK", "ISK"}),
}


def parse_currency(raw: Any, default_currency: str | None = None) -> tuple[str | None, bool]:
    """(ISO-4217 code or None, whether the cell was blank). Not blank and None: ``invalid_currency``.

    ISO codes in any case; ``€ £ ₹ RMB`` and the other single-currency symbols; ``$``, ``¥``, ``kr`` only
    when ``default_currency`` is one of the currencies they name.
    """
    if raw is None or isinstance(raw, bool | Mapping | list | tuple):
        return None, raw is None
    text = clean(str(raw))
    if not text:
        return None, True
    code = text.upper()
    if code in CURRENCY_CODES:
        return code, False
    if symbol_code := CURRENCY_SYMBOLS.get(text) or CURRENCY_SYMBOLS.get(code):
        return symbol_code, False
    candidates = AMBIGUOUS_CURRENCY_SYMBOLS.get(text.lower())
    if candidates and default_currency and default_currency.upper() in candidates:
        return default_currency.upper(), False
    return None, False


def currencies_of_marker(marker: str) -> frozenset[str]:
    """The ISO-4217 codes a sign or code written beside a value can name (``$``: several; ``€``: EUR)."""
    code = marker.upper()
    if code in CURRENCY_CODES:
        return frozenset({code})
    if symbol_code := CURRENCY_SYMBOLS.get(marker) or CURRENCY_SYMBOLS.get(code):
        return frozenset({symbol_code})
    return AMBIGUOUS_CURRENCY_SYMBOLS.get(marker.lower(), frozenset())


# ----------------------------------------------------------------------------------------------------
# Event time


class EventTime(NamedTuple):
    """An event time read from a cell: epoch seconds, and for a date without a time of day, that day."""

    epoch: int
    #: set when the cell is a calendar day (a bare date, or a date column emitted as midnight UTC)
    day: dt.date | None = None

    @property
    def date_only(self) -> bool:
        return self.day is not None

    def send_time(self, now: float) -> int:
        """The ``event_time`` to send. A date-only time is its day's start in the sale's zone; on the day
        itself (anywhere on earth it is already that day) it is never later than ``now``, so it is never a
        future event on its own day and never moves to another day."""
        if self.day is not None and self.epoch > now:
            latest_today = dt.datetime.fromtimestamp(now, _LATEST_ZONE).date()
            if self.day <= latest_today:
                return int(now)
        return self.epoch


_new: Final = tuple.__new__  # builds an EventTime without NamedTuple's Python-level __new__ (per record)
_LATEST_ZONE: Final = dt.timezone(dt.timedelta(hours=14))  # the first zone to start a day (Kiribati)
_DOTTED_DATETIME_RE: Final = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_SLASHED_DATETIME_RE: Final = re.compile(
    r"(\d{1,2})([/-])(\d{1,2})\2(\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp]\.?[Mm]\.?)?)?"
)
#: midnight, naive or in UTC (``Z``, ``+00``, ``+00:00``, `` UTC``, `` GMT``): how taps write a date column
_MIDNIGHT_UTC_RE: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]00:00(?::00(?:\.0+)?)?(?:Z|[+-]00(?::?00)?|\s*UTC|\s*GMT)?", re.IGNORECASE
)
_ISO_DATE_ONLY_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


def _epoch_from_number(number: float) -> int:
    magnitude = abs(number)
    if magnitude < 1e11:
        return int(number)
    if magnitude < 1e14:
        return int(number // 1_000)
    if magnitude < 1e17:
        return int(number // 1_000_000)
    return int(number // 1_000_000_000)


def _epoch_from_datetime(moment: dt.datetime, naive_zone: dt.tzinfo) -> int:
    if moment.tzinfo is None:
        # fold=0: in a daylight-saving overlap the earlier reading; in a gap, as if the clock had not moved.
        moment = moment.replace(tzinfo=naive_zone)
    return math.floor(moment.timestamp())


def _day(day: dt.date, zone: dt.tzinfo) -> EventTime:
    return _new(EventTime, (_epoch_from_datetime(dt.datetime(day.year, day.month, day.day), zone), day))


def read_event_time(
    raw: Any, naive_zone: dt.tzinfo = dt.UTC, *, day_first: bool = False, date_column: bool = False
) -> EventTime | None:
    """The event time of a cell, or None if unreadable (formats in ``events``' docstring and section 3a).

    ``naive_zone``: the zone of times written without one (the row's ``event_timezone``, else
    ``source_timezone``). ``day_first``: numeric slashed dates are day/month. ``date_column``: the source column
    is date-typed (its values are days even when a tap writes them as midnight UTC).
    """
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int | float | Decimal):
        number = float(raw)
        return _new(EventTime, (_epoch_from_number(number), None)) if math.isfinite(number) else None
    if isinstance(raw, dt.datetime):
        if date_column or (raw.tzinfo is not None and raw.utcoffset() == dt.timedelta(0) and raw.time() == dt.time()):
            return _day(raw.date(), naive_zone)
        return _new(EventTime, (_epoch_from_datetime(raw, naive_zone), None))
    if isinstance(raw, dt.date):
        return _day(raw, naive_zone)
    if not isinstance(raw, str):
        return None
    text = clean(raw)
    if not text:
        return None
    return _read_time_text(text, naive_zone, day_first, date_column)


def _read_time_text(text: str, naive_zone: dt.tzinfo, day_first: bool, date_column: bool) -> EventTime | None:
    if _NUMERIC_RE.fullmatch(text):
        if len(text) == 8 and text.isdigit():
            try:
                return _day(dt.datetime.strptime(text, "%Y%m%d").date(), naive_zone)
            except ValueError:
                pass
        number = float(text)
        return _new(EventTime, (_epoch_from_number(number), None)) if math.isfinite(number) else None
    if (len(text) == 10 and _ISO_DATE_ONLY_RE.fullmatch(text)) or (
        (date_column or ("00:00" in text and _MIDNIGHT_UTC_RE.fullmatch(text))) and _ISO_DATE_ONLY_RE.match(text)
    ):
        try:
            return _day(dt.date.fromisoformat(text[:10]), naive_zone)
        except ValueError:
            return None
    original, zone = text, None
    if text[-1] == "z":  # fromisoformat reads "Z" itself
        text = text[:-1] + "Z"
    elif text[-3:].upper() in ("UTC", "GMT"):  # "2026-11-28 14:03:00 UTC" (BigQuery), "… GMT"
        text, zone = text[:-3].rstrip(), dt.UTC
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is not None:
        if zone is not None:
            if moment.tzinfo is not None:
                return None  # an offset and a zone name both: which one?
            moment = moment.replace(tzinfo=zone)
        return _new(EventTime, (_epoch_from_datetime(moment, naive_zone), None))
    found = _numeric_datetime(text, day_first)
    if found is not None:
        moment, has_time = found
        if moment is None:
            return None
        if zone is not None:
            moment = moment.replace(tzinfo=zone)
        return (
            _new(EventTime, (_epoch_from_datetime(moment, naive_zone), None))
            if has_time
            else _day(moment.date(), naive_zone)
        )
    try:
        return _new(EventTime, (_epoch_from_datetime(email.utils.parsedate_to_datetime(original), naive_zone), None))
    except (TypeError, ValueError, IndexError):
        return None


def _numeric_datetime(text: str, day_first: bool) -> tuple[dt.datetime | None, bool] | None:
    """``DD.MM.YYYY [HH:MM[:SS]]`` (always day-first) and slashed/dashed ``MM/DD/YYYY [HH:MM[:SS] [AM|PM]]``
    (month-first unless ``day_first``; a first number above 12 is a day either way). None if neither shape;
    (None, _) if the shape fits but the date or time does not exist."""
    meridiem = None
    if "." in text[:6] and (match := _DOTTED_DATETIME_RE.fullmatch(text)):
        day, month, year, hour, minute, second = match.groups()
    elif match := _SLASHED_DATETIME_RE.fullmatch(text):
        first, _, second_number, year, hour, minute, second, meridiem = match.groups()
        a, b = int(first), int(second_number)
        if day_first:
            day, month = (first, second_number) if b <= 12 or a > 12 else (second_number, first)
        else:
            month, day = (first, second_number) if a <= 12 or b > 12 else (second_number, first)
    else:
        return None
    hours = int(hour or 0)
    if meridiem:
        if not 1 <= hours <= 12:
            return None, True
        hours = hours % 12 + (12 if meridiem[0] in "pP" else 0)
    try:
        moment = dt.datetime(int(year), int(month), int(day), hours, int(minute or 0), int(second or 0))
    except ValueError:
        return None, True
    return moment, hour is not None


def parse_event_time(raw: Any, naive_zone: dt.tzinfo = dt.UTC, *, day_first: bool = False) -> int | None:
    """Integer epoch seconds, or None if unreadable. A date without a time is its start in ``naive_zone``.

    Callers that need the date-only rule of section 3a use ``read_event_time`` and ``EventTime.send_time``.
    """
    reading = read_event_time(raw, naive_zone, day_first=day_first)
    return reading.epoch if reading is not None else None


# ----------------------------------------------------------------------------------------------------
# Per-row time zone

_OFFSET_RE: Final = re.compile(r"(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)
_ZONE_CACHE_LIMIT: Final = 1024
_zone_cache: dict[str, dt.tzinfo | None] = {}


def parse_timezone(cell: Any) -> dt.tzinfo | None:
    """The zone of a per-row ``event_timezone`` cell: an IANA name (``Europe/Paris``), ``UTC``/``GMT``/``Z``,
    or a UTC offset (``+02:00``, ``-0500``, ``UTC+5:30``, ``GMT-3``). None when blank or unreadable."""
    if not isinstance(cell, str):
        return None
    try:
        return _zone_cache[cell]
    except KeyError:
        pass
    zone = _read_timezone(clean(cell))
    if len(_zone_cache) < _ZONE_CACHE_LIMIT:
        _zone_cache[cell] = zone
    return zone


def _read_timezone(text: str) -> dt.tzinfo | None:
    if not text:
        return None
    if text.upper() in ("UTC", "GMT", "Z", "UTC+0", "GMT+0", "+00:00", "ETC/UTC"):
        return dt.UTC
    if match := _OFFSET_RE.fullmatch(text):
        sign, hours, minutes = match.groups()
        offset = dt.timedelta(hours=int(hours), minutes=int(minutes or 0))
        if offset > dt.timedelta(hours=14) or int(minutes or 0) >= 60:
            return None
        return dt.timezone(-offset if sign == "-" else offset)
    try:
        return zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def cell_text(raw: Any) -> str | None:
    """A scalar cell as text for the string rules; None for objects, lists and booleans.

    Whole numbers lose their ``.0`` (spreadsheet numbers, singer-sdk's Decimals): ``4155550100.0`` is a phone.
    """
    if isinstance(raw, str):
        return raw
    if raw is None or isinstance(raw, bool | Mapping | list | tuple):
        return None
    if isinstance(raw, float | Decimal):
        if math.isfinite(raw) and raw == int(raw):
            return str(int(raw))
        return str(raw)
    if isinstance(raw, dt.datetime | dt.date):
        return raw.isoformat()
    return str(raw)


def canonical(raw: Any) -> Any:
    """A cell in one form for event-id hashing: scalars as text, datetimes in UTC, containers element-wise."""
    if isinstance(raw, dt.datetime) and raw.tzinfo is not None:
        return raw.astimezone(dt.UTC).replace(tzinfo=None).isoformat()
    if isinstance(raw, Mapping):
        return {str(key): canonical(value) for key, value in raw.items()}
    if isinstance(raw, list | tuple):
        return [canonical(value) for value in raw]
    if isinstance(raw, str):
        return _canonical_time_text(raw)
    return cell_text(raw) if not isinstance(raw, bool) else raw


def _canonical_time_text(text: str) -> str:
    """ISO-8601 date-times with a zone, written the way a datetime object would be, so both forms hash alike."""
    if len(text) >= 20 and text[4:5] == "-" and text[10:11] in "T ":
        iso_text = text[:-1] + "+00:00" if text[-1] in "Zz" else text
        try:
            moment = dt.datetime.fromisoformat(iso_text)
        except ValueError:
            return text
        if moment.tzinfo is not None:
            return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat()
    return text


def id_text(raw: Any) -> str | None:
    if type(raw) is str:  # the common case, without cell_text's checks
        return raw.strip() or None
    text = cell_text(raw)
    return text.strip() or None if text is not None else None


def to_int(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float | Decimal):
        return int(raw) if math.isfinite(raw) and float(raw).is_integer() else None
    if isinstance(raw, str):
        number = parse_value(raw.strip())
        if number is not None and float(number).is_integer():
            return int(number)
    return None


def to_string(raw: Any) -> str | None:
    return id_text(raw)


def json_safe(value: Any) -> Any:
    """Nested values ready for JSON: Decimals (as singer-sdk parses numbers) become numbers, dates text."""
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value.is_finite() and value == int(value) else float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


_LIST_SEPARATORS: Final = re.compile(r"[,|;]")


def to_string_list(raw: Any) -> list[str] | None:
    items: Sequence[Any]
    if isinstance(raw, list | tuple):
        items = raw
    elif isinstance(raw, str):
        text = raw.strip()
        if text.startswith("["):
            try:
                decoded = json.loads(text)
            except ValueError:
                return None
            if not isinstance(decoded, list):
                return None
            items = decoded
        else:
            items = _LIST_SEPARATORS.split(text)
    else:
        single = to_string(raw)
        return [single] if single else None
    result = [text for text in (to_string(item) for item in items) if text]
    return result or None


def _decode_json_text(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return None
    return raw


def to_object_list(raw: Any) -> list[dict[str, Any]] | None:
    decoded = _decode_json_text(raw)
    if isinstance(decoded, Mapping):
        decoded = [decoded]
    if not isinstance(decoded, list) or not decoded or not all(isinstance(item, Mapping) for item in decoded):
        return None
    return [json_safe(item) for item in decoded]


def to_object(raw: Any) -> dict[str, Any] | None:
    decoded = _decode_json_text(raw)
    return json_safe(decoded) if isinstance(decoded, Mapping) and decoded else None


CUSTOM_CONVERTERS: Final[dict[str, Callable[[Any], Any]]] = {
    "number": parse_value,
    "integer": to_int,
    "string": to_string,
    "string_list": to_string_list,
    "object_list": to_object_list,
    "object": to_object,
}
