"""Every setting of the target: its default, its check, once. Pure: no I/O, nothing from Singer.

`Settings.from_config` turns the raw config (a mapping, values possibly as text from environment variables) into
validated, typed settings, or raises `SettingError` naming the setting. The target's JSON schema takes its defaults
from `DEFAULTS`, so `--about`, the schema and the checks can never disagree.
"""

from __future__ import annotations

import enum
import json
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from target_snapchat_capi import capi, normalize
from target_snapchat_capi.cells import CURRENCY_CODES
from target_snapchat_capi.history import DEFAULT_REPORT_HISTORY_PATH
from target_snapchat_capi.mapping import ConfigError, canonical_field
from target_snapchat_capi.orders import LineItemValue
from target_snapchat_capi.routing import PixelRoutes, RouteError

__all__ = [
    "CURRENCY_CODES",
    "DEFAULTS",
    "ConfigError",
    "DeliverySettings",
    "EventSettings",
    "GuardSettings",
    "LedgerSettings",
    "Mode",
    "OutputPaths",
    "SettingError",
    "Settings",
]

PURCHASE: Final = "PURCHASE"
DEFAULT_INTEGRATION: Final = "target-snapchat-capi"
MAX_CONCURRENCY_LIMIT: Final = 64
#: More worker processes than this only wait for the main thread (it feeds about four).
MAX_BUILD_WORKERS: Final = 16

#: The one table of defaults. The schema, `Settings.from_config` and `CapiClient` read it.
DEFAULTS: Final[Mapping[str, Any]] = {
    "api_url": capi.DEFAULT_API_URL,
    "action_source": "OFFLINE",
    "integration": DEFAULT_INTEGRATION,
    "event_name": PURCHASE,
    "event_name_map": {},
    "mapping": {},
    "max_event_age_days": capi.MAX_EVENT_AGE_DAYS,
    "future_tolerance_minutes": capi.FUTURE_TOLERANCE_SECONDS // 60,
    "source_timezone": "UTC",
    "day_first": False,
    "batch_size": capi.MAX_EVENTS_PER_REQUEST,
    "max_concurrency": 4,
    "max_retries": 8,
    "request_timeout_seconds": 30,
    "delivery_timeout_seconds": 600,
    "validate_only": False,
    "dry_run": False,
    "dry_run_path": "output/snapchat_capi_dry_run.jsonl",
    "reject_path": "output/snapchat_capi_rejects.jsonl",
    "report_path": "output/snapchat_capi_report.json",
    "report_html_path": "output/snapchat_capi_report.html",
    "report_history_path": DEFAULT_REPORT_HISTORY_PATH,
    "ledger_url": "sqlite:///output/snapchat_capi_ledger.sqlite",
    "ledger_retention_days": 400,
    "max_reject_ratio": 0.5,
    "preflight_records": 1000,
    "group_line_items": True,
    "line_item_value": LineItemValue.ORDER_TOTAL.value,
    "max_open_orders": 10_000,
    "unmapped_event_names": "reject",
    "build_workers": 1,
}

#: What `unmapped_event_names` may say about a source event name that is neither mapped nor a Snap name.
UNMAPPED_EVENT_NAME_CHOICES: Final = ("reject", "skip")


class Mode(enum.StrEnum):
    """What a run does with the events it builds."""

    LIVE = "live"  #: send to /events; STATE moves
    VALIDATE_ONLY = "validate_only"  #: send to /events/validate; nothing recorded, no STATE
    DRY_RUN = "dry_run"  #: no network: write the request bodies to a file; no STATE

    @property
    def emits_state(self) -> bool:
        """Only a live run may move bookmarks: a dry or validate-only run must leave the next live run everything."""
        return self is Mode.LIVE


class SettingError(ConfigError):
    """A setting is missing or wrong. `setting` names it; the message says what to do, never a secret's value."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(message)
        self.setting = setting


# ----------------------------------------------------------------------------------------------------
# Readers of one raw value each


def _default(key: str) -> Any:
    return DEFAULTS[key]


def _text(config: Mapping[str, Any], key: str) -> str | None:
    """A trimmed string, None when absent or blank."""
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise SettingError(key, f"{key} must be a string")
    return value.strip() or None


def _json(config: Mapping[str, Any], key: str) -> Any:
    """Objects and arrays may arrive as JSON text (environment variables); decode them."""
    value = config.get(key)
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError as error:
            raise SettingError(key, f"{key} is not valid JSON ({error.msg} at position {error.pos})") from None
    return value


def _int(config: Mapping[str, Any], key: str, *, minimum: int, maximum: int | None = None) -> int | None:
    """A whole number within bounds; the default from `DEFAULTS` (or None) when absent or blank."""
    value = config.get(key)
    if value is None or value == "":
        return DEFAULTS.get(key)
    if isinstance(value, bool):
        raise SettingError(key, f"{key} must be a whole number")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise SettingError(key, f"{key} must be a whole number") from None
    if number != value and not isinstance(value, str):
        raise SettingError(key, f"{key} must be a whole number")
    if number < minimum:
        raise SettingError(key, f"{key} must be at least {minimum}")
    if maximum is not None and number > maximum:
        raise SettingError(key, f"{key} must be at most {maximum}")
    return number


def _required_int(config: Mapping[str, Any], key: str, *, minimum: int, maximum: int | None = None) -> int:
    number = _int(config, key, minimum=minimum, maximum=maximum)
    assert number is not None, f"{key} has a default"
    return number


def _number(config: Mapping[str, Any], key: str, *, minimum: float) -> float:
    value = config.get(key)
    if value is None or value == "":
        return float(_default(key))
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SettingError(key, f"{key} must be a number") from None
    if isinstance(value, bool) or not number >= minimum:
        raise SettingError(key, f"{key} must be a number of at least {minimum}")
    return number


def _flag(config: Mapping[str, Any], key: str) -> bool:
    value = config.get(key)
    if value is None or value == "":
        return bool(_default(key))
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    raise SettingError(key, f"{key} must be true or false")


def _event_name(key: str, value: Any) -> str:
    if not isinstance(value, str) or value.strip().upper() not in capi.EVENT_NAMES:
        raise SettingError(
            key.split("[", 1)[0],
            f"{key} must be one of Snapchat's event names ({', '.join(sorted(capi.EVENT_NAMES))})",
        )
    return value.strip().upper()


def _event_name_map(config: Mapping[str, Any]) -> dict[str, str]:
    raw = _json(config, "event_name_map") or {}
    if not isinstance(raw, Mapping):
        raise SettingError("event_name_map", 'event_name_map must be an object, e.g. {"Closed Won": "PURCHASE"}')
    return {
        str(source).strip().casefold(): _event_name(f"event_name_map[{source!r}]", snap_name)
        for source, snap_name in raw.items()
    }


def _mapping(config: Mapping[str, Any]) -> dict[str, str | None]:
    raw = _json(config, "mapping") or {}
    if not isinstance(raw, Mapping):
        raise SettingError("mapping", 'mapping must be an object of Snap field -> source column, e.g. {"em": "Email"}')
    mapping: dict[str, str | None] = {}
    for key, column in raw.items():
        if column is not None and not isinstance(column, str):
            raise SettingError("mapping", f"mapping[{key!r}] must be a column name (or null to switch the field off)")
        try:
            mapping[canonical_field(str(key))] = column
        except ConfigError as error:
            raise SettingError("mapping", str(error)) from None
    return mapping


def _country(config: Mapping[str, Any]) -> str | None:
    country = _text(config, "default_phone_country")
    if country is not None and country.lower() not in normalize.ALPHA_2_CODES:
        raise SettingError(
            "default_phone_country", "default_phone_country must be an ISO-3166 alpha-2 code such as US or GB"
        )
    return country.upper() if country else None


def _currency(config: Mapping[str, Any]) -> str | None:
    currency = _text(config, "default_currency")
    if currency is not None and currency.upper() not in CURRENCY_CODES:
        raise SettingError("default_currency", "default_currency must be an ISO-4217 code such as USD or EUR")
    return currency.upper() if currency else None


def _timezone(config: Mapping[str, Any]) -> str:
    name = _text(config, "source_timezone") or str(_default("source_timezone"))
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SettingError(
            "source_timezone",
            "source_timezone must be an IANA time zone name such as Europe/Paris or America/New_York",
        ) from None
    return name


def _processing_options(config: Mapping[str, Any]) -> tuple[str, ...] | None:
    raw = _json(config, "data_processing_options")
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, Sequence) or not all(isinstance(option, str) for option in raw):
        raise SettingError("data_processing_options", 'data_processing_options must be a list of strings, e.g. ["LDU"]')
    return tuple(option.strip() for option in raw if option.strip())


def _action_source(config: Mapping[str, Any]) -> str:
    action_source = (_text(config, "action_source") or str(_default("action_source"))).upper()
    if action_source not in capi.ACTION_SOURCES:
        raise SettingError("action_source", f"action_source must be one of {', '.join(sorted(capi.ACTION_SOURCES))}")
    return action_source


def _pixel_id(config: Mapping[str, Any]) -> str:
    """The single pixel; optional (blank) when `pixels` routes events to several."""
    pixel_id = _text(config, "pixel_id")
    if not pixel_id and not _json(config, "pixels"):
        raise SettingError(
            "pixel_id", "pixel_id is required (the Snap Pixel ID, a UUID, that offline events go to), or pixels"
        )
    return pixel_id or ""


def _pixel_routes(config: Mapping[str, Any]) -> PixelRoutes:
    try:
        return PixelRoutes.from_settings(
            _json(config, "pixels"), _text(config, "pixel_id"), _text(config, "access_token")
        )
    except RouteError as error:
        raise SettingError("pixels", str(error)) from None


def _choice(config: Mapping[str, Any], key: str, choices: Sequence[str]) -> str:
    value = (_text(config, key) or str(_default(key))).lower()
    if value not in choices:
        raise SettingError(key, f"{key} must be one of {', '.join(choices)}")
    return value


# ----------------------------------------------------------------------------------------------------
# The settings


@dataclass(frozen=True)
class EventSettings:
    """The settings that shape events. Build it with ``from_config`` to get validated values."""

    pixel_id: str
    action_source: str = DEFAULTS["action_source"]
    integration: str | None = DEFAULT_INTEGRATION
    event_name: str = PURCHASE
    #: source value -> Snap name; matched trimmed and case-insensitively
    event_name_map: Mapping[str, str] = field(default_factory=dict)
    #: Snap field -> source column path (None switches auto-detection off for that field)
    mapping: Mapping[str, str | None] = field(default_factory=dict)
    default_phone_country: str | None = None
    default_currency: str | None = None
    max_event_age_days: int = DEFAULTS["max_event_age_days"]
    future_tolerance_minutes: int = DEFAULTS["future_tolerance_minutes"]
    data_processing_options: tuple[str, ...] | None = None
    data_processing_options_country: int | None = None
    data_processing_options_state: int | None = None
    #: when set, sent on each event as ``test_event_code`` (assumed field name)
    test_event_code: str | None = None
    #: the zone of times written without one (``2026-11-27 18:30``); an IANA name, UTC by default
    source_timezone: str = DEFAULTS["source_timezone"]
    #: numeric dates (event times, dates of birth) are day/month/year: ``03/04/2026`` is 3 April
    day_first: bool = DEFAULTS["day_first"]
    #: rows sharing a non-blank order id are one order, one PURCHASE (orders.py)
    group_line_items: bool = DEFAULTS["group_line_items"]
    line_item_value: LineItemValue = LineItemValue.ORDER_TOTAL
    max_open_orders: int = DEFAULTS["max_open_orders"]
    #: "reject" (unknown_event_name) or "skip" (counted as skipped_stage) for names neither mapped nor Snap's
    unmapped_event_names: str = DEFAULTS["unmapped_event_names"]
    #: route keys of the `pixels` setting (routing.py); None when every event goes to the one pixel
    pixel_routes: frozenset[str] | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> EventSettings:
        """Validated settings from the target's config; unknown keys are ignored. Raises SettingError."""
        max_age_limit = capi.MAX_EVENT_AGE_DAYS
        tolerance_limit = capi.FUTURE_TOLERANCE_SECONDS // 60
        max_age = _required_int(config, "max_event_age_days", minimum=1)
        if max_age > max_age_limit:
            raise SettingError(
                "max_event_age_days",
                f"max_event_age_days cannot exceed {max_age_limit}: Snapchat rejects older events",
            )
        tolerance = _required_int(config, "future_tolerance_minutes", minimum=0)
        if tolerance > tolerance_limit:
            raise SettingError(
                "future_tolerance_minutes",
                f"future_tolerance_minutes cannot exceed {tolerance_limit}: Snapchat rejects events further in the "
                "future",
            )
        return cls(
            pixel_id=_pixel_id(config),
            action_source=_action_source(config),
            # Partners set integration on every event (contract section 1): a blank setting keeps the default.
            integration=_text(config, "integration") or DEFAULT_INTEGRATION,
            event_name=_event_name("event_name", config.get("event_name") or PURCHASE),
            event_name_map=_event_name_map(config),
            mapping=_mapping(config),
            default_phone_country=_country(config),
            default_currency=_currency(config),
            max_event_age_days=max_age,
            future_tolerance_minutes=tolerance,
            data_processing_options=_processing_options(config),
            data_processing_options_country=_int(config, "data_processing_options_country", minimum=0),
            data_processing_options_state=_int(config, "data_processing_options_state", minimum=0),
            test_event_code=_text(config, "test_event_code"),
            source_timezone=_timezone(config),
            day_first=_flag(config, "day_first"),
            group_line_items=_flag(config, "group_line_items"),
            line_item_value=LineItemValue(_choice(config, "line_item_value", tuple(LineItemValue))),
            max_open_orders=_required_int(config, "max_open_orders", minimum=1),
            unmapped_event_names=_choice(config, "unmapped_event_names", UNMAPPED_EVENT_NAME_CHOICES),
            pixel_routes=routes.route_keys if (routes := _pixel_routes(config)).routed else None,
        )


@dataclass(frozen=True)
class DeliverySettings:
    """How events reach the API."""

    api_url: str
    pixel_id: str
    access_token: str
    batch_size: int = DEFAULTS["batch_size"]
    max_concurrency: int = DEFAULTS["max_concurrency"]
    max_retries: int = DEFAULTS["max_retries"]
    request_timeout_seconds: float = DEFAULTS["request_timeout_seconds"]
    #: the total time one batch may take, retries and waits included, before the run gives up
    delivery_timeout_seconds: float = DEFAULTS["delivery_timeout_seconds"]
    #: the pixels events go to, by route (one, route "", without the `pixels` setting)
    routes: PixelRoutes = field(default_factory=lambda: PixelRoutes(pixels={}, routed=False))

    @property
    def sink_batch_size(self) -> int:
        """Events a sink collects before it drains: one request's worth for every connection."""
        return self.batch_size * self.max_concurrency

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DeliverySettings:
        return cls(
            api_url=_text(config, "api_url") or str(_default("api_url")),
            pixel_id=_pixel_id(config),
            access_token=_text(config, "access_token") or "",
            batch_size=_required_int(config, "batch_size", minimum=1, maximum=capi.MAX_EVENTS_PER_REQUEST),
            max_concurrency=_required_int(config, "max_concurrency", minimum=1, maximum=MAX_CONCURRENCY_LIMIT),
            max_retries=_required_int(config, "max_retries", minimum=0),
            request_timeout_seconds=_number(config, "request_timeout_seconds", minimum=0.001),
            delivery_timeout_seconds=_number(config, "delivery_timeout_seconds", minimum=0.001),
            routes=_pixel_routes(config),
        )


@dataclass(frozen=True)
class OutputPaths:
    """The files a run writes (counts and hashed data only)."""

    report: Path
    rejects: Path
    dry_run: Path
    #: the HTML run report (drawn from the JSON one) and the run history its trends come from
    report_html: Path
    report_history: Path

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> OutputPaths:
        """Never raises: a run whose other settings are wrong still writes its report and history here."""
        return cls(
            report=Path(_path_text(config, "report_path")),
            report_html=Path(_path_text(config, "report_html_path")),
            report_history=Path(_path_text(config, "report_history_path")),
            rejects=Path(_path_text(config, "reject_path")),
            dry_run=Path(_path_text(config, "dry_run_path")),
        )


def _path_text(config: Mapping[str, Any], key: str) -> str:
    value = config.get(key)
    if isinstance(value, str) and value.strip():
        return value
    return str(_default(key))


@dataclass(frozen=True)
class LedgerSettings:
    """Where the delivery ledger lives (ledger.py), and how long it remembers. Used by live runs only."""

    #: a SQLAlchemy URL (sqlite:///file or postgresql://...), or None: the ledger is off
    url: str | None = DEFAULTS["ledger_url"]
    retention_days: int = DEFAULTS["ledger_retention_days"]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LedgerSettings:
        raw = config.get("ledger_url")
        if raw is not None and not isinstance(raw, str):
            raise SettingError("ledger_url", "ledger_url must be a database URL (or empty to turn the ledger off)")
        # Absent: the default file. Present but blank: off.
        url = str(_default("ledger_url")) if raw is None else raw.strip() or None
        return cls(url=url, retention_days=_required_int(config, "ledger_retention_days", minimum=1))


@dataclass(frozen=True)
class GuardSettings:
    """The reject-ratio guard (see preflight.py)."""

    max_reject_ratio: float = DEFAULTS["max_reject_ratio"]
    preflight_records: int = DEFAULTS["preflight_records"]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> GuardSettings:
        ratio = _number(config, "max_reject_ratio", minimum=0)
        if ratio > 1:
            raise SettingError("max_reject_ratio", "max_reject_ratio must be between 0 and 1 (1 turns the guard off)")
        return cls(
            max_reject_ratio=ratio,
            preflight_records=_required_int(config, "preflight_records", minimum=1),
        )


@dataclass(frozen=True)
class Settings:
    """All of a run's settings, checked."""

    mode: Mode
    events: EventSettings
    delivery: DeliverySettings
    paths: OutputPaths
    ledger: LedgerSettings = field(default_factory=LedgerSettings)
    guard: GuardSettings = field(default_factory=GuardSettings)
    #: worker processes that build events (building.py); 0 builds them in the target's main thread
    build_workers: int = DEFAULTS["build_workers"]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """Validated settings; raises SettingError naming the first wrong setting."""
        dry_run, validate_only = _flag(config, "dry_run"), _flag(config, "validate_only")
        if dry_run and validate_only:
            raise SettingError("dry_run", "dry_run and validate_only exclude each other: choose one.")
        mode = Mode.DRY_RUN if dry_run else Mode.VALIDATE_ONLY if validate_only else Mode.LIVE
        delivery = DeliverySettings.from_config(config)
        if mode is not Mode.DRY_RUN and not delivery.access_token and not delivery.routes.routed:
            raise SettingError("access_token", "access_token is required (the Conversions API token)")
        if delivery.pixel_id and not delivery.access_token and delivery.routes.routed and mode is not Mode.DRY_RUN:
            raise SettingError("access_token", "access_token is required with pixel_id (or leave both out: pixels)")
        return cls(
            mode=mode,
            events=EventSettings.from_config(config),
            delivery=delivery,
            paths=OutputPaths.from_config(config),
            ledger=LedgerSettings.from_config(config),
            guard=GuardSettings.from_config(config),
            build_workers=_required_int(config, "build_workers", minimum=0, maximum=MAX_BUILD_WORKERS),
        )
