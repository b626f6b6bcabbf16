"""Waiting for what a test waits for (a line on a pipe, a count in the sandbox), never for a fixed time: on a loaded
machine the wait only gets longer, and a condition that never comes fails the test at a generous deadline."""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable
from typing import IO

DEADLINE_SECONDS = 60.0
POLL_SECONDS = 0.05


def wait_until(condition: Callable[[], object], what: str, timeout: float = DEADLINE_SECONDS) -> None:
    """Poll `condition` until it is true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(POLL_SECONDS)


def read_until(stream: IO[bytes], text: bytes, what: str, timeout: float = DEADLINE_SECONDS) -> bytes:
    """Read a child process's pipe as it comes until `text` is in it; all that was read.

    Reads the file descriptor itself, so the stream must not have been read through its Python buffer before; a later
    `read()` or `communicate()` then returns the rest."""
    fd = stream.fileno()
    deadline = time.monotonic() + timeout
    seen = b""
    while text not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"waited {timeout:g} s for {what}; read: {seen[-2000:]!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 64 * 1024)
            if not chunk:
                raise AssertionError(f"the pipe closed before {what}; read: {seen[-2000:]!r}")
            seen += chunk
    return seen
