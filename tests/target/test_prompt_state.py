"""Issue 8.9 (target side): a STATE whose records are delivered is passed on within seconds, not at the next drain."""

from __future__ import annotations

import json
import select
import time
from pathlib import Path

import pytest
from target_snapchat_capi.sandbox import SandboxServer

from tests.target.test_signals import _records, _send, _start, _wait_until_reading_input


def _first_stdout_line(process, timeout: float) -> bytes:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    return process.stdout.readline() if ready else b""


@pytest.mark.parametrize("records", [7, 20], ids=["records still buffered", "sink just drained"])
def test_a_delivered_state_goes_out_while_the_tap_is_idle(tmp_path: Path, sandbox: SandboxServer, records: int) -> None:
    process = _start(tmp_path, sandbox, batch_size=10, max_concurrency=2, max_reject_ratio=1)
    try:
        messages = _records(records)
        _send(process, messages[:1])
        _wait_until_reading_input(process)  # start-up done: the time below is the STATE's alone
        _send(process, [*messages[1:], {"type": "STATE", "value": {"bookmark": records}}])
        started = time.monotonic()
        line = _first_stdout_line(process, timeout=10)  # the tap sends nothing more, and keeps the pipe open
        assert json.loads(line) == {"bookmark": records}, "no STATE while the input was idle"
        assert time.monotonic() - started < 5
        assert len(sandbox.state.events()) == records  # and only once its records were delivered
    finally:
        process.kill()
        process.communicate(timeout=20)
