"""Cell parsers: one source cell (text, number, datetime) to the value a CAPI field takes. Pure: no I/O, no logging.

The rules (event time, value, and the custom-data converters) are described in `events`' module docstring and in
the project's contract document.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

_NUMERIC_RE: Final = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_COMMA_THOUSANDS_RE: Final = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_DECIMAL_COMMA_RE: Final = re.compile(r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+),\d{1,2}")
_US_DATETIME_RE: Final = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?"
)


def _strip_currency_symbols(text: str) -> str:
    start, end = 0, len(text)
    while start < end and (text[start].isspace() or _is_currency_symbol(text[start])):
        start += 1
    while end > start and (text[end - 1].isspace() or _is_currency_symbol(text[end - 1])):
        end -= 1
    return text[start:end]


def _is_currency_symbol(char: str) -> bool:
    return char == "$" or (not char.isascii() and unicodedata.category(char) == "Sc")


def parse_value(raw: Any) -> float | int | None:
    """A monetary value as a JSON number, or None if it is not one (rules in the module docstring)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float | Decimal):
        number = float(raw)
        return number if math.isfinite(number) else None
    if not isinstance(raw, str):
        return None
    text = _strip_currency_symbols(raw)
    if _NUMERIC_RE.fullmatch(text):
        number = float(text)
    elif _COMMA_THOUSANDS_RE.fullmatch(text):
        number = float(text.replace(",", ""))
    elif _DECIMAL_COMMA_RE.fullmatch(text):
        number = float(text.replace(".", "").replace(",", "."))
    else:
        return None
    return number if math.isfinite(number) else None


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


def parse_event_time(raw: Any, naive_zone: dt.tzinfo = dt.UTC) -> int | None:
    """Integer epoch seconds from the formats in the module docstring, or None if unreadable.

    A time without a zone is read in ``naive_zone`` (the ``source_timezone`` setting; UTC by default).
    """
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int | float | Decimal):
        number = float(raw)
        return _epoch_from_number(number) if math.isfinite(number) else None
    if isinstance(raw, dt.datetime):
        return _epoch_from_datetime(raw, naive_zone)
    if isinstance(raw, dt.date):
        return _epoch_from_datetime(dt.datetime(raw.year, raw.month, raw.day), naive_zone)
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if not text:
        return None
    if _NUMERIC_RE.fullmatch(text):
        if len(text) == 8 and text.isdigit():
            try:
                return _epoch_from_datetime(dt.datetime.strptime(text, "%Y%m%d"), naive_zone)
            except ValueError:
                pass
        number = float(text)
        return _epoch_from_number(number) if math.isfinite(number) else None
    iso_text = text[:-1] + "+00:00" if text[-1] in "Zz" else text
    try:
        return _epoch_from_datetime(dt.datetime.fromisoformat(iso_text), naive_zone)
    except ValueError:
        pass
    if match := _US_DATETIME_RE.fullmatch(text):
        first, second, year, hour, minute, second_of_minute, meridiem = match.groups()
        month, day = (int(second), int(first)) if int(first) > 12 else (int(first), int(second))
        hours = int(hour or 0)
        if meridiem:
            if not 1 <= hours <= 12:
                return None
            hours = hours % 12 + (12 if meridiem.lower() == "pm" else 0)
        try:
            moment = dt.datetime(year=int(year), month=month, day=day, hour=hours, minute=int(minute or 0))
            return _epoch_from_datetime(moment, naive_zone) + int(second_of_minute or 0)
        except ValueError:
            return None
    try:
        return _epoch_from_datetime(email.utils.parsedate_to_datetime(text), naive_zone)
    except (TypeError, ValueError, IndexError):
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
