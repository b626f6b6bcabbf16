"""The sample-data generator of `make demo` and the benchmark (benchmarks/datagen.py and its script)."""

from __future__ import annotations

import collections
import csv
import re
import subprocess
import sys
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import datagen  # noqa: E402

NOW = datetime(2026, 11, 28, 15, 30, tzinfo=UTC)
ANCHOR = datetime(2026, 11, 28, tzinfo=UTC)
EXPECTED_HEADER = (
    "Order ID,Purchased At,Email,Phone,First Name,Last Name,City,State,Zip Code,Country,Amount,Currency,"
    "Store ID,Items,Status"
)


def _parse_purchase_time(text: str) -> tuple[str, datetime]:
    """The format name and the instant, for the five formats the generator writes (naive means UTC)."""
    if text.isdigit():
        return "epoch", datetime.fromtimestamp(int(text), tz=UTC)
    if re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", text):
        return "us", datetime.strptime(text, "%m/%d/%Y %H:%M").replace(tzinfo=UTC)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", text):
        return "sql", datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    if text.endswith("Z"):
        return "iso_z", datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(text)
    assert parsed.tzinfo is not None, "ISO times without Z carry an offset"
    return "iso_offset", parsed


@pytest.fixture(scope="module")
def sample() -> list[datagen.SampleRow]:
    return list(datagen.iter_sample_rows(300, seed=7, now=NOW))


def test_script_writes_todays_file_with_the_exact_header(tmp_path: Path) -> None:
    out = tmp_path / "drops"
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_sample_data.py"), "--out", str(out), "--rows", "300",
         "--seed", "7", "--now", NOW.isoformat()],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    written = out / "offline_purchases_2026-11-28.csv"
    assert [p.name for p in out.iterdir()] == [written.name]
    lines = written.read_text(encoding="utf-8").splitlines()
    assert lines[0] == EXPECTED_HEADER
    with written.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 301
    # The file holds exactly what the importable generator yields: one generator, two users.
    assert rows[1:] == [row.fields for row in datagen.iter_sample_rows(300, seed=7, now=NOW)]


def test_script_without_now_names_the_file_after_today_utc(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_sample_data.py"), "--out", str(tmp_path),
         "--rows", "5"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    names = {f"offline_purchases_{datetime.now(UTC) - timedelta(seconds=s):%Y-%m-%d}.csv" for s in (0, 60)}
    assert {p.name for p in tmp_path.iterdir()} & names


def test_same_seed_and_day_give_the_same_rows_and_others_differ() -> None:
    later_same_day = NOW.replace(hour=23, minute=59)
    first = list(datagen.generate_rows(200, seed=7, now=NOW))
    assert first == list(datagen.generate_rows(200, seed=7, now=later_same_day))
    assert first != list(datagen.generate_rows(200, seed=8, now=NOW))
    assert first != list(datagen.generate_rows(200, seed=7, now=NOW + timedelta(days=1)))


def test_valid_rows_are_plausible_and_within_the_last_30_days(sample: list[datagen.SampleRow]) -> None:
    formats: collections.Counter[str] = collections.Counter()
    order_ids = set()
    for row in sample:
        if row.defect is not None:
            continue
        record = dict(zip(datagen.HEADER, row.fields, strict=True))
        order_ids.add(record["Order ID"])
        fmt, moment = _parse_purchase_time(record["Purchased At"])
        formats[fmt] += 1
        assert ANCHOR - timedelta(days=30) <= moment < ANCHOR <= NOW
        assert record["Email"].strip() or record["Phone"], "a valid row has a match key"
        assert re.fullmatch(r"\d+\.\d{2}", record["Amount"])
        assert record["Currency"] in {"USD", "EUR", "GBP", ""}
        assert record["Status"] in {"Sale", "Refund"}
        assert re.fullmatch(r"SKU-\d{4}(\|SKU-\d{4}){0,3}", record["Items"])
    assert set(formats) == {"epoch", "us", "sql", "iso_z", "iso_offset"}
    assert len(order_ids) == sum(1 for row in sample if row.defect is None), "order ids are unique"


def test_rows_carry_the_mess_of_real_exports(sample: list[datagen.SampleRow]) -> None:
    records = [dict(zip(datagen.HEADER, row.fields[:15], strict=True)) for row in sample]
    emails = [r["Email"] for r in records if r["Email"]]
    phones = [r["Phone"] for r in records if r["Phone"]]
    names = [r["First Name"] for r in records] + [r["Last Name"] for r in records]
    assert any(e != e.strip() for e in emails), "space-padded emails"
    assert any(e.strip() != e.strip().lower() for e in emails), "mixed-case emails"
    assert any(re.fullmatch(r"\(\d{3}\) \d{3}-\d{4}", p) for p in phones)
    assert any(re.fullmatch(r"\d{3}\.\d{3}\.\d{4}", p) for p in phones)
    assert any(p.startswith("+44 ") for p in phones)
    assert any(p.startswith("0044 ") for p in phones)
    assert any(re.fullmatch(r"0[16]( \d\d){4}", r["Phone"]) and r["Country"] in {"FR", "France"} for r in records), (
        "French national numbers next to their country"
    )
    assert any(
        re.fullmatch(r"07\d{3} \d{6}", r["Phone"]) and r["Country"] in {"GB", "United Kingdom"} for r in records
    ), "British national numbers next to their country"
    assert any(not n.isascii() and unicodedata.is_normalized("NFC", n) for n in names), "accents in NFC"
    assert any(not unicodedata.is_normalized("NFC", n) for n in names), "accents in NFD"
    currencies = collections.Counter(r["Currency"] for r in records)
    assert currencies[""] > 0
    assert currencies["USD"] > currencies["GBP"] > 0
    assert currencies["EUR"] > 0
    statuses = collections.Counter(r["Status"] for r in records)
    assert statuses["Sale"] > 0.8 * len(records)
    assert statuses["Refund"] > 0


def test_every_phone_is_a_valid_number_and_contacts_rarely_repeat() -> None:
    """Valid numbers, so that no phone is lost for the wrong reason; distinct, like a real export's."""
    phonenumbers = pytest.importorskip("phonenumbers")
    region_of = {"US": "US", "USA": "US", "United States": "US", "us": "US", "": "US",
                 "GB": "GB", "United Kingdom": "GB", "FR": "FR", "France": "FR"}  # fmt: skip
    rows = datagen.generate_rows(5000, now=NOW, bad_fraction=0)
    records = [dict(zip(datagen.HEADER, row, strict=True)) for row in rows]
    phones = [(r["Phone"], region_of[r["Country"]]) for r in records if r["Phone"]]
    for phone, region in phones:
        international = "+" + phone[2:] if phone.startswith("00") else phone
        assert phonenumbers.is_valid_number(phonenumbers.parse(international, region)), phone
    emails = [r["Email"].strip().lower() for r in records if r["Email"]]
    assert len(set(phones)) > 0.98 * len(phones)
    assert len(set(emails)) > 0.98 * len(emails)


def test_about_three_percent_bad_rows_of_every_kind(sample: list[datagen.SampleRow]) -> None:
    defects = collections.Counter(row.defect for row in sample if row.defect)
    assert sum(defects.values()) == 9  # round(300 * 0.03)
    assert set(defects) == {*datagen.ROW_DEFECTS, datagen.EXTRA_FIELD}
    assert defects[datagen.EXTRA_FIELD] == 1
    for row in sample:
        expected_fields = len(datagen.HEADER) + (row.defect == datagen.EXTRA_FIELD)
        assert len(row.fields) == expected_fields
        record = dict(zip(datagen.HEADER, row.fields, strict=False))
        if row.defect == "no_contact":
            assert not record["Email"] and not record["Phone"]
        elif row.defect == "bad_date":
            with pytest.raises(ValueError):
                _parse_purchase_time(record["Purchased At"])
        elif row.defect == "stale_date":
            assert _parse_purchase_time(record["Purchased At"])[1] <= ANCHOR - timedelta(days=59)
        elif row.defect == "blank_amount":
            assert record["Status"] == "Sale" and record["Amount"] == ""
        elif row.defect == "bad_currency":
            assert record["Currency"] == "XYZ"
        elif row.defect == "unknown_status":
            assert record["Status"] == "Layaway"


def test_no_bad_rows_when_asked() -> None:
    rows = list(datagen.iter_sample_rows(500, seed=3, now=NOW, bad_fraction=0.0))
    assert all(row.defect is None and len(row.fields) == len(datagen.HEADER) for row in rows)


def test_big_file_is_about_the_size_asked(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    rows = datagen.write_big_csv(path, 3_000_000, seed=1, now=NOW)
    size = path.stat().st_size
    assert 3_000_000 <= size < 3_000_000 + 4_000_000  # whole blocks of 20,000 rows
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        assert tuple(next(reader)) == datagen.HEADER
        order_ids = [row[0] for row in reader]
    assert len(order_ids) == rows == len(set(order_ids))


def test_target_turns_valid_rows_into_events_and_defects_into_the_expected_rejections(
    sample: list[datagen.SampleRow],
) -> None:
    """The sample is only useful if the target sees it the way the docstring table says."""
    events = pytest.importorskip("target_snapchat_capi.events")
    if not hasattr(events, "EventBuilder"):
        pytest.skip("target_snapchat_capi.events.EventBuilder is not there yet")
    settings = events.EventSettings.from_config(
        {
            "pixel_id": "11111111-2222-4333-8444-555555555555",
            "mapping": datagen.TARGET_MAPPING,
            "event_name_map": datagen.EVENT_NAME_MAP,
            "default_phone_country": "US",
            "default_currency": "USD",
        }
    )
    schema = {"type": "object", "properties": {name: {"type": ["string", "null"]} for name in datagen.HEADER}}
    builder = events.EventBuilder(settings, "offline_conversions", schema, ["Order ID"], collections.Counter())
    outcomes: collections.Counter[str] = collections.Counter()
    for row in sample:
        if row.defect == datagen.EXTRA_FIELD:
            continue  # the tap skips it; it never reaches the target
        built = builder.build(dict(zip(datagen.HEADER, row.fields, strict=True)), NOW.timestamp())
        if row.defect is None:
            assert isinstance(built, events.Event), getattr(built, "reason", None)
            outcomes["event"] += 1
        else:
            assert isinstance(built, events.Rejection)
            assert built.reason == datagen.EXPECTED_REJECTION[row.defect]
            outcomes[built.reason] += 1
    assert outcomes["event"] == 291
