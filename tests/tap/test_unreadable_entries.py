"""A dangling symlink, a symlink loop, a pipe, or a file deleted between listing and reading is set aside with its
reason in the state, like other unreadable files; the rest of the folder is read."""

from __future__ import annotations

import io
import json
import os
from contextlib import redirect_stdout
from pathlib import Path

from tap_helpers import CONVERSION_HEADER, conversion_rows, parse_lines, run_tap, write_csv
from tap_offline_csv.tap import TapOfflineCSV


def _folder(tmp_path: Path) -> Path:
    drops = tmp_path / "drops"
    write_csv(drops / "a.csv", CONVERSION_HEADER, conversion_rows(0, 2), mtime=1_700_000_100)
    write_csv(drops / "z.csv", CONVERSION_HEADER, conversion_rows(2, 2), mtime=1_700_000_300)
    (drops / "b_dangling.csv").symlink_to(drops / "nowhere.csv")
    (drops / "c_loop1.csv").symlink_to(drops / "c_loop2.csv")
    (drops / "c_loop2.csv").symlink_to(drops / "c_loop1.csv")
    os.mkfifo(drops / "d_pipe.csv")
    return drops


def test_broken_entries_are_set_aside_and_the_rest_is_read(tmp_path: Path) -> None:
    drops = _folder(tmp_path)
    out = run_tap({"path": str(drops), "key_properties": ["event_id"]})
    assert sorted(r["event_id"] for r in out.records) == ["ev0", "ev1", "ev2", "ev3"]
    files = out.files_state()
    assert files[f"file://{drops}/b_dangling.csv"]["error"] == "a dangling symbolic link (its target does not exist)"
    assert files[f"file://{drops}/c_loop1.csv"]["error"] == "a symbolic link loop"
    assert files[f"file://{drops}/d_pipe.csv"]["error"] == "not a regular file (a device, socket or pipe)"
    assert all(bookmark["done"] for bookmark in files.values())
    # Set aside, not forgotten: the next run does not stall on them either, and reads the link once it is fixed.
    write_csv(drops / "nowhere.csv", CONVERSION_HEADER, conversion_rows(10, 1), mtime=1_700_000_200)
    again = run_tap({"path": str(drops), "key_properties": ["event_id"]}, state=out.final_state)
    assert sorted(r["event_id"] for r in again.records) == ["ev10", "ev10"]  # the link and its target


def test_a_broken_entry_listed_first_does_not_stop_discovery(tmp_path: Path) -> None:
    drops = tmp_path / "drops"
    drops.mkdir()
    (drops / "a_dangling.csv").symlink_to(drops / "nowhere.csv")
    os.utime(drops / "a_dangling.csv", (1, 1), follow_symlinks=False)
    write_csv(drops / "b.csv", CONVERSION_HEADER, conversion_rows(0, 1), mtime=1_700_000_000)
    out = run_tap({"path": str(drops / "*.csv")})
    assert [r["event_id"] for r in out.records] == ["ev0"]


def test_a_file_deleted_between_listing_and_reading_is_set_aside(tmp_path: Path) -> None:
    drops = tmp_path / "drops"
    write_csv(drops / "a.csv", CONVERSION_HEADER, conversion_rows(0, 1), mtime=1_700_000_000)
    write_csv(drops / "b.csv", CONVERSION_HEADER, conversion_rows(1, 1), mtime=1_700_000_100)
    write_csv(drops / "c.csv", CONVERSION_HEADER, conversion_rows(2, 1), mtime=1_700_000_200)
    buffer = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with redirect_stdout(buffer):
        tap = TapOfflineCSV(config={"path": str(drops / "*.csv")}, state={}, parse_env_config=False)
        assert list(tap.streams)  # discovery lists the three files
        (drops / "b.csv").unlink()
        tap.sync_all()
        buffer.flush()
    messages = parse_lines(buffer.buffer.getvalue().decode())  # type: ignore[attr-defined]
    records = [m["record"]["event_id"] for m in messages if m["type"] == "RECORD"]
    assert records == ["ev0", "ev2"]
    state = [m["value"] for m in messages if m["type"] == "STATE"][-1]
    files = state["bookmarks"]["offline_conversions"]["files"]
    assert files[f"file://{drops}/b.csv"]["error"] == "the file disappeared before it could be read"
    assert json.loads(json.dumps(state)) == state
