"""Record -> CAPI event or Rejection: valid rows, every rejection code, event ids, and what is (not) sent."""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from target_snapchat_capi import capi
from target_snapchat_capi.cells import parse_event_time
from target_snapchat_capi.events import (
    ConfigError,
    Event,
    EventBuilder,
    EventSettings,
    Rejection,
)

PIXEL = "3c1e8a52-7f5d-4b0e-9a61-2d4f3b5c6e7f"
NOW = 1_764_316_800  # 2025-11-28T08:00:00Z
HOUR = 3600


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


PURCHASE_COLUMNS = [
    "order_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "zip",
    "city",
    "state",
    "amount",
    "currency",
    "purchased_at",
    "store_id",
    "_sdc_source_file",
    "_sdc_source_lineno",
]


def schema_for(columns: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": {name: {"type": ["string", "null"]} for name in columns}}


def purchase_row(**overrides: Any) -> dict[str, Any]:
    row = {
        "order_id": "order-10001",
        "email": "  Person@Example.COM ",
        "phone": "(415) 555-0100",
        "first_name": "Raphaël",
        "last_name": "O'Brien",
        "zip": "94025-1234",
        "city": "Menlo Park",
        "state": "California",
        "amount": "142.52",
        "currency": "usd",
        "purchased_at": "2025-11-27T10:30:00Z",
        "store_id": "store-7",
        "_sdc_source_file": "s3://bucket/purchases.csv",
        "_sdc_source_lineno": 2,
    }
    row.update(overrides)
    return row


def make_builder(
    config: dict[str, Any] | None = None,
    columns: list[str] | None = None,
    key_properties: tuple[str, ...] = (),
    outcomes: collections.Counter[str] | None = None,
    stream: str = "purchases",
) -> EventBuilder:
    settings = EventSettings.from_config({"pixel_id": PIXEL, "default_phone_country": "US", **(config or {})})
    return EventBuilder(
        settings,
        stream,
        schema_for(columns or PURCHASE_COLUMNS),
        key_properties,
        outcomes if outcomes is not None else collections.Counter(),
    )


def build_event(row: dict[str, Any], **kwargs: Any) -> Event:
    result = make_builder(**kwargs).build(row, NOW)
    assert isinstance(result, Event), result
    return result


def build_rejection(row: dict[str, Any], **kwargs: Any) -> Rejection:
    result = make_builder(**kwargs).build(row, NOW)
    assert isinstance(result, Rejection), result
    return result


# -- a valid purchase


def test_valid_purchase_row_becomes_the_contract_event() -> None:
    outcomes: collections.Counter[str] = collections.Counter()
    event = build_event(purchase_row(), outcomes=outcomes)
    assert event.event_id == "order-10001"
    assert event.body == {
        "event_name": "PURCHASE",
        "event_time": 1_764_239_400,
        "event_id": "order-10001",
        "action_source": "OFFLINE",
        "integration": "target-snapchat-capi",
        "user_data": {
            "em": [sha("person@example.com")],
            "ph": [sha("14155550100")],
            "fn": [sha("raphaël")],
            "ln": [sha("obrien")],
            "ct": [sha("menlopark")],
            "st": [sha("ca")],
            "zp": [sha("94025")],
        },
        "custom_data": {"order_id": "order-10001", "value": 142.52, "currency": "USD"},
    }
    assert event.match_keys == ("em", "ph", "fn", "ln", "zp", "ct", "st")
    assert isinstance(event.body["event_time"], int)
    assert outcomes == {
        "em_hashed": 1,
        "ph_default_country": 1,
        "fn_hashed": 1,
        "ln_hashed": 1,
        "zp_hashed": 1,
        "ct_hashed": 1,
        "st_name_mapped": 1,
    }
    json.dumps(event.body)  # serialisable as is


def test_hashed_fields_are_lists_of_sha256_hex_and_the_body_is_contract_shaped() -> None:
    event = build_event(purchase_row())
    for key, value in event.body["user_data"].items():
        assert key in capi.HASHED_USER_FIELDS
        assert isinstance(value, list)
        assert len(value) == 1
        assert capi.is_sha256_hex(value[0])
    assert set(event.body["custom_data"]) <= set(capi.CUSTOM_DATA_FIELDS)
    assert capi.has_min_match_keys(event.body["user_data"])


def test_sdc_and_unmapped_columns_are_not_sent() -> None:
    event = build_event(purchase_row())
    text = json.dumps(event.body)
    for absent in ("store-7", "store_id", "purchases.csv", "_sdc", "Person@Example", "Raphaël", "555-0100"):
        assert absent not in text


def test_country_is_never_inferred_from_default_phone_country() -> None:
    event = build_event(purchase_row())
    assert "country" not in event.body["user_data"]
    with_country = build_event(purchase_row(country="United States"), columns=[*PURCHASE_COLUMNS, "country"])
    assert with_country.body["user_data"]["country"] == [sha("us")]
    assert "country" in with_country.match_keys


def test_row_country_drives_phone_and_zip_rules() -> None:
    columns = [*PURCHASE_COLUMNS, "country"]
    event = build_event(purchase_row(phone="07911 123456", zip="SW1A 1AA", country="GB"), columns=columns)
    assert event.body["user_data"]["ph"] == [sha("447911123456")]
    assert event.body["user_data"]["zp"] == [sha("sw1a1aa")]


def test_blank_values_are_omitted_not_sent_as_empty() -> None:
    event = build_event(purchase_row(phone="", first_name=None, last_name="   ", city=""))
    assert set(event.body["user_data"]) == {"em", "st", "zp"}
    assert "" not in json.dumps(event.body).split('"')[1::2]


def test_default_currency_fills_a_blank_currency() -> None:
    event = build_event(purchase_row(currency=""), config={"default_currency": "eur"})
    assert event.body["custom_data"]["currency"] == "EUR"
    event = build_event(purchase_row(currency="gbp"), config={"default_currency": "EUR"})
    assert event.body["custom_data"]["currency"] == "GBP"


def test_prehashed_values_pass_through_and_are_counted() -> None:
    outcomes: collections.Counter[str] = collections.Counter()
    hashed_email = sha("person@example.com").upper()
    event = build_event(purchase_row(email=hashed_email, phone=""), outcomes=outcomes)
    assert event.body["user_data"]["em"] == [hashed_email.lower()]
    assert outcomes["em_prehashed"] == 1


def test_numbers_in_cells_are_read_as_text() -> None:
    event = build_event(purchase_row(phone=4155550100, zip=94025.0, amount=99, order_id=10001.0))
    assert event.body["user_data"]["ph"] == [sha("14155550100")]
    assert event.body["user_data"]["zp"] == [sha("94025")]
    assert event.body["custom_data"]["value"] == 99
    assert event.event_id == "10001"


def test_singer_sdk_decimals_and_non_scalar_cells() -> None:
    """singer-sdk parses JSON numbers as Decimal; an object in a scalar column is invalid, not stringified."""
    outcomes: collections.Counter[str] = collections.Counter()
    columns = [*PURCHASE_COLUMNS, "contents"]
    row = purchase_row(
        phone=Decimal("4155550100"),
        amount=Decimal("142.52"),
        first_name={"given": "Raphaël"},
        last_name=True,
        contents=[{"id": "SKU-1", "quantity": Decimal("1"), "item_price": Decimal("100.5")}],
    )
    event = build_event(row, columns=columns, outcomes=outcomes)
    assert event.body["user_data"]["ph"] == [sha("14155550100")]
    assert "fn" not in event.body["user_data"]
    assert "ln" not in event.body["user_data"]
    assert outcomes["fn_invalid"] == 1
    assert outcomes["ln_invalid"] == 1
    assert event.body["custom_data"]["value"] == 142.52
    assert event.body["custom_data"]["contents"] == [{"id": "SKU-1", "quantity": 1, "item_price": 100.5}]
    json.dumps(event.body)  # no Decimal left


def test_settings_shape_every_event() -> None:
    event = build_event(
        purchase_row(),
        config={
            "integration": "acme-crm",
            "test_event_code": "TEST123",
            "data_processing_options": ["LDU"],
            "data_processing_options_country": 1,
            "data_processing_options_state": 1000,
        },
    )
    assert event.body["integration"] == "acme-crm"
    assert event.body["action_source"] == "OFFLINE"
    assert event.body["test_event_code"] == "TEST123"
    assert event.body["data_processing_options"] == ["LDU"]
    assert event.body["data_processing_options_country"] == 1
    assert event.body["data_processing_options_state"] == 1000


def test_data_processing_options_per_row_override_settings() -> None:
    columns = [*PURCHASE_COLUMNS, "data_processing_options", "data_processing_options_state"]
    builder = make_builder(config={"data_processing_options": ["LDU"]}, columns=columns)
    row_event = builder.build(purchase_row(data_processing_options="", data_processing_options_state="1000"), NOW)
    assert isinstance(row_event, Event)
    assert row_event.body["data_processing_options"] == ["LDU"]
    assert row_event.body["data_processing_options_state"] == 1000
    other = builder.build(purchase_row(data_processing_options="LDU,OTHER"), NOW)
    assert isinstance(other, Event)
    assert other.body["data_processing_options"] == ["LDU", "OTHER"]
    assert "data_processing_options_state" not in other.body


def test_custom_data_lists_and_objects() -> None:
    columns = [*PURCHASE_COLUMNS, "content_ids", "contents", "num_items", "content_category", "custom_fields"]
    event = build_event(
        purchase_row(
            content_ids="SKU-1| SKU-2 ,",
            contents='[{"id": "SKU-1", "quantity": 1, "item_price": 100.0}]',
            num_items="2",
            content_category="shoes",
            custom_fields='{"channel": "store"}',
        ),
        columns=columns,
    )
    custom = event.body["custom_data"]
    assert custom["content_ids"] == ["SKU-1", "SKU-2"]
    assert custom["contents"] == [{"id": "SKU-1", "quantity": 1, "item_price": 100.0}]
    assert custom["num_items"] == 2
    assert custom["content_category"] == "shoes"
    assert custom["custom_fields"] == {"channel": "store"}


def test_invalid_optional_custom_values_are_left_out_and_counted() -> None:
    outcomes: collections.Counter[str] = collections.Counter()
    columns = [*PURCHASE_COLUMNS, "contents", "num_items"]
    event = build_event(purchase_row(contents="not json", num_items="2.5"), columns=columns, outcomes=outcomes)
    assert "contents" not in event.body["custom_data"]
    assert "num_items" not in event.body["custom_data"]
    assert outcomes["contents_invalid"] == 1
    assert outcomes["num_items_invalid"] == 1


def test_match_keys_for_madid_and_ip_with_user_agent() -> None:
    columns = ["order_id", "madid", "ip", "user_agent", "amount", "currency", "timestamp"]
    row = {
        "order_id": "o1",
        "madid": "6D92078A-8246-4BA4-AE5B-76104861E7DC",
        "ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0",
        "amount": 5,
        "currency": "USD",
        "timestamp": NOW - HOUR,
    }
    event = build_event(row, columns=columns)
    assert event.body["user_data"] == {
        "madid": "6d92078a-8246-4ba4-ae5b-76104861e7dc",
        "client_ip_address": "203.0.113.7",
        "client_user_agent": "Mozilla/5.0",
    }
    assert event.match_keys == ("madid", "ip_ua")
    ip_ua_only = build_event({**row, "madid": None}, columns=columns)
    assert ip_ua_only.match_keys == ("ip_ua",)


# -- event names


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        ("Closed Won", "PURCHASE"),
        ("  closed won ", "PURCHASE"),
        ("REFUND", "CUSTOM_EVENT_1"),
        ("purchase", "PURCHASE"),
        ("sign_up", "SIGN_UP"),
        ("Add to wishlist", "ADD_TO_WISHLIST"),
        ("", "SUBSCRIBE"),  # blank: the static event_name
        (None, "SUBSCRIBE"),
    ],
)
def test_event_name_from_column_map_and_passthrough(stage: str | None, expected: str) -> None:
    config = {
        "event_name": "subscribe",
        "event_name_map": {"Closed Won": "purchase", "refund": "CUSTOM_EVENT_1"},
    }
    columns = [*PURCHASE_COLUMNS, "stage"]
    event = build_event(purchase_row(stage=stage), config=config, columns=columns)
    assert event.body["event_name"] == expected


def test_static_event_name_without_a_column() -> None:
    assert build_event(purchase_row(), config={"event_name": "CUSTOM_EVENT_2"}).body["event_name"] == "CUSTOM_EVENT_2"


def test_non_purchase_events_do_not_need_value_or_currency() -> None:
    event = build_event(purchase_row(amount="", currency=""), config={"event_name": "SIGN_UP"})
    assert event.body["custom_data"] == {"order_id": "order-10001"}


# -- rejections

REJECTION_CASES = [
    ("missing_match_keys", {"email": "", "phone": ""}, {}),
    ("missing_match_keys", {"email": "not-an-email", "phone": "555"}, {}),
    ("missing_match_keys", {"email": None, "phone": "(415) 555-0100"}, {"default_phone_country": ""}),
    ("missing_event_time", {"purchased_at": ""}, {}),
    ("invalid_event_time", {"purchased_at": "next tuesday"}, {}),
    ("stale_event", {"purchased_at": NOW - 38 * 24 * HOUR}, {}),
    ("stale_event", {"purchased_at": NOW - 8 * 24 * HOUR}, {"max_event_age_days": 7}),
    ("future_event", {"purchased_at": NOW + HOUR}, {}),
    ("missing_value", {"amount": ""}, {}),
    ("invalid_value", {"amount": "twelve"}, {}),
    ("invalid_value", {"amount": "-5.00"}, {}),
    ("missing_currency", {"currency": ""}, {}),
    ("invalid_currency", {"currency": "dollars"}, {}),
    ("invalid_currency", {"currency": "XYZ"}, {}),
    ("unknown_event_name", {"stage": "Negotiation"}, {}),
]


@pytest.mark.parametrize(("reason", "overrides", "config"), REJECTION_CASES)
def test_every_rejection_code(reason: str, overrides: dict[str, Any], config: dict[str, Any]) -> None:
    rejection = build_rejection(purchase_row(**overrides), config=config, columns=[*PURCHASE_COLUMNS, "stage"])
    assert rejection.reason == reason
    assert rejection.event_id == "order-10001"
    assert rejection.message


def test_missing_event_time_column_and_missing_value_column() -> None:
    columns = [c for c in PURCHASE_COLUMNS if c not in ("purchased_at", "amount")]
    assert build_rejection(purchase_row(), columns=columns).reason == "missing_event_time"
    columns = [c for c in PURCHASE_COLUMNS if c != "amount"]
    rejection = build_rejection(purchase_row(), columns=columns)
    assert rejection.reason == "missing_value"
    assert "no column is mapped to value" in rejection.message


def test_within_the_window_edges() -> None:
    assert build_event(purchase_row(purchased_at=NOW - 37 * 24 * HOUR + 60)).body["event_time"] > 0
    assert build_event(purchase_row(purchased_at=NOW + 9 * 60)).body["event_time"] == NOW + 540


def test_missing_match_keys_message_names_columns_and_outcomes() -> None:
    message = build_rejection(purchase_row(email="bad", phone="")).message
    assert "em (column 'email'): em_not_an_address" in message
    assert "ph (column 'phone'): blank" in message
    assert "not mapped: madid" in message


RAW_PII = [
    "Person@Example.COM",
    "person@example.com",
    "(415) 555-0100",
    "4155550100",
    "Raphaël",
    "O'Brien",
    "obrien",
]


@pytest.mark.parametrize(("reason", "overrides", "config"), REJECTION_CASES)
def test_rejection_messages_never_contain_raw_personal_data(
    reason: str, overrides: dict[str, Any], config: dict[str, Any]
) -> None:
    row = purchase_row(**{"email": "Person@Example.COM", "phone": "(415) 555-0100", **overrides})
    rejection = build_rejection(row, config=config, columns=[*PURCHASE_COLUMNS, "stage"])
    text = f"{rejection.reason} {rejection.message} {rejection.event_id}"
    for raw in [
        *RAW_PII,
        *(str(v) for k, v in overrides.items() if v not in (None, "") and k != "purchased_at"),
    ]:
        assert raw.lower() not in text.lower(), raw


def test_rejection_for_unparseable_pii_does_not_echo_it() -> None:
    secret_phone = "+1 (415) 555-0199 call after 6"
    rejection = build_rejection(purchase_row(email="john.smith_at_example", phone=secret_phone))
    assert "john" not in rejection.message
    assert "555" not in rejection.message


# -- event ids


def test_event_id_from_mapped_column_then_order_id() -> None:
    columns = [*PURCHASE_COLUMNS, "event_id"]
    assert build_event(purchase_row(event_id=" evt-9 "), columns=columns).event_id == "evt-9"
    assert build_event(purchase_row(event_id=""), columns=columns).event_id == "order-10001"


def test_event_id_from_key_properties_is_the_documented_recipe_and_stable() -> None:
    columns = [c for c in PURCHASE_COLUMNS if c != "order_id"] + ["row_id"]
    row = purchase_row(row_id=42)
    del row["order_id"]
    first = build_event(row, columns=columns, key_properties=("row_id",))
    again = build_event(dict(row), columns=columns, key_properties=("row_id",))
    expected = sha(json.dumps([PIXEL, "purchases", ["42"]], sort_keys=True, ensure_ascii=False, separators=(",", ":")))
    assert first.event_id == again.event_id == expected
    # The same content typed differently on the way in (a string, a float) gives the same id.
    assert build_event({**row, "row_id": "42"}, columns=columns, key_properties=("row_id",)).event_id == expected
    assert build_event({**row, "row_id": 42.0}, columns=columns, key_properties=("row_id",)).event_id == expected
    assert first.body["event_id"] == expected
    other_stream = build_event(row, columns=columns, key_properties=("row_id",), stream="other")
    assert other_stream.event_id != expected
    other_row = build_event({**row, "row_id": 43}, columns=columns, key_properties=("row_id",))
    assert other_row.event_id != expected


def test_event_id_without_key_properties_hashes_the_record_without_sdc_columns() -> None:
    columns = [c for c in PURCHASE_COLUMNS if c != "order_id"]
    row = purchase_row()
    del row["order_id"]
    first = build_event(row, columns=columns)
    moved = build_event({**row, "_sdc_source_file": "elsewhere.csv", "_sdc_source_lineno": 99}, columns=columns)
    changed = build_event({**row, "amount": "142.53"}, columns=columns)
    assert first.event_id == moved.event_id
    assert first.event_id != changed.event_id
    content = {k: v for k, v in row.items() if not k.startswith("_sdc_")}
    content["purchased_at"] = "2025-11-27T10:30:00"  # date-times with a zone are hashed in UTC, without offset
    assert first.event_id == sha(
        json.dumps([PIXEL, "purchases", content], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    )


def test_event_id_does_not_change_with_how_a_time_was_typed() -> None:
    """A date-time column arrives as a string, or as a datetime once singer-sdk has parsed it (stream maps)."""
    columns = [c for c in PURCHASE_COLUMNS if c != "order_id"]
    as_text = purchase_row(purchased_at="2025-11-27T10:30:00Z")
    as_datetime = purchase_row(purchased_at=dt.datetime(2025, 11, 27, 10, 30, tzinfo=dt.UTC))
    as_offset = purchase_row(purchased_at="2025-11-27T12:30:00+02:00")
    for row in (as_text, as_datetime, as_offset):
        del row["order_id"]
    ids = {build_event(row, columns=columns).event_id for row in (as_text, as_datetime, as_offset)}
    assert len(ids) == 1
    later = purchase_row(purchased_at="2025-11-27T10:31:00Z")
    del later["order_id"]
    assert build_event(later, columns=columns).event_id not in ids


# -- time and value parsing: tests/target/test_cells.py

T = 1_764_239_400  # 2025-11-27T10:30:00Z


# -- loose schemas and nested records


def test_loose_schema_resolves_from_the_first_record() -> None:
    settings = EventSettings.from_config({"pixel_id": PIXEL, "default_currency": "USD"})
    builder = EventBuilder(settings, "loose", {"type": "object"}, [], collections.Counter())
    assert builder.mapping.fields == {}
    event = builder.build({"Email": "a@b.co", "Total": "5", "Timestamp": NOW - HOUR, "extra": "x"}, NOW)
    assert isinstance(event, Event)
    assert builder.mapping.fields == {"event_time": "Timestamp", "em": "Email", "value": "Total"}
    assert event.body["user_data"] == {"em": [sha("a@b.co")]}
    assert event.body["custom_data"] == {"value": 5.0, "currency": "USD"}


def test_hubspot_shaped_record_builds_without_a_mapper() -> None:
    schema = {
        "properties": {
            "id": {"type": "string"},
            "properties": {
                "type": "object",
                "properties": {
                    name: {"type": ["string", "null"]}
                    for name in ("email", "phone", "firstname", "amount", "closedate", "dealstage")
                },
            },
        }
    }
    settings = EventSettings.from_config(
        {"pixel_id": PIXEL, "default_currency": "USD", "event_name_map": {"closedwon": "PURCHASE"}}
    )
    builder = EventBuilder(settings, "deals", schema, ["id"], collections.Counter())
    record = {
        "id": "901",
        "properties": {
            "email": "Deal@Example.com",
            "phone": "+44 7911 123456",
            "firstname": "Zoë",
            "amount": "2500",
            "closedate": "2025-11-20T09:00:00.000Z",
            "dealstage": "closedwon",
        },
    }
    event = builder.build(record, NOW)
    assert isinstance(event, Event)
    assert event.body["event_name"] == "PURCHASE"
    assert event.body["user_data"] == {
        "em": [sha("deal@example.com")],
        "ph": [sha("447911123456")],
        "fn": [sha("zoë")],
    }
    assert event.body["custom_data"] == {"value": 2500.0, "currency": "USD"}
    assert event.event_id == sha(json.dumps([PIXEL, "deals", ["901"]], separators=(",", ":")))


# -- settings


def test_settings_defaults_and_unknown_keys_ignored() -> None:
    settings = EventSettings.from_config({"pixel_id": PIXEL, "access_token": "secret", "batch_size": 10})
    assert settings == EventSettings(pixel_id=PIXEL)
    assert settings.max_event_age_days == 37
    assert settings.future_tolerance_minutes == 10


def test_blank_integration_keeps_the_default() -> None:
    assert EventSettings.from_config({"pixel_id": PIXEL, "integration": ""}).integration == "target-snapchat-capi"
    assert EventSettings.from_config({"pixel_id": PIXEL, "integration": " acme "}).integration == "acme"


def test_settings_accept_json_text_for_objects() -> None:
    settings = EventSettings.from_config(
        {
            "pixel_id": PIXEL,
            "mapping": '{"em": "Mail", "mobile_ad_id": "device"}',
            "event_name_map": '{" Won ": "purchase"}',
            "data_processing_options": '["LDU"]',
            "default_phone_country": "gb",
            "data_processing_options_state": "1000",
        }
    )
    assert settings.mapping == {"em": "Mail", "madid": "device"}
    assert settings.event_name_map == {"won": "PURCHASE"}
    assert settings.data_processing_options == ("LDU",)
    assert settings.default_phone_country == "GB"
    assert settings.data_processing_options_state == 1000


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "pixel_id is required"),
        ({"pixel_id": "  "}, "pixel_id is required"),
        ({"event_name": "BUY"}, "event_name must be one of"),
        ({"event_name_map": {"won": "BOUGHT"}}, "event_name_map"),
        ({"event_name_map": ["won"]}, "event_name_map must be an object"),
        ({"mapping": {"email": "Email"}}, "'email' is not a Snapchat CAPI field"),
        ({"mapping": {"em": 3}}, "mapping"),
        ({"mapping": "{not json"}, "mapping is not valid JSON"),
        ({"default_currency": "dollars"}, "default_currency"),
        ({"default_phone_country": "USA"}, "default_phone_country"),
        ({"action_source": "STORE"}, "action_source"),
        ({"max_event_age_days": 60}, "cannot exceed 37"),
        ({"max_event_age_days": 0}, "at least 1"),
        ({"max_event_age_days": 1.5}, "whole number"),
        ({"future_tolerance_minutes": "ten"}, "whole number"),
        ({"data_processing_options": [1]}, "data_processing_options"),
    ],
)
def test_settings_errors_are_clear(config: dict[str, Any], message: str) -> None:
    full = config if "pixel_id" in config or config == {} else {"pixel_id": PIXEL, **config}
    with pytest.raises(ConfigError, match=message):
        EventSettings.from_config(full)


def test_naive_times_are_read_in_the_source_timezone() -> None:
    paris = ZoneInfo("Europe/Paris")
    assert parse_event_time("2025-11-27 11:30:00", paris) == T  # UTC+1 in November
    assert parse_event_time("11/27/2025 11:30", paris) == T
    assert parse_event_time("2025-11-27T10:30:00Z", paris) == T  # an explicit zone wins
    # A shop in Paris writing local time 30 minutes ago: with the setting it is recent, without it "the future".
    now = dt.datetime.now(dt.UTC)
    local = (now - dt.timedelta(minutes=30)).astimezone(paris).strftime("%Y-%m-%d %H:%M:%S")
    in_paris = make_builder({"source_timezone": "Europe/Paris"}).build(
        purchase_row(purchased_at=local), now.timestamp()
    )
    assert isinstance(in_paris, Event)
    assert abs(in_paris.body["event_time"] - (now.timestamp() - 1800)) < 2


def test_source_timezone_must_be_an_iana_name() -> None:
    with pytest.raises(ConfigError, match="source_timezone"):
        EventSettings.from_config({"pixel_id": PIXEL, "source_timezone": "Paris time"})


def test_placeholder_country_leaves_the_default_phone_country_in_charge() -> None:
    builder = make_builder({"default_phone_country": "US"}, columns=[*PURCHASE_COLUMNS, "country"])
    event = builder.build(purchase_row(country="N/A"), NOW)
    assert isinstance(event, Event)
    assert event.body["user_data"]["ph"] == [sha("14155550100")]
    assert "country" not in event.body["user_data"]


def test_unreadable_country_does_not_borrow_the_default_for_phones() -> None:
    builder = make_builder({"default_phone_country": "US"}, columns=[*PURCHASE_COLUMNS, "country"])
    event = builder.build(purchase_row(country="Atlantis", email=""), NOW)
    assert isinstance(event, Rejection)  # no email, and the phone's country is unknown: no match key
    assert event.reason == "missing_match_keys"
