"""Realistic, messy offline-purchase rows: the one generator behind the demo's sample file and the benchmark.

Standard library only. Every value is synthetic: names come from small built-in lists, emails use the
reserved `example.*` domains, phone numbers are random within real area codes. Like a real export, almost
every row has its own email and phone, so a cache of normalised values cannot flatter the benchmark.

Rows look like a store system's export: mixed-case and space-padded emails, US phones written six ways,
international numbers with `+` or `00`, French and British national numbers next to their country,
accented names (some in Unicode NFD), five date formats, a few blank currencies, mostly `Sale` and
sometimes `Refund`.

Determinism: the same seed and the same UTC day give the same rows. Purchase times are drawn from the 30
days before midnight (UTC) of `now`'s day, so they are always in the past and inside Snap's 37-day window
on the day the file is made; that is why the demo file is generated at demo time instead of being
committed with fixed dates.

Defects (`bad_fraction` of the rows, spread deterministically; each kind is used in turn so every kind
appears in a file of a few hundred rows) and what the pipeline is expected to do with them:

=================  ====================================================  ==================================
defect             what the row has                                       expected outcome
=================  ====================================================  ==================================
no_contact         neither email nor phone                                target rejects: missing_match_keys
bad_date           a purchase time no parser can read                     target rejects: invalid_event_time
stale_date         a purchase 60 days old                                 target rejects: stale_event
blank_amount       a `Sale` without an amount                             target rejects: missing_value
bad_currency       currency `XYZ`                                         target rejects: invalid_currency
unknown_status     status `Layaway` (not in the event-name map)           target rejects: unknown_event_name
extra_field        one field too many (at most once per file)             tap skips the row and reports it
=================  ====================================================  ==================================
"""

from __future__ import annotations

import csv
import random
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Final

HEADER: Final[tuple[str, ...]] = (
    "Order ID",
    "Purchased At",
    "Email",
    "Phone",
    "First Name",
    "Last Name",
    "City",
    "State",
    "Zip Code",
    "Country",
    "Amount",
    "Currency",
    "Store ID",
    "Items",
    "Status",
)

#: Defect kinds, in the order they are handed out (extra_field is handled apart: at most once per file).
ROW_DEFECTS: Final[tuple[str, ...]] = (
    "no_contact",
    "bad_date",
    "stale_date",
    "blank_amount",
    "bad_currency",
    "unknown_status",
)
EXTRA_FIELD: Final = "extra_field"

#: The target's rejection code for each defect; extra_field rows never reach the target.
EXPECTED_REJECTION: Final[dict[str, str]] = {
    "no_contact": "missing_match_keys",
    "bad_date": "invalid_event_time",
    "stale_date": "stale_event",
    "blank_amount": "missing_value",
    "bad_currency": "invalid_currency",
    "unknown_status": "unknown_event_name",
}

#: Event-name map a target needs for these files (`Status` column).
EVENT_NAME_MAP: Final[dict[str, str]] = {"Sale": "PURCHASE", "Refund": "CUSTOM_EVENT_1"}

#: Explicit target mapping for these files (auto-detection should find most of it; explicit is unambiguous).
TARGET_MAPPING: Final[dict[str, str]] = {
    "event_name": "Status",
    "event_time": "Purchased At",
    "order_id": "Order ID",
    "em": "Email",
    "ph": "Phone",
    "fn": "First Name",
    "ln": "Last Name",
    "ct": "City",
    "st": "State",
    "zp": "Zip Code",
    "country": "Country",
    "value": "Amount",
    "currency": "Currency",
    "content_ids": "Items",
}

WINDOW_DAYS: Final = 30
STALE_DAYS: Final = 60

FIRST_NAMES: Final[tuple[str, ...]] = (
    "James", "Olivia", "Liam", "Emma", "Noah", "Ava", "Ethan", "Mia", "Lucas", "Grace",
    "José", "María", "Zoë", "Renée", "François", "Chloé", "Jürgen", "Søren", "Inés", "Noël",
    "Amélie", "Björn", "Émile", "Raphaël", "Siobhán", "Priya", "Wei", "Kenji", "Fatima", "Mohammed",
)  # fmt: skip
LAST_NAMES: Final[tuple[str, ...]] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor", "Clark",
    "García", "Müller", "O'Brien", "Nguyen", "Dubois", "Lefèvre", "Brontë", "Martínez", "Núñez", "Schäfer",
    "Van der Berg", "Østergaard", "Patel", "Kim", "Rossi", "Kowalski", "Da Silva", "Lemaître", "Çelik",
    "Moreau",
)  # fmt: skip
EMAIL_DOMAINS: Final[tuple[str, ...]] = (
    "example.com", "example.net", "example.org", "mail.example.com", "shop.example", "inbox.example",
)  # fmt: skip

# (city, state code, state as some exports spell it, zip prefix, area codes)
US_PLACES: Final[tuple[tuple[str, str, str, str, tuple[str, ...]], ...]] = (
    ("San Francisco", "CA", "California", "941", ("415", "628")),
    ("Los Angeles", "CA", "California", "900", ("213", "310")),
    ("New York", "NY", "New York", "100", ("212", "646")),
    ("Austin", "TX", "Texas", "787", ("512", "737")),
    ("Chicago", "IL", "Illinois", "606", ("312", "773")),
    ("Seattle", "WA", "Washington", "981", ("206",)),
    ("Miami", "FL", "Florida", "331", ("305", "786")),
    ("Boston", "MA", "Massachusetts", "021", ("617",)),
    ("Denver", "CO", "Colorado", "802", ("303", "720")),
    ("Portland", "OR", "Oregon", "972", ("503",)),
)
GB_PLACES: Final[tuple[tuple[str, str], ...]] = (
    ("London", "SW1A 1AA"),
    ("London", "EC1A 1BB"),
    ("Manchester", "M1 1AE"),
    ("Edinburgh", "EH1 1YZ"),
)
FR_PLACES: Final[tuple[tuple[str, str], ...]] = (
    ("Paris", "75001"),
    ("Paris", "75011"),
    ("Lyon", "69002"),
    ("Marseille", "13001"),
)
US_COUNTRY_SPELLINGS: Final = ("US", "US", "US", "USA", "United States", "us", "")
GB_COUNTRY_SPELLINGS: Final = ("GB", "GB", "United Kingdom")
FR_COUNTRY_SPELLINGS: Final = ("FR", "FR", "France")
UNPARSABLE_DATES: Final = ("not recorded", "13/45/2026 25:61", "yesterday", "2026-02-30T99:00:00")
#: Letters that Unicode does not decompose into an ASCII base letter, spelled as people type them in emails.
ASCII_SPELLINGS: Final = str.maketrans({"ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "Æ": "AE", "ł": "l", "Ł": "L"})


@dataclass(frozen=True, slots=True)
class SampleRow:
    """One CSV row (its fields; an extra_field row has one more than HEADER) and its defect, if any."""

    fields: list[str]
    defect: str | None


def day_anchor(now: datetime) -> datetime:
    """Midnight UTC of `now`'s day: all purchase times fall before it, so they are never in the future."""
    utc = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    return utc.replace(hour=0, minute=0, second=0, microsecond=0)


def sample_file_name(now: datetime) -> str:
    return f"offline_purchases_{day_anchor(now):%Y-%m-%d}.csv"


def iter_sample_rows(
    count: int,
    *,
    seed: int = 7,
    now: datetime | None = None,
    bad_fraction: float = 0.03,
) -> Iterator[SampleRow]:
    """Yield `count` rows; round(count * bad_fraction) of them carry a defect (see the module docstring)."""
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    if not 0.0 <= bad_fraction <= 1.0:
        raise ValueError(f"bad_fraction must be between 0 and 1, got {bad_fraction}")
    rng = random.Random(seed)
    anchor = day_anchor(now or datetime.now(UTC))
    bad_total = round(count * bad_fraction)
    bad_positions = sorted(rng.sample(range(count), bad_total)) if bad_total else []
    defect_at: dict[int, str] = {}
    for turn, position in enumerate(bad_positions):
        # The extra-field row is the second bad row (or the only one): once per file, like a stray comma.
        if turn == 1 or (bad_total == 1 and turn == 0):
            defect_at[position] = EXTRA_FIELD
        else:
            defect_at[position] = ROW_DEFECTS[(turn - (turn > 1)) % len(ROW_DEFECTS)]
    row_maker = _RowMaker(rng, anchor, seed)
    for index in range(count):
        defect = defect_at.get(index)
        yield SampleRow(row_maker.make(index, defect), defect)


def generate_rows(
    count: int, *, seed: int = 7, now: datetime | None = None, bad_fraction: float = 0.03
) -> Iterator[list[str]]:
    """The rows of `iter_sample_rows` without their defect labels."""
    for row in iter_sample_rows(count, seed=seed, now=now, bad_fraction=bad_fraction):
        yield row.fields


def write_csv(
    path: Path, count: int, *, seed: int = 7, now: datetime | None = None, bad_fraction: float = 0.03
) -> Path:
    """Write HEADER and `count` rows to `path` (UTF-8, CRLF like most exports), creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(generate_rows(count, seed=seed, now=now, bad_fraction=bad_fraction))
    return path


def write_big_csv(path: Path, target_bytes: int, *, seed: int = 7, now: datetime | None = None) -> int:
    """Write a valid-rows file of about `target_bytes`; returns the number of data rows.

    Generating millions of distinct rows is slow, so a block of rows is rendered once and written again
    and again with fresh order ids: a memory test needs the file's size, not the variety of its rows.
    """
    block_rows = 20_000
    order_column = HEADER.index("Order ID")
    tails: list[str] = []
    buffer = _LineBuffer()
    writer = csv.writer(buffer)
    for row in generate_rows(block_rows, seed=seed, now=now, bad_fraction=0.0):
        writer.writerow(row[order_column + 1 :])
        tails.append(buffer.take())
    prefix = f"BIG-{seed}-"
    written = 0
    rows = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        header_line = ",".join(HEADER) + "\r\n"
        handle.write(header_line)
        written += len(header_line)
        while written < target_bytes:
            chunk = "".join(f"{prefix}{rows + offset:09d},{tail}" for offset, tail in enumerate(tails))
            handle.write(chunk)
            written += len(chunk.encode("utf-8"))
            rows += len(tails)
    return rows


class _LineBuffer:
    """A write-only text sink for csv.writer, so rows are quoted by the csv module exactly as in a file."""

    def __init__(self) -> None:
        self._parts: list[str] = []

    def write(self, text: str) -> int:
        self._parts.append(text)
        return len(text)

    def take(self) -> str:
        text = "".join(self._parts)
        self._parts.clear()
        return text


class _RowMaker:
    """Draws one row at a time from a seeded Random; all randomness goes through `self.rng` in fixed order."""

    def __init__(self, rng: random.Random, anchor: datetime, seed: int) -> None:
        self.rng = rng
        self.anchor = anchor
        self.anchor_epoch = int(anchor.timestamp())
        self.order_prefix = f"SO-{anchor:%Y%m%d}-{seed}-"
        self.window_seconds = WINDOW_DAYS * 86_400

    def make(self, index: int, defect: str | None) -> list[str]:
        rng = self.rng
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        market = rng.random()
        if market < 0.75:
            city, state, zip_code, country, phone, currency = self._us_place()
        elif market < 0.9:
            city, state, zip_code, country, phone, currency = self._gb_place()
        else:
            city, state, zip_code, country, phone, currency = self._fr_place()
        email = self._email(first, last)
        contact = rng.random()
        if contact < 0.08:
            email = ""  # phone only
        elif contact < 0.18:
            phone = ""  # email only
        if rng.random() < 0.08:
            currency = ""  # filled by the target's default_currency
        purchased_epoch = self.anchor_epoch - rng.randint(60, self.window_seconds)
        purchased_at = self._format_time(purchased_epoch)
        status = "Sale" if rng.random() < 0.92 else "Refund"
        amount = f"{rng.uniform(4.0, 480.0):.2f}"
        items = "|".join(f"SKU-{rng.randint(1000, 9999)}" for _ in range(rng.randint(1, 4)))
        store = f"STORE-{rng.randint(1, 40):03d}"

        if defect == "no_contact":
            email, phone = "", ""
        elif defect == "bad_date":
            purchased_at = rng.choice(UNPARSABLE_DATES)
        elif defect == "stale_date":
            stale = self.anchor - timedelta(days=STALE_DAYS, seconds=rng.randint(0, 86_399))
            purchased_at = stale.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif defect == "blank_amount":
            status, amount = "Sale", ""
        elif defect == "bad_currency":
            status, currency = "Sale", "XYZ"
        elif defect == "unknown_status":
            status = "Layaway"

        row = [
            f"{self.order_prefix}{index + 1:07d}",
            purchased_at,
            email,
            phone,
            self._messy_name(first),
            self._messy_name(last),
            city,
            state,
            zip_code,
            country,
            amount,
            currency,
            store,
            items,
            status,
        ]
        if defect == EXTRA_FIELD:
            row.append("gift wrap")
        return row

    def _us_place(self) -> tuple[str, str, str, str, str, str]:
        rng = self.rng
        city, code, state_name, zip_prefix, area_codes = rng.choice(US_PLACES)
        state = rng.choice((code, code, code, state_name, code.lower(), f" {code}"))
        zip_code = f"{zip_prefix}{rng.randint(1, 99):02d}"
        if rng.random() < 0.15:
            zip_code += f"-{rng.randint(1000, 9999)}"
        area = rng.choice(area_codes)
        exchange = rng.randint(200, 999)
        if exchange % 100 == 11:  # N11 codes are service numbers, never a subscriber's exchange
            exchange += 1
        line = f"{rng.randint(0, 9999):04d}"
        phone = rng.choice(
            (
                f"({area}) {exchange}-{line}",
                f"{area}.{exchange}.{line}",
                f"{area}-{exchange}-{line}",
                f"+1 {area} {exchange} {line}",
                f"{area}{exchange}{line}",
                f"1-{area}-{exchange}-{line}",
            )
        )
        return city, state, zip_code, rng.choice(US_COUNTRY_SPELLINGS), phone, "USD"

    def _gb_place(self) -> tuple[str, str, str, str, str, str]:
        rng = self.rng
        city, postcode = rng.choice(GB_PLACES)
        mobile = f"7{rng.randint(400, 599)} {rng.randint(0, 999_999):06d}"  # 074xx-075xx: all valid mobiles
        london = f"20 {rng.choice('78')}{rng.randint(0, 999):03d} {rng.randint(0, 9999):04d}"
        phone = rng.choice(
            (
                f"+44 {mobile}",
                f"0044 {london}",
                f"0{mobile}",  # national: needs the row's country
                f"+44 {london}",
            )
        )
        return city, "", postcode, rng.choice(GB_COUNTRY_SPELLINGS), phone, "GBP"

    def _fr_place(self) -> tuple[str, str, str, str, str, str]:
        rng = self.rng
        city, postcode = rng.choice(FR_PLACES)
        prefix = rng.choice(("1", "6"))  # Paris-region landline or mobile
        # 06 39 and 06 9x are not mainland mobile ranges: keep the first pair where every number is valid.
        pairs = [f"{rng.randint(10, 38):02d}", *(f"{rng.randint(0, 99):02d}" for _ in range(3))]
        phone = rng.choice(
            (
                f"0{prefix} {' '.join(pairs)}",  # national: needs the row's country
                f"0{prefix}.{'.'.join(pairs)}",
                f"+33 {prefix} {' '.join(pairs)}",
                f"0033 {prefix} {' '.join(pairs)}",
            )
        )
        return city, "", postcode, rng.choice(FR_COUNTRY_SPELLINGS), phone, "EUR"

    def _email(self, first: str, last: str) -> str:
        rng = self.rng
        local_first, local_last = _ascii_local(first), _ascii_local(last)
        number = rng.randint(1, 9999)
        local = rng.choice(
            (
                f"{local_first}.{local_last}{number}",
                f"{local_first}{local_last}{number}",
                f"{local_first[0]}.{local_last}{number}",
                f"{local_first}_{number}",
                f"{local_last}.{local_first}.{number}",
            )
        )
        email = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
        casing = rng.random()
        if casing < 0.2:
            email = email.title()
        elif casing < 0.25:
            email = email.upper()
        if rng.random() < 0.15:
            email = f"  {email} "
        return email

    def _messy_name(self, name: str) -> str:
        rng = self.rng
        style = rng.random()
        if style < 0.15:
            name = unicodedata.normalize("NFD", name)  # decomposed accents, as some Mac exports write them
        elif style < 0.22:
            name = name.upper()
        elif style < 0.27:
            name = name.lower()
        if rng.random() < 0.1:
            name = f" {name}  "
        return name

    def _format_time(self, epoch: int) -> str:
        rng = self.rng
        moment = datetime.fromtimestamp(epoch, tz=UTC)
        style = rng.randrange(5)
        if style == 0:
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        if style == 1:
            offset_hours = rng.choice((-8, -5, 1, 2))
            local = moment.astimezone(timezone(timedelta(hours=offset_hours)))
            return local.isoformat()
        if style == 2:
            return moment.strftime("%Y-%m-%d %H:%M:%S")
        if style == 3:
            return moment.strftime("%m/%d/%Y %H:%M")
        return str(epoch)


def _ascii_local(name: str) -> str:
    """A name as an email local part: accents dropped, letters only, lower case."""
    decomposed = unicodedata.normalize("NFD", name.translate(ASCII_SPELLINGS))
    return "".join(char for char in decomposed if char.isascii() and char.isalpha()).lower() or "customer"
