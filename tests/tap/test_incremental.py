"""State: unchanged, new, changed and same-mtime files; settle/start_date; pruning; replication key."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from tap_helpers import (
    CONVERSION_HEADER,
    TAP_EXE,
    conversion_rows,
    parse_lines,
    run_tap,
    write_csv,
    write_json,
)


def _config(tmp_path: Path, **extra: object) -> dict:
    return {"path": str(tmp_path / "drops" / "*.csv"), "key_properties": ["event_id"], **extra}


def _ids(records: list[dict]) -> list[str]:
    return [r["event_id"] for r in records]


def test_unchanged_new_changed_and_same_mtime_files(tmp_path: Path) -> None:
    drops = tmp_path / "drops"
    write_csv(drops / "a.csv", CONVERSION_HEADER, conversion_rows(0, 3), mtime=1_700_000_000)
    first = run_tap(_config(tmp_path))
    assert _ids(first.records) == ["ev0", "ev1", "ev2"]
    bookmark = first.files_state()[f"file://{drops}/a.csv"]
    assert bookmark["done"] is True and bookmark["rows"] == 3 and bookmark["size"] > 0
    assert bookmark["mtime"].startswith("2023-11-14T22:13:20")

    unchanged = run_tap(_config(tmp_path), state=first.final_state)
    assert unchanged.records == []

    # A new file with the SAME mtime as the one already read is still read (per-file bookmarks).
    write_csv(drops / "b.csv", CONVERSION_HEADER, conversion_rows(3, 2), mtime=1_700_000_000)
    new = run_tap(_config(tmp_path), state=unchanged.final_state)
    assert _ids(new.records) == ["ev3", "ev4"]

    # A changed file (new size and mtime) is read again from its start.
    write_csv(drops / "a.csv", CONVERSION_HEADER, conversion_rows(0, 4), mtime=1_700_000_900)
    changed = run_tap(_config(tmp_path), state=new.final_state)
    assert _ids(changed.records) == ["ev0", "ev1", "ev2", "ev3"]
    assert set(changed.files_state()) == {f"file://{drops}/a.csv", f"file://{drops}/b.csv"}

    # Same size, only the mtime moved (re-uploaded): the fingerprint changed, so it is read again.
    os.utime(drops / "b.csv", (1_700_001_000, 1_700_001_000))
    touched = run_tap(_config(tmp_path), state=changed.final_state)
    assert _ids(touched.records) == ["ev3", "ev4"]


def test_two_files_with_identical_mtime_are_both_read_across_runs(tmp_path: Path) -> None:
    drops = tmp_path / "drops"
    write_csv(drops / "z.csv", CONVERSION_HEADER, conversion_rows(0, 1), mtime=1_700_000_000)
    first = run_tap(_config(tmp_path))
    # "a.csv" sorts before "z.csv" and has the same mtime: a high-water mark would skip it.
    write_csv(drops / "a.csv", CONVERSION_HEADER, conversion_rows(1, 1), mtime=1_700_000_000)
    second = run_tap(_config(tmp_path), state=first.final_state)
    assert _ids(second.records) == ["ev1"]


def test_state_is_plain_json_emitted_per_file_and_every_n_rows(tmp_path: Path) -> None:
    drops = tmp_path / "drops"
    write_csv(drops / "a.csv", CONVERSION_HEADER, conversion_rows(0, 7), mtime=1_700_000_000)
    write_csv(drops / "b.csv", CONVERSION_HEADER, conversion_rows(7, 2), mtime=1_700_000_100)
    out = run_tap(_config(tmp_path, state_every_rows=3))
    a_url = f"file://{drops}/a.csv"
    progress = [
        s["bookmarks"]["offline_conversions"]["files"][a_url]["rows"]
        for s in out.states
        if a_url in s.get("bookmarks", {}).get("offline_conversions", {}).get("files", {})
    ]
    assert progress[:3] == [3, 6, 7]
    # Each STATE comes after the records it counts.
    seen = 0
    for message in out.messages:
        if message["type"] == "RECORD" and message["record"]["_sdc_source_file"] == a_url:
            seen += 1
        elif message["type"] == "STATE":
            files = message["value"]["bookmarks"]["offline_conversions"]["files"]
            if a_url in files:
                assert files[a_url]["rows"] <= seen
    final = out.final_state
    assert json.loads(json.dumps(final)) == final
    stream_state = final["bookmarks"]["offline_conversions"]
    assert "progress_markers" not in stream_state
    assert all(bookmark["done"] for bookmark in stream_state["files"].values())
    # No row content in state.
    assert "example.com" not in json.dumps(final)


def test_vanished_files_are_pruned_from_state(tmp_path: Path) -> None:
    drops = tmp_path / "drops"
    write_csv(drops / "a.csv", CONVERSION_HEADER, conversion_rows(0, 1))
    write_csv(drops / "b.csv", CONVERSION_HEADER, conversion_rows(1, 1))
    first = run_tap(_config(tmp_path))
    assert len(first.files_state()) == 2
    (drops / "a.csv").unlink()
    second = run_tap(_config(tmp_path), state=first.final_state)
    assert second.records == []
    assert list(second.files_state()) == [f"file://{drops}/b.csv"]


def test_settle_seconds_leaves_fresh_files_for_the_next_run(tmp_path: Path) -> None:
    drops = tmp_path / "drops"
    write_csv(drops / "old.csv", CONVERSION_HEADER, conversion_rows(0, 1), mtime=time.time() - 3600)
    write_csv(drops / "fresh.csv", CONVERSION_HEADER, conversion_rows(1, 1))
    out = run_tap(_config(tmp_path, settle_seconds=600))
    assert _ids(out.records) == ["ev0"]
    assert any("1 settling" in line for line in out.logs)
    later = run_tap(_config(tmp_path), state=out.final_state)
    assert _ids(later.records) == ["ev1"]


def test_start_date_ignores_older_files(tmp_path: Path) -> None:
    drops = tmp_path / "drops"
    write_csv(drops / "2019.csv", CONVERSION_HEADER, conversion_rows(0, 1), mtime=1_546_300_800)
    write_csv(drops / "2024.csv", CONVERSION_HEADER, conversion_rows(1, 1), mtime=1_704_067_200)
    out = run_tap(_config(tmp_path, start_date="2020-01-01T00:00:00Z"))
    assert _ids(out.records) == ["ev1"]


def test_replication_key_skips_rows_at_or_below_the_bookmark(tmp_path: Path) -> None:
    drops = tmp_path / "drops"
    header = ["event_id", "seq"]
    write_csv(drops / "a.csv", header, [["e1", 1], ["e3", 3], ["e2", 2]], mtime=1_700_000_000)
    config = _config(tmp_path, replication_key="seq", column_types={"seq": "integer"})
    first = run_tap(config)
    assert _ids(first.records) == ["e1", "e3", "e2"]
    stream_state = first.final_state["bookmarks"]["offline_conversions"]
    assert stream_state["replication_key"] == "seq" and stream_state["replication_key_value"] == 3
    # A cumulative export: old rows again plus new ones; only rows above 3 are sent.
    write_csv(drops / "b.csv", header, [["e1", 1], ["e3", 3], ["e4", 4], ["e5", 5]], mtime=1_700_000_100)
    second = run_tap(config, state=first.final_state)
    assert _ids(second.records) == ["e4", "e5"]
    assert second.final_state["bookmarks"]["offline_conversions"]["replication_key_value"] == 5


def test_replication_key_date_time_compares_instants(tmp_path: Path) -> None:
    drops = tmp_path / "drops"
    header = ["event_id", "at"]
    write_csv(drops / "a.csv", header, [["e1", "2024-01-01T10:00:00+02:00"]], mtime=1_700_000_000)
    config = _config(tmp_path, replication_key="at", column_types={"at": "date-time"})
    first = run_tap(config)
    # 09:00Z is after 08:00Z although the text "09:00:00+00:00" sorts before "10:00:00+02:00".
    write_csv(
        drops / "b.csv",
        header,
        [["e2", "2024-01-01T09:00:00+00:00"], ["e0", "2024-01-01T07:00:00Z"]],
        mtime=1_700_000_100,
    )
    second = run_tap(config, state=first.final_state)
    assert _ids(second.records) == ["e2"]


# -- resume after a kill ------------------------------------------------------------------------


def _read_until_killed(command: list[str], min_states: int) -> list[dict]:
    """Run the tap, SIGKILL it once it has emitted `min_states` mid-file STATEs, return its output."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    lines: list[bytes] = []
    states = 0
    for line in process.stdout:
        lines.append(line)
        if line.startswith(b'{"type":"STATE"') and b'"done":false' in line:
            states += 1
            if states >= min_states:
                process.send_signal(signal.SIGKILL)
                break
    lines.extend(process.stdout.read().splitlines(keepends=True))
    if lines and not lines[-1].endswith(b"\n"):
        lines.pop()  # the kill can cut the last message in half; a Singer consumer never saw it whole
    process.wait(30)
    assert process.returncode == -signal.SIGKILL, "the tap finished before it could be killed"
    return parse_lines(b"".join(lines).decode(errors="replace"))


def test_resume_after_kill_mid_file_loses_and_repeats_nothing(tmp_path: Path) -> None:
    drops = tmp_path / "drops"
    total = 60_000
    write_csv(drops / "a.csv", CONVERSION_HEADER, conversion_rows(0, 20_000), mtime=1_700_000_000)
    write_csv(drops / "b.csv", CONVERSION_HEADER, conversion_rows(20_000, 40_000), mtime=1_700_000_100)
    config_path = write_json(tmp_path / "config.json", _config(tmp_path, state_every_rows=500))

    killed = _read_until_killed([TAP_EXE, "--config", str(config_path)], min_states=60)
    states = [m["value"] for m in killed if m["type"] == "STATE"]
    last_state = states[-1]
    files = last_state["bookmarks"]["offline_conversions"]["files"]
    assert any(not bookmark["done"] for bookmark in files.values()), "killed between files, not mid-file"

    # What the target had confirmed: every record before the last STATE.
    last_state_index = max(i for i, m in enumerate(killed) if m["type"] == "STATE")
    confirmed = [m["record"]["event_id"] for m in killed[:last_state_index] if m["type"] == "RECORD"]
    assert len(confirmed) == sum(bookmark["rows"] for bookmark in files.values())

    state_path = write_json(tmp_path / "state.json", last_state)
    rerun = subprocess.run(
        [TAP_EXE, "--config", str(config_path), "--state", str(state_path)],
        capture_output=True,
        check=True,
        timeout=120,
    )
    resumed = [m["record"]["event_id"] for m in parse_lines(rerun.stdout.decode()) if m["type"] == "RECORD"]

    # No row lost, none at or before the bookmark repeated.
    assert len(resumed) + len(confirmed) == total
    assert set(resumed) | set(confirmed) == {f"ev{i}" for i in range(total)}
    assert not set(resumed) & set(confirmed)
