"""Issue 8.5: a stream whose first records are mostly rejected stops before anything of it is sent, without STATE."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from target_snapchat_capi.sandbox import SandboxServer

from tests.target.target_cli import run_target, sandbox_config


def _messages(good: int, bad: int) -> list[dict]:
    now = int(time.time())
    schema = {
        "properties": {"id": {"type": "string"}, "email": {"type": "string"}, "ts": {"type": ["integer", "null"]}}
    }
    records = [{"id": f"G-{n}", "email": f"g{n}@example.com", "ts": now} for n in range(good)]
    records += [{"id": f"B-{n}", "email": f"b{n}@example.com", "ts": None} for n in range(bad)]  # missing_event_time
    return [
        {"type": "SCHEMA", "stream": "s", "key_properties": ["id"], "schema": schema},
        *({"type": "RECORD", "stream": "s", "record": record} for record in records),
        {"type": "STATE", "value": {"upto": good + bad}},
    ]


def _config(tmp_path: Path, sandbox: SandboxServer, **extra: object) -> dict:
    return {
        **sandbox_config(tmp_path, sandbox.url),
        "mapping": {"event_time": "ts", "event_id": "id"},
        "event_name": "SIGN_UP",
        "batch_size": 10,
        "max_concurrency": 1,
        **extra,
    }


def test_mostly_rejected_first_records_stop_the_run_before_sending(tmp_path: Path, sandbox: SandboxServer) -> None:
    result = run_target(tmp_path, _config(tmp_path, sandbox), _messages(good=30, bad=70))
    stderr = result.stderr.decode()
    assert result.returncode != 0
    assert result.stdout.decode().strip() == ""  # no STATE
    assert sandbox.state.events() == []  # nothing of the stream was sent, not even the good rows seen first
    assert "missing_event_time" in stderr
    assert "mapping.event_time" in stderr  # the setting that most likely fixes it
    assert "max_reject_ratio" in stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == "failed"
    assert "max_reject_ratio" in report["error"]


def test_the_judgement_uses_the_first_preflight_records_only(tmp_path: Path, sandbox: SandboxServer) -> None:
    messages = _messages(good=60, bad=70)  # first 100: 60 good, 40 bad -> 40% is under the default 50%
    result = run_target(tmp_path, _config(tmp_path, sandbox, preflight_records=100), messages)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert len(sandbox.state.events()) == 60
    assert json.loads(result.stdout.decode().splitlines()[-1]) == {"upto": 130}


@pytest.mark.parametrize("ratio", [1, 1.0])
def test_max_reject_ratio_1_turns_the_guard_off(tmp_path: Path, sandbox: SandboxServer, ratio: object) -> None:
    result = run_target(tmp_path, _config(tmp_path, sandbox, max_reject_ratio=ratio), _messages(good=3, bad=97))
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert len(sandbox.state.events()) == 3
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["rejected_by_reason"] == {"missing_event_time": 97}


def test_a_short_stream_is_judged_at_its_end(tmp_path: Path, sandbox: SandboxServer) -> None:
    result = run_target(tmp_path, _config(tmp_path, sandbox), _messages(good=2, bad=8))
    assert result.returncode != 0
    assert sandbox.state.events() == []
