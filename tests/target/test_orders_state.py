"""The STATE gate with line items: a STATE never passes a row whose order is still open (orders.py).

The target runs as a process; each time it prints a STATE, every order with a row before that STATE must already be
in the sandbox (or in the rejects file), although the order was still open when the STATE arrived.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from target_snapchat_capi.sandbox import DEFAULT_PIXEL_ID, DEFAULT_TOKEN, SandboxServer

TARGET = str(Path(sys.executable).parent / "target-snapchat-capi")
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
    lines = [json.dumps(schema)]
    orders_before_state: dict[int, int] = {}
    orders = 40
    for order in range(orders):
        # The STATE falls between an order's two lines: that order is open when it arrives.
        lines.append(json.dumps(_line(order, "A", now)))
        lines.append(json.dumps({"type": "STATE", "value": {"upto": order}}))
        orders_before_state[order] = order + 1
        lines.append(json.dumps(_line(order, "B", now)))
    input_path = tmp_path / "input.jsonl"
    input_path.write_text("\n".join(lines) + "\n")
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
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    sandbox.control.add_faults({"delay_seconds": 0.02, "times": 1000})

    process = subprocess.Popen(
        [TARGET, "--config", str(config_path), "--input", str(input_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    seen_states = []
    for line in process.stdout:
        state = json.loads(line)["upto"]
        delivered = {event["event_id"] for event in sandbox.control.events()}
        covered = {f"#{order}" for order in range(orders_before_state[state])}
        missing = covered - delivered
        assert not missing, f"STATE {state} emitted while orders {sorted(missing)} were not delivered"
        seen_states.append(state)
    assert process.wait(timeout=60) == 0
    assert seen_states and seen_states[-1] == orders - 1
    assert len(seen_states) >= 3, "states flow as orders complete (max_open_orders), not only at the end"
    events = {event["event_id"]: event for event in sandbox.control.events()}
    assert len(events) == orders
    assert all(event["custom_data"]["content_ids"] == ["A", "B"] for event in events.values())
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["orders"] == {"orders": orders, "order_lines": 2 * orders, "orders_rejected": 0}
