"""The one-process baseline the pipeline is measured against: the same work, no Singer, no pipe, no network.

    python benchmarks/baseline.py --file rows.csv --target-config t.json

csv parsing (`csv.reader` over the streamed file, one dict per row like the tap emits), then the
target's own `EventBuilder` (the same mapping, normalisation and SHA-256 hashing, the same validation),
then JSON request bodies of up to 2000 events encoded exactly once (`{"data": [...]}`, msgspec like the
target's client) and dropped instead of sent. Prints one JSON object of counts and timings on stdout.
bench.py runs this as a child process so that its wall time and peak memory are measured the same way as
the tap's and the target's.
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import sys
import time
from pathlib import Path
from typing import Any

import msgspec
from target_snapchat_capi.capi import MAX_EVENTS_PER_REQUEST
from target_snapchat_capi.events import Event, EventBuilder, EventSettings


def run_baseline(
    csv_path: Path, target_config: dict[str, Any], stream_name: str, key_properties: list[str]
) -> dict[str, Any]:
    started = time.perf_counter()
    settings = EventSettings.from_config(target_config)
    batch_size = min(int(target_config.get("batch_size", MAX_EVENTS_PER_REQUEST)), MAX_EVENTS_PER_REQUEST)
    encode = msgspec.json.Encoder().encode
    outcomes: collections.Counter[str] = collections.Counter()
    rejections: collections.Counter[str] = collections.Counter()
    rows = events = bad_rows = batches = body_bytes = 0
    batch: list[dict[str, Any]] = []
    with csv_path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        width = len(header)
        schema = {"type": "object", "properties": {name: {"type": ["string", "null"]} for name in header}}
        builder = EventBuilder(settings, stream_name, schema, key_properties, outcomes)
        build = builder.build
        clock = time.time
        for row in reader:
            rows += 1
            if len(row) != width:
                bad_rows += 1  # the tap skips these too
                continue
            built = build(dict(zip(header, row, strict=True)), clock())
            if isinstance(built, Event):
                batch.append(built.body)
                if len(batch) == batch_size:
                    body_bytes += len(encode({"data": batch}))
                    batches += 1
                    events += len(batch)
                    batch = []
            else:
                rejections[built.reason] += 1
    if batch:
        body_bytes += len(encode({"data": batch}))
        batches += 1
        events += len(batch)
    seconds = time.perf_counter() - started
    return {
        "rows": rows,
        "events": events,
        "bad_rows": bad_rows,
        "rejected": sum(rejections.values()),
        "rejected_by_reason": dict(sorted(rejections.items())),
        "batches": batches,
        "body_bytes": body_bytes,
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds, 1) if seconds else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, required=True, help="the CSV file")
    parser.add_argument("--target-config", type=Path, required=True, help="the target's config JSON")
    parser.add_argument("--stream-name", default="offline_conversions")
    parser.add_argument("--key-property", action="append", default=[], help="key property (repeatable)")
    args = parser.parse_args(argv)
    config = json.loads(args.target_config.read_text(encoding="utf-8"))
    result = run_baseline(args.file, config, args.stream_name, args.key_property)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
