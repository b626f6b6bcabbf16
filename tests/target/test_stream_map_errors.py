"""Issue 12: a failing stream-map expression says which map and which setting failed, without record values."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from target_snapchat_capi.sandbox import DEFAULT_PIXEL_ID, DEFAULT_TOKEN, SandboxServer

from tests.target.target_cli import run_target

SECRET = "secret.person@example.com"


@pytest.mark.parametrize(
    ("expression", "kind"),
    [("int(record['email'])", "ValueError"), ("record['email'] +", "MapExpressionError")],
    ids=["fails on a record", "does not parse"],
)
def test_a_failing_stream_map_names_the_map_and_the_setting(
    tmp_path: Path, sandbox: SandboxServer, expression: str, kind: str
) -> None:
    schema = {"properties": {"email": {"type": "string"}, "ts": {"type": "integer"}}}
    messages = [
        {"type": "SCHEMA", "stream": "orders", "key_properties": [], "schema": schema},
        {"type": "RECORD", "stream": "orders", "record": {"email": SECRET, "ts": int(time.time())}},
    ]
    config = {
        "pixel_id": DEFAULT_PIXEL_ID,
        "access_token": DEFAULT_TOKEN,
        "api_url": sandbox.url,
        "report_path": str(tmp_path / "report.json"),
        "reject_path": str(tmp_path / "rejects.jsonl"),
        "mapping": {"event_time": "ts"},
        "stream_maps": {"orders": {"email_number": expression}},
    }
    result = run_target(tmp_path, config, messages, env={"LOGLEVEL": "DEBUG"})
    output = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 1
    assert "stream_maps" in output
    assert "'orders'" in output
    assert "email_number" in output
    assert kind in output
    assert SECRET not in output
    report = json.loads((tmp_path / "report.json").read_text())
    assert "stream_maps" in report["error"] and "email_number" in report["error"]
    assert SECRET not in json.dumps(report)
