"""Cell parsers: event time, value, currency, time zone (contract section 3a), and the custom-data converters.

The tricky inputs live in ``corpus/cells_*.tsv``: one case per line, so a new real-world case is one line.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from target_snapchat_capi.cells import (
    EventTime,
    ValueReason,
    parse_currency,
    parse_event_time,
    parse_timezone,
    parse_value,
    read_event_time,
    read_value,
)

HOUR = 3600
T = 1_764_239_400  # 2025-11-27T10:30:00Z
CORPUS = Path(__file__).parent / "corpus"


def corpus(name: str) -> list[list[str]]:
    """Rows of a tab-separated corpus file; ``#`` lines are comments; ``\\u`` escapes spell invisible characters."""
    rows = []
    for line in (CORPUS / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            rows.append(
                [cell.encode("latin-1", "backslashreplace").decode("unicode_escape") for cell in line.split("\t")]
            )
    return rows


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (T, T),
        (float(T) + 0.9, T),
        (T * 1000, T),  # milliseconds
        (T * 1_000_000, T),  # microseconds
        (str(T), T),
        (str(T * 1000), T),
        ("2025-11-27T10:30:00Z", T),
        ("2025-11-27T10:30:00z", T),
        ("2025-11-27T10:30:00.123Z", T),
        ("2025-11-27T12:30:00+02:00", T),
        ("2025-11-27T10:30:00", T),  # naive means UTC
        ("2025-11-27 10:30:00", T),
        ("2025-11-27 10:30", T),
        ("2025-11-27", T - 10 * HOUR - 1800),
        ("20251127", T - 10 * HOUR - 1800),
        ("11/27/2025 10:30", T),
        ("11/27/2025 10:30:00", T),
        ("11/27/2025 10:30 AM", T),
        ("11/27/2025 10:30 PM", T + 12 * HOUR),
        ("27/11/2025 10:30", T),  # first number above 12: day first
        ("11/27/2025", T - 10 * HOUR - 1800),
        ("Thu, 27 Nov 2025 10:30:00 +0000", T),
        (dt.datetime(2025, 11, 27, 10, 30, tzinfo=dt.UTC), T),
        (dt.datetime(2025, 11, 27, 10, 30), T),
        (dt.date(2025, 11, 27), T - 10 * HOUR - 1800),
    ],
)
def test_parse_event_time(raw: Any, expected: int) -> None:
    parsed = parse_event_time(raw)
    assert parsed == expected
    assert type(parsed) is int


@pytest.mark.parametrize("raw", [None, "", "soon", True, "13/13/2025", "11/27/2025 13:30 PM", float("nan"), [T]])
def test_parse_event_time_rejects(raw: Any) -> None:
    assert parse_event_time(raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (142.52, 142.52),
        (10, 10),
        ("142.52", 142.52),
        (" 142.52 ", 142.52),
        ("$142.52", 142.52),
        ("142.52 €", 142.52),
        ("£1,234.50", 1234.5),
        ("1,234", None),  # thousands or decimal comma: ambiguous, never guessed (section 3a)
        ("1,234,567.8", 1234567.8),
        ("12,50", 12.5),
        ("1.234,50", 1234.5),
        ("-5", -5.0),
        (".5", 0.5),
        ("1e3", 1000.0),
        ("12 USD", 12.0),  # a currency code after the number (section 3a)
        ("twelve", None),
        ("1,23,4", None),
        ("", None),
        ("nan", None),
        ("inf", None),
        (True, None),
        (float("inf"), None),
        (None, None),
    ],
)
def test_parse_value(raw: Any, expected: float | None) -> None:
    assert parse_value(raw) == expected


# -- section 3a: event time


@pytest.mark.parametrize(("raw", "zone", "day_first", "expected_utc", "date_only"), corpus("cells_event_time.tsv"))
def test_event_time_corpus(raw: str, zone: str, day_first: str, expected_utc: str, date_only: str) -> None:
    reading = read_event_time(raw, ZoneInfo(zone), day_first=day_first == "yes")
    if expected_utc == "-":
        assert reading is None
        return
    assert reading is not None
    expected = dt.datetime.fromisoformat(expected_utc).replace(tzinfo=dt.UTC)
    assert reading.epoch == int(expected.timestamp())
    assert reading.date_only is (date_only == "yes")


def test_a_date_column_emitted_as_midnight_utc_is_that_day_where_the_sale_happened() -> None:
    # Salesforce CloseDate = 2025-11-27 reaches the target as midnight UTC; the shop is in Los Angeles.
    los_angeles = ZoneInfo("America/Los_Angeles")
    for cell in ("2025-11-27T00:00:00+00:00", "2025-11-27T00:00:00Z", dt.datetime(2025, 11, 27, tzinfo=dt.UTC)):
        reading = read_event_time(cell, los_angeles)
        assert reading is not None and reading.day == dt.date(2025, 11, 27)
        assert reading.epoch == int(dt.datetime(2025, 11, 27, tzinfo=los_angeles).timestamp())
    typed = read_event_time("2025-11-27T00:00:00-08:00", los_angeles, date_column=True)
    assert typed is not None and typed.day == dt.date(2025, 11, 27)


def test_a_date_is_never_a_future_event_on_its_own_day() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    # At 12:00 UTC on the 27th it is already the 28th in Tokyo (21:00) and Kiribati (02:00 on the 28th):
    # a shop there sells on the 28th; its date read in UTC starts 12 hours "in the future".
    now = dt.datetime(2025, 11, 27, 12, 0, tzinfo=dt.UTC).timestamp()
    reading = read_event_time("2025-11-28", dt.UTC)  # the 28th already began in Kiribati, not in UTC
    assert reading is not None and reading.epoch > now
    assert reading.send_time(now) == int(now)  # the same day somewhere: clamped to now, kept on its day
    far = read_event_time("2025-11-30", tokyo)
    assert far is not None and far.send_time(now) == far.epoch  # a genuinely future date stays future
    timed = read_event_time("2025-11-28 10:00", dt.UTC)
    assert timed is not None and not timed.date_only and timed.send_time(now) == timed.epoch


def test_parse_event_time_keeps_its_signature_for_existing_callers() -> None:
    assert parse_event_time("2025-11-27") == T - 10 * HOUR - 1800
    assert parse_event_time("03/04/2026", dt.UTC, day_first=True) == int(
        dt.datetime(2026, 4, 3, tzinfo=dt.UTC).timestamp()
    )
    assert isinstance(read_event_time("2025-11-27"), EventTime)


# -- section 3a: per-row time zone


@pytest.mark.parametrize(
    ("cell", "offset_hours"),
    [
        ("Europe/Paris", None),
        ("America/New_York", None),
        ("UTC", 0),
        ("gmt", 0),
        ("Z", 0),
        ("+02:00", 2),
        ("-0500", -5),
        ("UTC+5:30", 5.5),
        ("GMT-3", -3),
        ("\ufeff+01:00", 1),
    ],
)
def test_parse_timezone(cell: str, offset_hours: float | None) -> None:
    zone = parse_timezone(cell)
    assert zone is not None
    if offset_hours is None:
        assert isinstance(zone, ZoneInfo)
    else:
        assert zone.utcoffset(None) == dt.timedelta(hours=offset_hours)


@pytest.mark.parametrize("cell", ["", "Paris time", "+25:00", "UTC+5:75", None, 5])
def test_unreadable_timezone_is_none(cell: Any) -> None:
    assert parse_timezone(cell) is None


def test_a_row_zone_reads_naive_times() -> None:
    paris = parse_timezone("Europe/Paris")
    assert paris is not None
    assert parse_event_time("2025-11-27 11:30:00", paris) == T
    assert parse_event_time("27.11.2025 11:30", paris) == T


# -- section 3a: value


@pytest.mark.parametrize(("raw", "expected", "marker"), corpus("cells_value.tsv"))
def test_value_corpus(raw: str, expected: str, marker: str) -> None:
    reading = read_value(raw)
    if expected in {reason.value for reason in ValueReason}:
        assert reading.number is None
        assert reading.reason == expected
    else:
        assert reading.reason is None
        assert reading.number is not None and math.isclose(reading.number, float(expected))
        assert reading.currency_marker == (marker or None)


def test_value_numbers_pass_and_non_numbers_say_why() -> None:
    assert read_value(10) == (10, None, None)
    assert read_value(Decimal("142.52")).number == 142.52
    assert read_value(float("inf")).reason == ValueReason.NOT_FINITE
    assert read_value(True).reason == ValueReason.NOT_A_NUMBER
    assert read_value(None).reason == ValueReason.NOT_A_NUMBER


# -- section 3a: currency


@pytest.mark.parametrize(("raw", "default", "expected"), corpus("cells_currency.tsv"))
def test_currency_corpus(raw: str, default: str, expected: str) -> None:
    code, blank = parse_currency(raw, default or None)
    assert code == (expected if expected != "-" else None)
    assert blank is (raw.strip() == "")
