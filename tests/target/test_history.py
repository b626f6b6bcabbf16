"""The run history: counts only, mode 0600, torn lines tolerated and never glued onto, survives failed runs."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

from target_snapchat_capi.history import (
    DEFAULT_REPORT_HISTORY_PATH,
    append_history,
    history_entry,
    previous_comparable,
    read_history,
)

SECRET_EMAIL = "secret.person@example.com"
SECRET_PHONE = "+14155550123"
SECRET_TOKEN = "sandbox-token-secret"


def report(**overrides: object) -> dict:
    base = {
        "status": "succeeded",
        "mode": "live",
        "error": None,
        "started_at": "2026-12-01T10:00:00Z",
        "records_read": 120,
        "events_delivered": 100,
        "events_rejected": 20,
        "rejected_by_reason": {"stale_event": 12, "missing_match_keys": 8},
        "requests": 3,
        "retries": 1,
        "duration_seconds": 2.5,
        "events_per_second": 40.0,
        "match_keys": {"em": 90, "ph": 40},
        "single_key_events": 30,
        "normalisation": {"ph_no_country": 4, "em_hashed": 90},
        "streams": {"purchases": {"events_delivered": 100, "events_rejected": 20}},
    }
    base.update(overrides)
    return base


def test_default_path_is_next_to_the_json_report() -> None:
    assert DEFAULT_REPORT_HISTORY_PATH == "output/snapchat_capi_report_history.jsonl"


def test_entry_keeps_the_counts() -> None:
    entry = history_entry(report(already_delivered=5, user_fields={"em": {"sent": 90, "not_sent": {"invalid": 2}}}))
    assert entry["records_read"] == 120
    assert entry["events_delivered"] == 100
    assert entry["already_delivered"] == 5
    assert entry["rejected_by_reason"] == {"missing_match_keys": 8, "stale_event": 12}
    assert entry["match_keys"] == {"em": 90, "ph": 40}
    assert entry["duration_seconds"] == 2.5
    assert entry["user_fields_sent"] == {"em": 90}
    assert entry["status"] == "succeeded"
    assert entry["started_at"] == "2026-12-01T10:00:00Z"


def test_entry_never_carries_a_value_a_message_or_a_token() -> None:
    dirty = report(
        status=f"failed for {SECRET_EMAIL}",
        mode=SECRET_TOKEN,
        error=f"could not send {SECRET_EMAIL} with access_token={SECRET_TOKEN}",
        started_at=SECRET_PHONE,
        records_read=f"{SECRET_PHONE}",
        rejected_by_reason={SECRET_EMAIL: 1, "stale_event": 2, "Bad Reason With Spaces": 3},
        match_keys={"em": SECRET_EMAIL, "ph": 4},
        streams={SECRET_EMAIL: {"events_delivered": 1}},
        user_fields={SECRET_EMAIL: {"sent": 1}, "em": {"sent": SECRET_EMAIL}},
        api_url=f"https://tr.snapchat.com/v3/x/events?access_token={SECRET_TOKEN}",
    )
    text = json.dumps(history_entry(dirty))
    for secret in (SECRET_EMAIL, SECRET_PHONE, SECRET_TOKEN, "access_token", "Spaces", "example.com"):
        assert secret not in text
    entry = json.loads(text)
    assert entry["status"] == "other"
    assert entry["mode"] == "other"
    assert entry["started_at"] is None
    assert "records_read" not in entry
    assert entry["rejected_by_reason"] == {"stale_event": 2}
    assert entry["match_keys"] == {"ph": 4}
    assert "error" not in entry
    assert "streams" not in entry


def test_append_creates_the_file_private_and_one_line_per_run(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "history.jsonl"
    append_history(path, history_entry(report()))
    append_history(path, history_entry(report(records_read=7)))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    assert [entry["records_read"] for entry in read_history(path)] == [120, 7]


def test_an_existing_file_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text("")
    path.chmod(0o644)
    append_history(path, history_entry(report()))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_missing_history_is_empty(tmp_path: Path) -> None:
    assert read_history(tmp_path / "none.jsonl") == []


def test_a_torn_last_line_is_skipped_and_never_glued_onto(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    append_history(path, history_entry(report(records_read=1)))
    whole = json.dumps(history_entry(report(records_read=2)))
    with path.open("a") as handle:
        handle.write(whole[: len(whole) // 2])  # the run was killed mid-write: no newline
    assert [entry["records_read"] for entry in read_history(path)] == [1]

    append_history(path, history_entry(report(records_read=3)))

    lines = path.read_text().split("\n")
    assert lines[1] == whole[: len(whole) // 2]  # the torn line ended, untouched
    assert json.loads(lines[2])["records_read"] == 3
    assert [entry["records_read"] for entry in read_history(path)] == [1, 3]


def test_foreign_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.write_bytes(b'[1, 2]\n"text"\n\xff\xfe not utf-8\n\n{"records_read": 5}\n')
    assert read_history(path) == [{"records_read": 5}]


def test_a_failed_run_appends_and_keeps_every_earlier_line(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    for count in (10, 20):
        append_history(path, history_entry(report(records_read=count)))
    before = path.read_bytes()
    append_history(path, history_entry(report(status="failed", error="Delivery failed", records_read=3)))
    assert path.read_bytes().startswith(before)
    entries = read_history(path)
    assert [(entry["status"], entry["records_read"]) for entry in entries] == [
        ("succeeded", 10),
        ("succeeded", 20),
        ("failed", 3),
    ]


def test_limit_keeps_the_latest_runs(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    for count in range(5):
        append_history(path, {"records_read": count})
    assert [entry["records_read"] for entry in read_history(path, limit=2)] == [3, 4]
    assert len(read_history(path, limit=None)) == 5


WRITER = """
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
os.write(fd, b'{"records_read": 99, "status": "runn')
print("torn", flush=True)
time.sleep(60)
"""


def test_a_process_killed_mid_write_leaves_a_history_that_reads_and_appends(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    append_history(path, history_entry(report(records_read=1)))
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE)
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == b"torn"
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=10)

    assert [entry["records_read"] for entry in read_history(path)] == [1]
    append_history(path, history_entry(report(records_read=2)))
    assert [entry["records_read"] for entry in read_history(path)] == [1, 2]


def test_the_run_to_compare_with_is_the_latest_succeeded_one_of_the_same_mode() -> None:
    history = [
        {"status": "succeeded", "mode": "live", "records_read": 1},
        {"status": "succeeded", "mode": "live", "records_read": 2},
        {"status": "failed", "mode": "live", "records_read": 3},
        {"status": "succeeded", "mode": "dry_run", "records_read": 4},
    ]
    assert previous_comparable(history, "live") == history[1]
    assert previous_comparable(history, "dry_run") == history[3]
    assert previous_comparable(history, "validate_only") is None
    assert previous_comparable([], "live") is None
