"""The STATE gate with line items: a STATE never passes a row whose order is still open (orders.py).

The target runs as a process; each time it prints a STATE, every order with a row before that STATE must already be
in the sandbox (or in the rejects file), although the order was still open when the STATE arrived.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from target_snapchat_capi.sandbox import DEFAULT_PIXEL_ID, DEFAULT_TOKEN, SandboxServer

from tests.target.target_cli import run_checking_each_state

COLUMNS = ("order", "sku", "email", "total", "currency")


def _line(order: int, sku: str, now: int) -> dict:
    return {
        "type": "RECORD",
        "stream": "order_lines",
        "record": {"order": f"#{order}", "sku": sku, "email": f"buyer{order}@example.com", "total": "20", "ts": now},
    }


def test_a_state_waits_for_the_orders_open_when_it_arrived(tmp_path: Path, sandbox: SandboxServer) -> None:
    now = int(time.time()) - 3600
    schema = {
        "type": "SCHEMA",
        "stream": "order_lines",
        "key_properties": [],
        "schema": {
            "properties": {name: {"type": ["string", "null"]} for name in COLUMNS} | {"ts": {"type": "integer"}}
        },
    }
    messages: list[dict] = [schema]
    orders_before_state: dict[int, int] = {}
    orders = 40
    for order in range(orders):
        # The STATE falls between an order's two lines: that order is open when it arrives.
        messages.append(_line(order, "A", now))
        messages.append({"type": "STATE", "value": {"upto": order}})
        orders_before_state[order] = order + 1
        messages.append(_line(order, "B", now))
    config = {
        "pixel_id": DEFAULT_PIXEL_ID,
        "access_token": DEFAULT_TOKEN,
        "api_url": sandbox.url,
        "mapping": {"event_time": "ts", "em": "email", "order_id": "order", "item_id": "sku", "value": "total"},
        "default_currency": "USD",
        "max_open_orders": 3,
        "preflight_records": 2,  # the reject-ratio guard judges early: this test is about the orders gate
        "batch_size": 2,
        "max_concurrency": 1,
        "reject_path": str(tmp_path / "rejects.jsonl"),
        "report_path": str(tmp_path / "report.json"),
    }
    sandbox.control.add_faults({"delay_seconds": 0.02, "times": 1000})

    def check_state(state: dict) -> None:
        delivered = {event["event_id"] for event in sandbox.control.events()}
        covered = {f"#{order}" for order in range(orders_before_state[state["upto"]])}
        missing = covered - delivered
        assert not missing, f"STATE {state['upto']} emitted while orders {sorted(missing)} were not delivered"

    seen_states = [state["upto"] for state in run_checking_each_state(tmp_path, config, messages, check_state)]
    assert seen_states and seen_states[-1] == orders - 1
    assert len(seen_states) >= 3, "states flow as orders complete (max_open_orders), not only at the end"
    events = {event["event_id"]: event for event in sandbox.control.events()}
    assert len(events) == orders
    assert all(event["custom_data"]["content_ids"] == ["A", "B"] for event in events.values())
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["orders"] == {"orders": orders, "order_lines": 2 * orders, "orders_rejected": 0}
