"""Issue 8.18: a config error is one line naming the setting, logged once, and the report is still written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from target_snapchat_capi.sandbox import DEFAULT_TOKEN

from tests.target.target_cli import run_target, sandbox_config


@pytest.mark.parametrize(
    ("setting", "value"),
    [("default_currency", "ZZZZ"), ("batch_size", "lots"), ("source_timezone", "Mars/Olympus")],
)
def test_a_config_error_is_one_line_and_the_report_says_so(tmp_path: Path, setting: str, value: object) -> None:
    config = {
        **sandbox_config(tmp_path, "http://127.0.0.1:9"),
        setting: value,
    }
    result = run_target(tmp_path, config, [])
    stderr = result.stderr.decode()
    assert result.returncode == 1
    assert "Traceback" not in stderr
    naming = [line for line in stderr.splitlines() if setting in line]
    assert len(naming) == 1, stderr  # once, on one line
    assert "ERROR" in naming[0]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == "failed"
    assert setting in report["error"]
    assert DEFAULT_TOKEN not in stderr + json.dumps(report)
