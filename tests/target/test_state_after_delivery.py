"""The target's central promise: a STATE goes out only after every record before it is delivered or rejected.

The target runs as a process; each time it prints a STATE we look at the sandbox at once: every record that came
before that STATE in the input must already be there (or in the rejects file).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from target_snapchat_capi.sandbox import DEFAULT_PIXEL_ID, DEFAULT_TOKEN, SandboxServer

TARGET = str(Path(sys.executable).parent / "target-snapchat-capi")


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
    lines = [json.dumps(schema)]
    records_before_state: dict[int, int] = {}  # state number -> records sent before it
    total = 0
    for state_number in range(1, 13):
        for _ in range(250):
            lines.append(json.dumps({"type": "RECORD", "stream": "orders", "record": _record(total, now)}))
            total += 1
        lines.append(json.dumps({"type": "STATE", "value": {"upto": state_number}}))
        records_before_state[state_number] = total
    input_path = tmp_path / "input.jsonl"
    input_path.write_text("\n".join(lines) + "\n")
    config = {
        "pixel_id": DEFAULT_PIXEL_ID,
        "access_token": DEFAULT_TOKEN,
        "api_url": sandbox.url,
        "mapping": {"event_time": "ts", "em": "email"},
        "batch_size": 200,
        "max_concurrency": 2,
        "reject_path": str(tmp_path / "rejects.jsonl"),
        "report_path": str(tmp_path / "report.json"),
        "report_html_path": str(tmp_path / "report.html"),
        "report_history_path": str(tmp_path / "history.jsonl"),
    }
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    sandbox.control.add_faults({"delay_seconds": 0.05, "times": 1000})

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
        rejects_path = tmp_path / "rejects.jsonl"
        rejected = (
            {json.loads(row)["event_id"] for row in rejects_path.read_text().splitlines()}
            if rejects_path.exists()
            else set()
        )
        covered = {f"R-{n}" for n in range(records_before_state[state])}
        missing = covered - delivered - rejected
        assert not missing, f"STATE {state} emitted while {len(missing)} earlier records were not settled"
        seen_states.append(state)
    assert process.wait(timeout=60) == 0
    assert seen_states, "no STATE emitted"
    assert seen_states[-1] == 12
    assert seen_states == sorted(seen_states)
    assert len(seen_states) >= 3, "states should flow during the run, not only at the end"
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["events_delivered"] + report["events_rejected"] == total
    assert report["rejected_by_reason"] == {"missing_match_keys": total // 50}
