"""Section 3a's rules through the event builder: per-row time zones, day_first, date-only values, values with
separators and currency signs, negative purchases, unreadable row countries, and the per-field outcome counts
that the report and the findings read."""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from target_snapchat_capi.events import Event, EventBuilder, EventSettings, Rejection, RejectReason
from target_snapchat_capi.findings import REJECT_FIXES, FindingCode, compute_findings
from target_snapchat_capi.preflight import LIKELY_FIX
from target_snapchat_capi.report import RunReport

PIXEL = "3c1e8a52-7f5d-4b0e-9a61-2d4f3b5c6e7f"
COLUMNS = ["order_id", "email", "phone", "country", "birthday", "amount", "currency", "sold_at", "zone", "stage"]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def epoch(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp())


def builder(
    config: dict[str, Any] | None = None,
    *,
    properties: dict[str, Any] | None = None,
    outcomes: collections.Counter[str] | None = None,
) -> EventBuilder:
    settings = EventSettings.from_config(
        {
            "pixel_id": PIXEL,
            "default_phone_country": "US",
            "mapping": {"event_time": "sold_at", "event_timezone": "zone", "db": "birthday", "event_name": "stage"},
            "event_name_map": {"refund": "CUSTOM_EVENT_1"},
            **(config or {}),
        }
    )
    schema = {"type": "object", "properties": {name: {"type": ["string", "null"]} for name in COLUMNS}}
    schema["properties"].update(properties or {})
    return EventBuilder(settings, "sales", schema, (), outcomes if outcomes is not None else collections.Counter())


def row(**overrides: Any) -> dict[str, Any]:
    return {
        "order_id": "o-1",
        "email": "pat@example.com",
        "phone": "(415) 555-0100",
        "country": "US",
        "birthday": "",
        "amount": "10.00",
        "currency": "USD",
        "sold_at": "2026-12-01T10:00:00Z",
        "zone": "",
        "stage": "",
        **overrides,
    }


NOW = epoch("2026-12-01T12:00:00+00:00")


def event(result: Event | Rejection) -> Event:
    assert isinstance(result, Event), result
    return result


def rejection(result: Event | Rejection) -> Rejection:
    assert isinstance(result, Rejection), result
    return result


# -- event time


def test_the_rows_time_zone_reads_times_written_without_one() -> None:
    build = builder({"source_timezone": "Europe/Paris"}).build
    naive = "2026-12-01 09:00:00"
    assert event(build(row(sold_at=naive, zone="Asia/Tokyo"), NOW)).body["event_time"] == epoch(
        "2026-12-01T09:00:00+09:00"
    )
    assert event(build(row(sold_at=naive, zone="UTC-05:00"), NOW + 3 * 3600)).body["event_time"] == epoch(
        "2026-12-01T09:00:00-05:00"
    )
    # a blank zone cell: source_timezone
    assert event(build(row(sold_at=naive), NOW)).body["event_time"] == epoch("2026-12-01T09:00:00+01:00")
    # a time with its own offset keeps it, whatever the row's zone says
    assert event(build(row(sold_at="2026-12-01T09:00:00Z", zone="Asia/Tokyo"), NOW)).body["event_time"] == epoch(
        "2026-12-01T09:00:00+00:00"
    )


def test_an_unreadable_zone_cell_falls_back_to_source_timezone_and_is_counted() -> None:
    outcomes: collections.Counter[str] = collections.Counter()
    build = builder({"source_timezone": "Europe/Paris"}, outcomes=outcomes).build
    sent = event(build(row(sold_at="2026-12-01 09:00:00", zone="Paris time"), NOW))
    assert sent.body["event_time"] == epoch("2026-12-01T09:00:00+01:00")
    assert outcomes["event_timezone_unreadable"] == 1


@pytest.mark.parametrize(
    ("day_first", "expected"), [(False, "2026-11-03T10:00:00+00:00"), (True, "2026-03-11T10:00:00+00:00")]
)
def test_day_first_decides_numeric_event_dates(day_first: bool, expected: str) -> None:
    now = epoch("2026-11-20T00:00:00+00:00")
    built = builder({"day_first": day_first, "max_event_age_days": 37}).build(row(sold_at="11/03/2026 10:00"), now)
    if day_first:  # 11 March is months old: stale, which shows it was read as day/month
        assert rejection(built).reason == "stale_event"
    else:
        assert event(built).body["event_time"] == epoch(expected)


def test_day_first_decides_numeric_dates_of_birth() -> None:
    month_first = event(builder().build(row(birthday="03/04/1990"), NOW))
    day_first = event(builder({"day_first": True}).build(row(birthday="03/04/1990"), NOW))
    assert month_first.body["user_data"]["db"] == [sha("19900304")]
    assert day_first.body["user_data"]["db"] == [sha("19900403")]
    # readable one way only: the same whatever day_first says
    assert event(builder({"day_first": True}).build(row(birthday="12/31/1990"), NOW)).body["user_data"]["db"] == [
        sha("19901231")
    ]


def test_a_salesforce_close_date_east_of_utc_is_not_a_future_event() -> None:
    # Issue 8 item 6: tap-salesforce emits CloseDate 2 December as midnight UTC; the shop is in Tokyo, where it is
    # already 2 December (08:00) while it is still 1 December 23:00 in UTC.
    now = epoch("2026-12-01T23:00:00+00:00")
    build = builder({"source_timezone": "Asia/Tokyo"}).build
    sent = event(build(row(sold_at="2026-12-02T00:00:00Z"), now))
    assert sent.body["event_time"] == epoch("2026-12-02T00:00:00+09:00")  # that day in Tokyo, not another
    assert sent.body["event_time"] <= now
    # Left at source_timezone UTC, the day starts an hour from now: on its own day it is still sent, at now.
    in_utc = event(builder().build(row(sold_at="2026-12-02T00:00:00Z"), now))
    assert in_utc.body["event_time"] == now


@pytest.mark.parametrize(
    "cell", ["2026-12-02 00:00:00 UTC", "2026-12-02T00:00:00+00", "2026-12-02T00:00:00.000000Z", "2026-12-02 00:00"]
)
def test_midnight_in_utc_or_naive_is_a_date_in_every_spelling(cell: str) -> None:
    now = epoch("2026-12-01T23:00:00+00:00")  # 08:00 on 2 December in Tokyo
    sent = event(builder({"source_timezone": "Asia/Tokyo"}).build(row(sold_at=cell), now))
    assert sent.body["event_time"] == epoch("2026-12-02T00:00:00+09:00")


def test_a_bare_date_on_its_own_day_is_sent_whatever_the_hour() -> None:
    # 00:30 UTC on 2 December: a date-only sale "2026-12-02" in New York starts at 05:00 UTC, still ahead.
    now = epoch("2026-12-02T00:30:00+00:00")
    sent = event(builder({"source_timezone": "America/New_York"}).build(row(sold_at="2026-12-02"), now))
    assert sent.body["event_time"] == now  # never in the future, and still 2 December somewhere it is
    # a time of day that is ahead is a future event, as before
    later = builder({"source_timezone": "America/New_York"}).build(row(sold_at="2026-12-02 09:00"), now)
    assert rejection(later).reason == "future_event"


def test_a_date_typed_column_is_read_as_days() -> None:
    date_schema = {"sold_at": {"type": ["string", "null"], "format": "date"}}
    now = epoch("2026-12-01T23:00:00+00:00")
    # A tap that writes a date column with an offset: the column is typed date, so it is that day in Tokyo.
    cell = "2026-12-02T00:00:00-05:00"
    as_date = builder({"source_timezone": "Asia/Tokyo"}, properties=date_schema).build(row(sold_at=cell), now)
    assert event(as_date).body["event_time"] == epoch("2026-12-02T00:00:00+09:00")
    # The same cell in a date-time column is an instant, 05:00 UTC on 2 December: the future.
    as_instant = builder({"source_timezone": "Asia/Tokyo"}).build(row(sold_at=cell), now)
    assert rejection(as_instant).reason == "future_event"


def test_a_date_typed_column_under_anyof_and_nested_paths() -> None:
    nested = {
        "properties": {
            "type": "object",
            "properties": {"closedate": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]}},
        }
    }
    settings = {"mapping": {"event_time": "properties.closedate", "event_name": None, "db": None}}
    now = epoch("2026-12-01T23:00:00+00:00")
    built = builder({"source_timezone": "Asia/Tokyo", **settings}, properties=nested).build(
        {**row(), "properties": {"closedate": "2026-12-02T00:00:00-05:00"}}, now
    )
    assert event(built).body["event_time"] == epoch("2026-12-02T00:00:00+09:00")


# -- value and currency


@pytest.mark.parametrize(
    ("amount", "currency", "config", "value", "sent_currency"),
    [
        ("1.234,56 €", "", {}, 1234.56, "EUR"),
        ("1 234,56", "EUR", {}, 1234.56, "EUR"),
        ("₹1,00,000", "", {}, 100000.0, "INR"),
        ("15 USD", "", {}, 15.0, "USD"),
        ("$15", "", {"default_currency": "CAD"}, 15.0, "CAD"),
        ("$15", "usd", {}, 15.0, "USD"),
        ("1'234.50", "CHF", {}, 1234.5, "CHF"),
        ("1.234", "USD", {}, 1.234, "USD"),  # a lone dot is a decimal point
        ("12", "€", {}, 12, "EUR"),
        ("12", "RMB", {}, 12, "CNY"),
        ("12", "$", {"default_currency": "AUD"}, 12, "AUD"),
    ],
)
def test_values_and_currencies_of_real_exports(
    amount: str, currency: str, config: dict[str, Any], value: float, sent_currency: str
) -> None:
    custom_data = event(builder(config).build(row(amount=amount, currency=currency), NOW)).body["custom_data"]
    assert custom_data["value"] == value
    assert custom_data["currency"] == sent_currency


@pytest.mark.parametrize(
    ("amount", "currency", "config", "reason", "in_message"),
    [
        ("1,234", "USD", {}, "invalid_value", "ambiguous_separator"),
        ("1,23,4", "USD", {}, "invalid_value", "bad_grouping"),
        ("twelve", "USD", {}, "invalid_value", "not_a_number"),
        ("-15.00", "USD", {}, "negative_value", "CUSTOM_EVENT"),
        ("(15.00)", "USD", {}, "negative_value", "refund"),
        ("15.00-", "USD", {}, "negative_value", "refund"),
        ("$15", "", {}, "invalid_currency", "several currencies"),
        ("$15", "", {"default_currency": "EUR"}, "invalid_currency", "several currencies"),
        ("12", "$", {}, "invalid_currency", "default_currency"),
        ("12", "kr", {"default_currency": "EUR"}, "invalid_currency", "default_currency"),
        ("15 USD", "EUR", {}, "invalid_currency", "is not the one in column"),
    ],
)
def test_ambiguous_or_negative_purchases_are_rejected_with_their_reason(
    amount: str, currency: str, config: dict[str, Any], reason: str, in_message: str
) -> None:
    rejected = rejection(builder(config).build(row(amount=amount, currency=currency), NOW))
    assert rejected.reason == reason
    assert in_message in rejected.message
    assert amount not in rejected.message  # the cell's value is never quoted


def test_other_events_keep_a_negative_value_and_leave_an_unreadable_one_out() -> None:
    outcomes: collections.Counter[str] = collections.Counter()
    build = builder(outcomes=outcomes).build
    refund = event(build(row(stage="refund", amount="(15.00)"), NOW))
    assert refund.body["event_name"] == "CUSTOM_EVENT_1"
    assert refund.body["custom_data"]["value"] == -15.0
    ambiguous = event(build(row(stage="refund", amount="1,234"), NOW))
    assert "value" not in ambiguous.body["custom_data"]
    assert outcomes["value_invalid"] == 1


# -- user data


def test_an_unreadable_row_country_reads_phones_with_the_default_country() -> None:
    outcomes: collections.Counter[str] = collections.Counter()
    build = builder({"default_phone_country": "GB"}, outcomes=outcomes).build
    sent = event(build(row(email="", phone="020 7946 0958", country="Atlantis"), NOW))
    assert sent.body["user_data"]["ph"] == [sha("442079460958")]
    assert "country" not in sent.body["user_data"]
    # a readable row country still wins over the default
    french = event(build(row(email="", phone="01 23 45 67 89", country="France"), NOW))
    assert french.body["user_data"]["ph"] == [sha("33123456789")]
    assert outcomes["ph_default_country"] == 1
    assert outcomes["ph_row_country"] == 1


def test_names_of_countries_in_other_languages_read_the_rows_phone() -> None:
    sent = event(builder().build(row(email="", phone="030 1234567", country="Deutschland"), NOW))
    assert sent.body["user_data"]["ph"] == [sha("49301234567")]
    assert sent.body["user_data"]["country"] == [sha("de")]


# -- outcome counts -> report and findings


def _run(rows: list[dict[str, Any]], config: dict[str, Any] | None = None) -> RunReport:
    report = RunReport()
    build = builder(config, outcomes=report.normalisation).build
    for record in rows:
        build(record, NOW)
    return report


def test_the_report_gives_each_user_field_sent_and_not_sent_by_reason() -> None:
    rows = [row(order_id=f"o-{n}", email=f"p{n}@example.com") for n in range(5)]
    rows += [row(order_id="bad-1", email="not an address", phone="555"), row(order_id="bad-2", country="Atlantis")]
    report = _run(rows, {"default_phone_country": ""})
    user_fields = report.to_dict()["user_fields"]
    assert user_fields["em"] == {"sent": 6, "not_sent": {"not_an_address": 1}}
    # "555" is too short for a US number; bad-2's country cannot be read and no default is set
    assert user_fields["ph"] == {"sent": 5, "not_sent": {"impossible_length": 1, "no_country": 1}}
    assert user_fields["country"] == {"sent": 6, "not_sent": {"unknown_country": 1}}
    lines = report.summary_lines()
    assert "    ph: 5 sent, 1 impossible length, 1 no country" in lines
    assert "    em: 6 sent, 1 not an address" in lines
    assert not any("Atlantis" in line or "not an address@" in line for line in lines)


def test_findings_read_the_outcome_codes_the_builder_produces() -> None:
    # Codes produced by the builder itself, so a renamed code cannot silently switch the findings off.
    rows = [row(order_id=f"o-{n}", email=f"p{n}@example.com", phone=f"(415) 555-01{n:02d}") for n in range(10)]
    rows += [row(order_id=f"x-{n}", email=f"bad{n}.example.com", phone="020 7946 0958") for n in range(3)]
    report = _run(rows, {"default_phone_country": "", "mapping": {"country": None, **_BASE_MAPPING}})
    codes = {finding.code for finding in compute_findings(report.to_dict())}
    assert FindingCode.PHONES_WITHOUT_COUNTRY in codes
    assert FindingCode.INVALID_EMAILS in codes
    assert report.normalisation["ph_no_country"] == 13
    assert report.normalisation["em_not_an_address"] == 3


_BASE_MAPPING = {"event_time": "sold_at", "event_timezone": "zone", "db": "birthday", "event_name": "stage"}


def test_time_zone_names_resolve_like_zoneinfo() -> None:
    # the per-row zone is a real IANA zone (daylight saving included), not a fixed offset
    summer = epoch("2026-07-01T09:00:00-04:00")
    built = builder().build(row(sold_at="2026-07-01 09:00", zone="America/New_York"), summer + 3600)
    assert event(built).body["event_time"] == summer
    assert ZoneInfo("America/New_York").utcoffset(dt.datetime(2026, 7, 1)) == dt.timedelta(hours=-4)


def test_every_reject_reason_has_a_fix_in_the_findings_and_the_preflight_guard() -> None:
    for reason in RejectReason:
        assert reason in REJECT_FIXES, reason
        if reason is not RejectReason.API_REJECTED:  # decided after sending: the guard never sees it
            assert reason in LIKELY_FIX, reason
