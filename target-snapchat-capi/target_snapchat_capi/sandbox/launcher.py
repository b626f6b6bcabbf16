"""Start `snapchat-capi-sandbox` as a child process and talk to it: the one launcher of the demo, tests and benchmark.

    with SandboxProcess(log_path=Path("sandbox.log")) as sandbox:   # port 0: the sandbox picks a free one
        run_something(api_url=sandbox.url)
        print(sandbox.stats())

The sandbox prints one line, ``listening on http://HOST:PORT``, once it is bound; the launcher reads it (so there is
no race for a free port) and waits until /_sandbox/health answers. Standard library only.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

LOOPBACK = "127.0.0.1"
READY_PREFIX = "listening on "


class SandboxStartError(RuntimeError):
    """The sandbox did not start or did not answer in time."""


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port free right now on `host` (for servers that cannot pick their own)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def sandbox_command() -> str:
    """The `snapchat-capi-sandbox` next to the running interpreter (its virtualenv), else the one on PATH."""
    beside = Path(sys.executable).parent / "snapchat-capi-sandbox"
    if beside.exists():
        return str(beside)
    return shutil.which("snapchat-capi-sandbox") or str(beside)


class SandboxProcess:
    """`snapchat-capi-sandbox` as a child process, on `port` (0: a free one it picks), stderr to `log_path`."""

    def __init__(
        self,
        *,
        port: int = 0,
        host: str = LOOPBACK,
        log_path: Path | None = None,
        extra_args: Sequence[str] = (),
        start_timeout_seconds: float = 30,
    ) -> None:
        self.log_path = log_path
        self._log: IO[bytes] | None = None
        self._command = [sandbox_command(), "--host", host, "--port", str(port), *extra_args]
        self._start_timeout = start_timeout_seconds
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    # -- lifecycle

    def start(self) -> Self:
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("wb")
        stderr: IO[bytes] | int = self._log if self._log is not None else subprocess.DEVNULL
        self.process = subprocess.Popen(self._command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr)
        deadline = time.monotonic() + self._start_timeout
        self.url = self._read_url(deadline)
        self._wait_healthy(deadline)
        return self

    def _read_url(self, deadline: float) -> str:
        assert self.process is not None and self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], max(deadline - time.monotonic(), 0))
        line = self.process.stdout.readline().decode("utf-8", "replace").strip() if ready else ""
        if not line.startswith(READY_PREFIX + "http://"):
            self.stop()
            raise SandboxStartError(f"the sandbox did not start{self._see_log()}")
        return line.removeprefix(READY_PREFIX)

    def _wait_healthy(self, deadline: float) -> None:
        assert self.process is not None
        while True:
            with contextlib.suppress(OSError, ValueError):
                if self.get("/_sandbox/health").get("ok"):
                    return
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SandboxStartError(f"the sandbox did not answer{self._see_log()}")
            time.sleep(0.05)

    def _see_log(self) -> str:
        return f"; see {self.log_path}" if self.log_path is not None else ""

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s; idempotent."""
        process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process is not None and process.stdout is not None:
            process.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Self:
        return self.start() if self.process is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- talking to it

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=10) as answer:
            return json.load(answer)

    def post(self, path: str, body: Any) -> Any:
        request = urllib.request.Request(
            self.url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)

    def reset(self) -> None:
        self.post("/_sandbox/reset", {})

    def events(self) -> list[dict[str, Any]]:
        return list(self.get("/_sandbox/events"))

    def stats(self) -> dict[str, Any]:
        return dict(self.get("/_sandbox/stats"))

    def cpu_seconds(self) -> float:
        """CPU time the sandbox has used so far (Linux /proc; NaN elsewhere)."""
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
        return float("nan")

    def peak_rss_mb(self) -> float | None:
        """The sandbox's peak resident memory (Linux /proc)."""
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return None
