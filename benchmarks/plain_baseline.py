"""The plain baseline: what one straightforward script does with the same file, sharing no code with the project.

    python benchmarks/plain_baseline.py --file rows.csv --target-config t.json

One process, the standard library and phonenumbers only: `csv` reads the file, each row is normalised and
hashed by the contract's section 3 rules (../shared/docs/snapchat-capi.md, kept in the repository's docs),
written out plainly below, and the events go in request bodies of 2000 (`json`), POSTed in turn over one
keep-alive `http.client` connection to the API URL in the target config (the benchmark's local sandbox).
Nothing here imports the tap or the target: this is the yardstick the pipeline's speed is measured against.
The target config is read as data only (API URL, pixel, token, column mapping, event-name map, defaults).

Deliberately plain: no caches, no threads, no fast paths. A row that cannot be sent (no event name, an
unreadable or out-of-window time, no email or phone, a PURCHASE without a value or currency) is counted by
reason and skipped. Prints one JSON object of counts and timings on stdout.
"""

from __future__ import annotations

import argparse
import collections
import csv
import hashlib
import http.client
import json
import re
import sys
import time
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import phonenumbers

BATCH_SIZE = 2000
MAX_AGE_SECONDS = 37 * 86_400
FUTURE_TOLERANCE_SECONDS = 10 * 60
INTEGRATION = "plain-baseline"
EVENT_NAMES = frozenset(
    {
        "PAGE_VIEW", "VIEW_CONTENT", "ADD_CART", "ADD_TO_WISHLIST", "SIGN_UP", "SEARCH", "PURCHASE", "ADD_BILLING",
        "START_CHECKOUT", "LIST_VIEW", "SAVE", "SUBSCRIBE", "START_TRIAL", "COMPLETE_TUTORIAL", "LEVEL_COMPLETE",
        "ACHIEVEMENT_UNLOCKED", "SPENT_CREDITS", "RATE", "SHARE", "INVITE", "LOGIN", "RESERVE", "AD_CLICK",
        "AD_VIEW", "APP_INSTALL", "APP_OPEN", "CUSTOM_EVENT_1", "CUSTOM_EVENT_2", "CUSTOM_EVENT_3",
        "CUSTOM_EVENT_4", "CUSTOM_EVENT_5",
    }
)  # fmt: skip
#: The currencies a plain script would expect (Snap rejects a whole request over one unknown code).
CURRENCIES = frozenset(
    {
        "USD", "EUR", "GBP", "CAD", "AUD", "NZD", "JPY", "CNY", "HKD", "SGD", "INR", "CHF", "SEK", "NOK", "DKK",
        "PLN", "CZK", "HUF", "MXN", "BRL", "ARS", "CLP", "COP", "ZAR", "AED", "SAR", "ILS", "TRY", "KRW", "TWD",
        "THB", "MYR", "IDR", "PHP", "VND",
    }
)  # fmt: skip
HEX64 = re.compile(r"[0-9a-f]{64}")
NON_CITY = re.compile(r"[\W_]+")
US_STATES = {
    "alabama": "al", "alaska": "ak", "arizona": "az", "arkansas": "ar", "california": "ca", "colorado": "co",
    "connecticut": "ct", "delaware": "de", "florida": "fl", "georgia": "ga", "hawaii": "hi", "idaho": "id",
    "illinois": "il", "indiana": "in", "iowa": "ia", "kansas": "ks", "kentucky": "ky", "louisiana": "la",
    "maine": "me", "maryland": "md", "massachusetts": "ma", "michigan": "mi", "minnesota": "mn",
    "mississippi": "ms", "missouri": "mo", "montana": "mt", "nebraska": "ne", "nevada": "nv",
    "new hampshire": "nh", "new jersey": "nj", "new mexico": "nm", "new york": "ny", "north carolina": "nc",
    "north dakota": "nd", "ohio": "oh", "oklahoma": "ok", "oregon": "or", "pennsylvania": "pa",
    "rhode island": "ri", "south carolina": "sc", "south dakota": "sd", "tennessee": "tn", "texas": "tx",
    "utah": "ut", "vermont": "vt", "virginia": "va", "washington": "wa", "west virginia": "wv",
    "wisconsin": "wi", "wyoming": "wy", "district of columbia": "dc",
}  # fmt: skip
COUNTRY_NAMES = {
    "usa": "us", "united states": "us", "united states of america": "us", "uk": "gb", "united kingdom": "gb",
    "great britain": "gb", "france": "fr", "germany": "de", "canada": "ca", "spain": "es", "italy": "it",
}  # fmt: skip


def sha256(text: str) -> str:
    """Lowercase hex SHA-256 of the UTF-8 bytes; a value that already is 64 hex characters passes through."""
    if HEX64.fullmatch(text):
        return text
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def clean(raw: str) -> str:
    return unicodedata.normalize("NFC", raw.strip())


def norm_email(raw: str) -> str | None:
    value = clean(raw).lower()
    return value if "@" in value else None


def norm_country(raw: str) -> str | None:
    value = clean(raw).lower()
    if len(value) == 2 and value.isalpha():
        return value
    return COUNTRY_NAMES.get(value)


def norm_phone(raw: str, country: str | None, default_country: str | None) -> str | None:
    """E.164 digits without '+': '+'/'00' carry their own country code, a national number the row's."""
    value = raw.strip()
    if value.startswith("00"):
        value = "+" + value[2:]
    region = (country or default_country or "").upper() or None
    try:
        number = phonenumbers.parse(value, None if value.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]


def norm_name(raw: str) -> str | None:
    value = "".join(ch for ch in clean(raw).lower() if ch.isalpha())
    return value or None


def norm_city(raw: str) -> str | None:
    return NON_CITY.sub("", clean(raw).lower()) or None


def norm_state(raw: str) -> str | None:
    value = clean(raw).lower()
    return US_STATES.get(value, value.replace(" ", "")) or None


def norm_zip(raw: str, country: str | None) -> str | None:
    value = clean(raw).lower().replace(" ", "")
    if country == "us":
        value = value[:5]
    return value or None


def parse_time(raw: str) -> int | None:
    """Epoch seconds (or milliseconds), ISO 8601 (naive = UTC), 'YYYY-MM-DD HH:MM:SS', 'MM/DD/YYYY HH:MM'."""
    value = raw.strip()
    if value.isdigit():
        number = int(value)
        return number // 1000 if number > 100_000_000_000 else number
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        for pattern in ("%m/%d/%Y %H:%M", "%m/%d/%Y"):
            try:
                return int(datetime.strptime(value, pattern).replace(tzinfo=UTC).timestamp())
            except ValueError:
                pass
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def parse_amount(raw: str) -> float | None:
    value = raw.strip().replace(",", "").lstrip("$€£")
    try:
        return float(value)
    except ValueError:
        return None


class Columns:
    """Column positions of the mapped fields in the header (the target config's mapping, read as data)."""

    def __init__(self, header: list[str], mapping: dict[str, str]) -> None:
        position = {name: index for index, name in enumerate(header)}
        self.index = {field: position[column] for field, column in mapping.items() if column in position}

    def get(self, row: list[str], field: str) -> str:
        index = self.index.get(field)
        return row[index] if index is not None else ""


def build_event(row: list[str], cols: Columns, config: dict[str, Any], now: int) -> dict[str, Any] | str:
    """The CAPI event for one row, or the reason it is skipped."""
    name_map: dict[str, str] = config.get("event_name_map") or {}
    status = cols.get(row, "event_name").strip()
    event_name = name_map.get(status, status.upper()) if status else config.get("event_name", "PURCHASE")
    if event_name not in EVENT_NAMES:
        return "unknown_event_name"
    event_time = parse_time(cols.get(row, "event_time"))
    if event_time is None:
        return "invalid_event_time"
    if event_time < now - MAX_AGE_SECONDS or event_time > now + FUTURE_TOLERANCE_SECONDS:
        return "event_out_of_window"

    user: dict[str, Any] = {}
    country = norm_country(cols.get(row, "country"))
    email = norm_email(cols.get(row, "em"))
    if email:
        user["em"] = [sha256(email)]
    phone = norm_phone(cols.get(row, "ph"), country, config.get("default_phone_country"))
    if phone:
        user["ph"] = [sha256(phone)]
    if not user:
        return "missing_match_keys"
    for field, normalise in (("fn", norm_name), ("ln", norm_name), ("ct", norm_city), ("st", norm_state)):
        normalised = normalise(cols.get(row, field))
        if normalised:
            user[field] = [sha256(normalised)]
    zip_code = norm_zip(cols.get(row, "zp"), country)
    if zip_code:
        user["zp"] = [sha256(zip_code)]
    if country:
        user["country"] = [sha256(country)]

    order_id = cols.get(row, "order_id").strip()
    custom: dict[str, Any] = {}
    amount = parse_amount(cols.get(row, "value"))
    currency = cols.get(row, "currency").strip().upper() or config.get("default_currency") or ""
    if event_name == "PURCHASE":
        if amount is None or amount < 0:
            return "missing_value"
        if not currency:
            return "missing_currency"
    if currency and currency not in CURRENCIES:
        return "invalid_currency"
    if amount is not None:
        custom["value"] = amount
    if currency:
        custom["currency"] = currency
    if order_id:
        custom["order_id"] = order_id
    items = [item.strip() for item in cols.get(row, "content_ids").split("|") if item.strip()]
    if items:
        custom["content_ids"] = items
    return {
        "event_name": event_name,
        "event_time": event_time,
        "event_id": order_id,
        "action_source": "OFFLINE",
        "integration": INTEGRATION,
        "user_data": user,
        "custom_data": custom,
    }


class Sender:
    """POSTs bodies in turn over one keep-alive connection; a request that fails is counted, not retried."""

    def __init__(self, api_url: str, pixel_id: str, access_token: str) -> None:
        parts = urlsplit(api_url)
        self.connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=60)
        self.path = f"{parts.path.rstrip('/')}/v3/{quote(pixel_id)}/events?access_token={quote(access_token)}"
        self.requests = self.failed_requests = self.body_bytes = 0

    def send(self, events: list[dict[str, Any]]) -> bool:
        body = json.dumps({"data": events}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self.body_bytes += len(body)
        self.requests += 1
        self.connection.request("POST", self.path, body=body, headers={"Content-Type": "application/json"})
        answer = self.connection.getresponse()
        payload = answer.read()
        ok = answer.status == 200 and json.loads(payload).get("status") == "VALID"
        if not ok:
            self.failed_requests += 1
        return ok

    def close(self) -> None:
        self.connection.close()


def run(csv_path: Path, config: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    sender = Sender(config["api_url"], config["pixel_id"], config["access_token"])
    skipped: collections.Counter[str] = collections.Counter()
    rows = delivered = 0
    batch: list[dict[str, Any]] = []
    now = int(time.time())
    with csv_path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        cols = Columns(header, config.get("mapping") or {})
        for row in reader:
            rows += 1
            if len(row) != len(header):
                skipped["bad_row"] += 1
                continue
            event = build_event(row, cols, config, now)
            if isinstance(event, str):
                skipped[event] += 1
                continue
            batch.append(event)
            if len(batch) == BATCH_SIZE:
                delivered += len(batch) if sender.send(batch) else 0
                batch = []
    if batch:
        delivered += len(batch) if sender.send(batch) else 0
    sender.close()
    seconds = time.perf_counter() - started
    return {
        "rows": rows,
        "events": delivered,
        "skipped": sum(skipped.values()),
        "skipped_by_reason": dict(sorted(skipped.items())),
        "requests": sender.requests,
        "failed_requests": sender.failed_requests,
        "body_bytes": sender.body_bytes,
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds, 1) if seconds else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, required=True, help="the CSV file")
    parser.add_argument("--target-config", type=Path, required=True, help="the target's config JSON (read as data)")
    args = parser.parse_args(argv)
    config = json.loads(args.target_config.read_text(encoding="utf-8"))
    json.dump(run(args.file, config), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
