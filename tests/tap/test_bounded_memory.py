"""Memory is bounded however long a line is: an over-long line (even without a newline, even inflated from a small
gzip) is a reported bad row read past in bounded chunks; the rows after it are read."""

from __future__ import annotations

import gzip
import io
import tracemalloc
from pathlib import Path

from tap_helpers import run_tap
from tap_offline_csv.reader import CSVFileReader, CSVFormat

LIMIT = 100_000  # characters: the tests use a small max_line_size in place of the default 16 Mi


def _read(data: bytes, url: str, fmt: CSVFormat) -> tuple[list[tuple[int, dict]], CSVFileReader, int]:
    tracemalloc.start()
    try:
        with CSVFileReader(io.BytesIO(data), url, fmt) as reader:
            rows = list(reader.rows())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return rows, reader, peak


def test_an_over_long_line_is_a_bad_row_read_in_bounded_memory() -> None:
    huge = b"z" * (40 * LIMIT)  # 4 MB on one line
    data = b"event_id,blob\nev1,a\nev2," + huge + b"\nev3,c\n"
    rows, reader, peak = _read(data, "file:///long.csv", CSVFormat(max_line_size=LIMIT, max_field_size=LIMIT))
    assert [(line, row["event_id"]) for line, row in rows] == [(2, "ev1"), (4, "ev3")]
    assert reader.stats.skipped == {"line too long": 1}
    assert peak < 3_000_000, peak  # the 4 MB line was never held whole


def test_a_line_without_newline_to_the_end_of_a_gzip_bomb(tmp_path: Path) -> None:
    inflated = b"event_id,blob\nev1,a\nev2," + b"0" * (60 * LIMIT)  # no newline, ever
    path = tmp_path / "bomb.csv.gz"
    path.write_bytes(gzip.compress(inflated, compresslevel=9))
    assert path.stat().st_size < 20_000
    rows, reader, peak = _read(path.read_bytes(), f"file://{path}", CSVFormat(max_line_size=LIMIT))
    assert [row["event_id"] for _, row in rows] == ["ev1"]
    assert reader.stats.skipped == {"line too long": 1}
    assert peak < 3_000_000, peak


def test_the_over_long_line_is_reported_by_file_and_line_through_the_tap(tmp_path: Path) -> None:
    secret = "jane.secret@example.com"
    path = tmp_path / "a.csv"
    path.write_text(f"event_id,email\nev1,a@example.com\nev2,{secret}{'x' * (2 * LIMIT)}\nev3,c@example.com\n")
    out = run_tap({"path": str(path), "max_line_size": LIMIT})
    assert [r["event_id"] for r in out.records] == ["ev1", "ev3"]
    url = f"file://{path}"
    assert f"WARNING {url} line 3: the line is longer than {LIMIT} characters; row skipped" in out.logs
    assert secret not in "\n".join(out.logs)


def test_lines_within_the_limit_are_untouched_whatever_their_endings() -> None:
    data = b'event_id,blob\r\nev1,"multi\nline"\r\nev2,b\rev3,c\n'
    rows, reader, _ = _read(data, "file:///ok.csv", CSVFormat(max_line_size=64))
    assert [(line, row["event_id"], row["blob"]) for line, row in rows] == [
        (2, "ev1", "multi\nline"),
        (4, "ev2", "b"),
        (5, "ev3", "c"),
    ]
    assert not reader.stats.skipped
