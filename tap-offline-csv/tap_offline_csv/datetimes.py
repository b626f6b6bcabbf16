"""Reading a ``date-time`` cell in every form offline-conversion exports use, as ISO 8601 text.

The forms are those of the project's contract (docs: event-time rules), so the tap never drops a row the target
would read:

* ISO 8601, with ``T`` or a space, with or without seconds, fraction, zone or offset; ``Z``/``z``, or a trailing
  ``UTC``/``GMT``, is UTC;
* epoch seconds, milliseconds, microseconds or nanoseconds (told apart by magnitude) -> UTC;
* ``YYYYMMDD`` and ISO dates -> the date alone (``2026-12-02``): a date has no time of day, and the reader downstream
  decides where that day was;
* ``DD.MM.YYYY [HH:MM[:SS]]``;
* slashed dates ``M/D/YYYY [H:MM[:SS]] [AM|PM]``: month first unless ``day_first`` (or the first number is over 12);
* RFC 2822 (``Tue, 01 Dec 2026 10:00:00 +0000``).

A time without a zone stays without one (``2026-12-01T10:00:00``): the tap does not know the source's time zone.
Anything else raises ValueError, whose message never holds the cell.

This module imports nothing from singer_sdk.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import re
import typing as t

_EPOCH_RE: t.Final = re.compile(r"[+-]?\d+(?:\.\d+)?")
_DOTTED_RE: t.Final = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_SLASHED_RE: t.Final = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?"
)
_UTC_SUFFIXES: t.Final = (" UTC", " GMT", "UTC", "GMT")


class DateTimeError(ValueError):
    """A cell is not a date-time in any known form (the message says which rule, never the cell)."""


def _from_epoch(number: float) -> str:
    magnitude = abs(number)
    if magnitude >= 1e17:
        number /= 1e9
    elif magnitude >= 1e14:
        number /= 1e6
    elif magnitude >= 1e11:
        number /= 1e3
    try:
        return dt.datetime.fromtimestamp(number, tz=dt.UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        raise DateTimeError("epoch number out of range") from None


def _from_digits(text: str) -> str:
    """``YYYYMMDD`` (a date) or an epoch number."""
    if len(text) == 8 and text.isdigit():
        try:
            return dt.datetime.strptime(text, "%Y%m%d").date().isoformat()
        except ValueError:
            pass
    number = float(text)
    if not math.isfinite(number):
        raise DateTimeError("not a finite number")
    return _from_epoch(number)


def _iso(moment: dt.datetime, date_only: bool) -> str:
    return moment.date().isoformat() if date_only else moment.isoformat()


def _from_dotted(match: re.Match[str]) -> str:
    day, month, year, hour, minute, second = match.groups()
    moment = dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    return _iso(moment, hour is None)


def _from_slashed(match: re.Match[str], day_first: bool) -> str:
    first, second, year, hour, minute, seconds, meridiem = match.groups()
    if day_first or int(first) > 12:
        day, month = int(first), int(second)
    else:
        month, day = int(first), int(second)
    hours = int(hour or 0)
    if meridiem:
        if not 1 <= hours <= 12:
            raise DateTimeError("hour out of range for AM/PM")
        hours = hours % 12 + (12 if meridiem.lower() == "pm" else 0)
    moment = dt.datetime(int(year), month, day, hours, int(minute or 0), int(seconds or 0))
    return _iso(moment, hour is None)


def _from_iso(text: str) -> str | None:
    if text[-1] in "Zz":
        text = text[:-1] + "+00:00"
    else:
        for suffix in _UTC_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)].rstrip() + "+00:00"
                break
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    date_only = len(text) <= 10  # "2026-12-02": no time of day
    return _iso(moment, date_only)


def parse_datetime_text(value: str, *, day_first: bool = False) -> str:
    """ISO 8601 text for a date-time cell in any form of the module docstring; DateTimeError otherwise."""
    text = value.strip()
    if not text:
        raise DateTimeError("blank")
    if _EPOCH_RE.fullmatch(text):
        return _from_digits(text)
    iso = _from_iso(text)
    if iso is not None:
        return iso
    try:
        if match := _DOTTED_RE.fullmatch(text):
            return _from_dotted(match)
        if match := _SLASHED_RE.fullmatch(text):
            return _from_slashed(match, day_first)
    except ValueError:
        raise DateTimeError("not a calendar date or time") from None
    try:
        return email.utils.parsedate_to_datetime(text).isoformat()
    except (TypeError, ValueError, IndexError):
        raise DateTimeError("not a date-time in a known form") from None
