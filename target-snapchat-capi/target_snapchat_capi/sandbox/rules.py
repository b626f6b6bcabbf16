"""The sandbox's checks of a Conversions API v3 request, written from the contract (sections 2 to 4).

Pure functions, no I/O: `parse_request` turns a raw body into a list of events or a request-level error,
`check_event` lists what is wrong with one event. Every message names the field and never its value, so
nothing a client sent is echoed back into a response, a log line or a reject file.

This module reads the contract constants in `capi.py` and nothing from the target's own code paths: the
sandbox's job is to check the target, so it must not share the target's mistakes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import msgspec
import pycountry
from target_snapchat_capi import capi

SECONDS_PER_DAY: Final = 86_400
MAX_EVENT_AGE_SECONDS: Final = capi.MAX_EVENT_AGE_DAYS * SECONDS_PER_DAY

#: ISO-4217 alphabetic codes, upper case (the only form the contract accepts).
CURRENCY_CODES: Final[frozenset[str]] = frozenset(currency.alpha_3 for currency in pycountry.currencies)

#: Top-level event fields the sandbox accepts; anything else is reported so that a target leaking a
#: source column into the event is caught.
EVENT_TOP_LEVEL_FIELDS: Final[frozenset[str]] = frozenset(
    {
        *capi.EVENT_FIELDS,
        "action_source",
        "integration",
        "user_data",
        "custom_data",
        "app_data",
        "opt_out",
        "test_event_code",
        "event_tag",
        *capi.DATA_PROCESSING_FIELDS,
    }
)

#: user_data fields sent as plain strings (madid under both of its names, and two of Snap's extras).
PLAIN_USER_DATA_FIELDS: Final[frozenset[str]] = frozenset(
    {*capi.PLAIN_USER_FIELDS, *capi.MADID_ALIASES, "idfv", "sc_cookie1"}
)
HASHED_USER_DATA_FIELDS: Final[frozenset[str]] = frozenset(capi.HASHED_USER_FIELDS)

# Error codes (Snap's own where the contract names them, descriptive upper-case names otherwise).
MALFORMED_REQUEST: Final = "MALFORMED_REQUEST"
INVALID_EVENT: Final = "INVALID_EVENT"
UNKNOWN_FIELD: Final = "UNKNOWN_FIELD"
INVALID_EVENT_NAME: Final = "INVALID_EVENT_NAME"
INVALID_ACTION_SOURCE: Final = "INVALID_ACTION_SOURCE"
INVALID_EVENT_TIME: Final = "INVALID_EVENT_TIME"
EVENT_TIME_TOO_OLD: Final = "EVENT_TIME_TOO_OLD"
EVENT_TIME_IN_FUTURE: Final = "EVENT_TIME_IN_FUTURE"
INVALID_EVENT_ID: Final = "INVALID_EVENT_ID"
INVALID_FIELD_TYPE: Final = "INVALID_FIELD_TYPE"
INVALID_USER_DATA: Final = "INVALID_USER_DATA"
UNHASHED_PII: Final = "UNHASHED_PII"
INVALID_MADID: Final = "INVALID_MADID"
INSUFFICIENT_PII: Final = "INSUFFICIENT_PII"
INVALID_CUSTOM_DATA: Final = "INVALID_CUSTOM_DATA"
MISSING_VALUE: Final = "MISSING_VALUE"
INVALID_VALUE: Final = "INVALID_VALUE"
MISSING_CURRENCY: Final = "MISSING_CURRENCY"
INVALID_CURRENCY: Final = "INVALID_CURRENCY"
INVALID_DATA_PROCESSING_OPTIONS: Final = "INVALID_DATA_PROCESSING_OPTIONS"


@dataclass(frozen=True, slots=True)
class EventError:
    """One thing wrong with one event: a stable code and a message that names the field, never the value."""

    code: str
    message: str


class RequestError(Exception):
    """The request as a whole is unusable (malformed JSON, no events, too many, too large)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_decoder: Final = msgspec.json.Decoder()


def parse_request(body: bytes) -> list[Any]:
    """The events of a request body, or RequestError for what the contract rejects as a whole."""
    if len(body) > capi.MAX_REQUEST_BYTES:
        raise RequestError(f"Request body is larger than {capi.MAX_REQUEST_BYTES} bytes")
    try:
        payload = _decoder.decode(body)
    except msgspec.DecodeError:
        raise RequestError("Request body is not valid JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise RequestError('Request body must be a JSON object with a "data" list of events')
    events: list[Any] = payload["data"]
    if not events:
        raise RequestError('"data" holds no events')
    if len(events) > capi.MAX_EVENTS_PER_REQUEST:
        raise RequestError(f'"data" holds more than {capi.MAX_EVENTS_PER_REQUEST} events')
    return events


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_string_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


_CUSTOM_TYPE_CHECKS: Final = {
    "number": _is_number,
    "integer": _is_integer,
    "string": lambda value: isinstance(value, str),
    "string_list": _is_string_list,
    "object_list": lambda value: isinstance(value, list) and all(isinstance(item, dict) for item in value),
    "object": lambda value: isinstance(value, dict),
}
_CUSTOM_FIELD_CHECKS: Final = {name: _CUSTOM_TYPE_CHECKS[kind] for name, kind in capi.CUSTOM_DATA_FIELDS.items()}


def check_event(event: object, now: float) -> list[EventError]:
    """Everything wrong with one event by the contract; an empty list means the event is valid."""
    if not isinstance(event, dict):
        return [EventError(INVALID_EVENT, "Event must be a JSON object")]
    errors: list[EventError] = []
    errors.extend(
        EventError(UNKNOWN_FIELD, f"Unknown event field '{name}'")
        for name in event
        if name not in EVENT_TOP_LEVEL_FIELDS
    )

    event_name = event.get("event_name")
    if not (isinstance(event_name, str) and event_name in capi.EVENT_NAMES):
        errors.append(EventError(INVALID_EVENT_NAME, "event_name is missing or not one of Snap's event names"))
    action_source = event.get("action_source")
    if not (isinstance(action_source, str) and action_source in capi.ACTION_SOURCES):
        errors.append(EventError(INVALID_ACTION_SOURCE, "action_source is missing or not OFFLINE/WEB/MOBILE_APP"))
    _check_event_time(event.get("event_time"), now, errors)
    if "event_id" in event and not (isinstance(event["event_id"], str) and event["event_id"]):
        errors.append(EventError(INVALID_EVENT_ID, "event_id must be a non-empty string"))
    for name in ("integration", "test_event_code", "event_source_url", "event_tag"):
        if name in event and not isinstance(event[name], str):
            errors.append(EventError(INVALID_FIELD_TYPE, f"{name} must be a string"))

    user_data = event.get("user_data")
    if isinstance(user_data, dict):
        _check_user_data(user_data, errors)
    else:
        errors.append(EventError(INVALID_USER_DATA, "user_data is missing or not a JSON object"))

    custom_data = event.get("custom_data")
    if custom_data is None:
        custom_data = {}
    if isinstance(custom_data, dict):
        _check_custom_data(custom_data, event_name == "PURCHASE", errors)
    else:
        errors.append(EventError(INVALID_CUSTOM_DATA, "custom_data must be a JSON object"))

    _check_data_processing(event, errors)
    return errors


def _check_event_time(event_time: object, now: float, errors: list[EventError]) -> None:
    if not _is_integer(event_time):
        errors.append(EventError(INVALID_EVENT_TIME, "event_time must be an integer number of seconds"))
        return
    assert isinstance(event_time, int)
    if event_time > now + capi.FUTURE_TOLERANCE_SECONDS:
        errors.append(EventError(EVENT_TIME_IN_FUTURE, "event_time is in the future (milliseconds?)"))
    elif event_time < now - MAX_EVENT_AGE_SECONDS:
        errors.append(EventError(EVENT_TIME_TOO_OLD, f"event_time is more than {capi.MAX_EVENT_AGE_DAYS} days old"))


def _check_user_data(user_data: dict[str, Any], errors: list[EventError]) -> None:
    for name, value in user_data.items():
        if name in HASHED_USER_DATA_FIELDS:
            if not (
                isinstance(value, list)
                and value
                and all(isinstance(item, str) and capi.is_sha256_hex(item) for item in value)
            ):
                errors.append(
                    EventError(UNHASHED_PII, f"user_data.{name} must be a list of lowercase SHA-256 hex strings")
                )
        elif name in PLAIN_USER_DATA_FIELDS:
            if not (isinstance(value, str) and value):
                errors.append(EventError(INVALID_USER_DATA, f"user_data.{name} must be a non-empty string"))
            elif name in capi.MADID_ALIASES and (value != value.lower() or capi.is_sha256_hex(value)):
                errors.append(EventError(INVALID_MADID, f"user_data.{name} must be the plaintext id, lower case"))
        else:
            errors.append(EventError(UNKNOWN_FIELD, f"Unknown user_data field '{name}'"))
    if not capi.has_min_match_keys(user_data):
        errors.append(
            EventError(
                INSUFFICIENT_PII,
                "user_data needs em, ph, madid, or both client_ip_address and client_user_agent",
            )
        )


def _check_custom_data(custom_data: dict[str, Any], is_purchase: bool, errors: list[EventError]) -> None:
    for name, value in custom_data.items():
        check = _CUSTOM_FIELD_CHECKS.get(name)
        if check is None:
            errors.append(EventError(UNKNOWN_FIELD, f"Unknown custom_data field '{name}'"))
        elif name not in {"value", "currency"} and not check(value):
            kind = capi.CUSTOM_DATA_FIELDS[name]
            errors.append(EventError(INVALID_CUSTOM_DATA, f"custom_data.{name} must be of type {kind}"))

    if "value" in custom_data:
        if not _is_number(custom_data["value"]):
            errors.append(EventError(INVALID_VALUE, "custom_data.value must be a JSON number"))
    elif is_purchase:
        errors.append(EventError(MISSING_VALUE, "PURCHASE requires custom_data.value"))

    if "currency" in custom_data:
        currency = custom_data["currency"]
        if not (isinstance(currency, str) and currency in CURRENCY_CODES):
            errors.append(EventError(INVALID_CURRENCY, "custom_data.currency must be an upper-case ISO-4217 code"))
    elif is_purchase:
        errors.append(EventError(MISSING_CURRENCY, "PURCHASE requires custom_data.currency"))


def _check_data_processing(event: dict[str, Any], errors: list[EventError]) -> None:
    options_name, country_name, state_name = capi.DATA_PROCESSING_FIELDS
    if options_name in event and not _is_string_list(event[options_name]):
        errors.append(EventError(INVALID_DATA_PROCESSING_OPTIONS, f"{options_name} must be a list of strings"))
    for name in (country_name, state_name):
        if name in event and not _is_integer(event[name]):
            errors.append(EventError(INVALID_DATA_PROCESSING_OPTIONS, f"{name} must be an integer"))
