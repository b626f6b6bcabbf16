"""Issue 8.3: a record missing its key property is a counted rejection, not the end of the run."""

from __future__ import annotations

import json
import time
from pathlib import Path

from target_snapchat_capi.sandbox import SandboxServer

from tests.target.target_cli import run_target, sandbox_config


def test_a_record_without_its_key_property_is_rejected_and_the_others_delivered(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    schema = {"properties": {"id": {"type": "string"}, "email": {"type": "string"}, "ts": {"type": "integer"}}}
    now = int(time.time())
    messages = [
        {"type": "SCHEMA", "stream": "s", "key_properties": ["id"], "schema": schema},
        {"type": "RECORD", "stream": "s", "record": {"id": "K-1", "email": "a@example.com", "ts": now}},
        {"type": "RECORD", "stream": "s", "record": {"email": "secret.b@example.com", "ts": now}},
        {"type": "RECORD", "stream": "s", "record": {"id": "K-3", "email": "c@example.com", "ts": now}},
        {"type": "STATE", "value": {"done": 3}},
    ]
    config = {
        **sandbox_config(tmp_path, sandbox.url),
        "mapping": {"event_time": "ts", "event_id": "id"},
        "event_name": "SIGN_UP",
        "max_reject_ratio": 1,
    }
    result = run_target(tmp_path, config, messages)
    output = result.stderr.decode()
    assert result.returncode == 0, output[-2000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["records_read"] == 3
    assert report["events_delivered"] == 2
    assert report["rejected_by_reason"] == {"missing_key_property": 1}
    (reject,) = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert reject["reason"] == "missing_key_property"
    assert "'id'" in reject["message"]
    assert sorted(event["event_id"] for event in sandbox.state.events()) == ["K-1", "K-3"]
    assert json.loads(result.stdout.decode().splitlines()[-1]) == {"done": 3}
    assert "secret.b@example.com" not in output
