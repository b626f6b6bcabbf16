"""The target's central promise: a STATE goes out only after every record before it is delivered or rejected.

The target runs as a process; each time it prints a STATE we look at the sandbox at once: every record that came
before that STATE in the input must already be there (or in the rejects file).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from target_snapchat_capi.sandbox import SandboxServer

from tests.target.target_cli import run_checking_each_state, sandbox_config


def _record(n: int, now: int) -> dict:
    email = f"person{n}@example.com" if n % 50 else ""  # every 50th has no match key: rejected locally
    return {"order_id": f"R-{n}", "email": email, "amount": "10.00", "currency": "USD", "ts": now - 3600}


def test_each_state_follows_the_delivery_of_every_record_before_it(tmp_path: Path, sandbox: SandboxServer) -> None:
    now = int(time.time())
    schema = {
        "type": "SCHEMA",
        "stream": "orders",
        "key_properties": ["order_id"],
        "schema": {
            "properties": {name: {"type": ["string", "null"]} for name in ("order_id", "email", "amount", "currency")}
            | {"ts": {"type": ["integer", "null"]}}
        },
    }
    messages: list[dict] = [schema]
    records_before_state: dict[int, int] = {}  # state number -> records sent before it
    total = 0
    for state_number in range(1, 13):
        for _ in range(250):
            messages.append({"type": "RECORD", "stream": "orders", "record": _record(total, now)})
            total += 1
        messages.append({"type": "STATE", "value": {"upto": state_number}})
        records_before_state[state_number] = total
    config = {
        **sandbox_config(tmp_path, sandbox.url),
        "mapping": {"event_time": "ts", "em": "email"},
        "batch_size": 200,
        "max_concurrency": 2,
    }
    sandbox.control.add_faults({"delay_seconds": 0.05, "times": 1000})
    rejects_path = tmp_path / "rejects.jsonl"

    def check_state(state: dict) -> None:
        delivered = {event["event_id"] for event in sandbox.control.events()}
        rejected = (
            {json.loads(row)["event_id"] for row in rejects_path.read_text().splitlines()}
            if rejects_path.exists()
            else set()
        )
        covered = {f"R-{n}" for n in range(records_before_state[state["upto"]])}
        missing = covered - delivered - rejected
        assert not missing, f"STATE {state['upto']} emitted while {len(missing)} earlier records were not settled"

    seen_states = [state["upto"] for state in run_checking_each_state(tmp_path, config, messages, check_state)]
    assert seen_states, "no STATE emitted"
    assert seen_states[-1] == 12
    assert seen_states == sorted(seen_states)
    assert len(seen_states) >= 3, "states should flow during the run, not only at the end"
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["events_delivered"] + report["events_rejected"] == total
    assert report["rejected_by_reason"] == {"missing_match_keys": total // 50}
