"""Helpers for the tap tests: run the tap in-process or through its CLI and split its output."""

from __future__ import annotations

import copy
import io
import json
import logging
import os
import subprocess
import sys
import typing as t
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

from tap_offline_csv.tap import TapOfflineCSV

TAP_EXE = str(Path(sys.executable).parent / "tap-offline-csv")


@dataclass
class TapOutput:
    """The Singer messages a run produced, split by type."""

    messages: list[dict[str, t.Any]]
    stderr: str = ""
    returncode: int = 0
    logs: list[str] = field(default_factory=list)

    @property
    def records(self) -> list[dict[str, t.Any]]:
        return [m["record"] for m in self.messages if m["type"] == "RECORD"]

    def records_of(self, stream: str) -> list[dict[str, t.Any]]:
        return [m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream]

    @property
    def states(self) -> list[dict[str, t.Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def final_state(self) -> dict[str, t.Any]:
        return self.states[-1]

    @property
    def schemas(self) -> list[dict[str, t.Any]]:
        return [m for m in self.messages if m["type"] == "SCHEMA"]

    def files_state(self, stream: str = "offline_conversions") -> dict[str, t.Any]:
        return self.final_state["bookmarks"][stream]["files"]


def parse_lines(raw: str) -> list[dict[str, t.Any]]:
    return [json.loads(line) for line in raw.splitlines() if line.strip()]


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.getMessage()}")


def run_tap(config: dict[str, t.Any], state: dict[str, t.Any] | None = None) -> TapOutput:
    """Run a full sync in this process; capture stdout and every log line (all levels)."""
    handler = _ListHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    previous_level = root.level
    root.setLevel(logging.DEBUG)
    buffer = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    try:
        with redirect_stdout(buffer):
            tap = TapOfflineCSV(config=copy.deepcopy(config), state=copy.deepcopy(state or {}), parse_env_config=False)
            tap.sync_all()
            buffer.flush()
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)
    raw = t.cast("io.BytesIO", buffer.buffer).getvalue().decode()
    return TapOutput(messages=parse_lines(raw), logs=handler.lines)


def write_json(path: Path, value: t.Any) -> Path:
    path.write_text(json.dumps(value))
    return path


def run_cli(
    tmp_path: Path,
    config: dict[str, t.Any],
    *args: str,
    state: dict[str, t.Any] | None = None,
    timeout: float = 60,
) -> TapOutput:
    """Run the ``tap-offline-csv`` executable like a user would."""
    config_path = write_json(tmp_path / "config.json", config)
    command = [TAP_EXE, "--config", str(config_path), *args]
    if state is not None:
        command += ["--state", str(write_json(tmp_path / "state.json", state))]
    env = {**os.environ, "PYTHONUNBUFFERED": "0"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    singer_output = not {"--discover", "--about"} & set(args)
    messages = parse_lines(done.stdout) if singer_output and done.returncode == 0 else []
    output = TapOutput(messages=messages, stderr=done.stderr, returncode=done.returncode)
    output.stdout = done.stdout  # type: ignore[attr-defined]
    return output


def write_csv(path: Path, header: list[str], rows: list[list[t.Any]], *, mtime: float | None = None) -> Path:
    """Write a simple CSV (no quoting needed by the callers) and optionally set its mtime."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(header)] + [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def conversion_rows(start: int, count: int) -> list[list[t.Any]]:
    """Rows of a small offline-conversion file; each has a unique event_id."""
    return [
        [f"ev{i}", f"user{i}@example.com", f"{i}.5", f"2024-01-{1 + i % 28:02d}T10:00:00+00:00"]
        for i in range(start, start + count)
    ]


CONVERSION_HEADER = ["event_id", "email", "value", "event_time"]
