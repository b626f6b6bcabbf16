"""dry_run writes exactly the request bodies a live run would post: same batch size, already hashed."""

from __future__ import annotations

import json
import time
from pathlib import Path

from target_snapchat_capi.sandbox import DEFAULT_PIXEL_ID

from tests.target.target_cli import run_target


def test_dry_run_bodies_follow_batch_size_not_the_sink_size(tmp_path: Path) -> None:
    now = int(time.time()) - 3600
    schema = {"properties": {"email": {"type": "string"}, "ts": {"type": "integer"}, "amount": {"type": "string"}}}
    lines = [{"type": "SCHEMA", "stream": "s", "key_properties": [], "schema": schema}]
    lines += [
        {"type": "RECORD", "stream": "s", "record": {"email": f"P{n}@Example.com", "ts": now, "amount": "5"}}
        for n in range(10)
    ]
    config = {
        "pixel_id": DEFAULT_PIXEL_ID,
        "access_token": "unused-in-dry-run",
        "dry_run": True,
        "dry_run_path": str(tmp_path / "bodies.jsonl"),
        "batch_size": 2,
        "max_concurrency": 4,
        "default_currency": "EUR",
        "mapping": {"event_time": "ts"},
        "report_path": str(tmp_path / "report.json"),
        "report_html_path": str(tmp_path / "report.html"),
        "report_history_path": str(tmp_path / "history.jsonl"),
        "reject_path": str(tmp_path / "rejects.jsonl"),
    }
    result = run_target(tmp_path, config, lines)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    bodies = [json.loads(line) for line in (tmp_path / "bodies.jsonl").read_text().splitlines()]
    assert [len(body["data"]) for body in bodies] == [2, 2, 2, 2, 2]
    emails = [event["user_data"]["em"][0] for body in bodies for event in body["data"]]
    assert all(len(value) == 64 for value in emails)
    assert result.stdout.decode().strip() == ""  # a dry run saves no state
