"""Record -> Snapchat CAPI v3 event, or a Rejection with a stable reason code. Pure: no I/O, no logging.

Per record (``EventBuilder.build``): map -> event name -> event time -> normalise + hash user data ->
match-key check -> custom data (value, currency) -> event. The first failing step decides the rejection
reason, in this order. Normalisation outcomes are counted for records that reach the user-data step.

Rejection reasons (stable codes): ``unknown_event_name``, ``missing_event_time``, ``invalid_event_time``,
``stale_event``, ``future_event``, ``missing_match_keys``, ``missing_value``, ``invalid_value``,
``missing_currency``, ``invalid_currency`` (and, decided outside the builder, ``missing_key_property`` by the sink
and ``api_rejected`` by delivery). Messages name fields and columns, never a cell's value.

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
   in key-property order, or, when the stream has no key properties or one of them is blank or null, the record
   itself without its ``_sdc_*`` columns (counted as ``event_id_from_content`` when a key was blank: a blank key
   must never make different rows one event); each value in one canonical form (scalars as text, whole numbers
   without ``.0``; ISO date-times with a zone, and datetime objects, in UTC without offset), so that how a cell
   was typed on the way in (``10``/``10.0``/``"10"``, a string or a parsed datetime) does not change the id.
"""

from __future__ import annotations

import collections
import datetime as dt
import enum
import json
import re
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

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
    ResolvedMapping,
    compile_getter,
    properties_from_record,
    resolve_mapping,
)
from target_snapchat_capi.settings import CURRENCY_CODES, PURCHASE, ConfigError, EventSettings, SettingError

__all__ = [
    "CURRENCY_CODES",
    "ConfigError",
    "Event",
    "EventBuilder",
    "EventSettings",
    "RejectReason",
    "Rejection",
]

_SECONDS_PER_DAY: Final = 86_400
#: A date emitted as midnight UTC (how taps write date-typed columns): its calendar day is the first group.
_MIDNIGHT_UTC: Final = re.compile(
    r"(\d{4}-\d{2}-\d{2})[T ]00:00(?::00(?:\.0+)?)?(?:[Zz]|[+-]00(?::?00)?|\s*UTC|\s*GMT)"
)
_EVENT_NAME_CACHE_LIMIT: Final = 1024

_Getter = Callable[[Mapping[str, Any]], Any]


class RejectReason(enum.StrEnum):
    """Why a record was not sent: stable codes, written as these strings to the report and the rejects file."""

    UNKNOWN_EVENT_NAME = "unknown_event_name"
    MISSING_EVENT_TIME = "missing_event_time"
    INVALID_EVENT_TIME = "invalid_event_time"
    STALE_EVENT = "stale_event"
    FUTURE_EVENT = "future_event"
    MISSING_MATCH_KEYS = "missing_match_keys"
    MISSING_VALUE = "missing_value"
    INVALID_VALUE = "invalid_value"
    MISSING_CURRENCY = "missing_currency"
    INVALID_CURRENCY = "invalid_currency"
    #: the record lacks one of its stream's key properties (set by the sink, before the builder)
    MISSING_KEY_PROPERTY = "missing_key_property"
    #: Snapchat refused the event after it was sent (set by delivery, not by the builder)
    API_REJECTED = "api_rejected"


# ----------------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True, slots=True)
class Event:
    body: dict[str, Any]  #: the CAPI event JSON object, ready to send
    event_id: str
    match_keys: tuple[str, ...]  #: from capi.REPORTED_MATCH_KEYS (``ip_ua`` for the IP + user-agent pair)


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: str  #: a stable code: a RejectReason (a str), written as its string
    message: str  #: names fields and columns, never a cell's value
    event_id: str | None


def check_mapped_columns(mapping: Mapping[str, str | None], stream_name: str, schema: Mapping[str, Any]) -> None:
    """Every explicitly mapped column must be in the stream's schema (when it has one); else a SettingError naming
    the column and listing the stream's columns (names only). A loose schema (no properties) is not checked, and a
    dotted path only by its top-level column: nested schemas (a CRM's ``properties``) are often partial."""
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    if not properties:
        return
    for snap_field, column in mapping.items():
        path = column.strip() if column else ""
        if not path or path in properties or path.split(".", 1)[0] in properties:
            continue
        columns = ", ".join(repr(name) for name in properties if not name.startswith(SDC_PREFIX))
        raise SettingError(
            "mapping",
            f"mapping.{snap_field}: column {path!r} is not in stream {stream_name!r}; its columns are "
            f"{columns}. Fix the mapping setting for this stream.",
        )


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class _Rejected(Exception):
    """A step found why the record cannot be sent; `build` turns it into a Rejection with the event id."""

    def __init__(self, reason: RejectReason, message: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


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
        self._properties: Mapping[str, Any] = properties or {}
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
        time_schema = self._properties.get(self._time_column) if self._time_column else None
        self._time_is_date = isinstance(time_schema, Mapping) and time_schema.get("format") == "date"
        # In UTC a midnight-UTC date already is local midnight: nothing to do per record.
        self._dates_are_local = self._time_is_date or self._settings.source_timezone.upper() not in ("UTC", "ETC/UTC")
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
        """The event for ``record``, or why it cannot be sent. ``now`` is epoch seconds (a float is fine).

        The steps run in this order and the first that fails decides the reason:
        name -> time -> user data -> custom data -> body.
        """
        if not self._resolved:
            self._resolve_from_record(record)
        event_id = self._event_id(record)
        try:
            event_name = self._event_name(record)
            event_time = self._event_time(record, now)
            user_data = self._user_data(record)
            custom_data = self._custom_data(record, event_name)
        except _Rejected as rejected:
            return Rejection(rejected.reason, rejected.message, event_id)
        return self._event(
            record,
            event_id=event_id,
            event_name=event_name,
            event_time=event_time,
            user_data=user_data,
            custom_data=custom_data,
        )

    # -- the steps

    def _event_name(self, record: Mapping[str, Any]) -> str:
        if self._get_event_name is None:
            return self._settings.event_name
        raw_name = self._get_event_name(record)
        if raw_name is None or raw_name == "":
            return self._settings.event_name
        name_text = cell_text(raw_name)
        resolved_name = self._resolve_event_name(name_text) if name_text is not None else None
        if resolved_name is None:
            raise _Rejected(
                RejectReason.UNKNOWN_EVENT_NAME,
                f"the event name in column {self._mapping.fields['event_name']!r} is not a Snapchat "
                "event name and is not in event_name_map; add it to event_name_map",
            )
        return resolved_name

    def _event_time(self, record: Mapping[str, Any], now: float) -> int:
        if self._get_event_time is None:
            raise _Rejected(
                RejectReason.MISSING_EVENT_TIME,
                "no column is mapped to event_time; set mapping.event_time to the conversion time column",
            )
        time_column = self._time_column
        raw_time = self._get_event_time(record)
        if raw_time is None or raw_time == "":
            raise _Rejected(RejectReason.MISSING_EVENT_TIME, f"column {time_column!r} is blank")
        if self._dates_are_local and isinstance(raw_time, str):
            raw_time = self._calendar_day(raw_time)
        event_time = parse_event_time(raw_time, self._naive_zone)
        if event_time is None:
            raise _Rejected(
                RejectReason.INVALID_EVENT_TIME,
                f"column {time_column!r} is not a time (epoch seconds or milliseconds, ISO-8601, "
                "YYYY-MM-DD HH:MM:SS or MM/DD/YYYY HH:MM)",
            )
        if now - event_time > self._max_age_seconds:
            raise _Rejected(
                RejectReason.STALE_EVENT,
                f"event_time (column {time_column!r}) is more than {self._settings.max_event_age_days} days old",
            )
        if event_time - now > self._future_tolerance_seconds:
            raise _Rejected(
                RejectReason.FUTURE_EVENT,
                f"event_time (column {time_column!r}) is more than {self._settings.future_tolerance_minutes} "
                "minutes in the future",
            )
        return event_time

    def _calendar_day(self, text: str) -> str:
        """Contract §3a: a date without a time of day, written as midnight UTC (or in a date-typed column), is that
        calendar day where the sale happened: read it as the date alone, i.e. midnight in source_timezone. So it
        is never a future event on its own day, nor moved to the day before."""
        if self._time_is_date and len(text) > 10 and text[:4].isdigit():
            return text[:10]
        if "00:00" not in text:
            return text  # the cheap test first: most times are not midnight
        match = _MIDNIGHT_UTC.fullmatch(text.strip())
        return match.group(1) if match else text

    def _user_data(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Normalised, hashed user_data; each cell's outcome counted. Rejects a row without a usable match key."""
        user_data: dict[str, Any] = {}
        dropped: list[tuple[str, str]] = []
        self._simple_user_fields(record, user_data, dropped)
        if self._get_phone is not None or self._get_zip is not None:
            self._phone_and_zip(record, user_data, dropped)
        if not capi.has_min_match_keys(user_data):
            raise _Rejected(RejectReason.MISSING_MATCH_KEYS, self._match_key_message(dropped))
        return user_data

    def _simple_user_fields(
        self, record: Mapping[str, Any], user_data: dict[str, Any], dropped: list[tuple[str, str]]
    ) -> None:
        outcomes = self._outcomes
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

    def _phone_and_zip(
        self, record: Mapping[str, Any], user_data: dict[str, Any], dropped: list[tuple[str, str]]
    ) -> None:
        """ph and zp read with the row's country (a phone in national format needs it)."""
        row_country, phone_default = self._row_country(record)
        if self._get_phone is not None:
            raw = self._get_phone(record)
            if raw is not None and raw != "":
                text = raw if isinstance(raw, str) else cell_text(raw)
                prepared = (
                    normalize.prepare_ph(text, row_country, phone_default) if text is not None else (None, "ph_invalid")
                )
                self._keep_user_value("ph", prepared, user_data, dropped)
        if self._get_zip is not None:
            raw = self._get_zip(record)
            if raw is not None and raw != "":
                text = raw if isinstance(raw, str) else cell_text(raw)
                prepared = normalize.prepare_zp(text, row_country) if text is not None else (None, "zp_invalid")
                self._keep_user_value("zp", prepared, user_data, dropped)

    def _keep_user_value(
        self,
        snap_field: str,
        prepared: tuple[str | None, str],
        user_data: dict[str, Any],
        dropped: list[tuple[str, str]],
    ) -> None:
        value, outcome = prepared
        self._outcomes[outcome] += 1
        if value is None:
            dropped.append((snap_field, outcome))
        else:
            user_data[snap_field] = [value]

    def _row_country(self, record: Mapping[str, Any]) -> tuple[str | None, str | None]:
        """The row's country (alpha-2) and the default country for reading its phone number."""
        phone_default = self._settings.default_phone_country
        if self._get_country is None:
            return None, phone_default
        country_text = cell_text(self._get_country(record))
        if not country_text or not country_text.strip() or normalize.is_placeholder(country_text):
            return None, phone_default
        row_country = normalize.normalize_country(country_text)
        if row_country is None:
            # The row names a country we cannot read: guessing the default could give a wrong number.
            return None, None
        return row_country, phone_default

    def _custom_data(self, record: Mapping[str, Any], event_name: str) -> dict[str, Any]:
        custom_data: dict[str, Any] = {}
        for name, get, convert, invalid in self._custom_steps:
            raw = get(record)
            if raw is None or raw == "":
                continue
            converted = convert(raw)
            if converted is None:
                self._outcomes[invalid] += 1
            else:
                custom_data[name] = converted
        is_purchase = event_name == PURCHASE
        self._value(record, is_purchase, custom_data)
        self._currency(record, is_purchase, custom_data)
        return custom_data

    def _event(
        self,
        record: Mapping[str, Any],
        *,
        event_id: str,
        event_name: str,
        event_time: int,
        user_data: dict[str, Any],
        custom_data: dict[str, Any],
    ) -> Event:
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
        identity: Any = None
        if self._key_properties:
            key_values = [record.get(key) for key in self._key_properties]
            if any(_is_blank(value) for value in key_values):
                # A blank key would make every such row (five walk-in sales) one event: use the row's content.
                self._outcomes["event_id_from_content"] += 1
            else:
                identity = [canonical(value) for value in key_values]
        if identity is None:
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

    def _value(self, record: Mapping[str, Any], is_purchase: bool, custom_data: dict[str, Any]) -> None:
        columns = self._mapping.fields
        if self._get_value is not None:
            raw_value = self._get_value(record)
            if raw_value is not None and raw_value != "":
                value = parse_value(raw_value)
                if value is not None and not (is_purchase and value < 0):
                    custom_data["value"] = value
                elif is_purchase:
                    raise _Rejected(
                        RejectReason.INVALID_VALUE,
                        f"PURCHASE needs a non-negative number in column {columns['value']!r}",
                    )
                else:
                    self._outcomes["value_invalid"] += 1
        if is_purchase and "value" not in custom_data:
            where = f"column {columns['value']!r} is blank" if "value" in columns else "no column is mapped to value"
            raise _Rejected(RejectReason.MISSING_VALUE, f"PURCHASE needs a value; {where}")

    def _currency(self, record: Mapping[str, Any], is_purchase: bool, custom_data: dict[str, Any]) -> None:
        columns = self._mapping.fields
        currency: str | None = None
        if self._get_currency is not None:
            raw_currency = self._get_currency(record)
            if raw_currency is not None and raw_currency != "":
                currency_text = cell_text(raw_currency)
                currency = currency_text.strip().upper() if currency_text is not None else "?"
                if currency and currency not in CURRENCY_CODES:
                    raise _Rejected(
                        RejectReason.INVALID_CURRENCY,
                        f"column {columns['currency']!r} is not an ISO-4217 currency code",
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
            raise _Rejected(
                RejectReason.MISSING_CURRENCY,
                f"PURCHASE needs a currency; {where} and default_currency is not set",
            )

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
