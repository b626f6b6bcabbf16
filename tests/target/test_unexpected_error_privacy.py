"""An unexpected exception whose message quotes a record must not carry that record into the log or the report."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from target_snapchat_capi.sandbox import DEFAULT_PIXEL_ID, DEFAULT_TOKEN, SandboxServer

from tests.target.target_cli import run_target, sandbox_config

# Event building replaced by a bug that quotes the record (as library errors often do). As a sitecustomize module it
# patches every Python process of the run: the target's own and its event-building workers (building.py).
BUGGY_BUILD = """
from target_snapchat_capi import events
def build(self, record, now):
    raise ValueError(f"could not convert {record['email']!r} for {record['name']!r}")
events.EventBuilder.build = build
"""


@pytest.mark.parametrize(
    ("build_workers", "expected"),
    [(0, "Unexpected ValueError"), (1, "building events failed in a worker process: ValueError")],
)
def test_unexpected_error_is_logged_by_place_not_by_content(
    tmp_path: Path, sandbox: SandboxServer, build_workers: int, expected: str
) -> None:
    email, name = "secret.person@example.com", "Zoë Secretname"
    schema = {"properties": {"email": {"type": "string"}, "name": {"type": "string"}, "ts": {"type": "integer"}}}
    messages = [
        {"type": "SCHEMA", "stream": "s", "key_properties": [], "schema": schema},
        {"type": "RECORD", "stream": "s", "record": {"email": email, "name": name, "ts": int(time.time())}},
    ]
    config = {**sandbox_config(tmp_path, sandbox.url), "build_workers": build_workers}
    patches = tmp_path / "patches"
    patches.mkdir()
    (patches / "sitecustomize.py").write_text(BUGGY_BUILD)
    result = run_target(tmp_path, config, messages, env={"LOGLEVEL": "DEBUG", "PYTHONPATH": str(patches)})
    output = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 1
    assert expected in output
    assert "build" in output  # the traceback says where
    report_text = (tmp_path / "report.json").read_text()
    assert json.loads(report_text)["status"] == "failed"
    files = {file: (tmp_path / file).read_text() for file in ("report.json", "report.html", "history.jsonl")}
    for secret in (email, name, "Secretname", DEFAULT_TOKEN):
        assert secret not in output
        for file_name, text in files.items():
            assert secret not in text, file_name


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
    config = {
        **sandbox_config(tmp_path, sandbox.url),
        "mapping": {"event_time": "ts"},
        "stream_maps": {"s": {"extra": "'x'"}},
        "max_reject_ratio": 1,  # the one record is rejected on purpose
    }
    result = run_target(tmp_path, config, messages, env={"LOGLEVEL": "DEBUG"})
    output = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 0, output[-2000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["records_read"] == 1
    assert report["rejected_by_reason"] == {"invalid_event_time": 1}  # the builder judged it, by field
    files = {file: (tmp_path / file).read_text() for file in ("report.json", "report.html", "history.jsonl")}
    for secret in (secret_amount, "not-a-time-secret", email):
        assert secret not in output
        for file_name, text in files.items():
            assert secret not in text, file_name


# The same bug, and by then the report's folder has become a file: writing the report fails too.
BUGGY_TARGET_REPORT_UNWRITABLE = """
import pathlib, shutil, sys
from target_snapchat_capi import events
REPORT_DIR = pathlib.Path(sys.argv.pop(1))
def build(self, record, now):
    shutil.rmtree(REPORT_DIR)
    REPORT_DIR.write_text("no longer a folder")
    raise ValueError(f"could not convert {record['email']!r} for {record['name']!r}")
events.EventBuilder.build = build
from target_snapchat_capi.target import TargetSnapchatCAPI
TargetSnapchatCAPI.cli()
"""


def test_a_failing_report_write_never_prints_the_unexpected_error(tmp_path: Path, sandbox: SandboxServer) -> None:
    """Issue 8.11: no path prints an unexpected exception's message, not even when writing the report fails."""
    email, name = "secret.person@example.com", "Zoë Secretname"
    schema = {"properties": {"email": {"type": "string"}, "name": {"type": "string"}, "ts": {"type": "integer"}}}
    messages = [
        {"type": "SCHEMA", "stream": "s", "key_properties": [], "schema": schema},
        {"type": "RECORD", "stream": "s", "record": {"email": email, "name": name, "ts": int(time.time())}},
    ]
    report_dir = tmp_path / "reports"
    report_dir.mkdir()
    config = {
        "pixel_id": DEFAULT_PIXEL_ID,
        "access_token": DEFAULT_TOKEN,
        "api_url": sandbox.url,
        "report_path": str(report_dir / "report.json"),
        "report_html_path": str(report_dir / "report.html"),
        "report_history_path": str(report_dir / "history.jsonl"),
        "reject_path": str(tmp_path / "rejects.jsonl"),
        "build_workers": 0,  # the bug is patched into the target's own process
    }
    command = [sys.executable, "-c", BUGGY_TARGET_REPORT_UNWRITABLE, str(report_dir)]
    result = run_target(tmp_path, config, messages, command=command, env={"LOGLEVEL": "DEBUG"})
    output = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 1
    assert "Unexpected ValueError" in output
    assert "report was not written" in output
    assert str(report_dir) in output
    assert "During handling of the above exception" not in output
    for secret in (email, name, "Secretname", DEFAULT_TOKEN):
        assert secret not in output
