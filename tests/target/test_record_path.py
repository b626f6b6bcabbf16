"""Records of streams with and without stream maps take the same path: the SDK's hooks and its record-count metric."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from target_snapchat_capi.sandbox import SandboxServer

from tests.target.target_cli import run_target, sandbox_config

# The real CLI, with the sink's public preprocess_record hook counting its calls on stderr.
COUNTING_TARGET = """
import sys
from target_snapchat_capi.sinks import SnapchatCAPISink
original = SnapchatCAPISink.preprocess_record
def preprocess_record(self, record, context):
    print("PREPROCESSED", file=sys.stderr)
    return original(self, record, context)
SnapchatCAPISink.preprocess_record = preprocess_record
from target_snapchat_capi.target import TargetSnapchatCAPI
TargetSnapchatCAPI.cli()
"""
RECORDS = 7


def _record_count_metric(stderr: str) -> int:
    total = 0
    for line in stderr.splitlines():
        if "METRIC:" in line and '"record_count"' in line:
            total += json.loads(line.split("METRIC:", 1)[1])["value"]
    return total


@pytest.mark.parametrize("stream_maps", [None, {"s": {"extra": "'x'"}}], ids=["no stream maps", "stream maps"])
def test_every_record_goes_through_the_sdk_hooks_and_metric(
    tmp_path: Path, sandbox: SandboxServer, stream_maps: dict | None
) -> None:
    schema = {"properties": {"email": {"type": "string"}, "ts": {"type": "integer"}}}
    messages = [{"type": "SCHEMA", "stream": "s", "key_properties": [], "schema": schema}]
    messages += [
        {"type": "RECORD", "stream": "s", "record": {"email": f"p{n}@example.com", "ts": int(time.time())}}
        for n in range(RECORDS)
    ]
    config = {
        **sandbox_config(tmp_path, sandbox.url),
        "mapping": {"event_time": "ts"},
        "event_name": "SIGN_UP",
    }
    if stream_maps:
        config["stream_maps"] = stream_maps
    result = run_target(tmp_path, config, messages, command=[sys.executable, "-c", COUNTING_TARGET])
    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr[-2000:]
    assert stderr.count("PREPROCESSED") == RECORDS
    assert _record_count_metric(stderr) == RECORDS
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["records_read"] == report["events_delivered"] == RECORDS
