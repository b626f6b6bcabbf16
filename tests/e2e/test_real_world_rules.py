"""Section 3a end to end: tap-offline-csv | target-snapchat-capi into the sandbox, over a real pipe and real HTTP.

One export with the cases real files have: a per-row time-zone column, day-first dates, a date without a time of
day, values with separators and currency signs, refunds, an unreadable country; the sandbox's events, the rejects
file, the report's per-field counts and the stderr summary are checked.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.e2e.helpers import Sandbox, run_pipeline, sha, target_config, write_json

HEADER = ["Order ID", "Sold At", "Time Zone", "Email", "Phone", "Country", "Birthday", "Amount", "Currency", "Status"]


def _rows(now: datetime) -> list[list[str]]:
    tokyo_local = (now - timedelta(hours=2)).astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M:%S")
    day_first = (now - timedelta(days=3)).strftime("%d/%m/%Y %H:%M")
    # The day it already is in the first zone to start a day (UTC+14): it has begun, so it is no future event,
    # even in a zone (UTC-11) where it starts only later.
    earliest_day = now.astimezone(timezone(timedelta(hours=14))).strftime("%Y-%m-%d")
    recent = (now - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        ["R-1", tokyo_local, "Asia/Tokyo", "", "(415) 555-0100", "Atlantis", "", "1.234,56 €", "", "Sale"],
        ["R-2", earliest_day, "Pacific/Pago_Pago", "ann@example.com", "", "US", "", "20", "USD", "Sale"],
        ["R-3", day_first, "", "bea@example.com", "", "Deutschland", "03/04/1990", "$15", "", "Sale"],
        ["R-4", recent, "", "cid@example.com", "", "", "", "(15.00)", "USD", "Sale"],
        ["R-5", recent, "", "dee@example.com", "", "", "", "1,234", "USD", "Sale"],
        ["R-6", recent, "", "eli@example.com", "", "", "", "-15.00", "USD", "Refund"],
        ["R-7", recent, "", "not-an-email", "+44 20 7946 0958", "GB", "", "15 USD", "EUR", "Sale"],
        ["R-8", recent, "UTC+5:30", "fay@example.com", "", "India", "", "₹1,00,000", "", "Sale"],
    ]


def test_real_world_cells_through_the_tap_the_target_and_the_sandbox(tmp_path: Path, sandbox_process: Sandbox) -> None:
    now = datetime.now(UTC)
    drops = tmp_path / "drops"
    drops.mkdir()
    with (drops / "sales.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(_rows(now))
    out = tmp_path / "out"
    config = target_config(
        sandbox_process.url,
        out,
        day_first=True,
        mapping={"event_time": "Sold At", "event_name": "Status", "event_timezone": "Time Zone", "db": "Birthday"},
    )
    tap_config = {"files": [{"name": "sales", "path": str(drops / "*.csv"), "key_properties": ["Order ID"]}]}
    started = int(now.timestamp())
    tap_result, target_result = run_pipeline(
        write_json(tmp_path / "tap.json", tap_config), write_json(tmp_path / "target.json", config)
    )
    finished = int(datetime.now(UTC).timestamp())
    assert tap_result.returncode == 0, tap_result.stderr.decode()[-3000:]
    assert target_result.returncode == 0, target_result.stderr.decode()[-3000:]

    events = {event["event_id"]: event for event in sandbox_process.events()}
    assert set(events) == {"R-1", "R-2", "R-3", "R-6", "R-8"}

    tokyo = events["R-1"]  # the row's zone read its local time; an unreadable country left the phone to the default
    assert tokyo["event_time"] == int((now - timedelta(hours=2)).timestamp())
    assert tokyo["user_data"]["ph"] == [sha("14155550100")]
    assert "country" not in tokyo["user_data"]
    assert tokyo["custom_data"]["value"] == 1234.56
    assert tokyo["custom_data"]["currency"] == "EUR"  # the sign in the value cell

    date_only = events["R-2"]
    assert started <= date_only["event_time"] <= finished  # its day has begun: sent, at the time of sending

    german = events["R-3"]
    assert german["event_time"] == int((now - timedelta(days=3)).replace(second=0, microsecond=0).timestamp())
    assert german["user_data"]["db"] == [sha("19900403")]  # day_first
    assert german["user_data"]["country"] == [sha("de")]
    assert german["custom_data"]["currency"] == "USD"  # "$" with default_currency USD

    assert events["R-6"]["event_name"] == "CUSTOM_EVENT_1"
    assert events["R-6"]["custom_data"]["value"] == -15.0  # a refund mapped to a custom event keeps its sign

    india = events["R-8"]
    assert india["custom_data"] == {"value": 100000.0, "currency": "INR", "order_id": "R-8"}
    assert india["event_time"] == int(now.timestamp()) - 5 * 3600

    rejects = {line["event_id"]: line for line in map(json.loads, (out / "rejects.jsonl").read_text().splitlines())}
    assert {event_id: reject["reason"] for event_id, reject in rejects.items()} == {
        "R-4": "negative_value",
        "R-5": "invalid_value",
        "R-7": "invalid_currency",
    }
    assert "ambiguous_separator" in rejects["R-5"]["message"]

    report = json.loads((out / "report.json").read_text())
    user_fields = report["user_fields"]
    assert user_fields["em"] == {"sent": 6, "not_sent": {"not_an_address": 1}}
    assert user_fields["ph"] == {"sent": 2, "not_sent": {}}
    assert user_fields["country"] == {"sent": 4, "not_sent": {"unknown_country": 1}}
    assert report["rejected_by_reason"] == {"invalid_currency": 1, "invalid_value": 1, "negative_value": 1}

    stderr = target_result.stderr.decode()
    assert "    em: 6 sent, 1 not an address" in stderr
    assert "    country: 4 sent, 1 unknown country" in stderr
    for raw in ("not-an-email", "ann@example.com", "415) 555-0100", "Atlantis", "7946 0958"):
        for name, text in (("stderr", stderr), ("report", json.dumps(report)), ("rejects", json.dumps(rejects))):
            assert raw not in text, f"{raw!r} leaked into {name}"
