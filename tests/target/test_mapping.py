"""Column resolution: explicit mapping, auto-detection, HubSpot- and Salesforce-shaped streams."""

from __future__ import annotations

from typing import Any

import pytest
from target_snapchat_capi.mapping import (
    SNAP_FIELDS,
    ConfigError,
    ResolvedMapping,
    canonical_field,
    compile_getter,
    properties_from_record,
    resolve_mapping,
)


def props(*names: str) -> dict[str, Any]:
    return {name: {"type": ["string", "null"]} for name in names}


def test_auto_detects_common_csv_columns_ignoring_case_and_punctuation() -> None:
    resolved = resolve_mapping(
        {},
        props(
            "Order ID",
            "E-Mail",
            "Phone Number",
            "FirstName",
            "Last_Name",
            "Postal Code",
            "City",
            "State",
            "Country Code",
            "Gender",
            "Date of Birth",
            "Customer ID",
            "Amount",
            "Currency",
            "Purchased At",
            "IP Address",
            "User-Agent",
            "Quantity",
            "SKU",
            "IDFA",
            "ScCid",
            "store_name",
        ),
    )
    assert resolved.fields == {
        "event_time": "Purchased At",
        "em": "E-Mail",
        "ph": "Phone Number",
        "fn": "FirstName",
        "ln": "Last_Name",
        "ge": "Gender",
        "db": "Date of Birth",
        "ct": "City",
        "st": "State",
        "zp": "Postal Code",
        "country": "Country Code",
        "external_id": "Customer ID",
        "madid": "IDFA",
        "client_ip_address": "IP Address",
        "client_user_agent": "User-Agent",
        "sc_click_id": "ScCid",
        "value": "Amount",
        "currency": "Currency",
        "order_id": "Order ID",
        "item_id": "SKU",  # an item column makes the row one line of an order: Quantity is the line's
        "quantity": "Quantity",
    }


@pytest.mark.parametrize(
    ("columns", "snap_field", "expected"),
    [
        (("email", "e-mail"), "em", "email"),  # same compact name: first in schema order
        (("email_address", "email"), "em", "email"),  # earlier alias wins regardless of schema order
        (("mobile", "phone"), "ph", "phone"),
        (("zip", "postal_code"), "zp", "zip"),
        (("total", "revenue", "amount"), "value", "revenue"),
        (("created_at", "timestamp", "purchased_at"), "event_time", "timestamp"),
        (("transaction_id", "order_id"), "order_id", "order_id"),
    ],
)
def test_ties_are_broken_by_alias_order(columns, snap_field: str, expected: str) -> None:
    assert resolve_mapping({}, props(*columns)).fields[snap_field] == expected


def test_explicit_mapping_wins_and_its_column_is_not_reused() -> None:
    resolved = resolve_mapping({"external_id": "email", "em": "work_email"}, props("email", "work_email", "phone"))
    assert resolved.fields["external_id"] == "email"
    assert resolved.fields["em"] == "work_email"
    assert list(resolved.fields.values()).count("email") == 1


def test_explicit_null_switches_auto_detection_off() -> None:
    resolved = resolve_mapping({"ct": None, "st": ""}, props("email", "city", "state"))
    assert "ct" not in resolved.fields
    assert "st" not in resolved.fields
    assert resolved.fields["em"] == "email"


def test_explicit_mapping_to_a_column_absent_from_the_schema_is_kept() -> None:
    assert resolve_mapping({"em": "contact.mail"}, {}).fields == {"em": "contact.mail"}


def test_sdc_columns_are_never_mapped() -> None:
    resolved = resolve_mapping({}, props("_sdc_email", "_sdc_source_file", "_sdc_extracted_at", "phone"))
    assert resolved.fields == {"ph": "phone"}
    nested = {"properties": {"type": "object", "properties": props("_sdc_email")}}
    assert resolve_mapping({}, nested).fields == {}
    with pytest.raises(ConfigError, match="tap metadata"):
        resolve_mapping({"event_id": "_sdc_source_lineno"}, {})


def test_unknown_mapping_key_is_a_config_error_naming_the_key() -> None:
    with pytest.raises(ConfigError, match="'emial'"):
        resolve_mapping({"emial": "email"}, {})


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("em", "em"),
        ("mobile_ad_id", "madid"),
        ("user_data.em", "em"),
        ("user_data.mobile_ad_id", "madid"),
        ("custom_data.value", "value"),
        ("custom_data.country", "custom_data.country"),
        ("country", "country"),
        ("region", "region"),
        ("data_processing_options", "data_processing_options"),
        ("event_source_url", "event_source_url"),
    ],
)
def test_canonical_field(key: str, expected: str) -> None:
    assert canonical_field(key) == expected
    assert expected in SNAP_FIELDS


@pytest.mark.parametrize("key", ["user_data.value", "custom_data.em", "email", "hashed_email"])
def test_canonical_field_rejects_non_contract_keys(key: str) -> None:
    with pytest.raises(ConfigError):
        canonical_field(key)


def test_custom_data_country_only_by_explicit_mapping() -> None:
    resolved = resolve_mapping({"custom_data.country": "ship_country"}, props("country", "ship_country"))
    assert resolved.fields["country"] == "country"
    assert resolved.fields["custom_data.country"] == "ship_country"


def test_other_custom_data_fields_by_their_own_names() -> None:
    resolved = resolve_mapping({}, props("content_type", "brands", "search_string", "num_adults", "contents"))
    assert resolved.fields == {
        "content_type": "content_type",
        "brands": "brands",
        "search_string": "search_string",
        "num_adults": "num_adults",
        "contents": "contents",
    }


HUBSPOT_CONTACT_SCHEMA = {
    "id": {"type": "string"},
    "createdAt": {"type": "string", "format": "date-time"},
    "updatedAt": {"type": "string", "format": "date-time"},
    "archived": {"type": "boolean"},
    "properties": {
        "type": "object",
        "properties": props(
            "email",
            "phone",
            "mobilephone",
            "firstname",
            "lastname",
            "city",
            "state",
            "zip",
            "country",
            "date_of_birth",
            "hs_object_id",
            "lifecyclestage",
            "createdate",
        ),
    },
}


def test_hubspot_contact_shaped_stream() -> None:
    resolved = resolve_mapping({}, HUBSPOT_CONTACT_SCHEMA)
    assert resolved.fields == {
        "event_time": "createdAt",
        "em": "properties.email",
        "ph": "properties.phone",
        "fn": "properties.firstname",
        "ln": "properties.lastname",
        "db": "properties.date_of_birth",
        "ct": "properties.city",
        "st": "properties.state",
        "zp": "properties.zip",
        "country": "properties.country",
    }


def test_hubspot_deal_shaped_stream_uses_close_date_and_stage() -> None:
    schema = {
        "id": {"type": "string"},
        "createdAt": {"type": "string"},
        "properties": {
            "type": "object",
            "properties": props("amount", "closedate", "dealstage", "deal_currency_code", "createdate", "dealname"),
        },
    }
    resolved = resolve_mapping({}, schema)
    assert resolved.fields == {
        "event_name": "properties.dealstage",
        "event_time": "properties.closedate",
        "value": "properties.amount",
        "currency": "properties.deal_currency_code",
    }


def test_salesforce_opportunity_and_contact_shaped_stream() -> None:
    schema = props(
        "Id",
        "Name",
        "StageName",
        "Amount",
        "CloseDate",
        "CurrencyIsoCode",
        "CreatedDate",
        "LastModifiedDate",
        "ContactId",
        "Email",
        "Phone",
        "MobilePhone",
        "FirstName",
        "LastName",
        "MailingCity",
        "MailingState",
        "MailingPostalCode",
        "MailingCountry",
        "Birthdate",
        "SystemModstamp",
    )
    resolved = resolve_mapping({}, schema)
    assert resolved.fields == {
        "event_name": "StageName",
        "event_time": "CloseDate",
        "em": "Email",
        "ph": "Phone",
        "fn": "FirstName",
        "ln": "LastName",
        "db": "Birthdate",
        "ct": "MailingCity",
        "st": "MailingState",
        "zp": "MailingPostalCode",
        "country": "MailingCountry",
        "external_id": "ContactId",
        "value": "Amount",
        "currency": "CurrencyIsoCode",
    }


def test_shallower_path_wins_over_nested_with_the_same_alias() -> None:
    schema = {"customer": {"type": "object", "properties": props("email")}, **props("email")}
    assert resolve_mapping({}, schema).fields["em"] == "email"


def test_loose_schema_resolves_from_the_first_record() -> None:
    record = {"Email": "x", "properties": {"phone": "y"}, "_sdc_source_file": "f.csv"}
    properties = properties_from_record(record)
    assert properties["properties"]["type"] == "object"
    resolved = resolve_mapping({}, properties)
    assert resolved.fields == {"em": "Email", "ph": "properties.phone"}


def test_describe_lists_column_names_only() -> None:
    resolved = ResolvedMapping(fields={"em": "Email", "ph": "properties.phone"})
    assert resolved.describe() == "em <- Email, ph <- properties.phone"
    assert ResolvedMapping(fields={}).describe() == "no columns mapped"


def test_compile_getter_top_level_nested_and_absent() -> None:
    record = {"email": "a", "properties": {"email": "b", "deep": {"x": 1}}, "flat.name": "c", "scalar": 3}
    assert compile_getter("email")(record) == "a"
    assert compile_getter("properties.email")(record) == "b"
    assert compile_getter("properties.deep.x")(record) == 1
    assert compile_getter("missing")(record) is None
    assert compile_getter("properties.missing")(record) is None
    assert compile_getter("properties.deep.missing")(record) is None
    assert compile_getter("scalar.child")(record) is None
    assert compile_getter("flat.name")(record) == "c"  # a literal dotted column name, as some taps flatten
    assert compile_getter("missing.a.b")({"missing.a.b": 5}) == 5
