"""Run the real target CLI on a list of Singer messages, as a separate process (the way Meltano runs it)."""

from __future__ import annotations

import json
import subprocess
import sys
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
    input_path = tmp_path / "in.jsonl"
    input_path.write_text("".join(json.dumps(message) + "\n" for message in messages))
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    return subprocess.run(
        [*(command or TARGET), "--config", str(config_path), "--input", str(input_path)],
        capture_output=True,
        timeout=60,
        check=False,
        env={"PATH": str(BIN), **(env or {})},
    )


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
