"""The run's report files through the real CLI (a separate process, as Meltano runs it) into the sandbox.

A failed run, a run stopped by its settings and an interrupted run each write the JSON and HTML reports and append
their history line; a run killed with SIGKILL (even in the middle of writing its history line) leaves a history
the next run reads and appends to. With test_event_code the report says what Snap's test-event log shows. No
raw personal data and no token in any of these files.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from target_snapchat_capi.history import read_history
from target_snapchat_capi.sandbox import DEFAULT_PIXEL_ID, DEFAULT_TOKEN, SandboxServer

from tests.target.target_cli import run_target

TARGET = str(Path(sys.executable).parent / "target-snapchat-capi")
EMAILS = [f"Person.{n}@Example.com" for n in range(40)]
PHONES = [f"(415) 555-01{n:02d}" for n in range(40)]
SCHEMA = {
    "type": "SCHEMA",
    "stream": "orders",
    "key_properties": ["order_id"],
    "schema": {
        "properties": {
            name: {"type": ["string", "null"]}
            for name in ("order_id", "email", "phone", "amount", "currency", "_sdc_source_file")
        }
        | {"ts": {"type": ["integer", "null"]}, "_sdc_source_lineno": {"type": ["integer", "null"]}}
    },
}


def records(count: int, now: int, *, prefix: str = "R") -> list[dict[str, Any]]:
    rows = []
    for n in range(count):
        email = EMAILS[n % len(EMAILS)] if n % 10 else ""  # every 10th: no email
        phone = PHONES[n % len(PHONES)] if n % 20 else ""  # every 20th: neither, rejected
        record = {
            "order_id": f"{prefix}-{n // 2 if n < 6 else n}",  # the first six rows: three orders of two lines
            "email": email,
            "phone": phone,
            "amount": "12.50",
            "currency": "USD",
            "ts": now - 3600 - (n % 40) * 86_400 // 4,
            "_sdc_source_file": "file:///drops/orders.csv",
            "_sdc_source_lineno": n + 2,
        }
        rows.append({"type": "RECORD", "stream": "orders", "record": record})
    return rows


def config_for(tmp_path: Path, sandbox: SandboxServer, **overrides: Any) -> dict[str, Any]:
    return {
        "pixel_id": DEFAULT_PIXEL_ID,
        "access_token": DEFAULT_TOKEN,
        "api_url": sandbox.url,
        "mapping": {"event_time": "ts", "em": "email", "ph": "phone", "value": "amount", "order_id": "order_id"},
        "default_phone_country": "US",
        "reject_path": str(tmp_path / "rejects.jsonl"),
        "report_path": str(tmp_path / "report.json"),
        "report_html_path": str(tmp_path / "report.html"),
        "report_history_path": str(tmp_path / "history.jsonl"),
        **overrides,
    }


def outputs(tmp_path: Path) -> dict[str, str]:
    return {name: (tmp_path / name).read_text() for name in ("report.json", "report.html", "history.jsonl")}


def assert_no_personal_data(texts: dict[str, str], *secrets: str) -> None:
    for name, text in texts.items():
        for secret in [*EMAILS, *(email.lower() for email in EMAILS), *PHONES, DEFAULT_TOKEN, *secrets]:
            assert secret not in text, f"{secret!r} in {name}"


def test_a_run_writes_every_figure_and_reads_back_snaps_test_event_log(tmp_path: Path, sandbox: SandboxServer) -> None:
    now = int(time.time())
    messages = [SCHEMA, *records(40, now)]
    result = run_target(tmp_path, config_for(tmp_path, sandbox, test_event_code="TEST123"), messages)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["records_read"] == 40
    assert report["events_rejected"] == 2  # rows 0 and 20: no match key
    assert report["events_delivered"] == 38
    assert report["test_event_logs"] == {
        "fetched": 38,
        "by_status": {"VALID": 38},
        "by_event_name": {"PURCHASE": 38},
    }
    assert report["duplicate_order_id_rows"] == 2  # rows 3 and 5 repeat orders R-1 and R-2 (row 0 was rejected)
    assert report["source_files"] == {"file:///drops/orders.csv": {"events_delivered": 38, "events_rejected": 2}}
    assert report["reject_examples"] == {
        "missing_match_keys": [
            {"file": "file:///drops/orders.csv", "line": 2},
            {"file": "file:///drops/orders.csv", "line": 22},
        ]
    }
    assert sum(item["events"] for item in report["event_age_days_histogram"]) == 38
    assert report["events_older_than_7_days"] == len(range(28, 40))  # row n is n/4 days (and an hour) old
    assert report["user_fields"]["em"]["sent"] == 36
    assert report["user_fields"]["ph"]["sent"] == 38
    assert [finding["code"] for finding in report["findings"]][:1] == ["duplicate_order_ids"]
    stderr = result.stderr.decode()
    assert "[duplicate_order_ids]" in stderr
    assert stderr.index("Snapchat CAPI run findings") < stderr.index("Snapchat CAPI run succeeded")
    page = (tmp_path / "report.html").read_text()
    assert "TEST123" not in page  # the test code is not a figure
    assert (tmp_path / "report.html").stat().st_mode & 0o777 == 0o600
    assert_no_personal_data(outputs(tmp_path))


def test_a_failed_run_appends_its_history_line_and_keeps_the_earlier_ones(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    now = int(time.time())
    messages = [SCHEMA, *records(20, now)]
    assert run_target(tmp_path, config_for(tmp_path, sandbox), messages).returncode == 0
    bad_token = "tok-SECRET-never-written-0123456789"
    # Without the delivery ledger: with it, the same records would not be sent again, so nothing could fail.
    failed = run_target(tmp_path, config_for(tmp_path, sandbox, access_token=bad_token, ledger_url=""), messages)
    assert failed.returncode == 1
    history = read_history(tmp_path / "history.jsonl")
    assert [entry["status"] for entry in history] == ["succeeded", "failed"]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == "failed"
    page = (tmp_path / "report.html").read_text()
    assert 'data-value="failed"' in page
    assert_no_personal_data(outputs(tmp_path), bad_token)
    assert bad_token not in failed.stderr.decode()

    # stopped by its settings before any record: still a report, a page and a history line
    stopped = run_target(tmp_path, config_for(tmp_path, sandbox, batch_size=0), messages)
    assert stopped.returncode == 1
    assert [entry["status"] for entry in read_history(tmp_path / "history.jsonl")] == ["succeeded", "failed", "failed"]
    assert "batch_size" in json.loads((tmp_path / "report.json").read_text())["error"]
    assert (tmp_path / "report.html").exists()


def _start(tmp_path: Path, sandbox: SandboxServer, messages: list[dict[str, Any]]) -> subprocess.Popen[bytes]:
    input_path = tmp_path / "in.jsonl"
    input_path.write_text("".join(json.dumps(message) + "\n" for message in messages))
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config_for(tmp_path, sandbox, batch_size=50, max_concurrency=1)))
    return subprocess.Popen(
        [TARGET, "--config", str(config_path), "--input", str(input_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for_events(sandbox: SandboxServer, at_least: int) -> None:
    deadline = time.monotonic() + 60
    while len(sandbox.state.events()) < at_least:
        assert time.monotonic() < deadline, "the target sent nothing"
        time.sleep(0.05)


def test_an_interrupted_run_writes_its_reports_and_history(tmp_path: Path, sandbox: SandboxServer) -> None:
    now = int(time.time())
    messages = [SCHEMA, *(records(2000, now))]
    sandbox.control.add_faults({"delay_seconds": 0.2, "times": 1000})
    process = _start(tmp_path, sandbox, messages)
    _wait_for_events(sandbox, 50)
    process.send_signal(signal.SIGTERM)  # what an orchestrator sends to cancel
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == "interrupted"
    assert 0 < report["records_read"] < 2001
    (entry,) = read_history(tmp_path / "history.jsonl")
    assert entry["status"] == "interrupted"
    assert entry["records_read"] == report["records_read"]
    assert entry["events_delivered"] == report["events_delivered"]
    assert "Snapchat CAPI run interrupted" in stderr.decode()
    assert 'data-value="interrupted"' in (tmp_path / "report.html").read_text()


def test_a_run_killed_mid_way_leaves_a_history_the_next_run_reads(tmp_path: Path, sandbox: SandboxServer) -> None:
    now = int(time.time())
    history_path = tmp_path / "history.jsonl"
    assert run_target(tmp_path, config_for(tmp_path, sandbox), [SCHEMA, *records(20, now)]).returncode == 0
    sandbox.state.reset()
    sandbox.control.add_faults({"delay_seconds": 0.2, "times": 1000})
    process = _start(tmp_path, sandbox, [SCHEMA, *records(2000, now, prefix="K")])
    _wait_for_events(sandbox, 40)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    sandbox.state.reset()  # no more delays
    assert [entry["status"] for entry in read_history(history_path)] == ["succeeded"]  # the killed run wrote none

    # a kill in the middle of writing a line leaves it torn (no newline): simulate exactly that
    whole_line = history_path.read_bytes().splitlines(keepends=True)[0]
    with history_path.open("ab") as history_file:
        history_file.write(whole_line[: len(whole_line) // 2])
    assert len(read_history(history_path)) == 1

    result = run_target(tmp_path, config_for(tmp_path, sandbox), [SCHEMA, *records(10, now, prefix="N")])
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    history = read_history(history_path)
    assert [entry["records_read"] for entry in history] == [20, 10]
    assert history_path.read_bytes().endswith(b"\n")
    page = (tmp_path / "report.html").read_text()
    assert 'data-history="0"' in page  # the first run is the trend's first point
