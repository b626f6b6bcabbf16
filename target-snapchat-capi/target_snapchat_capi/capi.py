"""The Snapchat Conversions API v3 contract: the one place that knows its names, fields and limits.

Both the target and the local sandbox read these constants, so the two can never disagree silently.
The contract in prose: docs/snapchat-capi-contract.md (in this repository). Pure data and tiny helpers, no I/O.
"""

from __future__ import annotations

import re
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

DEFAULT_API_URL: Final = "https://tr.snapchat.com"
API_VERSION: Final = "v3"

#: Snap's standard event names; anything else must be mapped by the user.
EVENT_NAMES: Final[frozenset[str]] = frozenset(
    {
        "PAGE_VIEW",
        "VIEW_CONTENT",
        "ADD_CART",
        "ADD_TO_WISHLIST",
        "SIGN_UP",
        "SEARCH",
        "PURCHASE",
        "ADD_BILLING",
        "START_CHECKOUT",
        "LIST_VIEW",
        "SAVE",
        "SUBSCRIBE",
        "START_TRIAL",
        "COMPLETE_TUTORIAL",
        "LEVEL_COMPLETE",
        "ACHIEVEMENT_UNLOCKED",
        "SPENT_CREDITS",
        "RATE",
        "SHARE",
        "INVITE",
        "LOGIN",
        "RESERVE",
        "AD_CLICK",
        "AD_VIEW",
        "APP_INSTALL",
        "APP_OPEN",
        "CUSTOM_EVENT_1",
        "CUSTOM_EVENT_2",
        "CUSTOM_EVENT_3",
        "CUSTOM_EVENT_4",
        "CUSTOM_EVENT_5",
    }
)

ACTION_SOURCES: Final[frozenset[str]] = frozenset({"OFFLINE", "WEB", "MOBILE_APP"})

#: user_data fields sent as a list of lowercase SHA-256 hex strings.
HASHED_USER_FIELDS: Final[tuple[str, ...]] = (
    "em",
    "ph",
    "fn",
    "ln",
    "ge",
    "db",
    "ct",
    "st",
    "zp",
    "country",
    "external_id",
)

#: user_data fields sent as a plain string, never hashed.
PLAIN_USER_FIELDS: Final[tuple[str, ...]] = (
    "madid",
    "client_ip_address",
    "client_user_agent",
    "sc_click_id",
)

#: Snap's v3 SDK spells the mobile advertising id `mobile_ad_id`; both names are accepted.
MADID_ALIASES: Final[tuple[str, ...]] = ("madid", "mobile_ad_id")

USER_FIELDS: Final[tuple[str, ...]] = HASHED_USER_FIELDS + PLAIN_USER_FIELDS

#: custom_data fields and the JSON type each is sent as.
CUSTOM_DATA_FIELDS: Final[dict[str, str]] = {
    "value": "number",
    "currency": "string",
    "order_id": "string",
    "num_items": "integer",
    "content_ids": "string_list",
    "content_category": "string",
    "content_type": "string",
    "contents": "object_list",
    "search_string": "string",
    "status": "string",
    "brands": "string",
    "sign_up_method": "string",
    "delivery_category": "string",
    "checkin_date": "string",
    "travel_start": "string",
    "travel_end": "string",
    "suggested_destinations": "string_list",
    "destination_airport": "string",
    "origin_airport": "string",
    "country": "string",
    "city": "string",
    "region": "string",
    "neighborhood": "string",
    "postal_code": "string",
    "departing_departure_date": "string",
    "departing_arrival_date": "string",
    "returning_departure_date": "string",
    "returning_arrival_date": "string",
    "num_adults": "integer",
    "num_children": "integer",
    "num_infants": "integer",
    "hotel_score": "string",
    "preferred_neighborhoods": "string_list",
    "preferred_star_ratings": "string_list",
    "suggested_hotels": "string_list",
    "custom_fields": "object",
}

#: Top-level event fields a user may map from a column.
EVENT_FIELDS: Final[tuple[str, ...]] = ("event_name", "event_time", "event_id", "event_source_url")

#: Limited Data Use and its two companions; mappable per row.
DATA_PROCESSING_FIELDS: Final[tuple[str, ...]] = (
    "data_processing_options",
    "data_processing_options_country",
    "data_processing_options_state",
)

MAX_EVENTS_PER_REQUEST: Final = 2000
#: An assumed cap of 2 MB of JSON per request (the contract marks it assumed; the sandbox enforces it).
MAX_REQUEST_BYTES: Final = 2_000_000
MAX_EVENT_AGE_DAYS: Final = 37
#: Clock skew the sandbox tolerates for events "in the future".
FUTURE_TOLERANCE_SECONDS: Final = 10 * 60

#: At least one of these makes an event matchable ("insufficient PII" otherwise) ...
SINGLE_MATCH_KEYS: Final[tuple[str, ...]] = ("em", "ph", "madid")
#: ... or both of these together.
PAIRED_MATCH_KEYS: Final[tuple[str, str]] = ("client_ip_address", "client_user_agent")

#: Match keys reported as coverage in the run report (`ip_ua` stands for the IP + user-agent pair).
REPORTED_MATCH_KEYS: Final[tuple[str, ...]] = (
    "em",
    "ph",
    "fn",
    "ln",
    "zp",
    "ct",
    "st",
    "country",
    "external_id",
    "madid",
    "ip_ua",
)

SHA256_HEX_RE: Final = re.compile(r"[0-9a-f]{64}")

STATUS_VALID: Final = "VALID"
STATUS_INVALID: Final = "INVALID"


def is_sha256_hex(value: str) -> bool:
    """True for a lowercase 64-character hex string: the only form Snap accepts for hashed fields."""
    return len(value) == 64 and SHA256_HEX_RE.fullmatch(value) is not None


def has_min_match_keys(user_data: dict[str, Any]) -> bool:
    """True when user_data carries enough to match a Snapchatter (the contract's minimum)."""
    # A loop, not any() over a generator: this runs for every record, and nearly every record stops here.
    for key in SINGLE_MATCH_KEYS:
        if user_data.get(key):
            return True
    if user_data.get("mobile_ad_id"):
        return True
    return all(user_data.get(key) for key in PAIRED_MATCH_KEYS)


def events_path(pixel_id: str) -> str:
    return f"/{API_VERSION}/{pixel_id}/events"


def validate_path(pixel_id: str) -> str:
    return f"/{API_VERSION}/{pixel_id}/events/validate"


def validate_logs_path(pixel_id: str) -> str:
    return f"/{API_VERSION}/{pixel_id}/events/validate/logs"


def validate_stats_path(pixel_id: str) -> str:
    return f"/{API_VERSION}/{pixel_id}/events/validate/stats"


REDACTED: Final = "***"


def redact_url(url: str) -> str:
    """The URL with its access token (and any other secret-looking query value) replaced by ***."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [
        (name, REDACTED if name.lower() in {"access_token", "token", "key", "secret"} else value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*")))
