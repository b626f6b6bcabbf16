"""A corrupt or foreign tap state is a one-line error naming the problem: no traceback, nothing read or sent."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tap_helpers import CONVERSION_HEADER, TAP_EXE, conversion_rows, write_csv, write_json


def _run(tmp_path: Path, state_text: str) -> subprocess.CompletedProcess[str]:
    drops = tmp_path / "drops"
    write_csv(drops / "a.csv", CONVERSION_HEADER, conversion_rows(0, 2), mtime=1_700_000_000)
    config = write_json(tmp_path / "config.json", {"path": str(drops / "*.csv"), "key_properties": ["event_id"]})
    state = tmp_path / "state.json"
    state.write_text(state_text)
    return subprocess.run(
        [TAP_EXE, "--config", str(config), "--state", str(state)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


GOOD_BOOKMARK = '{"mtime": "2023-11-14T22:13:20+00:00", "size": 10, "etag": null, "rows": 1, "line": 2, "done": true}'


@pytest.mark.parametrize(
    ("state_text", "expected"),
    [
        ('{"bookmarks": {"offline_conversions": {"files": {"file:///x', "not valid JSON (Unterminated string"),
        ("", "not valid JSON"),
        ("[1, 2]", "the state is a JSON list, not an object with `bookmarks`"),
        ('{"bookmarks": []}', "the state's `bookmarks` is not an object keyed by stream name"),
        ('{"bookmarks": {"offline_conversions": 7}}', "the state's bookmarks.offline_conversions is not an object"),
        (
            '{"bookmarks": {"offline_conversions": {"files": {"DROPS/a.csv": {"rows": "x"}}}}}',
            "files['DROPS/a.csv'].mtime is missing or not a valid str",
        ),
        (
            '{"bookmarks": {"offline_conversions": {"files": {"DROPS/a.csv": '
            + GOOD_BOOKMARK.replace('"rows": 1', '"rows": -4')
            + "}}}}",
            "files['DROPS/a.csv'].rows is missing or not a valid int",
        ),
        (
            '{"bookmarks": {"offline_conversions": {"files": {"file:///elsewhere/prod/a.csv": '
            + GOOD_BOOKMARK
            + "}}}}",
            "the state's 1 file bookmark(s) of stream offline_conversions lie outside its path(s)",
        ),
    ],
    ids=["truncated", "empty", "list", "bookmarks-list", "stream-number", "bookmark-fields", "negative", "foreign"],
)
def test_a_bad_state_is_one_line_naming_the_problem(tmp_path: Path, state_text: str, expected: str) -> None:
    drops_url = f"file://{tmp_path}/drops"
    done = _run(tmp_path, state_text.replace("DROPS", drops_url))
    assert done.returncode == 1, done.stderr[-2000:]
    assert expected.replace("DROPS", drops_url) in done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, errors
    assert '"type":"RECORD"' not in done.stdout


def test_this_configurations_state_is_accepted(tmp_path: Path) -> None:
    bookmark_url = f"file://{tmp_path}/drops/a.csv"
    state = '{"bookmarks": {"offline_conversions": {"files": {"' + bookmark_url + '": ' + GOOD_BOOKMARK + "}}}}"
    done = _run(tmp_path, state)
    assert done.returncode == 0, done.stderr[-2000:]
