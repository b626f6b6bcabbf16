"""Issue 8.13/8.14/8.16: the rejects, report and dry-run files are private, line-safe and fail clearly."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest
from target_snapchat_capi.rejects import RejectsFile
from target_snapchat_capi.sandbox import DEFAULT_PIXEL_ID, DEFAULT_TOKEN, SandboxServer

from tests.target.target_cli import run_target


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _messages(records: list[dict]) -> list[dict]:
    schema = {
        "properties": {"id": {"type": "string"}, "email": {"type": "string"}, "ts": {"type": ["integer", "null"]}}
    }
    return [
        {"type": "SCHEMA", "stream": "s", "key_properties": ["id"], "schema": schema},
        *({"type": "RECORD", "stream": "s", "record": record} for record in records),
    ]


def _config(tmp_path: Path, sandbox: SandboxServer, **extra: object) -> dict:
    return {
        "pixel_id": DEFAULT_PIXEL_ID,
        "access_token": DEFAULT_TOKEN,
        "api_url": sandbox.url,
        "report_path": str(tmp_path / "out" / "report.json"),
        "report_html_path": str(tmp_path / "out" / "report.html"),
        "report_history_path": str(tmp_path / "out" / "history.jsonl"),
        "reject_path": str(tmp_path / "out" / "rejects.jsonl"),
        "dry_run_path": str(tmp_path / "out" / "dry_run.jsonl"),
        "mapping": {"event_time": "ts", "event_id": "id"},
        "event_name": "SIGN_UP",
        "max_reject_ratio": 1,
        **extra,
    }


@pytest.mark.parametrize("dry_run", [False, True])
def test_output_files_are_readable_by_their_owner_only(tmp_path: Path, sandbox: SandboxServer, dry_run: bool) -> None:
    now = int(time.time())
    records = [{"id": "A", "email": "a@example.com", "ts": now}, {"id": "B", "email": "b@example.com", "ts": None}]
    old_umask = os.umask(0o022)
    try:
        result = run_target(tmp_path, _config(tmp_path, sandbox, dry_run=dry_run), _messages(records))
    finally:
        os.umask(old_umask)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    files = ["report.json", "rejects.jsonl", *(["dry_run.jsonl"] if dry_run else [])]
    for name in files:
        assert _mode(tmp_path / "out" / name) == 0o600, name


def test_rejects_lines_escape_every_line_separator(tmp_path: Path) -> None:
    rejects = RejectsFile(tmp_path / "rejects.jsonl", time.time())
    separators = "\u2028\u2029\x85\x0b\x0c\x1c\x1d\x1e\r"
    rejects.write(
        stream=f"s{separators}", reason="r", message=f"m{separators}", event_id="e", source_file=f"f{separators}.csv"
    )
    rejects.write(stream="s2", reason="r", message="m", event_id="e2")
    rejects.close()
    text = (tmp_path / "rejects.jsonl").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0])["message"] == f"m{separators}"
    assert json.loads(lines[1])["stream"] == "s2"


def test_a_torn_last_line_is_never_appended_to(tmp_path: Path) -> None:
    path = tmp_path / "rejects.jsonl"
    path.write_text('{"stream": "s", "reason": "r"}\n{"stream": "s", "rea', encoding="utf-8")  # a run killed mid-line
    rejects = RejectsFile(path, time.time())
    rejects.write(stream="s", reason="after", message="m", event_id="e")
    rejects.close()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[1] == '{"stream": "s", "rea'
    assert json.loads(lines[2])["reason"] == "after"


def test_an_unwritable_output_path_stops_the_run_at_start_naming_the_path(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    config = _config(tmp_path, sandbox, reject_path=str(blocker / "sub" / "rejects.jsonl"))
    now = int(time.time())
    result = run_target(tmp_path, config, _messages([{"id": "A", "email": "a@example.com", "ts": now}]))
    stderr = result.stderr.decode()
    assert result.returncode != 0
    assert sandbox.state.events() == []  # checked before anything was sent
    assert str(blocker) in stderr
    assert "reject_path" in stderr
    assert "Not a directory" in stderr
    assert "Traceback" not in stderr
    assert json.loads((tmp_path / "out" / "report.json").read_text())["status"] == "failed"


def test_a_full_disk_names_the_file_and_the_os_error(tmp_path: Path, sandbox: SandboxServer) -> None:
    config = _config(tmp_path, sandbox, reject_path="/dev/full")  # every write: ENOSPC
    now = int(time.time())
    records = [{"id": "A", "email": "a@example.com", "ts": now}, {"id": "B", "email": "secret@example.com", "ts": None}]
    result = run_target(tmp_path, config, _messages(records))
    stderr = result.stderr.decode()
    assert result.returncode != 0
    assert "/dev/full" in stderr
    assert "No space left on device" in stderr
    assert "details in the log" not in stderr
    assert "Traceback" not in stderr
    assert "secret@example.com" not in stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert "/dev/full" in report["error"]
