"""An unexpected exception whose message quotes a row must not carry that row into the tap's log."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# The real CLI, with row reading replaced by a bug that quotes the row (as library errors often do).
BUGGY_TAP = """
from tap_offline_csv import reader
def rows(self):
    raise ValueError("could not convert 'secret.person@example.com' in row 'Zoë Secretname'")
reader.CSVFileReader.rows = rows
from tap_offline_csv.tap import TapOfflineCSV
TapOfflineCSV.cli()
"""


def test_unexpected_error_is_logged_by_place_not_by_content(tmp_path: Path) -> None:
    csv_path = tmp_path / "drops" / "a.csv"
    csv_path.parent.mkdir()
    csv_path.write_text("email,name\nsecret.person@example.com,Zoë Secretname\n", encoding="utf-8")
    (tmp_path / "config.json").write_text(json.dumps({"path": str(tmp_path / "drops" / "*.csv")}))
    result = subprocess.run(
        [sys.executable, "-c", BUGGY_TAP, "--config", str(tmp_path / "config.json")],
        capture_output=True,
        timeout=60,
        check=False,
        env={"LOGLEVEL": "DEBUG", "PATH": str(Path(sys.executable).parent)},
    )
    output = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 1
    assert "Unexpected ValueError" in output
    assert "rows" in output  # the traceback says where
    for secret in ("secret.person@example.com", "Secretname"):
        assert secret not in output
