"""The tap's own BATCH mode (singer-sdk batch_config, jsonl + gzip): every row in the batch files, once, and a STATE
only ever after the BATCH messages that hold the records it counts."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from urllib.parse import urlsplit

from tap_helpers import CONVERSION_HEADER, conversion_rows, run_tap, write_csv


def _config(tmp_path: Path, **extra: object) -> dict:
    return {
        "path": str(tmp_path / "drops" / "*.csv"),
        "key_properties": ["event_id"],
        "batch_config": {
            "encoding": {"format": "jsonl", "compression": "gzip"},
            "storage": {"root": f"file://{tmp_path / 'batches'}", "prefix": "batch-"},
            "batch_size": 1000,
        },
        **extra,
    }


def _batch_records(manifest: list[str]) -> list[dict]:
    records = []
    for url in manifest:
        with gzip.open(urlsplit(url).path, "rt") as lines:
            records.extend(json.loads(line) for line in lines)
    return records


def test_batch_mode_writes_every_row_once_and_state_after_its_batches(tmp_path: Path) -> None:
    (tmp_path / "batches").mkdir()
    write_csv(tmp_path / "drops" / "a.csv", CONVERSION_HEADER, conversion_rows(0, 2500), mtime=1_700_000_000)
    write_csv(tmp_path / "drops" / "b.csv", CONVERSION_HEADER, conversion_rows(2500, 700), mtime=1_700_000_100)
    # state_every_rows makes the extraction ask for checkpoints mid-batch: in batch mode the SDK's STATE after
    # each BATCH message is the only one.
    out = run_tap(_config(tmp_path, state_every_rows=100))
    assert not [m for m in out.messages if m["type"] == "RECORD"]
    in_batches = 0
    for message in out.messages:
        if message["type"] == "BATCH":
            assert message["encoding"] == {"format": "jsonl", "compression": "gzip"}
            in_batches += len(_batch_records(message["manifest"]))
        elif message["type"] == "STATE":
            files = message["value"]["bookmarks"].get("offline_conversions", {}).get("files", {})
            assert sum(bookmark["rows"] for bookmark in files.values()) <= in_batches
    records = [
        record
        for message in out.messages
        if message["type"] == "BATCH"
        for record in _batch_records(message["manifest"])
    ]
    assert sorted(r["event_id"] for r in records) == sorted(f"ev{i}" for i in range(3200))
    assert all(bookmark["done"] for bookmark in out.files_state().values())
    # The next run has nothing new.
    again = run_tap(_config(tmp_path), state=out.final_state)
    assert not [m for m in again.messages if m["type"] == "BATCH"]
