"""SIGTERM and SIGINT: exit 143 and 130, never a torn message, never a repeated record, even with a full pipe."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import struct
import subprocess
import termios
from pathlib import Path
from typing import IO

import pytest
from tap_helpers import CONVERSION_HEADER, TAP_EXE, conversion_rows, write_csv, write_json

from tests.waiting import read_until, wait_until


def _start(tmp_path: Path, rows: int = 150_000) -> subprocess.Popen[bytes]:
    write_csv(tmp_path / "drops" / "a.csv", CONVERSION_HEADER, conversion_rows(0, rows), mtime=1_700_000_000)
    config = write_json(
        tmp_path / "config.json",
        {"path": str(tmp_path / "drops" / "*.csv"), "key_properties": ["event_id"], "state_every_rows": 5000},
    )
    return subprocess.Popen([TAP_EXE, "--config", str(config)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _pipe_is_full(pipe: IO[bytes]) -> bool:
    """More bytes wait in the pipe than its pages less one hold: every page is taken, the writer is blocked."""
    waiting = struct.unpack("i", fcntl.ioctl(pipe.fileno(), termios.FIONREAD, b"\0" * 4))[0]
    capacity = fcntl.fcntl(pipe.fileno(), fcntl.F_GETPIPE_SZ)
    return bool(waiting > capacity - os.sysconf("SC_PAGE_SIZE"))


def _check_output(raw: bytes) -> list[dict]:
    assert raw.endswith(b"\n"), "the last message is torn"
    messages = [json.loads(line) for line in raw.splitlines()]  # every line is whole JSON
    keys = [(m["record"]["event_id"], m["record"]["_sdc_source_lineno"]) for m in messages if m["type"] == "RECORD"]
    assert len(keys) == len(set(keys)), "a record was written twice"
    # Every STATE covers only records written before it.
    seen = 0
    for message in messages:
        if message["type"] == "RECORD":
            seen += 1
        elif message["type"] == "STATE":
            files = message["value"]["bookmarks"]["offline_conversions"]["files"]
            assert sum(bookmark["rows"] for bookmark in files.values()) <= seen
    return messages


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_with_a_full_pipe_stops_at_a_message_boundary(tmp_path: Path, signum: int, code: int) -> None:
    process = _start(tmp_path)
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.read(200_000)  # then stop reading: the pipe fills and the tap blocks in a write
    wait_until(lambda: _pipe_is_full(process.stdout), "the tap's output pipe to fill")
    process.send_signal(signum)
    # The tap takes the signal while it is still blocked (its handler logs this), before anything more is read.
    stderr_bytes = read_until(process.stderr, b"Stopped by", "the tap to take the signal")
    rest = process.stdout.read()
    stderr = (stderr_bytes + process.stderr.read()).decode()
    assert process.wait(30) == code, stderr[-2000:]
    messages = _check_output(first + rest)
    assert 0 < sum(m["type"] == "RECORD" for m in messages) < 150_000
    assert "Traceback" not in stderr
    assert f"Stopped by {signal.Signals(signum).name}" in stderr


def test_a_signal_while_the_reader_keeps_reading(tmp_path: Path) -> None:
    process = _start(tmp_path)
    assert process.stdout is not None
    chunks = [process.stdout.read(300_000)]
    process.send_signal(signal.SIGTERM)
    chunks.append(process.stdout.read())
    assert process.wait(30) == 143
    _check_output(b"".join(chunks))


def test_resume_after_sigterm_loses_nothing(tmp_path: Path) -> None:
    process = _start(tmp_path, rows=60_000)
    assert process.stdout is not None
    raw = process.stdout.read(2_000_000)
    process.send_signal(signal.SIGTERM)
    raw += process.stdout.read()
    assert process.wait(30) == 143
    messages = _check_output(raw)
    last_state_index = max(i for i, m in enumerate(messages) if m["type"] == "STATE")
    confirmed = {m["record"]["event_id"] for m in messages[:last_state_index] if m["type"] == "RECORD"}
    state = write_json(tmp_path / "state.json", messages[last_state_index]["value"])
    rerun = subprocess.run(
        [TAP_EXE, "--config", str(tmp_path / "config.json"), "--state", str(state)],
        capture_output=True,
        check=True,
        timeout=120,
        env={**os.environ},
    )
    resumed = {json.loads(line)["record"]["event_id"] for line in rerun.stdout.splitlines() if b'"RECORD"' in line}
    assert confirmed | resumed == {f"ev{i}" for i in range(60_000)}
    assert not confirmed & resumed
