"""Issue 10 end to end (tap | target | sandbox): line items as one PURCHASE per order, CRM stage changes across
runs, and events routed to several pixels, each with its own token."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from target_snapchat_capi.sandbox.launcher import SandboxProcess

from tests.e2e.helpers import (
    PIXEL_NORTH,
    PIXEL_SOUTH,
    SHOPIFY_HEADER,
    TOKEN_NORTH,
    TOKEN_SOUTH,
    Sandbox,
    hours_before,
    run_pipeline,
    sha,
    states_from,
    target_config,
    token_fingerprint,
    write_json,
    write_rows,
)

SHOPIFY_WITH_ADDRESS_AND_VENDOR = [*SHOPIFY_HEADER, "Billing Zip", "Billing Country", "Vendor"]


def _tap(tmp_path: Path, name: str, pattern: Path, keys: list[str] | None = None, tag: str = "tap") -> Path:
    stream = {"name": name, "path": str(pattern), "key_properties": keys or []}
    return write_json(tmp_path / f"{tag}.json", {"files": [stream]})


def _run(tmp_path: Path, tap_config: Path, config: dict[str, Any], tag: str = "target") -> tuple[Any, dict[str, Any]]:
    tap_result, target_result = run_pipeline(tap_config, write_json(tmp_path / f"{tag}.json", config))
    assert tap_result.returncode == 0, tap_result.stderr.decode()[-3000:]
    report = json.loads(Path(config["report_path"]).read_text())
    return target_result, report


def _rejects(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_shopify_export_lines_over_two_files_out_of_order_are_one_purchase_per_order(
    tmp_path: Path, sandbox_process: Sandbox
) -> None:
    now = datetime.now(UTC)
    first, later = hours_before(now, 5), hours_before(now, 4)
    drops = tmp_path / "drops"
    # Shopify writes the email, currency and total on an order's first row only; lines of an order are not adjacent
    # here, and #1002 and #1003 continue in the second file.
    write_rows(
        drops / "orders_1.csv",
        SHOPIFY_WITH_ADDRESS_AND_VENDOR,
        [
            [
                "#1001",
                "ann@example.com",
                "paid",
                "USD",
                "59.00",
                first,
                "2",
                "Mug",
                "12.00",
                "MUG-1",
                "94107",
                "US",
                "Acme",
            ],
            ["#1002", "bo@example.com", "paid", "EUR", "30.00", first, "1", "Cap", "30.00", "CAP-1", "", "", "Hatco"],
            ["#1001", "", "", "", "", first, "1", "Pot", "35.00", "POT-9", "", "", "Acme"],
            ["#1003", "cy@example.com", "paid", "USD", "18.50", later, "1", "Pen", "2.50", "PEN-1", "", "", ""],
            ["#1005", "dee@example.com", "paid", "USD", "50.00", later, "1", "Bag", "50.00", "BAG-1", "", "", ""],
        ],
    )
    write_rows(
        drops / "orders_2.csv",
        SHOPIFY_WITH_ADDRESS_AND_VENDOR,
        [
            ["#1003", "", "", "", "", later, "2", "Ink", "8.00", "INK-2", "", "", ""],
            ["#1005", "", "", "", "60.00", later, "1", "Tag", "10.00", "TAG-1", "", "", ""],
            ["#1002", "", "", "", "", first, "0", "Gift card", "0", "GIFT", "", "", ""],
            ["#1004", "eve@example.com", "paid", "USD", "9.99", later, "1", "Sock", "9.99", "SOCK-1", "", "", "Knit"],
        ],
    )
    out = tmp_path / "out"
    config = target_config(sandbox_process.url, out, mapping={}, event_name_map={})
    target_result, report = _run(tmp_path, _tap(tmp_path, "shopify_orders", drops / "*.csv"), config)
    assert target_result.returncode == 0, target_result.stderr.decode()[-3000:]

    events = {event["event_id"]: event for event in sandbox_process.events()}
    assert set(events) == {"#1001", "#1002", "#1003", "#1004"}, "one PURCHASE per order, each order once"
    assert sandbox_process.stats()["duplicates"] == 0
    ann = events["#1001"]
    assert ann["event_name"] == "PURCHASE"
    assert ann["user_data"]["em"] == [sha("ann@example.com")]
    assert ann["custom_data"]["value"] == 59.0
    assert ann["custom_data"]["currency"] == "USD"
    assert ann["custom_data"]["order_id"] == "#1001"
    assert ann["custom_data"]["contents"] == [
        {"id": "MUG-1", "quantity": 2, "item_price": 12.0, "brand": "Acme"},
        {"id": "POT-9", "quantity": 1, "item_price": 35.0, "brand": "Acme"},
    ]
    assert ann["custom_data"]["content_ids"] == ["MUG-1", "POT-9"]
    assert ann["custom_data"]["num_items"] == 3
    assert events["#1002"]["custom_data"]["num_items"] == 1  # the gift-card line has quantity 0
    assert events["#1002"]["custom_data"]["currency"] == "EUR"
    assert events["#1003"]["custom_data"]["content_ids"] == ["PEN-1", "INK-2"]
    assert events["#1003"]["custom_data"]["value"] == 18.5

    # #1005's rows carry two different totals: the order is rejected, and each of its lines is listed.
    rejects = _rejects(out / "rejects.jsonl")
    assert {(r["reason"], Path(r["source_file"]).name, r["source_line"]) for r in rejects} == {
        ("conflicting_order_value", "orders_1.csv", 6),
        ("conflicting_order_value", "orders_2.csv", 3),
    }
    assert report["orders"] == {"orders": 5, "order_lines": 9, "orders_rejected": 1}
    assert report["events_delivered"] == 4
    assert report["rejected_by_reason"] == {"conflicting_order_value": 2}
    assert "orders: 5 from 9 line-item rows, 1 rejected" in target_result.stderr.decode()
    assert states_from(target_result.stdout), "the run's STATE goes out once every order is settled"


def test_pos_file_with_line_totals_sums_the_lines(tmp_path: Path, sandbox_process: Sandbox) -> None:
    now = datetime.now(UTC)
    when = hours_before(now, 3)
    drops = tmp_path / "pos"
    header = ["Receipt Number", "Date", "Email", "SKU", "Qty", "Unit Price", "Line Total", "Currency"]
    write_rows(
        drops / "pos.csv",
        header,
        [
            ["R-1", when, "fay@example.com", "A", "2", "4.50", "9.00", "USD"],
            ["R-2", when, "gus@example.com", "C", "1", "20.00", "18.00", "USD"],  # a discounted line
            ["R-1", when, "fay@example.com", "B", "3", "1.25", "", "USD"],  # no line total: 3 x 1.25
            ["R-2", when, "gus@example.com", "D", "1", "", "", "USD"],  # neither: the order is rejected
            ["R-3", when, "hal@example.com", "E", "1", "5.00", "5.00", "USD"],
        ],
    )
    out = tmp_path / "out"
    config = target_config(
        sandbox_process.url,
        out,
        mapping={"event_time": "Date", "value": "Line Total"},
        event_name_map={},
        line_item_value="sum",
    )
    target_result, report = _run(tmp_path, _tap(tmp_path, "pos_sales", drops / "*.csv"), config)
    assert target_result.returncode == 0, target_result.stderr.decode()[-3000:]
    events = {event["event_id"]: event for event in sandbox_process.events()}
    assert set(events) == {"R-1", "R-3"}
    assert events["R-1"]["custom_data"]["value"] == 12.75
    assert events["R-1"]["custom_data"]["num_items"] == 5
    assert events["R-1"]["custom_data"]["contents"] == [
        {"id": "A", "quantity": 2, "item_price": 4.5},
        {"id": "B", "quantity": 3, "item_price": 1.25},
    ]
    assert events["R-3"]["custom_data"]["value"] == 5.0
    rejects = _rejects(out / "rejects.jsonl")
    assert sorted((r["reason"], r["source_line"], r["event_id"]) for r in rejects) == [
        ("missing_value", 3, "R-2"),
        ("missing_value", 5, "R-2"),
    ]
    assert report["orders"] == {"orders": 3, "order_lines": 5, "orders_rejected": 1}


CRM_HEADER = ["Record ID", "Stage", "Amount", "Email", "Close Date", "Channel"]


def test_crm_stream_over_three_runs_sends_each_conversion_exactly_once(
    tmp_path: Path, sandbox_process: Sandbox
) -> None:
    now = datetime.now(UTC)
    day1, day2 = hours_before(now, 30), hours_before(now, 6)
    runs = [
        [
            ["D-1", "Appointment Scheduled", "", "ann@example.com", day1, "call_center"],
            ["D-2", "Closed Won", "100", "bo@example.com", day1, "in_store"],
            ["D-3", "Qualified", "", "cy@example.com", day1, ""],
        ],
        [
            ["D-1", "Closed Won", "250", "ann@example.com", day2, "call_center"],  # a stage change: a new event
            ["D-2", "Closed Won", "120", "bo@example.com", day1, "in_store"],  # an edit: the same conversion
            ["D-3", "Appointment Scheduled", "", "cy@example.com", day2, ""],
        ],
        [
            ["D-2", "Closed Won", "120", "bo@example.com", day1, "in_store"],  # resent (inclusive replication key)
            ["D-1", "Closed Won", "250", "ann@example.com", day2, "call_center"],
            ["D-4", "Qualified", "", "dee@example.com", day2, ""],
        ],
    ]
    reports = []
    for number, rows in enumerate(runs, start=1):
        drops = tmp_path / f"run{number}"
        write_rows(drops / "deals.csv", CRM_HEADER, rows)
        out = tmp_path / f"out{number}"
        config = target_config(
            sandbox_process.url,
            out,
            mapping={"event_time": "Close Date", "event_name": "Stage", "value": "Amount", "event_tag": "Channel"},
            event_name_map={"Closed Won": "PURCHASE", "Appointment Scheduled": "CUSTOM_EVENT_2"},
            unmapped_event_names="skip",
        )
        tap_config = _tap(tmp_path, "deals", drops / "*.csv", keys=["Record ID"], tag=f"tap{number}")
        target_result, report = _run(tmp_path, tap_config, config, tag=f"target{number}")
        assert target_result.returncode == 0, target_result.stderr.decode()[-3000:]
        assert _rejects(out / "rejects.jsonl") == [], "a skipped stage writes no rejects line"
        reports.append(report)

    stored = sandbox_process.events()
    conversions = sorted((event["user_data"]["em"][0], event["event_name"]) for event in stored)
    assert conversions == sorted(
        [
            (sha("ann@example.com"), "CUSTOM_EVENT_2"),
            (sha("bo@example.com"), "PURCHASE"),
            (sha("ann@example.com"), "PURCHASE"),
            (sha("cy@example.com"), "CUSTOM_EVENT_2"),
        ]
    ), "each conversion exactly once across the three runs"
    assert sandbox_process.stats()["duplicates"] == 3  # run 2's edit of D-2, run 3's D-2 and D-1
    by_id: dict[str, set[str]] = {}
    for event in stored:
        by_id.setdefault(event["event_id"], set()).add(event["event_name"])
    assert len(by_id) == 4, "a stage mapped to another Snap event is a new event id"
    tags = {(event["user_data"]["em"][0], event["event_name"]): event.get("event_tag") for event in stored}
    assert tags[(sha("bo@example.com"), "PURCHASE")] == "in_store"
    assert tags[(sha("ann@example.com"), "CUSTOM_EVENT_2")] == "call_center"
    assert "event_tag" not in next(e for e in stored if e["user_data"]["em"] == [sha("cy@example.com")])
    assert [report.get("skipped_stage", 0) for report in reports] == [1, 0, 1]
    assert [report["events_delivered"] for report in reports] == [2, 3, 2]


def _pixels_file(path: Path, now: datetime) -> Path:
    when = hours_before(now, 2)
    rows = [
        [f"S-{n}", when, f"buyer{n}@example.com", "10.00", store]
        for n, store in enumerate(["North", "south", "North", "South ", "north", "west", "south"])
    ]
    return write_rows(path, ["Order ID", "Sold At", "Email", "Amount", "Store"], rows)


def test_two_pixels_each_event_goes_to_its_routes_pixel_with_its_token(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    drops = tmp_path / "stores"
    _pixels_file(drops / "sales.csv", now)
    tokens = ["--token", f"{TOKEN_NORTH}:{PIXEL_NORTH}", "--token", f"{TOKEN_SOUTH}:{PIXEL_SOUTH}"]
    out = tmp_path / "out"
    with SandboxProcess(start_timeout_seconds=15, extra_args=tokens) as sandbox:
        config = target_config(
            sandbox.url,
            out,
            pixel_id=None,
            access_token=None,
            pixels={
                "north": {"pixel_id": PIXEL_NORTH, "access_token": TOKEN_NORTH},
                "South": {"pixel_id": PIXEL_SOUTH, "access_token": TOKEN_SOUTH},
            },
            mapping={"event_time": "Sold At", "pixel_route": "Store"},
            event_name_map={},
            batch_size=2,
        )
        del config["pixel_id"], config["access_token"]
        target_result, report = _run(tmp_path, _tap(tmp_path, "store_sales", drops / "*.csv"), config)
        assert target_result.returncode == 0, target_result.stderr.decode()[-3000:]
        requests = [r for r in sandbox.get("/_sandbox/requests") if r["method"] == "POST"]
        stored = sandbox.events()

    assert requests and all(r["status"] == 200 for r in requests)
    sent_to: dict[str, str] = {}
    for request in requests:
        pixel = request["pixel_id"]
        assert request["path"] == f"/v3/{pixel}/events"
        expected_token = {PIXEL_NORTH: TOKEN_NORTH, PIXEL_SOUTH: TOKEN_SOUTH}[pixel]
        assert request["token_sha256"] == token_fingerprint(expected_token), "each pixel is sent with its own token"
        for event_id in request["event_ids"]:
            assert sent_to.setdefault(event_id, pixel) == pixel, "a request never mixes pixels"
    assert sent_to == {
        "S-0": PIXEL_NORTH,
        "S-2": PIXEL_NORTH,
        "S-4": PIXEL_NORTH,
        "S-1": PIXEL_SOUTH,
        "S-3": PIXEL_SOUTH,
        "S-6": PIXEL_SOUTH,
    }
    assert len(stored) == 6
    assert [r["reason"] for r in _rejects(out / "rejects.jsonl")] == ["unknown_pixel_route"]
    assert report["pixels"]["north"]["events_delivered"] == 3
    assert report["pixels"]["South"]["events_delivered"] == 3
    stderr = target_result.stderr.decode()
    assert "pixel north: 3 delivered" in stderr and "pixel South: 3 delivered" in stderr
    written = stderr + (out / "report.json").read_text() + (out / "rejects.jsonl").read_text()
    assert TOKEN_NORTH not in written and TOKEN_SOUTH not in written


def test_an_authentication_failure_names_the_route_never_the_token(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    drops = tmp_path / "stores"
    _pixels_file(drops / "sales.csv", now)
    tokens = ["--token", f"{TOKEN_NORTH}:{PIXEL_NORTH}"]  # the sandbox does not know south's token
    out = tmp_path / "out"
    with SandboxProcess(start_timeout_seconds=15, extra_args=tokens) as sandbox:
        config = target_config(
            sandbox.url,
            out,
            pixels={
                "north": {"pixel_id": PIXEL_NORTH, "access_token": TOKEN_NORTH},
                "south": {"pixel_id": PIXEL_SOUTH, "access_token": TOKEN_SOUTH},
            },
            mapping={"event_time": "Sold At", "pixel_route": "Store"},
            event_name_map={},
        )
        del config["pixel_id"], config["access_token"]
        target_result, report = _run(tmp_path, _tap(tmp_path, "store_sales", drops / "*.csv"), config)
    assert target_result.returncode != 0
    stderr = target_result.stderr.decode()
    assert "pixel route 'south'" in stderr
    assert report["status"] == "failed" and "pixel route 'south'" in report["error"]
    written = stderr + (out / "report.json").read_text() + target_result.stdout.decode()
    assert TOKEN_SOUTH not in written and TOKEN_NORTH not in written
