"""A real headless Chromium, driven over the DevTools protocol, for tests that render pages.

`open_page(path, screenshot=...)` starts Debian's chromium (installed by scripts/install-test-services.sh) with a
throw-away profile, loads the file, and returns what a person would see and what the page did: the rendered DOM,
console messages and uncaught exceptions, log entries (failed loads, CSP violations), every URL it requested, the
page width against the viewport at laptop and phone widths, and whether it prints. A missing browser FAILS the
test (pytest.fail), never skips it.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
)
LAPTOP = (1280, 800)
PHONE = (390, 844)
STARTUP_SECONDS = 30


@dataclass
class PageResult:
    dom: str = ""
    console: list[dict[str, Any]] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    log_entries: list[dict[str, Any]] = field(default_factory=list)
    requested_urls: list[str] = field(default_factory=list)
    #: viewport width -> the document's scroll width at that width (wider means sideways scrolling)
    scroll_widths: dict[int, int] = field(default_factory=dict)
    pdf_bytes: int = 0

    @property
    def errors(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions and error log entries, as text."""
        found = [
            f"console.{message['type']}: {message['text']}"
            for message in self.console
            if message["type"] in {"error", "warning", "assert"}
        ]
        found += [f"exception: {text}" for text in self.exceptions]
        found += [
            f"log.{entry.get('level')}: {entry.get('text')} ({entry.get('url', '')})"
            for entry in self.log_entries
            if entry.get("level") in {"error", "warning"}
        ]
        return found


def chromium_path() -> str:
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    pytest.fail("chromium is not installed: run scripts/install-test-services.sh (make test runs it)")


class _DevTools:
    """One page's DevTools connection: commands answered in order, events collected on the side."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, timeout: float = 30, **params: Any) -> dict[str, Any]:
        message_id = next(self._ids)
        self._socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self._socket.recv(timeout=max(deadline - time.monotonic(), 0.01)))
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 30) -> dict[str, Any]:
        for event in self.events:
            if event.get("method") == method:
                return event
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self._socket.recv(timeout=max(deadline - time.monotonic(), 0.01)))
            self.events.append(message)
            if message.get("method") == method:
                return message

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        with contextlib.suppress(TimeoutError):
            while (left := deadline - time.monotonic()) > 0:
                self.events.append(json.loads(self._socket.recv(timeout=left)))


@contextlib.contextmanager
def _chromium() -> Iterator[int]:
    """A started headless chromium; yields its DevTools port."""
    binary = chromium_path()
    # Chromium's helper processes may still write into the profile for a moment after the browser exits: a leftover
    # file there must not fail the test that used it.
    with tempfile.TemporaryDirectory(prefix="chromium-profile-", ignore_cleanup_errors=True) as profile:
        process = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + STARTUP_SECONDS
            while not (port_file.exists() and port_file.read_text().strip()):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"chromium did not start (exit code {process.poll()})")
                time.sleep(0.05)
            yield int(port_file.read_text().split()[0])
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _page_socket_url(port: int) -> str:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as response:
            pages = [target for target in json.load(response) if target.get("type") == "page"]
        if pages:
            return str(pages[0]["webSocketDebuggerUrl"])
        if time.monotonic() > deadline:
            pytest.fail("chromium opened no page")
        time.sleep(0.05)


def open_page(path: Path, *, screenshot: Path | None = None) -> PageResult:
    """Load `path` in headless chromium and report what it rendered and did (see the module docstring)."""
    result = PageResult()
    with _chromium() as port, connect(_page_socket_url(port), max_size=None, open_timeout=30) as socket:
        tools = _DevTools(socket)
        for domain in ("Page", "Runtime", "Log", "Network"):
            tools.send(f"{domain}.enable")
        width, height = LAPTOP
        tools.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        tools.send("Page.navigate", url=path.resolve().as_uri())
        tools.wait_for("Page.loadEventFired")
        tools.drain(0.3)  # late console messages and log entries
        result.dom = str(
            tools.send("Runtime.evaluate", expression="document.documentElement.outerHTML")["result"]["value"]
        )
        result.scroll_widths[width] = _scroll_width(tools)
        if screenshot is not None:
            content = tools.send("Page.getLayoutMetrics")["cssContentSize"]
            tools.send(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=int(content["height"]) + 1,
                deviceScaleFactor=1,
                mobile=False,
            )
            shot = tools.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
        phone_width, phone_height = PHONE
        tools.send(
            "Emulation.setDeviceMetricsOverride",
            width=phone_width,
            height=phone_height,
            deviceScaleFactor=2,
            mobile=True,
        )
        tools.drain(0.2)
        result.scroll_widths[phone_width] = _scroll_width(tools)
        tools.send("Emulation.clearDeviceMetricsOverride")
        pdf = tools.send("Page.printToPDF", timeout=60, printBackground=True)
        result.pdf_bytes = len(base64.b64decode(pdf["data"]))
        tools.drain(0.2)
        for event in tools.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled":
                text = " ".join(str(arg.get("value", arg.get("description", ""))) for arg in params.get("args", []))
                result.console.append({"type": params.get("type"), "text": text})
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                result.exceptions.append(str(details.get("exception", {}).get("description") or details.get("text")))
            elif method == "Log.entryAdded":
                result.log_entries.append(dict(params.get("entry", {})))
            elif method == "Network.requestWillBeSent":
                result.requested_urls.append(str(params.get("request", {}).get("url")))
    return result


def _scroll_width(tools: _DevTools) -> int:
    return int(tools.send("Runtime.evaluate", expression="document.documentElement.scrollWidth")["result"]["value"])
