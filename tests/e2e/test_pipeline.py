"""tap-offline-csv | target-snapchat-capi into the sandbox, as separate processes over a real pipe and real HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.helpers import (
    BIN,
    TOKEN,
    Sandbox,
    bulk_rows,
    messy_rows,
    run_pipeline,
    sha,
    states_from,
    target_config,
    write_csv,
    write_json,
)

RAW_PII = [
    "Alice.Smith@Example.COM",
    "alice.smith@example.com",
    "(415) 555-0100",
    "4155550100",
    "+44 7911 123456",
    "7911123456",
    "Raphaël",
    "Dupré",
    "bob@example.org",
    "7946 0958",
    "415.555.0199",
    "dan@example.net",
    "frank@example.com",
    "gina@example.com",
    "hank@example.com",
    "ivy@example.com",
    "jack@example.com",
    "Nomatch",
]


def _tap_config(tmp_path: Path, drops: Path, **extra: object) -> Path:
    return write_json(
        tmp_path / "tap.json",
        {
            "files": [{"name": "offline_purchases", "path": str(drops / "*.csv"), "key_properties": ["Order ID"]}],
            **extra,
        },
    )


def test_messy_file_every_valid_row_once_with_the_right_hashes(tmp_path: Path, sandbox_process: Sandbox) -> None:
    now = datetime.now(UTC)
    rows = messy_rows(now)
    drops = tmp_path / "drops"
    csv_path = write_csv(drops / "purchases.csv", rows, extra_bad_line=True)
    out = tmp_path / "out"
    tap_result, target_result = run_pipeline(
        _tap_config(tmp_path, drops),
        write_json(tmp_path / "target.json", target_config(sandbox_process.url, out)),
    )
    assert tap_result.returncode == 0, tap_result.stderr.decode()[-3000:]
    assert target_result.returncode == 0, target_result.stderr.decode()[-3000:]

    events = {event["event_id"]: event for event in sandbox_process.events()}
    expected_ok = {row.order_id for row in rows if row.expect == "ok"}
    assert set(events) == expected_ok
    assert sandbox_process.stats()["duplicates"] == 0

    alice = events["O-1"]
    assert alice["event_name"] == "PURCHASE"
    assert alice["action_source"] == "OFFLINE"
    assert isinstance(alice["event_time"], int)
    assert alice["user_data"]["em"] == [sha("alice.smith@example.com")]
    assert alice["user_data"]["ph"] == [sha("14155550100")]
    assert alice["user_data"]["fn"] == [sha("alice")]
    assert alice["user_data"]["ln"] == [sha("smith")]
    assert alice["user_data"]["zp"] == [sha("94025")]
    assert alice["user_data"]["country"] == [sha("us")]
    assert alice["custom_data"]["value"] == 142.52
    assert alice["custom_data"]["currency"] == "USD"
    assert alice["custom_data"]["order_id"] == "O-1"
    assert not any(key.startswith("_sdc") for key in alice)

    raphael = events["O-2"]
    assert raphael["user_data"]["ph"] == [sha("447911123456")]  # never 1447911123456
    assert raphael["user_data"]["fn"] == [sha("raphaël")]  # NFD in the file, NFC hashed
    assert raphael["user_data"]["country"] == [sha("gb")]
    assert "em" not in raphael["user_data"]

    bob = events["O-3"]
    assert bob["user_data"]["ph"] == [sha("442079460958")]  # 00 prefix = international
    assert bob["custom_data"]["currency"] == "USD"  # default_currency fills the blank
    assert "country" not in bob["user_data"]  # never inferred from default_phone_country

    carol = events["O-4"]
    assert carol["event_name"] == "CUSTOM_EVENT_1"
    assert carol["user_data"]["ph"] == [sha("14155550199")]

    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    expected_rejects = {row.order_id: row.expect for row in rows if row.expect != "ok"}
    assert {reject["event_id"]: reject["reason"] for reject in rejects} == expected_rejects
    for reject in rejects:
        assert reject["stream"] == "offline_purchases"
        assert reject["source_file"].endswith("purchases.csv")
        assert isinstance(reject["source_line"], int) and reject["source_line"] >= 2

    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "succeeded"
    assert report["records_read"] == len(rows)
    assert report["events_delivered"] == len(expected_ok)
    assert report["events_rejected"] == len(expected_rejects)
    assert report["records_read"] == report["events_delivered"] + report["events_rejected"]
    assert report["rejected_by_reason"] == dict(Counter(expected_rejects.values()))
    with_email = sum(1 for event in events.values() if "em" in event["user_data"])
    assert report["match_keys"]["em"] == with_email
    assert report["match_keys"]["ph"] == sum(1 for event in events.values() if "ph" in event["user_data"])
    assert report["requests"] >= 1

    # The tap reported the row with one field too many by file and line (the header is line 1).
    tap_log = tap_result.stderr.decode()
    assert str(csv_path.name) in tap_log
    assert str(len(rows) + 2) in tap_log

    # Privacy: no raw personal data and no token in any output.
    outputs = {
        "tap stderr": tap_log,
        "target stdout (state)": target_result.stdout.decode(),
        "target stderr": target_result.stderr.decode(),
        "report": (out / "report.json").read_text(),
        "rejects": (out / "rejects.jsonl").read_text(),
        "html report": (out / "report.html").read_text(),
        "history": (out / "history.jsonl").read_text(),
    }
    for name, text in outputs.items():
        for raw in [*RAW_PII, TOKEN]:
            assert raw not in text, f"{raw!r} leaked into {name}"


def test_privacy_at_debug_level_through_faults(tmp_path: Path, sandbox_process: Sandbox) -> None:
    """DEBUG logging, retries, an API rejection and a final auth failure: still no PII and no token anywhere."""
    now = datetime.now(UTC)
    rows = messy_rows(now)
    drops = tmp_path / "drops"
    write_csv(drops / "purchases.csv", rows)
    out = tmp_path / "out"
    sandbox_process.post(
        "/_sandbox/faults",
        [
            {"status": 500, "times": 1},
            {"status": 429, "retry_after": 1, "times": 1},
            {"reject_event_id": "O-1", "with_index": True},
        ],
    )
    config = target_config(sandbox_process.url, out, max_retries=3)
    tap_result, target_result = run_pipeline(
        _tap_config(tmp_path, drops), write_json(tmp_path / "target.json", config), env={"LOGLEVEL": "DEBUG"}
    )
    assert target_result.returncode == 0, target_result.stderr.decode()[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert report["retries"] >= 2
    assert report["rejected_by_reason"].get("api_rejected") == 1
    assert "O-1" not in {event["event_id"] for event in sandbox_process.events()}

    # Now a token the sandbox does not know: the run fails fast, loudly, and still says nothing it should not.
    bad_token = "tok-SECRET-do-not-log-0123456789"
    config_bad = target_config(sandbox_process.url, out, access_token=bad_token)
    (out / "report.json").unlink()
    tap_bad, target_bad = run_pipeline(
        _tap_config(tmp_path, drops),
        write_json(tmp_path / "target_bad.json", config_bad),
        env={"LOGLEVEL": "DEBUG"},
    )
    assert target_bad.returncode != 0
    failed = json.loads((out / "report.json").read_text())
    assert failed["status"] == "failed"
    assert failed["error"]
    assert target_bad.stdout.decode().strip() == ""  # no STATE: nothing was delivered

    outputs = {
        "tap stderr": tap_result.stderr.decode() + tap_bad.stderr.decode(),
        "target stderr": target_result.stderr.decode() + target_bad.stderr.decode(),
        "target stdout": target_result.stdout.decode() + target_bad.stdout.decode(),
        "report": (out / "report.json").read_text(),
        "rejects": (out / "rejects.jsonl").read_text(),
        "html report": (out / "report.html").read_text(),
        "history": (out / "history.jsonl").read_text(),
    }
    assert "DEBUG" in outputs["target stderr"]  # the debug level really was on
    for name, text in outputs.items():
        for raw in [*RAW_PII, TOKEN, bad_token]:
            assert raw not in text, f"{raw!r} leaked into {name}"


def test_kill_the_target_mid_run_and_rerun_loses_nothing(tmp_path: Path, sandbox_process: Sandbox) -> None:
    """Kill the target while it delivers; rerun from the last STATE it emitted: every row arrives, none twice."""
    now = datetime.now(UTC)
    rows = bulk_rows(now, 3000)
    drops = tmp_path / "drops"
    write_csv(drops / "bulk.csv", rows)
    out = tmp_path / "out"
    tap_config = _tap_config(tmp_path, drops, state_every_rows=200)
    target_path = write_json(
        tmp_path / "target.json", target_config(sandbox_process.url, out, batch_size=200, max_concurrency=1)
    )
    sandbox_process.post("/_sandbox/faults", [{"delay_seconds": 0.15, "times": 1000}])

    tap = subprocess.Popen(
        [str(BIN / "tap-offline-csv"), "--config", str(tap_config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    target = subprocess.Popen(
        [str(BIN / "target-snapchat-capi"), "--config", str(target_path)],
        stdin=tap.stdout,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert tap.stdout is not None and target.stdout is not None
    tap.stdout.close()
    emitted: list[bytes] = []
    deadline = time.monotonic() + 60
    while len(emitted) < 3 and time.monotonic() < deadline:
        line = target.stdout.readline()
        if not line:
            break
        emitted.append(line)
    os.kill(target.pid, signal.SIGKILL)
    target.wait()
    tap.kill()
    tap.wait()
    assert len(emitted) >= 3, "the target emitted no STATE while delivering"
    delivered_before = len(sandbox_process.events())
    assert 0 < delivered_before < len(rows)

    state = states_from(b"".join(emitted))[-1]
    state_path = write_json(tmp_path / "state.json", state)
    _, target_result = run_pipeline(tap_config, target_path, state=state_path)
    assert target_result.returncode == 0, target_result.stderr.decode()[-3000:]

    report = json.loads((out / "report.json").read_text())
    assert report["records_read"] < len(rows), "the rerun started over instead of resuming"
    received = [event["event_id"] for event in sandbox_process.events()]
    assert sorted(received) == sorted(row.order_id for row in rows)  # every row, each stored once
    stats = sandbox_process.stats()
    # Whatever was sent twice (after the last STATE) came with the same event_id and was merged, not counted twice.
    assert stats["events_accepted"] == len(rows)


@pytest.mark.parametrize("mode", ["dry_run", "validate_only"])
def test_dry_run_and_validate_only_send_no_conversion_and_keep_no_state(
    tmp_path: Path, sandbox_process: Sandbox, mode: str
) -> None:
    now = datetime.now(UTC)
    rows = messy_rows(now)
    drops = tmp_path / "drops"
    write_csv(drops / "purchases.csv", rows)
    out = tmp_path / "out"
    config = target_config(sandbox_process.url, out, **{mode: True})
    if mode == "validate_only":  # Snap judges one event INVALID: its error code is counted in the report
        sandbox_process.post("/_sandbox/faults", [{"reject_event_id": "O-1", "code": "SANDBOX_REJECTED"}])
    _, target_result = run_pipeline(_tap_config(tmp_path, drops), write_json(tmp_path / "target.json", config))
    assert target_result.returncode == 0, target_result.stderr.decode()[-3000:]
    assert states_from(target_result.stdout) == []
    assert sandbox_process.events() == []
    report = json.loads((out / "report.json").read_text())
    valid = sum(1 for row in rows if row.expect == "ok") - (mode == "validate_only")
    assert report["mode"] == mode
    assert report["events_delivered"] == valid
    assert sum(item["events"] for item in report["event_age_days_histogram"]) == valid
    assert sum(counts["events_delivered"] for counts in report["source_files"].values()) == valid
    if mode == "dry_run":
        assert sandbox_process.stats()["requests"] == 0
        bodies = [json.loads(line) for line in (out / "dry_run.jsonl").read_text().splitlines()]
        sent = [event for body in bodies for event in body["data"]]
        assert len(sent) == valid
        assert all(
            len(value[0]) == 64
            for event in sent
            for key, value in event["user_data"].items()
            if isinstance(value, list)
        )
    else:
        assert sandbox_process.stats()["requests"] >= 1
        assert report["validation"]["VALID"] == valid
        assert report["validation_errors"] == {"SANDBOX_REJECTED": 1}
        page = (out / "report.html").read_text()
        assert "SANDBOX_REJECTED" in page
