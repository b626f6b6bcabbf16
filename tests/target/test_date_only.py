"""Issue 8.6: a date without a time of day is that calendar day where the sale happened (contract §3a)."""

from __future__ import annotations

import collections
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from target_snapchat_capi.events import Event, EventBuilder, EventSettings

PIXEL = "3c1e8a52-7f5d-4b0e-9a61-2d4f3b5c6e7f"


def _build(value: object, zone: str, now: dt.datetime, *, time_format: str | None = None) -> Event | object:
    time_schema: dict = {"type": ["string", "null"]}
    if time_format:
        time_schema["format"] = time_format
    schema = {"properties": {"email": {"type": "string"}, "closed": time_schema}}
    settings = EventSettings.from_config(
        {"pixel_id": PIXEL, "source_timezone": zone, "event_name": "SIGN_UP", "mapping": {"event_time": "closed"}}
    )
    builder = EventBuilder(settings, "deals", schema, [], collections.Counter())
    return builder.build({"email": "a@example.com", "closed": value}, now.timestamp())


def _local_day(event: object, zone: str) -> dt.date:
    assert isinstance(event, Event), event
    return dt.datetime.fromtimestamp(event.body["event_time"], ZoneInfo(zone)).date()


# 2026-12-01 22:00 UTC is already 2026-12-02 07:00 in Tokyo.
TOKYO_MORNING = dt.datetime(2026, 12, 1, 22, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "value", ["2026-12-02T00:00:00Z", "2026-12-02T00:00:00.000Z", "2026-12-02T00:00:00+00:00", "2026-12-02"]
)
def test_todays_date_east_of_utc_is_not_a_future_event(value: str) -> None:
    event = _build(value, "Asia/Tokyo", TOKYO_MORNING)
    assert _local_day(event, "Asia/Tokyo") == dt.date(2026, 12, 2)
    assert isinstance(event, Event) and event.body["event_time"] <= TOKYO_MORNING.timestamp()


def test_a_date_typed_column_is_read_as_its_calendar_day() -> None:
    event = _build("2026-12-02T00:00:00Z", "Asia/Tokyo", TOKYO_MORNING, time_format="date")
    assert _local_day(event, "Asia/Tokyo") == dt.date(2026, 12, 2)


def test_a_date_west_of_utc_stays_on_its_day() -> None:
    # 2026-12-01 05:00 UTC is 2026-11-30 21:00 in Los Angeles; a CloseDate of Nov 30 emitted as midnight UTC.
    now = dt.datetime(2026, 12, 1, 5, 0, tzinfo=dt.UTC)
    event = _build("2026-11-30T00:00:00Z", "America/Los_Angeles", now)
    assert _local_day(event, "America/Los_Angeles") == dt.date(2026, 11, 30)


def test_tomorrow_is_still_a_future_event() -> None:
    event = _build("2026-12-03T00:00:00Z", "Asia/Tokyo", TOKYO_MORNING)
    assert not isinstance(event, Event)
    assert event.reason == "future_event"  # type: ignore[attr-defined]


def test_a_real_time_of_day_is_kept() -> None:
    event = _build("2026-12-01T21:30:00Z", "Asia/Tokyo", TOKYO_MORNING)
    assert isinstance(event, Event)
    assert event.body["event_time"] == int(dt.datetime(2026, 12, 1, 21, 30, tzinfo=dt.UTC).timestamp())
