"""singer-sdk's standard tap tests on a small local fixture."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from singer_sdk.testing import get_tap_test_class
from tap_helpers import CONVERSION_HEADER, conversion_rows, write_csv
from tap_offline_csv.tap import TapOfflineCSV

# get_tap_test_class needs its config at import time, so the fixture files are written here.
_FIXTURE_DIR = Path(tempfile.mkdtemp(prefix="tap_offline_csv_standard_"))
atexit.register(shutil.rmtree, _FIXTURE_DIR, ignore_errors=True)
write_csv(_FIXTURE_DIR / "drops" / "a.csv", CONVERSION_HEADER, conversion_rows(0, 5), mtime=1_700_000_000)
write_csv(_FIXTURE_DIR / "drops" / "b.csv", CONVERSION_HEADER, conversion_rows(5, 5), mtime=1_700_000_100)
os.utime(_FIXTURE_DIR / "drops", None)

SAMPLE_CONFIG = {
    "files": [
        {
            "name": "offline_conversions",
            "path": str(_FIXTURE_DIR / "drops" / "*.csv"),
            "key_properties": ["event_id"],
            "column_types": {"value": "number", "event_time": "date-time"},
        }
    ],
    "state_every_rows": 3,
}

TestTapOfflineCSV = get_tap_test_class(tap_class=TapOfflineCSV, config=SAMPLE_CONFIG)
