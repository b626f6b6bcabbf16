"""STATE is paced: at most every few seconds of progress and at the end, its total bytes a small multiple of the
final state's size however many files a run reads (a STATE per file grew as n²)."""

from __future__ import annotations

import json
from pathlib import Path

from tap_helpers import CONVERSION_HEADER, conversion_rows, run_tap, write_csv
from tap_offline_csv.extract import SMALL_STATE_BYTES, STATE_BUDGET_FACTOR, StateCadence


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_many_files_cost_a_small_multiple_of_the_final_state(tmp_path: Path) -> None:
    drops = tmp_path / "drops"
    for i in range(1500):
        write_csv(drops / f"f{i:05d}.csv", CONVERSION_HEADER, conversion_rows(i, 1), mtime=1_700_000_000 + i)
    out = run_tap({"path": str(drops / "*.csv"), "key_properties": ["event_id"]})
    assert len(out.records) == 1500
    sizes = [len(json.dumps(message)) for message in out.messages if message["type"] == "STATE"]
    final = sizes[-1]
    assert len(out.files_state()) == 1500 and all(b["done"] for b in out.files_state().values())
    assert sum(sizes) <= (STATE_BUDGET_FACTOR + 2) * final, (len(sizes), sum(sizes), final)


def test_state_is_due_by_time_not_per_record_or_file() -> None:
    clock = FakeClock()
    cadence = StateCadence(interval_seconds=5, clock=clock)
    assert not any(cadence.tick() for _ in range(10_000))  # no time passed: no STATE however many records
    clock.now = 5.0
    assert any(cadence.tick() for _ in range(64))
    cadence.wrote(1000)
    assert not cadence.due()
    clock.now = 10.0
    assert cadence.due()


def test_a_big_state_is_repeated_only_within_the_byte_budget() -> None:
    clock = FakeClock()
    cadence = StateCadence(interval_seconds=1, clock=clock)
    size = SMALL_STATE_BYTES * 4
    written = 0
    for second in range(1, 100):
        clock.now = float(second)
        if cadence.due():
            cadence.wrote(size)
            written += 1
    assert written == STATE_BUDGET_FACTOR
    # A small state (one file being read for a long time) keeps its checkpoints every interval.
    small = StateCadence(interval_seconds=1, clock=clock)
    count = 0
    for second in range(100, 200):
        clock.now = float(second)
        if small.due():
            small.wrote(500)
            count += 1
    assert count == 100


def test_every_rows_still_checkpoints_by_count_when_set() -> None:
    cadence = StateCadence(interval_seconds=3600, every_rows=3, clock=FakeClock())
    assert [cadence.tick() for _ in range(3)] == [False, False, True]
