"""Issue 8.8 and 8.19: SIGTERM / SIGINT end the target promptly with 143 / 130 and an `interrupted` report, also
while a request hangs."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from target_snapchat_capi.sandbox import SandboxServer

from tests.target.target_cli import sandbox_config
from tests.waiting import read_until, wait_until

BIN = Path(sys.executable).parent


def _start(tmp_path: Path, sandbox: SandboxServer, **extra: object) -> subprocess.Popen[bytes]:
    config = {
        **sandbox_config(tmp_path, sandbox.url),
        "mapping": {"event_time": "ts", "event_id": "id"},
        "event_name": "SIGN_UP",
        **extra,
    }
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    return subprocess.Popen(
        [str(BIN / "target-snapchat-capi"), "--config", str(config_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _send(process: subprocess.Popen[bytes], messages: list[dict]) -> None:
    assert process.stdin is not None
    process.stdin.write(b"".join(json.dumps(message).encode() + b"\n" for message in messages))
    process.stdin.flush()


def _records(count: int) -> list[dict]:
    now = int(time.time())
    schema = {"properties": {"id": {"type": "string"}, "email": {"type": "string"}, "ts": {"type": "integer"}}}
    return [
        {"type": "SCHEMA", "stream": "s", "key_properties": ["id"], "schema": schema},
        *(
            {"type": "RECORD", "stream": "s", "record": {"id": f"I-{n}", "email": f"i{n}@example.com", "ts": now}}
            for n in range(count)
        ),
    ]


def _wait_until_reading_input(process: subprocess.Popen[bytes]) -> bytes:
    """Start-up (imports) done, signal handlers in place, the target reading its input: it logs a stream's mapping
    when that stream's SCHEMA comes in, and run() installs the handlers before it reads. The stderr read so far."""
    assert process.stderr is not None
    return read_until(process.stderr, b"Stream 's' mapping", "the target to take in the SCHEMA")


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_exits_non_zero_and_the_report_says_interrupted(
    tmp_path: Path, sandbox: SandboxServer, signum: int, code: int
) -> None:
    process = _start(tmp_path, sandbox)
    _send(process, _records(5))
    stderr = _wait_until_reading_input(process)
    process.send_signal(signum)
    stderr += process.communicate(timeout=20)[1]
    assert process.returncode == code, stderr.decode()[-2000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == "interrupted"


def test_sigterm_during_a_hung_request_takes_effect_within_seconds(tmp_path: Path, sandbox: SandboxServer) -> None:
    sandbox.state.add_faults([{"delay_seconds": 120, "times": 100}])  # the API accepts and never answers in time
    process = _start(
        tmp_path, sandbox, batch_size=5, max_concurrency=1, request_timeout_seconds=300, max_reject_ratio=1
    )
    _send(process, _records(20))
    # A request hangs once the sandbox has taken one of the 100 delays.
    wait_until(lambda: sandbox.state.stats()["pending_faults"] < 100, "a request to hang in the sandbox")
    assert process.poll() is None
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    assert process.returncode == 143
    assert time.monotonic() - started < 10
    assert json.loads((tmp_path / "report.json").read_text())["status"] == "interrupted"


def test_a_hung_api_gives_up_after_delivery_timeout_seconds(tmp_path: Path, sandbox: SandboxServer) -> None:
    """Issue 8.19: the total time before the target gives up is a setting, whatever the per-request timeout."""
    sandbox.state.add_faults([{"delay_seconds": 120, "times": 100}])
    process = _start(
        tmp_path,
        sandbox,
        max_concurrency=1,
        request_timeout_seconds=30,
        max_retries=8,
        delivery_timeout_seconds=3,
        max_reject_ratio=1,
    )
    started = time.monotonic()
    _send(process, _records(3))
    _, stderr = process.communicate(timeout=60)  # closes the input: the end of the stream
    assert process.returncode == 1
    assert time.monotonic() - started < 15
    assert "delivery_timeout_seconds" in stderr.decode()
    assert json.loads((tmp_path / "report.json").read_text())["status"] == "failed"
