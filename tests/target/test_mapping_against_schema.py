"""Issue 8.4: a mapped column the stream does not have stops the run at SCHEMA time: nothing sent, no STATE."""

from __future__ import annotations

import json
import time
from pathlib import Path

from target_snapchat_capi.sandbox import SandboxServer

from tests.target.target_cli import run_target, sandbox_config

SCHEMA = {
    "properties": {
        "order_ref": {"type": "string"},
        "contact_email": {"type": "string"},
        "created_at": {"type": "integer"},
        "customer": {"type": "object", "properties": {"phone": {"type": "string"}}},
    }
}


def _run(tmp_path: Path, sandbox: SandboxServer, mapping: dict) -> tuple[int, str, str]:
    now = int(time.time())
    messages = [
        {"type": "SCHEMA", "stream": "orders", "key_properties": ["order_ref"], "schema": SCHEMA},
        *(
            {
                "type": "RECORD",
                "stream": "orders",
                "record": {"order_ref": f"R-{n}", "contact_email": "x@example.com", "created_at": now},
            }
            for n in range(7)
        ),
        {"type": "STATE", "value": {"bookmark": 7}},
    ]
    config = {
        **sandbox_config(tmp_path, sandbox.url),
        "event_name": "SIGN_UP",
        "mapping": mapping,
    }
    result = run_target(tmp_path, config, messages)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def test_a_mapped_column_missing_from_the_schema_stops_before_anything_is_sent(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    code, stdout, stderr = _run(tmp_path, sandbox, {"event_time": "Purchased At", "em": "contact_email"})
    assert code != 0
    assert stdout.strip() == ""  # no STATE: the bookmarks stay where they were
    assert sandbox.state.events() == []
    assert "'Purchased At'" in stderr
    assert "mapping" in stderr
    for column in ("order_ref", "contact_email", "created_at", "customer"):
        assert column in stderr  # the stream's column names, to fix the mapping with
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == "failed"
    assert "Purchased At" in report["error"]


def test_mapped_nested_columns_that_exist_pass(tmp_path: Path, sandbox: SandboxServer) -> None:
    code, stdout, stderr = _run(tmp_path, sandbox, {"event_time": "created_at", "ph": "customer.phone"})
    assert code == 0, stderr[-2000:]
    assert json.loads(stdout.splitlines()[-1]) == {"bookmark": 7}
