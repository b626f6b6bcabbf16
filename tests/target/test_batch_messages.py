"""BATCH messages (our tap's batch mode, jsonl + gzip): their records take exactly the RECORD path.

Before the fix the sink ignored the records the SDK read from batch files: 0 records, exit 0, and the STATE after the
batch moved the bookmarks past data never sent.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from target_snapchat_capi.sandbox import SandboxServer

from tests.target.target_cli import sandbox_config

BIN = Path(sys.executable).parent


def _iso(seconds_ago: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - seconds_ago))


def _tap_messages(tmp_path: Path, rows: list[str]) -> Path:
    drops = tmp_path / "drops"
    drops.mkdir()
    (drops / "sales.csv").write_text("Order ID,Purchased At,Email,Amount,Currency\n" + "".join(rows))
    tap_config = tmp_path / "tap.json"
    tap_config.write_text(
        json.dumps(
            {
                "files": [{"name": "sales", "path": str(drops / "*.csv"), "key_properties": ["Order ID"]}],
                "batch_config": {
                    "encoding": {"format": "jsonl", "compression": "gzip"},
                    "storage": {"root": (tmp_path / "batches").as_uri(), "prefix": "batch-"},
                },
            }
        )
    )
    (tmp_path / "batches").mkdir()
    messages = tmp_path / "messages.jsonl"
    with messages.open("wb") as out:
        subprocess.run([str(BIN / "tap-offline-csv"), "--config", str(tap_config)], stdout=out, check=True, timeout=60)
    assert b'"type":"BATCH"' in messages.read_bytes() or b'"type": "BATCH"' in messages.read_bytes()
    return messages


def _run_target(tmp_path: Path, sandbox: SandboxServer, messages: Path, **extra: object) -> subprocess.CompletedProcess:
    config = {
        **sandbox_config(tmp_path, sandbox.url),
        "mapping": {"event_time": "Purchased At", "order_id": "Order ID", "em": "Email"},
        **extra,
    }
    config_path = tmp_path / "target.json"
    config_path.write_text(json.dumps(config))
    return subprocess.run(
        [str(BIN / "target-snapchat-capi"), "--config", str(config_path), "--input", str(messages)],
        capture_output=True,
        timeout=60,
        check=False,
    )


def test_batch_records_are_delivered_rejected_and_counted_like_records(tmp_path: Path, sandbox: SandboxServer) -> None:
    rows = [f"B-{n},{_iso(3600 + n)},p{n}@example.com,{10 + n},USD\n" for n in range(5)]
    rows.append(f"B-bad,{_iso(3600)},no-email-here,5,USD\n")  # no usable match key: a counted rejection
    messages = _tap_messages(tmp_path, rows)
    result = _run_target(tmp_path, sandbox, messages)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["records_read"] == 6
    assert report["events_delivered"] == 5
    assert report["rejected_by_reason"] == {"missing_match_keys": 1}
    assert sorted(event["event_id"] for event in sandbox.state.events()) == [f"B-{n}" for n in range(5)]
    rejects = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert [reject["source_line"] for reject in rejects] == [7]
    states = [json.loads(line) for line in result.stdout.decode().splitlines() if line.strip()]
    assert states, "the STATE after the batch goes out once its records are delivered"


def test_batch_records_go_through_stream_maps(tmp_path: Path, sandbox: SandboxServer) -> None:
    messages = _tap_messages(tmp_path, [f"M-{n},{_iso(7200)},m{n}@example.com,3,USD\n" for n in range(3)])
    result = _run_target(
        tmp_path, sandbox, messages, stream_maps={"sales": {"Order ID": "'mapped-' + record['Order ID']"}}
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert sorted(event["event_id"] for event in sandbox.state.events()) == [f"mapped-M-{n}" for n in range(3)]


def test_a_failed_batch_delivery_emits_no_state(tmp_path: Path, sandbox: SandboxServer) -> None:
    messages = _tap_messages(tmp_path, [f"F-{n},{_iso(3600)},f{n}@example.com,3,USD\n" for n in range(3)])
    result = _run_target(tmp_path, sandbox, messages, access_token="not-the-token")
    assert result.returncode != 0
    assert result.stdout.decode().strip() == ""
