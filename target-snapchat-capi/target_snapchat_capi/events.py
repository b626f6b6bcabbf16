"""Record -> Snapchat CAPI v3 event, or a Rejection with a stable reason code. Pure: no I/O, no logging.

Per record (``EventBuilder.build``): map -> event name -> event time -> normalise + hash user data ->
match-key check -> custom data (value, currency) -> event. The first failing step decides the rejection
reason, in this order. Normalisation outcomes are counted for records that reach the user-data step.

Rejection reasons (stable codes): ``unknown_event_name``, ``unknown_pixel_route``, ``missing_event_time``,
``invalid_event_time``, ``stale_event``, ``future_event``, ``missing_match_keys``, ``missing_value``,
``invalid_value``, ``negative_value``, ``missing_currency``, ``invalid_currency``, ``conflicting_order_value`` (an
order's rows disagree on its total) and ``late_order_line`` (and, decided outside the builder,
``missing_key_property`` by the sink and ``api_rejected`` by delivery). Messages name fields and columns, never a
cell's value. With ``unmapped_event_names: skip`` an unknown event name is ``skipped_stage`` instead: counted, not
a rejection.

Orders (``build_order``, orders.py): the rows of one order are built as one event from their merged fields, with the
order's value and ``contents``, ``content_ids`` and ``num_items`` from its lines.

Pixel route: with the ``pixels`` setting, the mapped ``pixel_route`` column picks the event's pixel (routing.py);
an unlisted route is ``unknown_pixel_route`` (checked right after the event name). ``event_tag``, when mapped, is
sent as the event's top-level ``event_tag`` string.

Event name: the mapped column's value, trimmed, looked up case-insensitively in ``event_name_map``; else,
upper-cased with spaces and hyphens as underscores, it passes if it is one of Snap's names; else
``unknown_event_name`` (never guessed). A blank or unmapped column gives the static ``event_name``.

Event time (``cells.read_event_time``, contract section 3a): epoch seconds or milliseconds (told apart by
magnitude), ISO-8601 with or without ``T``, zone or offset, a trailing ``UTC``/``GMT``/``Z``,
``DD.MM.YYYY [HH:MM[:SS]]``, slashed numeric dates (month-first unless ``day_first``), RFC 2822, ``datetime``/
``date`` objects. A time without a zone is in the row's ``event_timezone`` cell (an IANA name or a UTC offset;
an unreadable cell is counted as ``event_timezone_unreadable`` and ``source_timezone`` is used), else in
``source_timezone``. A date without a time of day (a bare date, midnight naive or in UTC, or any value of a
column the stream's schema types ``"format": "date"``) is that calendar day in the row's zone and is sent as
``EventTime.send_time(now)``: never later than now on the day itself, so never a future event on its own day
and never moved to another day. Sent as integer seconds. Allowed window: not older than
``max_event_age_days`` and not later than now + ``future_tolerance_minutes``.

Value (``cells.read_value``): a JSON number from ``1,234.56``, ``1.234,56``, ``1 234,56``, ``1'234.50``,
``1,00,000``, with a currency sign or code before or after (``$15``, ``15 USD``, ``€ 15``) and accounting
negatives (``(15.00)``, ``15.00-``). A value still ambiguous (``1,234``: thousands or decimal comma?) is never
guessed. PURCHASE needs a value (``missing_value``) that is a number (``invalid_value``, the message names why:
``not_a_number``, ``ambiguous_separator``, ``bad_grouping``, ``not_finite``) and not negative
(``negative_value``: a refund is no purchase; map refunds to a CUSTOM_EVENT_n). For other events an unreadable
value is left out and counted (``value_invalid``); a negative one is sent.

Currency (``cells.parse_currency``): the currency column (ISO 4217 in any case, ``€ £ ₹ RMB`` and the other
single-currency signs; ``$ ¥ kr`` only when ``default_currency`` is one of the currencies they name), else the
sign or code written in the value cell, else ``default_currency``. A currency cell that names none, an
ambiguous sign without a fitting default, or a value's sign that disagrees with the currency column is
``invalid_currency`` (for any event: Snap would reject the whole request); PURCHASE without one is
``missing_currency``.

User data: preparers from ``normalize.simple_preparers(day_first)``; ``ph`` and ``zp`` read with the row's
country, and a national phone number takes ``default_phone_country`` when the row has no country or one that
cannot be read. Each value's outcome (``<field>_<reason>``) is counted for every record that reaches the
user-data step (also when it is rejected later for its value or currency): the report's ``user_fields``.

Only what the row carries and the contract names is sent: unmapped columns, ``_sdc_*`` columns and blank
values never are; ``country`` is sent only from the row (``default_phone_country`` helps parse phones, nothing
else). ``content_ids`` (and other string lists) accept a list or a string split on ``,``, ``|`` or ``;`` (or a
JSON array); ``contents`` and ``custom_fields`` accept JSON text. ``num_items`` and the other integer fields
must be whole.

event_id recipe (same input, same id, on every run):

1. the mapped ``event_id`` column, trimmed (numbers written without a trailing ``.0``); else
2. the ``order_id`` value, the same way; else
3. ``sha256_hex(json.dumps([pixel_id, stream_name, event_name, key_values], sort_keys=True, ensure_ascii=False,
   separators=(",", ":"), default=str))`` where ``key_values`` is the list of the record's key-property values
   in key-property order, or, when the stream has no key properties or one of them is blank or null, the record
   itself without its ``_sdc_*`` columns (counted as ``event_id_from_content`` when a key was blank: a blank key
   must never make different rows one event); each value in one canonical form (scalars as text, whole numbers
   without ``.0``; ISO date-times with a zone, and datetime objects, in UTC without offset), so that how a cell
   was typed on the way in (``10``/``10.0``/``"10"``, a string or a parsed datetime) does not change the id.
   The Snap event name is part of a keyed record's id: a CRM record re-emitted with the same mapped stage is the
   same event (the ledger and Snap's merge skip it), a stage mapped to another Snap event is a new one. The
   content fallback leaves it out (the content already holds the stage). ``pixel_id`` is the single pixel's id
   ("" with ``pixels`` only).
"""

from __future__ import annotations

import collections
import datetime as dt
import enum
import json
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from target_snapchat_capi import capi, normalize
from target_snapchat_capi.cells import (
    CURRENCY_CODES,
    CUSTOM_CONVERTERS,
    canonical,
    cell_text,
    currencies_of_marker,
    id_text,
    parse_currency,
    parse_timezone,
    read_event_time,
    read_value,
    to_int,
    to_string,
    to_string_list,
)
from target_snapchat_capi.mapping import (
    CUSTOM_FIELD_KEYS,
    SDC_PREFIX,
    ResolvedMapping,
    is_date_column,
    properties_from_record,
    resolve_mapping,
)
from target_snapchat_capi.orders import LineGetters, OrderProblem, merged_record, order_lines, order_value
from target_snapchat_capi.routing import route_key
from target_snapchat_capi.settings import PURCHASE, ConfigError, EventSettings, SettingError

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
    #: a PURCHASE with a value below zero: a refund, which is no purchase (map refunds to a CUSTOM_EVENT_n)
    NEGATIVE_VALUE = "negative_value"
    MISSING_CURRENCY = "missing_currency"
    INVALID_CURRENCY = "invalid_currency"
    #: the record lacks one of its stream's key properties (set by the sink, before the builder)
    MISSING_KEY_PROPERTY = "missing_key_property"
    #: Snapchat refused the event after it was sent (set by delivery, not by the builder)
    API_REJECTED = "api_rejected"
    #: the row's pixel_route is not in the pixels setting
    UNKNOWN_PIXEL_ROUTE = "unknown_pixel_route"
    #: the rows of one order carry different totals (line_item_value: order_total)
    CONFLICTING_ORDER_VALUE = "conflicting_order_value"
    #: a line of an order that was already sent without it (more than max_open_orders orders were open)
    LATE_ORDER_LINE = "late_order_line"
    #: not a rejection: unmapped_event_names: skip counts the row, writes no rejects line
    SKIPPED_STAGE = "skipped_stage"


# ----------------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True, slots=True)
class Event:
    body: dict[str, Any]  #: the CAPI event JSON object, ready to send
    event_id: str
    match_keys: tuple[str, ...]  #: from capi.REPORTED_MATCH_KEYS (``ip_ua`` for the IP + user-agent pair)
    pixel_route: str = ""  #: the route key of the event's pixel (routing.py); "" for the single pixel


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
        self._day_first = settings.day_first
        self._preparers = normalize.simple_preparers(settings.day_first)
        self._base_body: dict[str, Any] = {"action_source": settings.action_source}
        if settings.integration:
            self._base_body["integration"] = settings.integration
        if settings.test_event_code:
            self._base_body["test_event_code"] = settings.test_event_code
        properties = schema.get("properties") if isinstance(schema, Mapping) else None
        self._properties: Mapping[str, Any] = properties or {}
        #: the columns the mapping was resolved from: the schema's, or a loose schema's first record's
        self._resolved_properties: Mapping[str, Any] = self._properties
        self._compile(resolve_mapping(settings.mapping, self._properties))
        # A loose schema (no properties): resolve again from the first record's keys.
        self._resolved = bool(properties)

    @classmethod
    def for_properties(
        cls,
        settings: EventSettings,
        stream_name: str,
        properties: Mapping[str, Any],
        key_properties: Sequence[str],
        outcomes: collections.Counter[str],
    ) -> EventBuilder:
        """A builder resolved from these columns once and for all (another builder's `resolved_properties`), even
        when they are none: a worker process builds exactly what the main thread's builder would."""
        builder = cls(settings, stream_name, {"properties": properties}, key_properties, outcomes)
        builder._resolved = True
        return builder

    @property
    def mapping(self) -> ResolvedMapping:
        """The resolved mapping (for a loose schema: resolved from the first record once one was built)."""
        return self._mapping

    @property
    def resolved_properties(self) -> Mapping[str, Any]:
        """The columns the mapping is resolved from (for a loose schema: once a record was seen)."""
        return self._resolved_properties

    # -- setup

    def _compile(self, mapping: ResolvedMapping) -> None:
        self._mapping = mapping
        columns = mapping.fields

        getter = mapping.getter  # a column the schema types as a scalar skips the wrapped-value check

        self._get_event_name = getter("event_name")
        self._get_event_time = getter("event_time")
        self._time_column = columns.get("event_time", "")
        # A date-typed column's midnight-UTC values are days (section 3a), whatever time of day they show.
        self._date_column = bool(self._time_column) and is_date_column(self._properties, self._time_column)
        self._get_event_timezone = getter("event_timezone")
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
                self._preparers[snap_field],
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
        self._get_event_tag = getter("event_tag")
        self._get_pixel_route = getter("pixel_route") if self._settings.pixel_routes is not None else None
        self._line_getters = LineGetters(
            item_id=getter("item_id"),
            quantity=getter("quantity"),
            item_price=getter("item_price"),
            brand=getter("brand"),
            delivery_category=getter("delivery_category"),
            value=self._get_value,
        )
        #: rows sharing an order id are one order when the stream maps an order id and an item column
        self._groups_lines = self._settings.group_line_items and self._get_order_id is not None and "item_id" in columns
        self._get_dpo = getter("data_processing_options")
        self._get_dpo_country = getter("data_processing_options_country")
        self._get_dpo_state = getter("data_processing_options_state")

    def _resolve_from_record(self, record: Mapping[str, Any]) -> None:
        self._resolved_properties = properties_from_record(record)
        self._compile(resolve_mapping(self._settings.mapping, self._resolved_properties))
        self._resolved = True

    # -- per record

    def order_id_of(self, record: Mapping[str, Any]) -> str | None:
        """The row's order id when it is a line of an order to group (orders.py), else None."""
        if not self._resolved:
            self._resolve_from_record(record)
        if not self._groups_lines:
            return None
        assert self._get_order_id is not None
        return id_text(self._get_order_id(record))

    def build(self, record: Mapping[str, Any], now: float, *, value: float | None = None) -> Event | Rejection:
        """The event for ``record``, or why it cannot be sent. ``now`` is epoch seconds (a float is fine).
        ``value``, when given, is the event's value (an order's, decided from its lines).

        The steps run in this order and the first that fails decides the reason:
        name -> pixel route -> time -> user data -> custom data -> body.
        """
        if not self._resolved:
            self._resolve_from_record(record)
        try:
            event_name = self._event_name(record)
        except _Rejected as rejected:
            if self._settings.unmapped_event_names == "skip":
                return Rejection(RejectReason.SKIPPED_STAGE, rejected.message, None)
            return Rejection(rejected.reason, rejected.message, self._event_id(record, None))
        event_id = self._event_id(record, event_name)
        try:
            pixel_route = self._pixel_route(record) if self._get_pixel_route is not None else ""
            event_time = self._event_time(record, now)
            user_data = self._user_data(record)
            custom_data = self._custom_data(record, event_name, value)
        except _Rejected as rejected:
            return Rejection(rejected.reason, rejected.message, event_id)
        return self._event(
            record,
            event_id=event_id,
            event_name=event_name,
            event_time=event_time,
            user_data=user_data,
            custom_data=custom_data,
            pixel_route=pixel_route,
        )

    def build_order(self, records: Sequence[Mapping[str, Any]], now: float) -> Event | Rejection:
        """One event for the rows of one order (orders.py): their merged fields, the order's value (by
        ``line_item_value``) and its lines as ``contents``, ``content_ids`` and ``num_items``."""
        merged = merged_record(records) if len(records) > 1 else records[0]
        try:
            value = order_value(
                records, self._line_getters, self._settings.line_item_value, self._mapping.fields.get("value")
            )
        except OrderProblem as problem:
            name = self._name_or_none(merged)
            return Rejection(problem.reason, problem.message, self._event_id(merged, name))
        result = self.build(merged, now, value=value)
        if isinstance(result, Event):
            lines = order_lines(records, self._line_getters)
            custom_data = result.body.setdefault("custom_data", {})
            custom_data["contents"] = lines.contents
            if lines.content_ids:
                custom_data["content_ids"] = lines.content_ids
            custom_data["num_items"] = lines.num_items
        return result

    def _name_or_none(self, record: Mapping[str, Any]) -> str | None:
        try:
            return self._event_name(record)
        except _Rejected:
            return None

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
        reading = read_event_time(
            raw_time, self._row_zone(record), day_first=self._day_first, date_column=self._date_column
        )
        if reading is None:
            raise _Rejected(
                RejectReason.INVALID_EVENT_TIME,
                f"column {time_column!r} is not a time (epoch seconds or milliseconds, ISO-8601, "
                "YYYY-MM-DD HH:MM:SS, DD.MM.YYYY HH:MM or MM/DD/YYYY HH:MM; day_first for DD/MM/YYYY)",
            )
        # A date without a time of day stays on its day: never a future event on the day itself.
        event_time = reading.send_time(now)
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

    def _row_zone(self, record: Mapping[str, Any]) -> dt.tzinfo:
        """The zone of the row's times written without one: its ``event_timezone`` cell, else source_timezone."""
        if self._get_event_timezone is not None:
            cell = self._get_event_timezone(record)
            if cell is not None and cell != "":
                zone = parse_timezone(cell)
                if zone is not None:
                    return zone
                self._outcomes["event_timezone_unreadable"] += 1  # counted; source_timezone reads the time
        return self._naive_zone

    def _pixel_route(self, record: Mapping[str, Any]) -> str:
        """The route key of the row's pixel; rejects a route the pixels setting does not list."""
        assert self._get_pixel_route is not None and self._settings.pixel_routes is not None
        text = cell_text(self._get_pixel_route(record))
        key = route_key(text) if text else ""
        if key not in self._settings.pixel_routes:
            where = "is blank" if not key else "names a route that is not in the pixels setting"
            raise _Rejected(
                RejectReason.UNKNOWN_PIXEL_ROUTE,
                f"column {self._mapping.fields['pixel_route']!r} {where}; add the route to pixels",
            )
        return key

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
        row_country = self._row_country(record)
        phone_default = self._settings.default_phone_country
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

    def _row_country(self, record: Mapping[str, Any]) -> str | None:
        """The row's country (lowercase alpha-2), or None when it has none or it cannot be read: then national
        phone numbers take default_phone_country (section 3a)."""
        if self._get_country is None:
            return None
        country_text = cell_text(self._get_country(record))
        return normalize.normalize_country(country_text) if country_text else None

    def _custom_data(self, record: Mapping[str, Any], event_name: str, value: float | None) -> dict[str, Any]:
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
        currency_marker: str | None = None
        if value is not None:
            if is_purchase and value < 0:
                raise _Rejected(
                    RejectReason.NEGATIVE_VALUE,
                    "the order's value is negative: a refund is no PURCHASE; map refunds to a CUSTOM_EVENT_n",
                )
            custom_data["value"] = value
        else:
            currency_marker = self._value(record, is_purchase, custom_data)
        self._currency(record, is_purchase, currency_marker, custom_data)
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
        pixel_route: str,
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
        if self._get_event_tag is not None:
            tag = to_string(self._get_event_tag(record))
            if tag:
                body["event_tag"] = tag
        self._add_data_processing(record, body)
        match_keys = tuple([key for key in _SINGLE_REPORTED_KEYS if key in user_data])
        if "client_ip_address" in user_data and "client_user_agent" in user_data:
            match_keys += ("ip_ua",)
        return Event(body=body, event_id=event_id, match_keys=match_keys, pixel_route=pixel_route)

    # -- helpers

    def _event_id(self, record: Mapping[str, Any], event_name: str | None) -> str:
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
            parts = [self._settings.pixel_id, self._stream_name, identity]
        else:
            parts = [self._settings.pixel_id, self._stream_name, event_name, identity]
        identity_text = json.dumps(
            parts,
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

    def _value(self, record: Mapping[str, Any], is_purchase: bool, custom_data: dict[str, Any]) -> str | None:
        """Puts the value in custom_data; returns the currency sign or code written beside it, if any."""
        columns = self._mapping.fields
        marker: str | None = None
        if self._get_value is not None:
            raw_value = self._get_value(record)
            if raw_value is not None and raw_value != "":
                value, reason, marker = read_value(raw_value)
                if value is None:
                    if is_purchase:
                        raise _Rejected(
                            RejectReason.INVALID_VALUE,
                            f"PURCHASE needs a number in column {columns['value']!r} ({reason})",
                        )
                    self._outcomes["value_invalid"] += 1
                elif is_purchase and value < 0:
                    raise _Rejected(
                        RejectReason.NEGATIVE_VALUE,
                        f"column {columns['value']!r} is negative: a refund is no PURCHASE; map refunds to a "
                        "CUSTOM_EVENT_n with event_name_map",
                    )
                else:
                    custom_data["value"] = value
        if is_purchase and "value" not in custom_data:
            where = f"column {columns['value']!r} is blank" if "value" in columns else "no column is mapped to value"
            raise _Rejected(RejectReason.MISSING_VALUE, f"PURCHASE needs a value; {where}")
        return marker

    def _currency(
        self, record: Mapping[str, Any], is_purchase: bool, marker: str | None, custom_data: dict[str, Any]
    ) -> None:
        """The currency column, else the sign or code in the value cell, else default_currency (section 3a)."""
        columns = self._mapping.fields
        default_currency = self._settings.default_currency
        currency: str | None = None
        if self._get_currency is not None:
            raw_currency = self._get_currency(record)
            if raw_currency is not None and raw_currency != "":
                currency, blank = parse_currency(raw_currency, default_currency)
                if currency is None and not blank:
                    raise _Rejected(
                        RejectReason.INVALID_CURRENCY,
                        f"column {columns['currency']!r} is not an ISO-4217 currency code (a sign such as $, ¥ or "
                        "kr names several currencies: set default_currency to one of them)",
                    )
        if marker is not None:
            currency = self._marker_currency(marker, currency, default_currency)
        currency = currency or default_currency
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

    def _marker_currency(self, marker: str, currency: str | None, default_currency: str | None) -> str:
        """The currency a value's sign or code names; it must agree with the currency column when both are there."""
        columns = self._mapping.fields
        if currency is not None:
            if currency not in currencies_of_marker(marker):
                raise _Rejected(
                    RejectReason.INVALID_CURRENCY,
                    f"the currency written in column {columns['value']!r} is not the one in column "
                    f"{columns['currency']!r}",
                )
            return currency
        named, _ = parse_currency(marker, default_currency)
        if named is None:
            raise _Rejected(
                RejectReason.INVALID_CURRENCY,
                f"the currency sign in column {columns['value']!r} names several currencies; map a currency "
                "column or set default_currency to one of them",
            )
        return named

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
