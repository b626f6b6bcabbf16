"""Column resolution: which source column feeds which Snap field.

Keys of a mapping are Snap field names: the event fields (``event_name event_time event_id
event_source_url``), the user_data fields (``em ph fn ln ge db ct st zp country external_id madid
client_ip_address client_user_agent sc_click_id``; ``mobile_ad_id`` is accepted for ``madid``), the
custom_data fields (``value currency order_id num_items content_ids contents ...``) and the data-processing
fields. ``country`` means the user's (hashed) country; custom_data's own ``country`` is
``custom_data.country``. Any custom_data field may be written with a ``custom_data.`` prefix and any user_data
field with ``user_data.``.

Values are source column paths: ``email``, or ``properties.email`` for a nested field (a dotted path first
walks nested objects, then falls back to a top-level column literally named with the dot).

Resolution, per Snap field:

1. an explicit mapping wins (an explicit ``null``/empty value switches the field off: it is not
   auto-detected);
2. otherwise auto-detection over the schema's property names, recursing into nested ``object`` properties.
   Names are compared ignoring case and punctuation (``E-Mail``, ``email_address``, ``EmailAddress`` are one
   name), by the leaf name of the path. Each Snap field has an ordered alias list; when several columns
   qualify for one field, the column matching the earliest alias wins, then the shallower path, then schema
   order.

A source column feeds at most one Snap field (every alias belongs to one field, and a column used by an
explicit mapping is never auto-assigned too). Columns whose name starts with ``_sdc_`` (tap metadata) are
never mapped. A loose schema (no properties) is resolved from the first record: ``resolve_mapping(explicit,
properties_from_record(record))``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from target_snapchat_capi import capi

SDC_PREFIX: Final = "_sdc_"
CUSTOM_PREFIX: Final = "custom_data."
USER_PREFIX: Final = "user_data."


class ConfigError(ValueError):
    """A setting is missing or wrong; the message names the setting and what to do."""


#: custom_data fields whose bare name is taken by a user_data field; they are addressed with ``custom_data.``.
_CUSTOM_SHADOWED: Final = frozenset(name for name in capi.CUSTOM_DATA_FIELDS if name in capi.USER_FIELDS)

#: Every mapping key a user may write, in the order the resolved mapping is described.
SNAP_FIELDS: Final[tuple[str, ...]] = (
    *capi.EVENT_FIELDS,
    *capi.USER_FIELDS,
    *(CUSTOM_PREFIX + name if name in _CUSTOM_SHADOWED else name for name in capi.CUSTOM_DATA_FIELDS),
    *capi.DATA_PROCESSING_FIELDS,
)
_SNAP_FIELD_SET: Final = frozenset(SNAP_FIELDS)
#: custom_data field name -> the mapping key that addresses it (``country`` -> ``custom_data.country``)
CUSTOM_FIELD_KEYS: Final[dict[str, str]] = {
    name: CUSTOM_PREFIX + name if name in _CUSTOM_SHADOWED else name for name in capi.CUSTOM_DATA_FIELDS
}

#: Ordered alias lists (already compact: lowercase letters and digits only). Earlier aliases win ties.
_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "event_name": ("eventname", "eventtype", "event", "conversiontype", "stage", "stagename", "dealstage"),
    "event_time": (
        "eventtime",
        "timestamp",
        "eventtimestamp",
        "conversiontime",
        "conversiondate",
        "purchasedat",
        "purchasedate",
        "purchasetime",
        "orderdate",
        "transactiondate",
        "transactiontime",
        "closedate",
        "closedat",
        "createdat",
        "createddate",
        "createdate",
        "created",
        "date",
        "time",
    ),
    "event_id": ("eventid", "dedupid", "deduplicationid"),
    "event_source_url": ("eventsourceurl", "pageurl"),
    "em": (
        "em",
        "email",
        "emailaddress",
        "mail",
        "customeremail",
        "contactemail",
        "useremail",
        "hashedemail",
        "sha256email",
    ),
    "ph": (
        "ph",
        "phone",
        "phonenumber",
        "mobile",
        "mobilephone",
        "mobilenumber",
        "cellphone",
        "cell",
        "telephone",
        "tel",
        "homephone",
        "customerphone",
        "hashedphone",
        "sha256phone",
    ),
    "fn": ("fn", "firstname", "givenname", "fname", "forename", "first"),
    "ln": ("ln", "lastname", "surname", "familyname", "lname", "last"),
    "ge": ("ge", "gender", "sex"),
    "db": ("db", "dob", "dateofbirth", "birthdate", "birthday", "birthdt"),
    "ct": ("ct", "city", "town", "mailingcity", "billingcity", "shippingcity"),
    "st": ("st", "state", "region", "province", "statecode", "mailingstate", "billingstate", "shippingstate"),
    "zp": (
        "zp",
        "zip",
        "zipcode",
        "postalcode",
        "postcode",
        "mailingpostalcode",
        "billingpostalcode",
        "shippingpostalcode",
    ),
    "country": (
        "country",
        "countrycode",
        "mailingcountry",
        "mailingcountrycode",
        "billingcountry",
        "billingcountrycode",
        "shippingcountry",
    ),
    "external_id": ("externalid", "customerid", "userid", "crmid", "memberid", "loyaltyid", "contactid"),
    "madid": ("madid", "mobileadid", "idfa", "gaid", "aaid", "advertisingid", "maid"),
    "client_ip_address": ("clientipaddress", "ipaddress", "ip", "clientip"),
    "client_user_agent": ("clientuseragent", "useragent"),
    "sc_click_id": ("scclickid", "clickid", "sccid", "snapclickid"),
    "value": ("value", "revenue", "amount", "total", "ordertotal", "totalamount", "ordervalue", "price"),
    "currency": ("currency", "currencycode", "currencyisocode", "dealcurrencycode"),
    "order_id": (
        "orderid",
        "transactionid",
        "ordernumber",
        "orderno",
        "receiptid",
        "invoiceid",
        "invoicenumber",
    ),
    "num_items": ("numitems", "quantity", "qty", "itemcount", "numberofitems"),
    "content_ids": ("contentids", "productids", "skus", "sku", "productid", "itemids"),
    "content_category": ("contentcategory", "productcategory", "category"),
}


def compact_name(name: str) -> str:
    """``E-Mail_Address`` -> ``emailaddress``: the form names are compared in."""
    return "".join(ch for ch in name if ch.isalnum()).lower()


def _build_alias_index() -> dict[str, tuple[str, int]]:
    """compact alias -> (Snap field, rank within its list)."""
    index: dict[str, tuple[str, int]] = {}
    for snap_field, aliases in _ALIASES.items():
        for rank, alias in enumerate(aliases):
            if alias in index:
                raise AssertionError(f"alias {alias!r} listed for two fields")  # a bug in the table above
            index[alias] = (snap_field, rank)
    # The rest of the contract's fields are found by their own names, after every alias above.
    for snap_field in SNAP_FIELDS:
        bare = snap_field.removeprefix(CUSTOM_PREFIX)
        if snap_field.startswith(CUSTOM_PREFIX):
            continue  # shadowed by a user_data field of the same name: explicit mapping only
        index.setdefault(compact_name(bare), (snap_field, len(_ALIASES.get(snap_field, ()))))
    return index


_ALIAS_INDEX: Final[dict[str, tuple[str, int]]] = _build_alias_index()


def canonical_field(key: str) -> str:
    """The Snap field a mapping key names (``mobile_ad_id`` -> ``madid``, ``user_data.em`` -> ``em``).

    Raises ConfigError for a key that is not a contract field.
    """
    name = key.strip()
    if name.startswith(USER_PREFIX):
        name = name.removeprefix(USER_PREFIX)
        if name in capi.MADID_ALIASES:
            name = "madid"
        if name not in capi.USER_FIELDS:
            raise ConfigError(f"mapping: {key!r} is not a user_data field of the Snapchat CAPI contract")
        return name
    if name.startswith(CUSTOM_PREFIX):
        bare = name.removeprefix(CUSTOM_PREFIX)
        if bare not in capi.CUSTOM_DATA_FIELDS:
            raise ConfigError(f"mapping: {key!r} is not a custom_data field of the Snapchat CAPI contract")
        return name if bare in _CUSTOM_SHADOWED else bare
    if name in capi.MADID_ALIASES:
        return "madid"
    if name not in _SNAP_FIELD_SET:
        raise ConfigError(f"mapping: {key!r} is not a Snapchat CAPI field; use one of: {', '.join(SNAP_FIELDS)}")
    return name


@dataclass(frozen=True)
class ResolvedMapping:
    """Snap field -> source column path, after explicit mapping and auto-detection."""

    fields: dict[str, str]

    def describe(self) -> str:
        """One line for the start-up log: column names only, never values."""
        if not self.fields:
            return "no columns mapped"
        return ", ".join(f"{snap_field} <- {column}" for snap_field, column in self.fields.items())


def _walk_properties(properties: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted path, leaf name) of every property, nested objects included; ``_sdc_*`` skipped."""
    for name, schema in properties.items():
        if name.startswith(SDC_PREFIX):
            continue
        path = f"{prefix}{name}"
        nested = schema.get("properties") if isinstance(schema, Mapping) else None
        if isinstance(nested, Mapping) and nested:
            # An object column is not a value to send (except custom_fields, found by its own name below).
            if compact_name(name) == "customfields":
                yield path, name
            yield from _walk_properties(nested, f"{path}.")
        else:
            yield path, name


def resolve_mapping(explicit: Mapping[str, str | None], schema_properties: Mapping[str, Any]) -> ResolvedMapping:
    """Explicit mapping first, then auto-detection over the schema's property names (see module docstring)."""
    resolved: dict[str, str] = {}
    switched_off: set[str] = set()
    for key, column in explicit.items():
        snap_field = canonical_field(key)
        if column is None or not str(column).strip():
            switched_off.add(snap_field)
            continue
        column_path = str(column).strip()
        if column_path.split(".")[-1].startswith(SDC_PREFIX):
            raise ConfigError(f"mapping: {key!r} points at tap metadata column {column_path!r}, which is never sent")
        resolved[snap_field] = column_path
    used_columns = set(resolved.values())

    # best candidate per field: (alias rank, depth, schema order) -> path
    best: dict[str, tuple[tuple[int, int, int], str]] = {}
    for order, (path, leaf) in enumerate(_walk_properties(schema_properties)):
        if path in used_columns:
            continue
        match = _ALIAS_INDEX.get(compact_name(leaf))
        if match is None:
            continue
        snap_field, rank = match
        if snap_field in resolved or snap_field in switched_off:
            continue
        score = (rank, path.count("."), order)
        if snap_field not in best or score < best[snap_field][0]:
            best[snap_field] = (score, path)
    for snap_field, (_, path) in best.items():
        resolved[snap_field] = path

    ordered = {snap_field: resolved[snap_field] for snap_field in SNAP_FIELDS if snap_field in resolved}
    return ResolvedMapping(fields=ordered)


def properties_from_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A schema ``properties`` object shaped like ``record`` (nested dicts become nested objects)."""
    return {
        key: {"type": "object", "properties": properties_from_record(value)} if isinstance(value, Mapping) else {}
        for key, value in record.items()
    }


def compile_getter(path: str) -> Callable[[Mapping[str, Any]], Any]:
    """A fast getter for a column path: ``"email"`` or ``"properties.email"``; None when absent."""
    if "." not in path:

        def get_top(record: Mapping[str, Any]) -> Any:
            return record.get(path)

        return get_top

    parts = tuple(path.split("."))
    if len(parts) == 2:
        outer, inner = parts

        def get_nested_2(record: Mapping[str, Any]) -> Any:
            parent = record.get(outer)
            if isinstance(parent, Mapping):
                return parent.get(inner)
            return record.get(path)

        return get_nested_2

    def get_nested(record: Mapping[str, Any]) -> Any:
        current: Any = record
        for part in parts:
            if not isinstance(current, Mapping):
                return record.get(path)
            current = current.get(part)
        return current

    return get_nested
