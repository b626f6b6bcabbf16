"""Column resolution: explicit mapping, auto-detection, HubSpot- and Salesforce-shaped streams."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from target_snapchat_capi.events import Event, EventBuilder, EventSettings, Rejection
from target_snapchat_capi.mapping import (
    SNAP_FIELDS,
    TARGET_FIELDS,
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


# --- Singer taps' record shapes -------------------------------------------------------------------------------
# Small fixtures written after the taps' own schema code: singer-io's tap-hubspot builds every HubSpot property
# as an object {value, timestamp, source, sourceId} (contacts: {value} only), keeps them under ``properties``
# and again at the top level as ``property_<name>``, beside a ``properties_versions`` array; MeltanoLabs'
# tap-hubspot (API v3) keeps plain values under ``properties``; tap-salesforce sends Opportunity fields flat,
# CloseDate being a date.

PIXEL = "3c1e8a52-7f5d-4b0e-9a61-2d4f3b5c6e7f"
NOW = 1_764_316_800  # 2025-11-28T08:00:00Z


def wrapped(value_type: str | list[str]) -> dict[str, Any]:
    return {
        "type": ["null", "object"],
        "properties": {
            "value": {"type": value_type},
            "timestamp": {"type": ["null", "string"], "format": "date-time"},
            "source": {"type": ["null", "string"]},
            "sourceId": {"type": ["null", "string"]},
        },
    }


SINGER_IO_DEAL_PROPERTIES = {
    "amount": wrapped(["null", "number", "string"]),
    "closedate": wrapped(["null", "string"]),
    "createdate": wrapped(["null", "string"]),
    "dealstage": wrapped(["null", "string"]),
    "deal_currency_code": wrapped(["null", "string"]),
    "dealname": wrapped(["null", "string"]),
    "hs_date_entered_closedwon": {"type": "object", "properties": {"value": {"type": ["null", "string"]}}},
}
SINGER_IO_DEALS_SCHEMA = {
    "portalId": {"type": ["null", "integer"]},
    "dealId": {"type": ["null", "integer"]},
    "associations": {
        "type": ["null", "object"],
        "properties": {"associatedVids": {"type": ["null", "object"], "items": {"type": ["null", "integer"]}}},
    },
    "properties": {"type": "object", "properties": SINGER_IO_DEAL_PROPERTIES},
    **{f"property_{name}": schema for name, schema in SINGER_IO_DEAL_PROPERTIES.items()},
    "properties_versions": {"type": ["null", "array"], "items": {"type": ["null", "object"]}},
}


def singer_io_deal(**values: Any) -> dict[str, Any]:
    """A deal record as singer-io's tap-hubspot writes it (epoch-millisecond strings for HubSpot's times)."""
    properties = {
        name: {"value": value, "timestamp": "1764230400000", "source": "CRM_UI", "sourceId": "user-7"}
        for name, value in values.items()
    }
    return {
        "portalId": 62515,
        "dealId": 1204,
        "properties": properties,
        **{f"property_{name}": wrapper for name, wrapper in properties.items()},
        "properties_versions": [{"name": "amount", "value": "90", "timestamp": "1764100000000"}],
    }


def test_singer_io_hubspot_deals_read_values_never_their_metadata() -> None:
    resolved = resolve_mapping({}, SINGER_IO_DEALS_SCHEMA)
    assert resolved.fields == {
        "event_name": "properties.dealstage",
        "event_time": "properties.closedate",
        "value": "properties.amount",
        "currency": "properties.deal_currency_code",
        "order_id": "dealId",
    }
    for path in resolved.fields.values():  # the old auto-detection took property_amount.timestamp as event_time
        assert path.split(".")[-1] not in ("timestamp", "source", "sourceId", "versions")


def test_a_wrapped_value_reads_its_value_at_any_depth() -> None:
    record = singer_io_deal(amount="1200.50", dealstage="closedwon")
    assert compile_getter("properties.amount")(record) == "1200.50"
    assert compile_getter("property_amount")(record) == "1200.50"
    assert compile_getter("x.properties.amount")({"x": record}) == "1200.50"
    # an object that is not a wrapped value stays an object (custom_fields, contents items)
    custom = {"custom_fields": {"value": 1, "tier": "gold"}}
    assert compile_getter("custom_fields")(custom) == {"value": 1, "tier": "gold"}


def test_metadata_sub_keys_are_never_auto_detected() -> None:
    schema = {
        "email": {"type": "string"},
        "engagement": {
            "type": "object",
            "properties": {"timestamp": {"type": "integer"}, "source": {"type": "string"}, "type": {"type": "string"}},
        },
    }
    assert resolve_mapping({}, schema).fields == {"em": "email"}
    # a top-level column named timestamp is a time column like any other
    assert resolve_mapping({}, props("timestamp", "email")).fields["event_time"] == "timestamp"


def test_singer_io_loose_records_resolve_the_same_way() -> None:
    record = singer_io_deal(amount="99", closedate="1764230400000", dealstage="closedwon", deal_currency_code="EUR")
    resolved = resolve_mapping({}, properties_from_record(record))
    assert resolved.fields["event_time"] == "properties.closedate"
    assert resolved.fields["value"] == "properties.amount"


def build_one(schema: dict[str, Any], record: dict[str, Any], config: dict[str, Any]) -> Event | Rejection:
    settings = EventSettings.from_config({"pixel_id": PIXEL, **config})
    builder = EventBuilder(settings, "deals", {"type": "object", "properties": schema}, ["dealId"], Counter())
    return builder.build(record, NOW)


def test_singer_io_deal_becomes_a_purchase_with_epoch_millisecond_close_date() -> None:
    record = singer_io_deal(
        amount="1200.50", closedate="1764230400000", dealstage="closedwon", deal_currency_code="EUR", dealname="x"
    )
    record["properties"]["email"] = {"value": "Buyer@Example.com"}
    schema = {**SINGER_IO_DEALS_SCHEMA}
    schema["properties"] = {"type": "object", "properties": {**SINGER_IO_DEAL_PROPERTIES, "email": wrapped("string")}}
    event = build_one(schema, record, {"event_name_map": {"closedwon": "PURCHASE"}})
    assert isinstance(event, Event), event
    assert event.body["event_name"] == "PURCHASE"
    assert event.body["event_time"] == 1_764_230_400
    assert event.body["custom_data"]["value"] == 1200.5
    assert event.body["custom_data"]["currency"] == "EUR"
    assert event.body["custom_data"]["order_id"] == "1204"


def test_singer_io_hubspot_contacts_value_only_wrappers() -> None:
    contact_properties = {
        name: {"type": "object", "properties": {"value": {"type": ["null", "string"]}}}
        for name in ("email", "firstname", "lastname", "phone", "city", "state", "zip", "country", "createdate")
    }
    schema = {
        "vid": {"type": ["null", "integer"]},
        "canonical-vid": {"type": ["null", "integer"]},
        "addedAt": {"type": ["null", "string"], "format": "date-time"},
        "versionTimestamp": {"type": ["null", "string"], "format": "date-time"},
        "identity-profiles": {"type": ["null", "array"], "items": {"type": ["null", "object"]}},
        "properties": {"type": "object", "properties": contact_properties},
        **{f"property_{name}": prop for name, prop in contact_properties.items()},
    }
    resolved = resolve_mapping({}, schema)
    assert resolved.fields == {
        "event_time": "properties.createdate",
        "em": "properties.email",
        "ph": "properties.phone",
        "fn": "properties.firstname",
        "ln": "properties.lastname",
        "ct": "properties.city",
        "st": "properties.state",
        "zp": "properties.zip",
        "country": "properties.country",
    }
    record = {
        "vid": 51,
        "properties": {"email": {"value": "a@example.com"}},
        "property_email": {"value": "a@example.com"},
    }
    assert compile_getter(resolved.fields["em"])(record) == "a@example.com"


MELTANO_HUBSPOT_DEALS_SCHEMA = {
    "id": {"type": ["string", "null"]},
    "properties": {
        "type": ["object", "null"],
        "properties": props(
            "amount", "closedate", "createdate", "dealname", "dealstage", "deal_currency_code", "email"
        ),
    },
    "createdAt": {"type": ["string", "null"], "format": "date-time"},
    "updatedAt": {"type": ["string", "null"], "format": "date-time"},
    "archived": {"type": ["boolean", "null"]},
}


def test_meltanolabs_hubspot_deal_flat_under_properties() -> None:
    record = {
        "id": "1204",
        "properties": {
            "amount": "310",
            "closedate": "1764230400000",  # HubSpot's epoch milliseconds, as a string
            "createdate": "2025-11-01T09:00:00.000Z",
            "dealname": "Renewal",
            "dealstage": "closedwon",
            "deal_currency_code": "USD",
            "email": "buyer@example.com",
        },
        "createdAt": "2025-11-01T09:00:00.000Z",
        "updatedAt": "2025-11-27T09:00:00.000Z",
        "archived": False,
    }
    resolved = resolve_mapping({}, MELTANO_HUBSPOT_DEALS_SCHEMA)
    assert resolved.fields["event_time"] == "properties.closedate"
    event = build_one(
        MELTANO_HUBSPOT_DEALS_SCHEMA,
        record,
        {"event_name_map": {"closedwon": "PURCHASE"}, "mapping": {"external_id": "id", "order_id": "id"}},
    )
    assert isinstance(event, Event), event
    assert event.body["event_time"] == 1_764_230_400
    assert event.body["custom_data"]["value"] == 310


def test_salesforce_opportunity_close_date_is_a_date() -> None:
    schema = {
        "Id": {"type": "string"},
        "StageName": {"type": ["null", "string"]},
        "Amount": {"type": ["null", "number"]},
        "CloseDate": {"type": ["null", "string"], "format": "date"},
        "CurrencyIsoCode": {"type": ["null", "string"]},
        "CreatedDate": {"type": ["null", "string"], "format": "date-time"},
        "SystemModstamp": {"type": ["null", "string"], "format": "date-time"},
        "Email": {"type": ["null", "string"]},
    }
    record = {
        "Id": "0065g00000XyZ12AAB",
        "StageName": "Closed Won",
        "Amount": 4500.0,
        "CloseDate": "2025-11-27",
        "CurrencyIsoCode": "GBP",
        "CreatedDate": "2025-10-02T08:15:00.000000Z",
        "SystemModstamp": "2025-11-27T18:00:00.000000Z",
        "Email": "buyer@example.com",
    }
    assert resolve_mapping({}, schema).fields["event_time"] == "CloseDate"
    event = build_one(schema, record, {"event_name_map": {"Closed Won": "PURCHASE"}})
    assert isinstance(event, Event), event
    assert event.body["event_time"] == 1_764_201_600  # 2025-11-27T00:00:00Z: a date is midnight in source_timezone


# --- target fields, ambiguity and the description ---------------------------------------------------------------


@pytest.mark.parametrize("key", [*TARGET_FIELDS])
def test_target_fields_are_mapping_keys_apart_from_the_capi_fields(key: str) -> None:
    assert canonical_field(key) == key
    assert key not in SNAP_FIELDS
    assert resolve_mapping({key: "col"}, {}).fields == {key: "col"}
    assert key not in resolve_mapping({key: None}, props("item_id", "timezone", "pixel_route", "event_tag")).fields


def test_pixel_route_and_event_tag_are_never_auto_detected() -> None:
    assert resolve_mapping({}, props("pixel_route", "event_tag", "email")).fields == {"em": "email"}


def test_line_item_headers_with_an_item_column() -> None:
    resolved = resolve_mapping({}, props("Order ID", "SKU", "Qty", "Price", "Brand", "Time Zone", "Email"))
    assert resolved.fields == {
        "em": "Email",
        "order_id": "Order ID",
        "item_id": "SKU",
        "quantity": "Qty",
        "item_price": "Price",
        "brand": "Brand",
        "event_timezone": "Time Zone",
    }


def test_quantity_and_price_belong_to_the_order_without_an_item_column() -> None:
    resolved = resolve_mapping({}, props("Order ID", "Quantity", "Price", "Email"))
    assert resolved.fields == {"em": "Email", "order_id": "Order ID", "num_items": "Quantity", "value": "Price"}
    # ...unless mapped explicitly, or the order field is switched off
    explicit = resolve_mapping({"quantity": "Quantity", "value": None}, props("Order ID", "Quantity", "Price"))
    assert explicit.fields == {"order_id": "Order ID", "quantity": "Quantity"}


def test_equal_rank_candidates_are_ambiguous_and_described() -> None:
    resolved = resolve_mapping({}, props("Gross Sales", "Net Sales", "Email"))
    assert "value" not in resolved.fields
    assert resolved.ambiguous == {"value": ("Gross Sales", "Net Sales")}
    assert resolved.describe() == (
        "em <- Email; left unmapped: value ('Gross Sales' or 'Net Sales': ambiguous, set mapping.value)"
    )
    # an explicit mapping settles it
    assert resolve_mapping({"value": "Net Sales"}, props("Gross Sales", "Net Sales")).ambiguous == {}


def test_a_recognised_export_is_named_and_its_declined_headers_explained() -> None:
    headers = ("Name", "Financial Status", "Lineitem quantity", "Lineitem sku", "Billing Name", "Phone")
    resolved = resolve_mapping({}, props(*headers))
    assert resolved.source == "Shopify orders export"
    assert resolved.fields["order_id"] == "Name"
    assert resolved.fields["ph"] == "Phone"  # no Billing Phone in this export: the alias list decides
    assert "recognised as Shopify orders export" in resolved.describe()
    assert "'Billing Name' is a full name" in resolved.describe()
    # without the export's signature, Name is nobody's order number
    assert "order_id" not in resolve_mapping({}, props("Name", "Email")).fields


def test_getters_of_scalar_columns_skip_the_wrapped_value_check_and_others_keep_it() -> None:
    schema = {"Email": {"type": ["string", "null"]}, "deal": {"type": "object", "properties": {}}, **props("x")}
    resolved = resolve_mapping({"external_id": "deal", "em": "Email"}, schema)
    assert resolved.scalar_columns == frozenset({"Email"})
    wrapped_record = {"Email": {"value": "a@example.com"}, "deal": {"value": "D-1", "source": "CRM"}}
    em, external_id = resolved.getter("em"), resolved.getter("external_id")
    assert em is not None and external_id is not None
    assert em(wrapped_record) == {"value": "a@example.com"}  # typed a string: read as it is
    assert external_id(wrapped_record) == "D-1"
    assert resolved.getter("ph") is None
    loose = resolve_mapping({}, properties_from_record({"Email": "a@example.com"}))
    assert loose.scalar_columns == frozenset()  # a loose schema says nothing about types
