"""Column resolution: which source column feeds which Snap field (or target-level field).

Keys of a mapping are of two kinds:

* **Snap fields** (``SNAP_FIELDS``), sent in the CAPI body as they are: the event fields (``event_name
  event_time event_id event_source_url``), the user_data fields (``em ph fn ln ge db ct st zp country
  external_id madid client_ip_address client_user_agent sc_click_id``; ``mobile_ad_id`` is accepted for
  ``madid``), the custom_data fields (``value currency order_id num_items content_ids contents ...``) and the
  data-processing fields. ``country`` means the user's (hashed) country; custom_data's own ``country`` is
  ``custom_data.country``. Any custom_data field may be written with a ``custom_data.`` prefix and any user_data
  field with ``user_data.``.
* **Target fields** (``TARGET_FIELDS``), read by the target but no CAPI body field by themselves: the line-item
  fields ``item_id quantity item_price brand`` (one row per line of an order; the target turns an order's lines
  into ``custom_data.contents``, ``content_ids`` and ``num_items``; a line's ``delivery_category`` is the
  custom_data key of that name), and the per-row fields ``event_timezone`` (a column of IANA zone names or UTC
  offsets), ``pixel_route`` (which configured pixel a row goes to) and ``event_tag``.

Values are source column paths: ``email``, or ``properties.email`` for a nested field (a dotted path first
walks nested objects, then falls back to a top-level column literally named with the dot). A path that reaches a
wrapped value, ``{"value": ..., "timestamp": ..., "source": ...}`` as singer-io's tap-hubspot emits, reads its
``value``.

Resolution, per field:

1. an explicit mapping wins (an explicit ``null``/empty value switches the field off: it is not
   auto-detected);
2. a recognised export (``EXPORT_PROFILES``: Shopify's orders export, Square's item details, ...) names the
   columns that only that export uses for a field (Shopify's ``Name`` is the order number) and the headers
   that must not be taken for a field there (Square's ``Time Zone`` holds Square's own zone names);
3. otherwise auto-detection over the schema's property names, recursing into nested ``object`` properties.
   Names are compared ignoring case and punctuation (``E-Mail``, ``email_address``, ``EmailAddress`` are one
   name), by the leaf name of the path. Each field has an ordered alias list; when several columns qualify for
   one field, the column matching the earliest alias wins, then the shallower path, then schema order. Where
   two different columns match aliases of equal rank (``Gross Sales`` and ``Net Sales`` for ``value``), the
   field is left unmapped as ambiguous: it is never guessed, and the start-of-run description says so.

Line items: the generic ``Quantity``/``Qty`` and ``Price`` headers are a line's quantity and unit price when the
export has an item column (``item_id``: ``Lineitem sku``, ``SKU``, ...); without one they are the order's
``num_items`` and ``value``. ``pixel_route`` and ``event_tag`` are never auto-detected (no header says safely
that a column is a routing key): map them explicitly.

A source column feeds at most one field (every alias belongs to one field, and a column used by an explicit
mapping is never auto-assigned too). Columns whose name starts with ``_sdc_`` (tap metadata) are never mapped,
and neither is a nested metadata sub-key (``timestamp``, ``source``, ``sourceId``, ``versions``, ... inside an
object). A loose schema (no properties) is resolved from the first record: ``resolve_mapping(explicit,
properties_from_record(record))``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from target_snapchat_capi import capi

SDC_PREFIX: Final = "_sdc_"
CUSTOM_PREFIX: Final = "custom_data."
USER_PREFIX: Final = "user_data."


class ConfigError(ValueError):
    """A setting is missing or wrong; the message names the setting and what to do."""


#: custom_data fields whose bare name is taken by a user_data field; they are addressed with ``custom_data.``.
_CUSTOM_SHADOWED: Final = frozenset(name for name in capi.CUSTOM_DATA_FIELDS if name in capi.USER_FIELDS)

#: Every CAPI body field a user may map, in the order the resolved mapping is described.
SNAP_FIELDS: Final[tuple[str, ...]] = (
    *capi.EVENT_FIELDS,
    *capi.USER_FIELDS,
    *(CUSTOM_PREFIX + name if name in _CUSTOM_SHADOWED else name for name in capi.CUSTOM_DATA_FIELDS),
    *capi.DATA_PROCESSING_FIELDS,
)
#: custom_data field name -> the mapping key that addresses it (``country`` -> ``custom_data.country``)
CUSTOM_FIELD_KEYS: Final[dict[str, str]] = {
    name: CUSTOM_PREFIX + name if name in _CUSTOM_SHADOWED else name for name in capi.CUSTOM_DATA_FIELDS
}

#: Target-level fields of one line of an order (a row of a line-item export). A line's delivery category is the
#: custom_data key ``delivery_category``, which the target reads per line when it groups an order's lines.
LINE_ITEM_FIELDS: Final[tuple[str, ...]] = ("item_id", "quantity", "item_price", "brand")
#: Target-level fields read per row: the row's time zone, its pixel route, its event tag.
ROW_FIELDS: Final[tuple[str, ...]] = ("event_timezone", "pixel_route", "event_tag")
#: Mapping keys the target reads that are no CAPI body field by themselves (see the module docstring).
TARGET_FIELDS: Final[tuple[str, ...]] = LINE_ITEM_FIELDS + ROW_FIELDS
#: Target fields found by explicit mapping only: no header says safely that a column is a routing key or a tag.
EXPLICIT_ONLY_FIELDS: Final = frozenset({"pixel_route", "event_tag"})

#: Every mapping key, in the order the resolved mapping is described.
MAPPING_FIELDS: Final[tuple[str, ...]] = SNAP_FIELDS + TARGET_FIELDS
_MAPPING_FIELD_SET: Final = frozenset(MAPPING_FIELDS)

#: Keys of a wrapped value, ``{"value": ..., "timestamp": ..., "source": ...}`` (singer-io's tap-hubspot, v1 API).
_WRAPPER_KEYS: Final = frozenset(
    {
        "value",
        "timestamp",
        "source",
        "sourceId",
        "sourceVid",
        "sourceMetadata",
        "versions",
        "selectedByUser",
        "selectedByUserTimestamp",
        "requestId",
        "updatedByUserId",
        "source-type",
        "source-id",
        "source-label",
        "persistenceTimestamp",
        "useTimestamp",
        "dataSensitivity",
        "isEncrypted",
    }
)
#: Leaf names (compact) that are metadata about a value when nested in an object: never auto-detected there.
_METADATA_LEAVES: Final = frozenset(
    "".join(ch for ch in key if ch.isalnum()).lower() for key in _WRAPPER_KEYS if key != "value"
)

#: Ordered alias lists (already compact: lowercase letters and digits only). Earlier aliases win ties; a tuple
#: is one rank: two different columns matching it leave the field unmapped as ambiguous.
_ALIASES: Final[dict[str, tuple[str | tuple[str, ...], ...]]] = {
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
        "saledate",
        "closedate",
        "closedat",
        "closeddate",
        "closingdate",  # Zoho CRM deals
        "actualclosedate",  # Dynamics 365 opportunities
        "datewon",
        "createdat",
        "createddate",
        "createdate",
        "createdon",  # Dynamics 365, LeadSquared
        "createdtime",  # Zoho CRM
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
        "emailid",
        "mail",
        "emails",
        "customeremail",
        "contactemail",
        "useremail",
        "primaryemail",
        "personalemail",
        "homeemail",
        "workemail",
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
        "mobilephonenumber",
        "cellphone",
        "cell",
        "telephone",
        "tel",
        "homephone",
        "customerphone",
        "contactphone",
        "billingphone",
        "shippingphone",
        "workphone",
        "businessphone",
        "hashedphone",
        "sha256phone",
    ),
    "fn": ("fn", "firstname", "givenname", "fname", "forename", "first", "billingfirstname", "customerfirstname"),
    "ln": ("ln", "lastname", "surname", "familyname", "lname", "last", "billinglastname", "customerlastname"),
    "ge": ("ge", "gender", "sex"),
    "db": ("db", "dob", "dateofbirth", "birthdate", "birthday", "birthdt"),
    "ct": ("ct", "city", "town", "mailingcity", "billingcity", "address1city", "shippingcity"),
    "st": (
        "st",
        "state",
        "region",
        "province",
        "statecode",
        "stateregion",  # HubSpot
        "stateprovince",
        "mailingstate",
        "mailingstateprovince",  # Salesforce reports
        "billingstate",
        "billingprovince",  # Shopify
        "billingprovincecode",
        "billingprovincename",
        "address1stateprovince",  # Dynamics 365
        "shippingstate",
        "shippingprovince",
    ),
    "zp": (
        "zp",
        "zip",
        "zipcode",
        "postalcode",
        "postcode",
        "zippostalcode",
        "postalzipcode",
        "mailingpostalcode",
        "mailingzippostalcode",  # Salesforce reports
        "billingzip",  # Shopify
        "billingpostalcode",
        "address1zippostalcode",  # Dynamics 365
        "shippingzip",
        "shippingpostalcode",
    ),
    "country": (
        "country",
        "countrycode",
        "countryregion",  # HubSpot, Dynamics 365
        "mailingcountry",
        "mailingcountrycode",
        "billingcountry",
        "billingcountrycode",
        "address1countryregion",
        "shippingcountry",
        "shippingcountrycode",
    ),
    "external_id": (
        "externalid",
        "customerid",
        "userid",
        "crmid",
        "memberid",
        "loyaltyid",
        "contactid",
        "customercode",  # Lightspeed
        "customerreferenceid",
    ),
    "madid": ("madid", "mobileadid", "idfa", "gaid", "aaid", "advertisingid", "maid"),
    "client_ip_address": ("clientipaddress", "ipaddress", "ip", "clientip", "browserip"),
    "client_user_agent": ("clientuseragent", "useragent"),
    "sc_click_id": ("scclickid", "clickid", "sccid", "snapclickid"),
    "value": (
        "value",
        "revenue",
        "amount",
        "total",
        "ordertotal",
        "totalamount",
        "ordervalue",
        "dealvalue",  # Freshsales
        "actualrevenue",  # Dynamics 365 (the estimate, Est. Revenue, is never taken)
        "totalprice",
        ("grosssales", "netsales"),  # Square: which one is the conversion value is the user's call
    ),
    "currency": (
        "currency",
        "currencycode",
        "currencyisocode",
        "dealcurrencycode",
        "opportunitycurrency",
        "amountcurrency",
    ),
    "order_id": (
        "orderid",
        "transactionid",
        "ordernumber",
        "orderno",
        "receiptid",
        "receiptnumber",
        "invoiceid",
        "invoicenumber",
        "saleid",
        "opportunityid",  # a won opportunity or deal is the order: its id keeps PURCHASE events merged
        "dealid",
    ),
    "num_items": ("numitems", "itemcount", "numberofitems", "totalquantity", "totalitems"),
    "content_ids": ("contentids", "productids", "skus", "itemids"),
    "content_category": ("contentcategory", "productcategory", "category"),
    # line items (target fields)
    "item_id": (
        "itemid",
        "lineitemsku",  # Shopify
        "sku",
        "itemsku",
        "productsku",
        "variantsku",
        "productid",
        "productcode",
        "itemcode",
    ),
    "quantity": ("lineitemquantity", "itemquantity", "quantity", "qty", "quantitysold"),
    "item_price": ("lineitemprice", "itemprice", "unitprice", "priceeach", "price"),
    "brand": ("brand", "lineitembrand", "productbrand", "itembrand"),
    "event_timezone": ("eventtimezone", "timezone", "tz", "ianatimezone", "timezonename", "utcoffset"),
}

#: Generic headers that are a line's field only when the export has an item column; otherwise the order's.
_ORDER_LEVEL_WITHOUT_ITEMS: Final[dict[str, tuple[str, frozenset[str]]]] = {
    "quantity": ("num_items", frozenset({"quantity", "qty", "quantitysold"})),
    "item_price": ("value", frozenset({"price"})),
}


def compact_name(name: str) -> str:
    """``E-Mail_Address`` -> ``emailaddress``: the form names are compared in."""
    return "".join(ch for ch in name if ch.isalnum()).lower()


@dataclass(frozen=True)
class ExportProfile:
    """A known export, recognised by headers only it has together; it settles what the aliases cannot."""

    name: str
    #: compact headers that are all present in this export (and together in no other we know)
    signature: frozenset[str]
    #: field -> compact header this export uses for it, before any alias (Shopify's ``Name`` is the order number)
    columns: Mapping[str, str] = field(default_factory=dict)
    #: field -> (compact header, why it is not taken): the field is left unmapped for this export
    ambiguous: Mapping[str, tuple[str, str]] = field(default_factory=dict)


#: Exports whose headers need more than the alias lists; the test corpus (tests/target/corpus/headers/) holds
#: each one's full header set and the mapping it must resolve to.
EXPORT_PROFILES: Final[tuple[ExportProfile, ...]] = (
    ExportProfile(
        name="Shopify orders export",
        signature=frozenset({"name", "financialstatus", "lineitemquantity", "lineitemsku"}),
        # The billing block is taken whole: its phone is read with its country (the order's Phone may not be).
        columns={"order_id": "name", "brand": "vendor", "ph": "billingphone"},
        ambiguous={
            "fn": ("billingname", "is a full name, never split into first and last"),
            "ln": ("billingname", "is a full name, never split into first and last"),
        },
    ),
    ExportProfile(
        name="Square item sales export",
        signature=frozenset({"date", "time", "timezone", "grosssales", "netsales", "transactionid"}),
        ambiguous={
            "event_timezone": ("timezone", "holds Square's zone names, not IANA ones: use source_timezone"),
            "event_name": ("eventtype", "holds Payment/Refund, not Snap event names: list them in event_name_map"),
        },
    ),
)


def _build_alias_index() -> dict[str, tuple[str, int]]:
    """compact alias -> (field, rank within its list)."""
    index: dict[str, tuple[str, int]] = {}
    for snap_field, aliases in _ALIASES.items():
        for rank, entry in enumerate(aliases):
            for alias in (entry,) if isinstance(entry, str) else entry:
                if alias in index:
                    raise AssertionError(f"alias {alias!r} listed twice")  # a bug in the table above
                index[alias] = (snap_field, rank)
    # The rest of the contract's fields are found by their own names, after every alias above.
    for snap_field in SNAP_FIELDS:
        if snap_field.startswith(CUSTOM_PREFIX):
            continue  # shadowed by a user_data field of the same name: explicit mapping only
        index.setdefault(compact_name(snap_field), (snap_field, len(_ALIASES.get(snap_field, ()))))
    return index


_ALIAS_INDEX: Final[dict[str, tuple[str, int]]] = _build_alias_index()


def canonical_field(key: str) -> str:
    """The field a mapping key names (``mobile_ad_id`` -> ``madid``, ``user_data.em`` -> ``em``).

    Raises ConfigError for a key that is neither a contract field nor a target field.
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
    if name not in _MAPPING_FIELD_SET:
        raise ConfigError(
            f"mapping: {key!r} is not a Snapchat CAPI field nor a target field; use one of: {', '.join(MAPPING_FIELDS)}"
        )
    return name


@dataclass(frozen=True)
class ResolvedMapping:
    """Field -> source column path, after explicit mapping, export profile and auto-detection."""

    fields: dict[str, str]
    #: fields left unmapped because more than one column qualified: field -> the candidate column paths
    ambiguous: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: fields left unmapped by the recognised export: field -> (column, why); column names only
    declined: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: the recognised export (``EXPORT_PROFILES``), if any
    source: str | None = None
    #: mapped paths the schema types as scalars (no object): their getters skip the wrapped-value check
    scalar_columns: frozenset[str] = frozenset()

    def getter(self, name: str) -> Callable[[Mapping[str, Any]], Any] | None:
        """The compiled getter of a mapped field, or None when the field is not mapped."""
        column = self.fields.get(name)
        if not column:
            return None
        return compile_getter(column, unwrap=column not in self.scalar_columns)

    def describe(self) -> str:
        """One line for the start-up log: column names only, never values."""
        parts = [
            ", ".join(f"{name} <- {column}" for name, column in self.fields.items())
            if self.fields
            else "no columns mapped"
        ]
        if self.source:
            parts.append(f"recognised as {self.source}")
        unmapped = [
            f"{name} ({' or '.join(repr(column) for column in columns)}: ambiguous, set mapping.{name})"
            for name, columns in self.ambiguous.items()
        ]
        unmapped += [f"{name} ({column!r} {why})" for name, (column, why) in self.declined.items()]
        if unmapped:
            parts.append("left unmapped: " + "; ".join(unmapped))
        return "; ".join(parts)


def _is_wrapped_value(properties: Mapping[str, Any]) -> bool:
    """``{"value": ..., "timestamp": ..., ...}``: one value with metadata about it, read as that value."""
    return "value" in properties and all(key in _WRAPPER_KEYS for key in properties)


def _walk_properties(properties: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted path, leaf name) of every property, nested objects included; ``_sdc_*`` and metadata skipped."""
    for name, schema in properties.items():
        if name.startswith(SDC_PREFIX):
            continue
        if prefix and compact_name(name) in _METADATA_LEAVES:
            continue  # a timestamp/source/versions beside a value describes that value: never a field itself
        path = f"{prefix}{name}"
        nested = schema.get("properties") if isinstance(schema, Mapping) else None
        if isinstance(nested, Mapping) and nested:
            if _is_wrapped_value(nested):
                yield path, name  # compile_getter reads its "value"
                continue
            # An object column is not a value to send (except custom_fields, found by its own name below).
            if compact_name(name) == "customfields":
                yield path, name
            yield from _walk_properties(nested, f"{path}.")
        else:
            yield path, name


def _is_scalar_schema(schema: Any) -> bool:
    """A property schema that declares a type and no object (tap-offline-csv's columns are all strings)."""
    if not isinstance(schema, Mapping) or "properties" in schema:
        return False
    declared = schema.get("type")
    types = [declared] if isinstance(declared, str) else declared
    return isinstance(types, list) and bool(types) and "object" not in types


def _scalar_paths(properties: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for name, schema in properties.items():
        if _is_scalar_schema(schema):
            yield f"{prefix}{name}"
        elif isinstance(schema, Mapping) and isinstance(schema.get("properties"), Mapping):
            yield from _scalar_paths(schema["properties"], f"{prefix}{name}.")


def _matching_profile(top_level: Mapping[str, str]) -> ExportProfile | None:
    for profile in EXPORT_PROFILES:
        if profile.signature <= top_level.keys():
            return profile
    return None


@dataclass
class _Resolution:
    """The fields settled so far while one mapping is resolved."""

    resolved: dict[str, str] = field(default_factory=dict)
    switched_off: set[str] = field(default_factory=set)
    explicit: set[str] = field(default_factory=set)
    used_columns: set[str] = field(default_factory=set)
    declined: dict[str, tuple[str, str]] = field(default_factory=dict)
    ambiguous: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def open_for(self, name: str) -> bool:
        """Whether ``name`` may still be auto-assigned."""
        return not (
            name in self.resolved or name in self.switched_off or name in self.declined or name in self.ambiguous
        )


def _apply_explicit(state: _Resolution, explicit: Mapping[str, str | None]) -> None:
    for key, column in explicit.items():
        name = canonical_field(key)
        if column is None or not str(column).strip():
            state.switched_off.add(name)
            continue
        column_path = str(column).strip()
        if column_path.split(".")[-1].startswith(SDC_PREFIX):
            raise ConfigError(f"mapping: {key!r} points at tap metadata column {column_path!r}, which is never sent")
        state.resolved[name] = column_path
    state.explicit = set(state.resolved)
    state.used_columns = set(state.resolved.values())


def _apply_profile(state: _Resolution, profile: ExportProfile, top_level: Mapping[str, str]) -> None:
    """A recognised export: its own columns first, and the fields it declines."""
    for name, header in profile.columns.items():
        path = top_level.get(header)
        if path is not None and state.open_for(name) and path not in state.used_columns:
            state.resolved[name] = path
            state.used_columns.add(path)
    for name, (header, why) in profile.ambiguous.items():
        if state.open_for(name) and header in top_level:
            state.declined[name] = (top_level[header], why)


def _auto_detect(state: _Resolution, walked: list[tuple[str, str]]) -> None:
    """The best candidates per field by (alias rank, depth); a tie between distinct names is ambiguous."""
    best: dict[str, tuple[tuple[int, int], list[tuple[str, str]]]] = {}
    for path, leaf in walked:
        compact = compact_name(leaf)
        match = _ALIAS_INDEX.get(compact)
        if match is None or path in state.used_columns:
            continue
        name, rank = match
        if name in EXPLICIT_ONLY_FIELDS or not state.open_for(name):
            continue
        score = (rank, path.count("."))
        current = best.get(name)
        if current is None or score < current[0]:
            best[name] = (score, [(compact, path)])
        elif score == current[0]:
            current[1].append((compact, path))  # schema order: the first of one name wins
    for name, (_, candidates) in best.items():
        if len({compact for compact, _ in candidates}) > 1:
            state.ambiguous[name] = tuple(path for _, path in candidates)
        else:
            state.resolved[name] = candidates[0][1]


def _order_level_without_items(state: _Resolution) -> None:
    """Generic quantity/price headers belong to the order when the export has no item column."""
    if "item_id" in state.resolved:
        return
    for line_field, (order_field, generic) in _ORDER_LEVEL_WITHOUT_ITEMS.items():
        column = state.resolved.get(line_field)
        if column is None or line_field in state.explicit or compact_name(column.split(".")[-1]) not in generic:
            continue
        del state.resolved[line_field]
        if state.open_for(order_field):
            state.resolved[order_field] = column


def resolve_mapping(explicit: Mapping[str, str | None], schema_properties: Mapping[str, Any]) -> ResolvedMapping:
    """Explicit mapping, then a recognised export's own columns, then auto-detection (see the module docstring)."""
    state = _Resolution()
    _apply_explicit(state, explicit)
    walked = list(_walk_properties(schema_properties))
    top_level = {compact_name(path): path for path, _ in walked if "." not in path}
    profile = _matching_profile(top_level)
    if profile is not None:
        _apply_profile(state, profile, top_level)
    _auto_detect(state, walked)
    _order_level_without_items(state)
    return ResolvedMapping(
        fields={name: state.resolved[name] for name in MAPPING_FIELDS if name in state.resolved},
        ambiguous={name: state.ambiguous[name] for name in MAPPING_FIELDS if name in state.ambiguous},
        declined=state.declined,
        source=profile.name if profile is not None else None,
        scalar_columns=frozenset(set(state.resolved.values()) & set(_scalar_paths(schema_properties))),
    )


def properties_from_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A schema ``properties`` object shaped like ``record`` (nested dicts become nested objects)."""
    return {
        key: {"type": "object", "properties": properties_from_record(value)} if isinstance(value, Mapping) else {}
        for key, value in record.items()
    }


def _unwrapped(value: dict[str, Any]) -> Any:
    """A wrapped value's ``value``; any other object as it is (``custom_fields``, ``contents`` items)."""
    if "value" in value and all(key in _WRAPPER_KEYS for key in value):
        return value["value"]
    return value


def compile_getter(path: str, *, unwrap: bool = True) -> Callable[[Mapping[str, Any]], Any]:
    """A fast getter for a column path: ``"email"`` or ``"properties.email"``; None when absent.

    A wrapped value (``{"value": ..., "timestamp": ...}``) reads as its ``value``; ``unwrap=False`` skips that
    check for a top-level column the schema types as a scalar (one test less per record; nested paths always
    check, their walk costs more than the test).
    """
    if "." not in path and not unwrap:

        def get_scalar(record: Mapping[str, Any]) -> Any:
            return record.get(path)

        return get_scalar

    if "." not in path:

        def get_top(record: Mapping[str, Any]) -> Any:
            value = record.get(path)
            return _unwrapped(value) if isinstance(value, dict) else value

        return get_top

    parts = tuple(path.split("."))
    if len(parts) == 2:
        outer, inner = parts

        def get_nested_2(record: Mapping[str, Any]) -> Any:
            parent = record.get(outer)
            value = parent.get(inner) if isinstance(parent, Mapping) else record.get(path)
            return _unwrapped(value) if isinstance(value, dict) else value

        return get_nested_2

    def get_nested(record: Mapping[str, Any]) -> Any:
        current: Any = record
        for part in parts:
            if not isinstance(current, Mapping):
                current = record.get(path)
                break
            current = current.get(part)
        return _unwrapped(current) if isinstance(current, dict) else current

    return get_nested
