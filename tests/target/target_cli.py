"""Run the real target CLI on a list of Singer messages, as a separate process (the way Meltano runs it)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from target_snapchat_capi.sandbox import DEFAULT_PIXEL_ID, DEFAULT_TOKEN

BIN = Path(sys.executable).parent
TARGET = [str(BIN / "target-snapchat-capi")]


def run_target(
    tmp_path: Path,
    config: dict[str, Any],
    messages: list[dict[str, Any]],
    *,
    command: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Write the messages and config under tmp_path and run `command` (the target by default) on them."""
    config_path, input_path = _write_run_files(tmp_path, config, messages)
    return subprocess.run(
        [*(command or TARGET), "--config", str(config_path), "--input", str(input_path)],
        capture_output=True,
        timeout=60,
        check=False,
        env={"PATH": str(BIN), **(env or {})},
    )


def run_checking_each_state(
    tmp_path: Path,
    config: dict[str, Any],
    messages: list[dict[str, Any]],
    check_state: Callable[[dict[str, Any]], None],
) -> list[dict[str, Any]]:
    """Run the target on `messages` and call `check_state` with each STATE value the moment the target prints it,
    while the run goes on (so that it can look at the sandbox right then); the run must succeed. The STATE values,
    in order."""
    config_path, input_path = _write_run_files(tmp_path, config, messages)
    process = subprocess.Popen(
        [*TARGET, "--config", str(config_path), "--input", str(input_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    states = []
    try:
        for line in process.stdout:
            state = json.loads(line)
            check_state(state)
            states.append(state)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:  # a failed check: do not leave the target running
            process.kill()
            process.wait(timeout=20)
    return states


def _write_run_files(tmp_path: Path, config: dict[str, Any], messages: list[dict[str, Any]]) -> tuple[Path, Path]:
    """The config file and the input file (one message a line) of a run, under tmp_path."""
    input_path = tmp_path / "in.jsonl"
    input_path.write_text("".join(json.dumps(message) + "\n" for message in messages))
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    return config_path, input_path


def sandbox_config(out: Path, api_url: str) -> dict[str, Any]:
    """The sandbox's pixel and token, and every output file of the run under `out`."""
    return {
        "pixel_id": DEFAULT_PIXEL_ID,
        "access_token": DEFAULT_TOKEN,
        "api_url": api_url,
        "report_path": str(out / "report.json"),
        "report_html_path": str(out / "report.html"),
        "report_history_path": str(out / "history.jsonl"),
        "reject_path": str(out / "rejects.jsonl"),
    }
