"""Events built in worker processes (build_workers, building.py) are exactly the events the main thread builds.

The same fuzzed corpus runs through the real CLI twice, as a dry run: once building in the main thread, once in
two worker processes. Request bodies, the rejects file and the report's counts must be identical, byte for byte
and in order. The corpus mixes a typed stream, a loose one (no schema: the mapping comes from its first record),
line-item orders (interleaved, some too late, some missing a key property) and cells of every JSON type.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from target_snapchat_capi.sandbox import SandboxServer

from tests.target.target_cli import TARGET, run_target, sandbox_config
from tests.waiting import wait_until

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import datagen

COLUMNS = list(datagen.HEADER)
LINE_COLUMNS = ["SKU", "Quantity", "Item Price"]
#: cells a real export or CRM tap may carry in any column
ODD_CELLS: list[Any] = [
    "",
    "   ",
    None,
    0,
    -1,
    12.5,
    1e21,
    True,
    [],
    ["a", "b"],
    {},
    {"value": "x"},
    {"value": 7, "timestamp": "2026-01-01"},
    {"nested": {"deeper": [1, 2]}},
    "n/a",
    "NULL",
    "\ufeff\u200b",
    "\x00",
    "🙂" * 3,
    "x" * 3000,
    "\uff11\uff12\uff13\uff14\uff15",  # full-width digits
    "٠١٢٣٤٥٦٧٨٩",  # Arabic-Indic digits
    "+1 (555) 010-0000 ext. 5",
    "00 44 20 7946 0000",
    "2026-13-45T99:99:99Z",
    "31.12.2026",
    "1e400",
    "-0",
    "€12,50",
]


def _fuzzed(value: str, rng: random.Random) -> Any:
    """A cell as a messy export might carry it instead of `value`."""
    choice = rng.randrange(8)
    if choice == 0:
        return rng.choice(ODD_CELLS)
    if choice == 1:
        return f"  {value.upper()}\t"
    if choice == 2:
        return unicodedata.normalize("NFD", value)
    if choice == 3:
        return value[: rng.randrange(len(value) + 1)]
    if choice == 4:
        return "".join(rng.choice("0123456789 +-().") for _ in range(rng.randrange(1, 18)))
    if choice == 5:
        return value + rng.choice(["\u00a0", "\u2028", "'", '"', "\\", ";"])
    if choice == 6:
        return rng.choice([int, float])(rng.randrange(-(10**6), 10**6))
    return value.lower()


def _rows(count: int, seed: int, fuzz: float) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for row in datagen.iter_sample_rows(count, seed=seed, now=datetime.now(UTC), bad_fraction=0.05):
        record: dict[str, Any] = dict(zip(COLUMNS, row.fields[: len(COLUMNS)], strict=True))
        for column in COLUMNS:
            if rng.random() < fuzz:
                record[column] = _fuzzed(str(record[column]), rng)
        yield record


def _corpus(seed: int = 11) -> list[dict[str, Any]]:
    """Singer messages of three streams, interleaved."""
    typed = {"properties": {column: {"type": ["string", "null"]} for column in COLUMNS}}
    line_schema = {"properties": {**typed["properties"], **{column: {} for column in LINE_COLUMNS}, "Line": {}}}
    messages: list[dict[str, Any]] = [
        {"type": "SCHEMA", "stream": "purchases", "key_properties": ["Order ID"], "schema": typed},
        {"type": "SCHEMA", "stream": "crm_deals", "key_properties": [], "schema": {"properties": {}}},
        {"type": "SCHEMA", "stream": "line_items", "key_properties": ["Order ID", "Line"], "schema": line_schema},
    ]
    rng = random.Random(seed)
    purchases = _rows(3000, seed, 0.08)
    deals = _rows(1200, seed + 1, 0.08)
    orders = list(_rows(700, seed + 2, 0.03))
    line_number = 0
    for position, record in enumerate(purchases):
        record["_sdc_source_file"], record["_sdc_source_lineno"] = "purchases.csv", position + 2
        messages.append({"type": "RECORD", "stream": "purchases", "record": record})
        if position % 3 == 0 and (deal := next(deals, None)) is not None:
            messages.append({"type": "RECORD", "stream": "crm_deals", "record": deal})
        if position % 2 == 0 and orders:
            order = orders[rng.randrange(min(len(orders), 40))]  # lines of nearby orders interleave
            line_number += 1
            line = {
                **order,
                "SKU": f"SKU-{rng.randrange(30)}",
                "Quantity": rng.choice(["1", "2", 3, "x", ""]),
                "Item Price": rng.choice(["9.99", "12", 4.5, "-1"]),
                "Line": line_number,
                "_sdc_source_file": "lines.csv",
                "_sdc_source_lineno": line_number + 1,
            }
            if rng.random() < 0.02:
                del line["Line"]  # no key property: rejected by the sink itself, in its place
            if rng.random() < 0.3:
                orders.remove(order)
            messages.append({"type": "RECORD", "stream": "line_items", "record": line})
        if position % 1000 == 999:
            messages.append({"type": "STATE", "value": {"at": position}})
    return messages


def _dry_run(tmp_path: Path, messages: list[dict[str, Any]], build_workers: int) -> subprocess.CompletedProcess:
    tmp_path.mkdir()
    config = {
        **sandbox_config(tmp_path, "http://127.0.0.1:9"),
        "dry_run": True,
        "dry_run_path": str(tmp_path / "bodies.jsonl"),
        "default_phone_country": "US",
        "default_currency": "USD",
        "mapping": {"event_time": "Purchased At", "event_name": "Status"},
        "event_name_map": {"Sale": "PURCHASE", "Refund": "CUSTOM_EVENT_1"},
        "max_reject_ratio": 1,
        "max_open_orders": 25,  # some lines arrive after their order went out
        "build_workers": build_workers,
    }
    result = run_target(tmp_path, config, messages)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    return result


def _counts(report: Any) -> Any:
    """The report without what depends on the clock."""
    if isinstance(report, dict):
        return {
            key: _counts(value)
            for key, value in report.items()
            if not any(word in key for word in ("time", "started", "finished", "duration", "seconds", "per_second"))
        }
    if isinstance(report, list):
        return [_counts(value) for value in report]
    return report


def test_workers_build_exactly_what_the_main_thread_builds(tmp_path: Path) -> None:
    messages = _corpus()
    inline = _dry_run(tmp_path / "inline", messages, build_workers=0)
    workers = _dry_run(tmp_path / "workers", messages, build_workers=2)
    assert inline.stdout == workers.stdout == b""  # a dry run emits no STATE

    bodies = (tmp_path / "inline" / "bodies.jsonl").read_bytes()
    assert bodies == (tmp_path / "workers" / "bodies.jsonl").read_bytes()
    events = [event for line in bodies.splitlines() for event in json.loads(line)["data"]]
    assert len(events) > 2000
    assert any("contents" in event.get("custom_data", {}) for event in events)  # orders were built

    def rejects(run: str) -> list[dict[str, Any]]:
        lines = (tmp_path / run / "rejects.jsonl").read_text().splitlines()
        return [{k: v for k, v in json.loads(line).items() if k != "run_started_at"} for line in lines]

    assert rejects("inline") == rejects("workers")
    reasons = {line["reason"] for line in rejects("inline")}
    assert {"missing_key_property", "late_order_line", "invalid_event_time"} <= reasons

    inline_report = json.loads((tmp_path / "inline" / "report.json").read_text())
    workers_report = json.loads((tmp_path / "workers" / "report.json").read_text())
    assert _counts(inline_report) == _counts(workers_report)
    assert sum(inline_report["normalisation"].values()) > 0  # outcomes counted in the workers came back


def _worker_pids(target_pid: int) -> list[int]:
    children = Path(f"/proc/{target_pid}/task/{target_pid}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def _record(n: int) -> dict[str, Any]:
    record = {"email": f"person{n}@example.com", "ts": int(time.time()) - 60, "amount": "5"}
    return {"type": "RECORD", "stream": "s", "record": record}


def _start_target(tmp_path: Path, api_url: str) -> subprocess.Popen[bytes]:
    config = {**sandbox_config(tmp_path, api_url), "mapping": {"event_time": "ts"}, "default_currency": "EUR"}
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    return subprocess.Popen(
        [*TARGET, "--config", str(config_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


SCHEMA = {
    "type": "SCHEMA",
    "stream": "s",
    "key_properties": [],
    "schema": {"properties": {"email": {}, "ts": {"type": "integer"}, "amount": {}}},
}


def _send(process: subprocess.Popen[bytes], messages: list[dict[str, Any]]) -> None:
    assert process.stdin is not None
    try:
        process.stdin.write("".join(json.dumps(message) + "\n" for message in messages).encode())
        process.stdin.flush()
    except BrokenPipeError:
        pass  # the target stopped reading


def test_a_worker_that_dies_fails_the_run_clearly_and_moves_no_bookmark(tmp_path: Path, sandbox: SandboxServer) -> None:
    process = _start_target(tmp_path, sandbox.url)
    _send(process, [SCHEMA, _record(0)])
    wait_until(lambda: _worker_pids(process.pid), timeout=30, what="the build worker to start")
    workers = _worker_pids(process.pid)
    os.kill(workers[0], signal.SIGKILL)
    _send(process, [*(_record(n) for n in range(1, 1200)), {"type": "STATE", "value": {"bookmark": 1}}])
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 1, stderr.decode()[-2000:]
    assert b"an event-building worker process stopped (exit code -9)" in stderr
    assert b"build_workers: 0" in stderr  # what to do about it
    assert stdout == b""  # no STATE: those records were never sent
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == "failed"
    assert "worker process stopped" in report["error"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_workers_end_with_the_target(tmp_path: Path, sandbox: SandboxServer, signum: int) -> None:
    """However the target ends, its workers do not outlive it (their stdin closes)."""
    process = _start_target(tmp_path, sandbox.url)
    _send(process, [SCHEMA, _record(0)])
    wait_until(lambda: _worker_pids(process.pid), timeout=30, what="the build worker to start")
    workers = _worker_pids(process.pid)
    process.send_signal(signum)
    process.communicate(timeout=60)
    assert process.returncode in (128 + signum, -signum)

    def gone() -> bool:
        return not any(Path(f"/proc/{pid}").exists() and _is_running(pid) for pid in workers)

    wait_until(gone, timeout=30, what="the worker to exit")


def _is_running(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status  # a zombie has exited


def test_a_worker_given_a_broken_message_says_where_never_what(tmp_path: Path) -> None:
    """A message the worker cannot decode (not from the target) ends it with exit code 1 and the traceback's frames;
    the bytes it read, which would be a record, are not quoted."""
    secret = b"secret.person@example.com"
    garbage = b"\x80\x05not a pickle " + secret
    message = len(garbage).to_bytes(8, "little") + garbage
    worker = subprocess.run(
        [sys.executable, "-m", "target_snapchat_capi.build_worker"],
        input=message,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert worker.returncode == 1
    assert b"event-building worker: UnpicklingError (message withheld) at" in worker.stderr
    assert secret not in worker.stderr + worker.stdout
