"""Record -> Snapchat CAPI v3 event, or a Rejection with a stable reason code. Pure: no I/O, no logging.

Per record (``EventBuilder.build``): map -> event name -> event time -> normalise + hash user data ->
match-key check -> custom data (value, currency) -> event. The first failing step decides the rejection
reason, in this order. Normalisation outcomes are counted for records that reach the user-data step.

Rejection reasons (stable codes): ``unknown_event_name``, ``missing_event_time``, ``invalid_event_time``,
``stale_event``, ``future_event``, ``missing_match_keys``, ``missing_value``, ``invalid_value``,
``missing_currency``, ``invalid_currency``. Messages name fields and columns, never a cell's value.

Event name: the mapped column's value, trimmed, looked up case-insensitively in ``event_name_map``; else,
upper-cased with spaces and hyphens as underscores, it passes if it is one of Snap's names; else
``unknown_event_name`` (never guessed). A blank or unmapped column gives the static ``event_name``.

Event time: epoch seconds, milliseconds, microseconds or nanoseconds (told apart by magnitude: below 1e11 is
seconds, i.e. up to year 5138), as a number or a numeric string; an 8-digit string is read as ``YYYYMMDD``;
ISO-8601 with or without a zone (naive means the ``source_timezone`` setting, UTC by default; ``Z``
accepted) and date-only; ``YYYY-MM-DD HH:MM[:SS]``;
``MM/DD/YYYY[ HH:MM[:SS][ AM|PM]]`` (US order; day-first only when the first number is above 12); RFC 2822;
``datetime``/``date`` objects. Sent as integer seconds (fractions cut). Allowed window: not older than
``max_event_age_days`` and not later than now + ``future_tolerance_minutes``.

Value: a JSON number. Numbers pass (not booleans, NaN or infinities). Strings: surrounding whitespace and
currency symbols (``$12.00``, ``12,00 €``) are stripped; ``1,234.50`` (comma thousands), ``1.234,50`` and
``12,50`` (decimal comma with 1-2 decimals) are read; ``1,234`` is read as one thousand two hundred and
thirty-four; letters (``12 USD``) make it invalid. PURCHASE needs a value (``missing_value``), parseable and
not negative (``invalid_value``: a negative purchase is a refund, map it to a custom event); for other events
an unparseable value is left out and counted (``value_invalid``).

Currency: trimmed, upper-cased, must be ISO-4217 (else ``invalid_currency``, for any event: Snap would reject
the whole request); ``default_currency`` fills a blank or unmapped one; PURCHASE without one is
``missing_currency``.

Only what the row carries and the contract names is sent: unmapped columns, ``_sdc_*`` columns and blank
values never are; ``country`` is sent only from the row (``default_phone_country`` helps parse phones, nothing
else). ``content_ids`` (and other string lists) accept a list or a string split on ``,``, ``|`` or ``;`` (or a
JSON array); ``contents`` and ``custom_fields`` accept JSON text. ``num_items`` and the other integer fields
must be whole.

event_id recipe (same input, same id, on every run):

1. the mapped ``event_id`` column, trimmed (numbers written without a trailing ``.0``); else
2. the ``order_id`` value, the same way; else
3. ``sha256_hex(json.dumps([pixel_id, stream_name, key_values], sort_keys=True, ensure_ascii=False,
   separators=(",", ":"), default=str))`` where ``key_values`` is the list of the record's key-property values
   in key-property order, or, when the stream has no key properties, the record itself without its ``_sdc_*``
   columns; each value in one canonical form (scalars as text, whole numbers without ``.0``; ISO date-times
   with a zone, and datetime objects, in UTC without offset), so that how a cell was typed on the way in
   (``10``/``10.0``/``"10"``, a string or a parsed datetime) does not change the id.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import pycountry
from target_snapchat_capi import capi, normalize
from target_snapchat_capi.cells import (
    CUSTOM_CONVERTERS,
    canonical,
    cell_text,
    id_text,
    parse_event_time,
    parse_value,
    to_int,
    to_string,
    to_string_list,
)
from target_snapchat_capi.mapping import (
    CUSTOM_FIELD_KEYS,
    SDC_PREFIX,
    ConfigError,
    ResolvedMapping,
    canonical_field,
    compile_getter,
    properties_from_record,
    resolve_mapping,
)

__all__ = [
    "CURRENCY_CODES",
    "ConfigError",
    "Event",
    "EventBuilder",
    "EventSettings",
    "Rejection",
]

#: ISO-4217 alphabetic codes, built once.
CURRENCY_CODES: Final[frozenset[str]] = frozenset(currency.alpha_3 for currency in pycountry.currencies)

PURCHASE: Final = "PURCHASE"
DEFAULT_INTEGRATION: Final = "target-snapchat-capi"
_SECONDS_PER_DAY: Final = 86_400
_EVENT_NAME_CACHE_LIMIT: Final = 1024

_Getter = Callable[[Mapping[str, Any]], Any]


# ----------------------------------------------------------------------------------------------------
# Settings


def _optional_text(config: Mapping[str, Any], key: str) -> str | None:
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{key} must be a string")
    return value.strip() or None


def _json_setting(config: Mapping[str, Any], key: str) -> Any:
    """Objects and arrays may arrive as JSON text (environment variables); decode them."""
    value = config.get(key)
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError as error:
            raise ConfigError(f"{key} is not valid JSON ({error.msg} at position {error.pos})") from None
    return value


def _int_setting(config: Mapping[str, Any], key: str, default: int | None, minimum: int) -> int | None:
    value = config.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise ConfigError(f"{key} must be a whole number")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key} must be a whole number") from None
    if number != value and not isinstance(value, str):
        raise ConfigError(f"{key} must be a whole number")
    if number < minimum:
        raise ConfigError(f"{key} must be at least {minimum}")
    return number


def _event_name_setting(key: str, value: Any) -> str:
    if not isinstance(value, str) or value.strip().upper() not in capi.EVENT_NAMES:
        raise ConfigError(f"{key} must be one of Snapchat's event names ({', '.join(sorted(capi.EVENT_NAMES))})")
    return value.strip().upper()


@dataclass(frozen=True)
class EventSettings:
    """The settings that shape events. Build it with ``from_config`` to get validated values."""

    pixel_id: str
    action_source: str = "OFFLINE"
    integration: str | None = DEFAULT_INTEGRATION
    event_name: str = PURCHASE
    #: source value -> Snap name; matched trimmed and case-insensitively
    event_name_map: Mapping[str, str] = field(default_factory=dict)
    #: Snap field -> source column path (None switches auto-detection off for that field)
    mapping: Mapping[str, str | None] = field(default_factory=dict)
    default_phone_country: str | None = None
    default_currency: str | None = None
    max_event_age_days: int = capi.MAX_EVENT_AGE_DAYS
    future_tolerance_minutes: int = capi.FUTURE_TOLERANCE_SECONDS // 60
    data_processing_options: tuple[str, ...] | None = None
    data_processing_options_country: int | None = None
    data_processing_options_state: int | None = None
    #: when set, sent on each event as ``test_event_code`` (assumed field name)
    test_event_code: str | None = None
    #: the zone of times written without one (``2026-11-27 18:30``); an IANA name, UTC by default
    source_timezone: str = "UTC"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> EventSettings:
        """Validated settings from the target's config; unknown keys are ignored. Raises ConfigError."""
        pixel_id = _optional_text(config, "pixel_id")
        if not pixel_id:
            raise ConfigError("pixel_id is required: the Snap Pixel ID (a UUID) that offline events go to")

        action_source = (_optional_text(config, "action_source") or "OFFLINE").upper()
        if action_source not in capi.ACTION_SOURCES:
            raise ConfigError(f"action_source must be one of {', '.join(sorted(capi.ACTION_SOURCES))}")

        # Partners set integration on every event (contract section 1): a blank setting keeps the default.
        integration = _optional_text(config, "integration") or DEFAULT_INTEGRATION
        event_name = _event_name_setting("event_name", config.get("event_name") or PURCHASE)

        raw_name_map = _json_setting(config, "event_name_map") or {}
        if not isinstance(raw_name_map, Mapping):
            raise ConfigError('event_name_map must be an object, e.g. {"Closed Won": "PURCHASE"}')
        event_name_map = {
            str(source).strip().casefold(): _event_name_setting(f"event_name_map[{source!r}]", snap_name)
            for source, snap_name in raw_name_map.items()
        }

        raw_mapping = _json_setting(config, "mapping") or {}
        if not isinstance(raw_mapping, Mapping):
            raise ConfigError('mapping must be an object of Snap field -> source column, e.g. {"em": "Email"}')
        mapping: dict[str, str | None] = {}
        for key, column in raw_mapping.items():
            if column is not None and not isinstance(column, str):
                raise ConfigError(f"mapping[{key!r}] must be a column name (or null to switch the field off)")
            mapping[canonical_field(str(key))] = column

        default_phone_country = _optional_text(config, "default_phone_country")
        if default_phone_country is not None:
            if default_phone_country.lower() not in normalize.ALPHA_2_CODES:
                raise ConfigError("default_phone_country must be an ISO-3166 alpha-2 code such as US or GB")
            default_phone_country = default_phone_country.upper()

        default_currency = _optional_text(config, "default_currency")
        if default_currency is not None:
            default_currency = default_currency.upper()
            if default_currency not in CURRENCY_CODES:
                raise ConfigError("default_currency must be an ISO-4217 code such as USD or EUR")

        max_age = _int_setting(config, "max_event_age_days", capi.MAX_EVENT_AGE_DAYS, 1)
        assert max_age is not None
        if max_age > capi.MAX_EVENT_AGE_DAYS:
            raise ConfigError(
                f"max_event_age_days cannot exceed {capi.MAX_EVENT_AGE_DAYS}: Snapchat rejects older events"
            )
        tolerance = _int_setting(config, "future_tolerance_minutes", capi.FUTURE_TOLERANCE_SECONDS // 60, 0)
        assert tolerance is not None
        if tolerance > capi.FUTURE_TOLERANCE_SECONDS // 60:
            raise ConfigError(
                f"future_tolerance_minutes cannot exceed {capi.FUTURE_TOLERANCE_SECONDS // 60}: "
                "Snapchat rejects events further in the future"
            )

        source_timezone = _optional_text(config, "source_timezone") or "UTC"
        try:
            zoneinfo.ZoneInfo(source_timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                "source_timezone must be an IANA time zone name such as Europe/Paris or America/New_York"
            ) from None

        raw_options = _json_setting(config, "data_processing_options")
        options: tuple[str, ...] | None = None
        if raw_options is not None and raw_options != "":
            if isinstance(raw_options, str):
                raw_options = [raw_options]
            if not isinstance(raw_options, Sequence) or not all(isinstance(o, str) for o in raw_options):
                raise ConfigError('data_processing_options must be a list of strings, e.g. ["LDU"]')
            options = tuple(option.strip() for option in raw_options if option.strip())

        return cls(
            pixel_id=pixel_id,
            action_source=action_source,
            integration=integration,
            event_name=event_name,
            event_name_map=event_name_map,
            mapping=mapping,
            default_phone_country=default_phone_country,
            default_currency=default_currency,
            max_event_age_days=max_age,
            future_tolerance_minutes=tolerance,
            data_processing_options=options,
            data_processing_options_country=_int_setting(config, "data_processing_options_country", None, 0),
            data_processing_options_state=_int_setting(config, "data_processing_options_state", None, 0),
            test_event_code=_optional_text(config, "test_event_code"),
            source_timezone=source_timezone,
        )


# ----------------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True, slots=True)
class Event:
    body: dict[str, Any]  #: the CAPI event JSON object, ready to send
    event_id: str
    match_keys: tuple[str, ...]  #: from capi.REPORTED_MATCH_KEYS (``ip_ua`` for the IP + user-agent pair)


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: str  #: a stable code (see the module docstring)
    message: str  #: names fields and columns, never a cell's value
    event_id: str | None


# ----------------------------------------------------------------------------------------------------
# The builder

_SINGLE_REPORTED_KEYS: Final = tuple(key for key in capi.REPORTED_MATCH_KEYS if key != "ip_ua")
_MATCH_KEY_HELP: Final = "need em, ph, madid, or client_ip_address with client_user_agent"
#: user_data fields handled by the simple one-argument preparers (ph and zp need the row's country)
_SIMPLE_USER_FIELDS: Final = tuple(name for name in capi.USER_FIELDS if name not in ("ph", "zp"))


class EventBuilder:
    """Turns the records of one stream into events. Everything is compiled once, in ``__init__``."""

    def __init__(
        self,
        settings: EventSettings,
        stream_name: str,
        schema: Mapping[str, Any],
        key_properties: Sequence[str],
        outcomes: collections.Counter[str],
    ) -> None:
        self._settings = settings
        self._stream_name = stream_name
        self._key_properties = tuple(key_properties)
        self._outcomes = outcomes
        self._event_name_map = {key.strip().casefold(): name for key, name in settings.event_name_map.items()}
        self._event_name_cache: dict[str, str | None] = {}
        self._max_age_seconds = settings.max_event_age_days * _SECONDS_PER_DAY
        self._future_tolerance_seconds = settings.future_tolerance_minutes * 60
        self._naive_zone: dt.tzinfo = zoneinfo.ZoneInfo(settings.source_timezone)
        self._base_body: dict[str, Any] = {"action_source": settings.action_source}
        if settings.integration:
            self._base_body["integration"] = settings.integration
        if settings.test_event_code:
            self._base_body["test_event_code"] = settings.test_event_code
        properties = schema.get("properties") if isinstance(schema, Mapping) else None
        self._compile(resolve_mapping(settings.mapping, properties or {}))
        # A loose schema (no properties): resolve again from the first record's keys.
        self._resolved = bool(properties)

    @property
    def mapping(self) -> ResolvedMapping:
        """The resolved mapping (for a loose schema: resolved from the first record once one was built)."""
        return self._mapping

    # -- setup

    def _compile(self, mapping: ResolvedMapping) -> None:
        self._mapping = mapping
        columns = mapping.fields

        def getter(snap_field: str) -> _Getter | None:
            column = columns.get(snap_field)
            return compile_getter(column) if column else None

        self._get_event_name = getter("event_name")
        self._get_event_time = getter("event_time")
        self._time_column = columns.get("event_time", "")
        self._get_event_id = getter("event_id")
        self._get_event_source_url = getter("event_source_url")
        self._get_order_id = getter("order_id")
        self._get_country = getter("country")
        self._get_phone = getter("ph")
        self._get_zip = getter("zp")
        self._get_value = getter("value")
        self._get_currency = getter("currency")
        self._user_steps = tuple(
            (
                snap_field,
                get,
                normalize.SIMPLE_PREPARERS[snap_field],
                snap_field in capi.PLAIN_USER_FIELDS,
                f"{snap_field}_invalid",  # the outcome for a cell that is no scalar (an object, a list)
            )
            for snap_field in _SIMPLE_USER_FIELDS
            if (get := getter(snap_field)) is not None
        )
        # value and currency are validated on their own (PURCHASE rules)
        self._custom_steps = tuple(
            (name, get, CUSTOM_CONVERTERS[kind], f"{name}_invalid")
            for name, kind in capi.CUSTOM_DATA_FIELDS.items()
            if name not in ("value", "currency") and (get := getter(CUSTOM_FIELD_KEYS[name])) is not None
        )
        self._get_dpo = getter("data_processing_options")
        self._get_dpo_country = getter("data_processing_options_country")
        self._get_dpo_state = getter("data_processing_options_state")

    def _resolve_from_record(self, record: Mapping[str, Any]) -> None:
        self._compile(resolve_mapping(self._settings.mapping, properties_from_record(record)))
        self._resolved = True

    # -- per record

    def build(self, record: Mapping[str, Any], now: float) -> Event | Rejection:
        """The event for ``record``, or why it cannot be sent. ``now`` is epoch seconds (a float is fine)."""
        if not self._resolved:
            self._resolve_from_record(record)
        settings = self._settings
        event_id = self._event_id(record)

        # Event name
        event_name = settings.event_name
        if self._get_event_name is not None:
            raw_name = self._get_event_name(record)
            if raw_name is not None and raw_name != "":
                name_text = cell_text(raw_name)
                resolved_name = self._resolve_event_name(name_text) if name_text is not None else None
                if resolved_name is None:
                    return Rejection(
                        "unknown_event_name",
                        f"the event name in column {self._mapping.fields['event_name']!r} is not a Snapchat "
                        "event name and is not in event_name_map; add it to event_name_map",
                        event_id,
                    )
                event_name = resolved_name

        # Event time
        if self._get_event_time is None:
            return Rejection(
                "missing_event_time",
                "no column is mapped to event_time; set mapping.event_time to the conversion time column",
                event_id,
            )
        time_column = self._time_column
        raw_time = self._get_event_time(record)
        if raw_time is None or raw_time == "":
            return Rejection("missing_event_time", f"column {time_column!r} is blank", event_id)
        event_time = parse_event_time(raw_time, self._naive_zone)
        if event_time is None:
            return Rejection(
                "invalid_event_time",
                f"column {time_column!r} is not a time (epoch seconds or milliseconds, ISO-8601, "
                "YYYY-MM-DD HH:MM:SS or MM/DD/YYYY HH:MM)",
                event_id,
            )
        if now - event_time > self._max_age_seconds:
            return Rejection(
                "stale_event",
                f"event_time (column {time_column!r}) is more than {settings.max_event_age_days} days old",
                event_id,
            )
        if event_time - now > self._future_tolerance_seconds:
            return Rejection(
                "future_event",
                f"event_time (column {time_column!r}) is more than {settings.future_tolerance_minutes} "
                "minutes in the future",
                event_id,
            )

        # User data
        outcomes = self._outcomes
        user_data: dict[str, Any] = {}
        dropped: list[tuple[str, str]] = []
        row_country: str | None = None
        phone_default = settings.default_phone_country
        if self._get_country is not None:
            raw_country = self._get_country(record)
            country_text = cell_text(raw_country)
            if country_text and country_text.strip() and not normalize.is_placeholder(country_text):
                row_country = normalize.normalize_country(country_text)
                if row_country is None:
                    # The row names a country we cannot read: guessing the default could give a wrong number.
                    phone_default = None
        for snap_field, get, prepare, plain, not_scalar in self._user_steps:
            raw = get(record)
            if raw is None or raw == "":
                continue
            text = raw if isinstance(raw, str) else cell_text(raw)
            if text is None:
                value, outcome = None, not_scalar
            else:
                value, outcome = prepare(text)
            outcomes[outcome] += 1
            if value is None:
                dropped.append((snap_field, outcome))
            elif plain:
                user_data[snap_field] = value
            else:
                user_data[snap_field] = [value]
        if self._get_phone is not None:
            raw = self._get_phone(record)
            if raw is not None and raw != "":
                text = raw if isinstance(raw, str) else cell_text(raw)
                value, outcome = (
                    normalize.prepare_ph(text, row_country, phone_default) if text is not None else (None, "ph_invalid")
                )
                outcomes[outcome] += 1
                if value is None:
                    dropped.append(("ph", outcome))
                else:
                    user_data["ph"] = [value]
        if self._get_zip is not None:
            raw = self._get_zip(record)
            if raw is not None and raw != "":
                text = raw if isinstance(raw, str) else cell_text(raw)
                value, outcome = normalize.prepare_zp(text, row_country) if text is not None else (None, "zp_invalid")
                outcomes[outcome] += 1
                if value is None:
                    dropped.append(("zp", outcome))
                else:
                    user_data["zp"] = [value]
        if not capi.has_min_match_keys(user_data):
            return Rejection("missing_match_keys", self._match_key_message(dropped), event_id)

        # Custom data
        custom_data: dict[str, Any] = {}
        for name, get, convert, invalid in self._custom_steps:
            raw = get(record)
            if raw is None or raw == "":
                continue
            converted = convert(raw)
            if converted is None:
                outcomes[invalid] += 1
            else:
                custom_data[name] = converted
        rejection = self._value_and_currency(record, event_name, custom_data, event_id)
        if rejection is not None:
            return rejection

        # Event
        body: dict[str, Any] = {
            "event_name": event_name,
            "event_time": event_time,
            "event_id": event_id,
            **self._base_body,
            "user_data": user_data,
        }
        if custom_data:
            body["custom_data"] = custom_data
        if self._get_event_source_url is not None:
            url = to_string(self._get_event_source_url(record))
            if url:
                body["event_source_url"] = url
        self._add_data_processing(record, body)

        match_keys = tuple(key for key in _SINGLE_REPORTED_KEYS if key in user_data)
        if "client_ip_address" in user_data and "client_user_agent" in user_data:
            match_keys += ("ip_ua",)
        return Event(body=body, event_id=event_id, match_keys=match_keys)

    # -- helpers

    def _event_id(self, record: Mapping[str, Any]) -> str:
        if self._get_event_id is not None and (event_id := id_text(self._get_event_id(record))):
            return event_id
        if self._get_order_id is not None and (order_id := id_text(self._get_order_id(record))):
            return order_id
        # Values go in as text (cell_text), so the id does not change with how a cell was typed on the way in
        # (10 / 10.0 / "10", a date-time string / datetime object): only a change of content changes it.
        if self._key_properties:
            identity: Any = [canonical(record.get(key)) for key in self._key_properties]
        else:
            identity = {key: canonical(value) for key, value in record.items() if not key.startswith(SDC_PREFIX)}
        identity_text = json.dumps(
            [self._settings.pixel_id, self._stream_name, identity],
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
            default=str,
        )
        return normalize.sha256_hex(identity_text)

    def _resolve_event_name(self, raw: str) -> str | None:
        cache = self._event_name_cache
        if raw in cache:
            return cache[raw]
        text = raw.strip()
        name = self._event_name_map.get(text.casefold())
        if name is None:
            candidate = text.upper().replace(" ", "_").replace("-", "_")
            name = candidate if candidate in capi.EVENT_NAMES else None
        if len(cache) < _EVENT_NAME_CACHE_LIMIT:
            cache[raw] = name
        return name

    def _match_key_message(self, dropped: list[tuple[str, str]]) -> str:
        details = [
            f"{snap_field} (column {self._mapping.fields[snap_field]!r}): {outcome}" for snap_field, outcome in dropped
        ]
        blank = [
            f"{snap_field} (column {self._mapping.fields[snap_field]!r}): blank"
            for snap_field in (*capi.SINGLE_MATCH_KEYS, *capi.PAIRED_MATCH_KEYS)
            if snap_field in self._mapping.fields and snap_field not in {name for name, _ in dropped}
        ]
        unmapped = [
            snap_field
            for snap_field in (*capi.SINGLE_MATCH_KEYS, *capi.PAIRED_MATCH_KEYS)
            if snap_field not in self._mapping.fields
        ]
        parts = details + blank
        if unmapped:
            parts.append(f"not mapped: {', '.join(unmapped)}")
        return f"no usable match key ({_MATCH_KEY_HELP}); " + "; ".join(parts)

    def _value_and_currency(
        self, record: Mapping[str, Any], event_name: str, custom_data: dict[str, Any], event_id: str
    ) -> Rejection | None:
        is_purchase = event_name == PURCHASE
        columns = self._mapping.fields
        if self._get_value is not None:
            raw_value = self._get_value(record)
            if raw_value is not None and raw_value != "":
                value = parse_value(raw_value)
                if value is None or (is_purchase and value < 0):
                    if is_purchase:
                        return Rejection(
                            "invalid_value",
                            f"PURCHASE needs a non-negative number in column {columns['value']!r}",
                            event_id,
                        )
                    self._outcomes["value_invalid"] += 1
                else:
                    custom_data["value"] = value
        if is_purchase and "value" not in custom_data:
            where = f"column {columns['value']!r} is blank" if "value" in columns else "no column is mapped to value"
            return Rejection("missing_value", f"PURCHASE needs a value; {where}", event_id)

        currency: str | None = None
        if self._get_currency is not None:
            raw_currency = self._get_currency(record)
            if raw_currency is not None and raw_currency != "":
                currency_text = cell_text(raw_currency)
                currency = currency_text.strip().upper() if currency_text is not None else "?"
                if currency and currency not in CURRENCY_CODES:
                    return Rejection(
                        "invalid_currency",
                        f"column {columns['currency']!r} is not an ISO-4217 currency code",
                        event_id,
                    )
        currency = currency or self._settings.default_currency
        if currency is not None:
            custom_data["currency"] = currency
        elif is_purchase:
            where = (
                f"column {columns['currency']!r} is blank"
                if "currency" in columns
                else "no column is mapped to currency"
            )
            return Rejection(
                "missing_currency",
                f"PURCHASE needs a currency; {where} and default_currency is not set",
                event_id,
            )
        return None

    def _add_data_processing(self, record: Mapping[str, Any], body: dict[str, Any]) -> None:
        settings = self._settings
        options: list[str] | None = None
        if self._get_dpo is not None:
            options = to_string_list(self._get_dpo(record))
        if options is None and settings.data_processing_options is not None:
            options = list(settings.data_processing_options)
        if options is not None:
            body["data_processing_options"] = options
        for name, get, default in (
            (
                "data_processing_options_country",
                self._get_dpo_country,
                settings.data_processing_options_country,
            ),
            ("data_processing_options_state", self._get_dpo_state, settings.data_processing_options_state),
        ):
            number = to_int(get(record)) if get is not None else None
            if number is None:
                number = default
            if number is not None:
                body[name] = number
