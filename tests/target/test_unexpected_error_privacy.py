"""An unexpected exception whose message quotes a record must not carry that record into the log or the report."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from target_snapchat_capi.sandbox import DEFAULT_PIXEL_ID, DEFAULT_TOKEN, SandboxServer

# Runs the real CLI, with event building replaced by a bug that quotes the record (as library errors often do).
BUGGY_TARGET = """
from target_snapchat_capi import events
def build(self, record, now):
    raise ValueError(f"could not convert {record['email']!r} for {record['name']!r}")
events.EventBuilder.build = build
from target_snapchat_capi.target import TargetSnapchatCAPI
TargetSnapchatCAPI.cli()
"""


def test_unexpected_error_is_logged_by_place_not_by_content(tmp_path: Path, sandbox: SandboxServer) -> None:
    email, name = "secret.person@example.com", "Zoë Secretname"
    schema = {"properties": {"email": {"type": "string"}, "name": {"type": "string"}, "ts": {"type": "integer"}}}
    messages = [
        {"type": "SCHEMA", "stream": "s", "key_properties": [], "schema": schema},
        {"type": "RECORD", "stream": "s", "record": {"email": email, "name": name, "ts": int(time.time())}},
    ]
    input_path = tmp_path / "in.jsonl"
    input_path.write_text("".join(json.dumps(message) + "\n" for message in messages))
    config = {
        "pixel_id": DEFAULT_PIXEL_ID,
        "access_token": DEFAULT_TOKEN,
        "api_url": sandbox.url,
        "report_path": str(tmp_path / "report.json"),
        "reject_path": str(tmp_path / "rejects.jsonl"),
    }
    (tmp_path / "config.json").write_text(json.dumps(config))

    result = subprocess.run(
        [sys.executable, "-c", BUGGY_TARGET, "--config", str(tmp_path / "config.json"), "--input", str(input_path)],
        capture_output=True,
        timeout=60,
        check=False,
        env={"LOGLEVEL": "DEBUG", "PATH": str(Path(sys.executable).parent)},
    )
    output = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 1
    assert "Unexpected ValueError" in output
    assert "build" in output  # the traceback says where
    report_text = (tmp_path / "report.json").read_text()
    assert json.loads(report_text)["status"] == "failed"
    for secret in (email, name, "Secretname", DEFAULT_TOKEN):
        assert secret not in output
        assert secret not in report_text


def test_with_stream_maps_no_cell_value_reaches_the_log(tmp_path: Path, sandbox: SandboxServer) -> None:
    """Stream maps send records down the SDK's standard path; its schema checks must not quote cells either."""
    secret_amount, email = "secret-amount-x", "mapped.person@example.com"
    schema = {
        "properties": {
            "email": {"type": "string"},
            "amount": {"type": "number"},
            "currency": {"type": "string"},
            "ts": {"type": "string", "format": "date-time"},
        }
    }
    record = {"email": email, "amount": secret_amount, "currency": "USD", "ts": "not-a-time-secret"}
    messages = [
        {"type": "SCHEMA", "stream": "s", "key_properties": [], "schema": schema},
        {"type": "RECORD", "stream": "s", "record": record},
    ]
    input_path = tmp_path / "in.jsonl"
    input_path.write_text("".join(json.dumps(message) + "\n" for message in messages))
    config = {
        "pixel_id": DEFAULT_PIXEL_ID,
        "access_token": DEFAULT_TOKEN,
        "api_url": sandbox.url,
        "report_path": str(tmp_path / "report.json"),
        "reject_path": str(tmp_path / "rejects.jsonl"),
        "mapping": {"event_time": "ts"},
        "stream_maps": {"s": {"extra": "'x'"}},
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "target-snapchat-capi"),
            "--config",
            str(tmp_path / "config.json"),
            "--input",
            str(input_path),
        ],
        capture_output=True,
        timeout=60,
        check=False,
        env={"LOGLEVEL": "DEBUG", "PATH": str(Path(sys.executable).parent)},
    )
    output = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 0, output[-2000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["records_read"] == 1
    assert report["rejected_by_reason"] == {"invalid_event_time": 1}  # the builder judged it, by field
    for secret in (secret_amount, "not-a-time-secret", email):
        assert secret not in output
