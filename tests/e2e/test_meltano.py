"""`meltano run tap-offline-csv target-snapchat-capi` itself, in the dev environment, against the sandbox.

The project's meltano.yml is used as is; only what must differ per test run (the drop folder, the sandbox port, the
output files and the system database holding the state) is set through Meltano's own environment variables, which
take precedence over meltano.yml.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from tests.e2e.helpers import STATE_ID, TOKEN, Sandbox, bulk_rows, meltano, messy_rows, write_csv


def test_meltano_run_sends_once_then_only_new_files(tmp_path: Path, sandbox_process: Sandbox) -> None:
    now = datetime.now(UTC)
    drops = tmp_path / "drops"
    out = tmp_path / "out"
    first_rows = messy_rows(now, prefix="M")
    write_csv(drops / "2026-01-01_purchases.csv", first_rows)
    env = {
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "TAP_OFFLINE_CSV_FILES": json.dumps(
            [{"name": "offline_purchases", "path": str(drops / "*.csv"), "key_properties": ["Order ID"]}]
        ),
        "TARGET_SNAPCHAT_CAPI_API_URL": sandbox_process.url,
        "TARGET_SNAPCHAT_CAPI_REPORT_PATH": str(out / "report.json"),
        "TARGET_SNAPCHAT_CAPI_REPORT_HTML_PATH": str(out / "report.html"),
        "TARGET_SNAPCHAT_CAPI_REPORT_HISTORY_PATH": str(out / "history.jsonl"),
        "TARGET_SNAPCHAT_CAPI_REJECT_PATH": str(out / "rejects.jsonl"),
        "TARGET_SNAPCHAT_CAPI_LEDGER_URL": f"sqlite:///{out / 'ledger.sqlite'}",
    }

    first = meltano(["run", "tap-offline-csv", "target-snapchat-capi"], env)
    assert first.returncode == 0, first.stderr.decode()[-4000:]
    valid_first = {row.order_id for row in first_rows if row.expect == "ok"}
    assert {event["event_id"] for event in sandbox_process.events()} == valid_first
    report = json.loads((out / "report.json").read_text())
    assert report["events_delivered"] == len(valid_first)
    assert report["events_rejected"] == len(first_rows) - len(valid_first)

    # The state lives in Meltano's system database, with a bookmark per file.
    state = meltano(["state", "get", STATE_ID], env)
    assert state.returncode == 0, state.stderr.decode()[-2000:]
    state_text = state.stdout.decode()
    assert "2026-01-01_purchases.csv" in state_text
    assert TOKEN not in state_text and "@example" not in state_text

    # A second run sends nothing.
    requests_before = sandbox_process.stats()["requests"]
    second = meltano(["run", "tap-offline-csv", "target-snapchat-capi"], env)
    assert second.returncode == 0, second.stderr.decode()[-4000:]
    assert sandbox_process.stats()["requests"] == requests_before
    assert json.loads((out / "report.json").read_text())["records_read"] == 0

    # A new drop: exactly its rows go out.
    new_rows = bulk_rows(now, 25, prefix="N")
    write_csv(drops / "2026-01-02_purchases.csv", new_rows)
    third = meltano(["run", "tap-offline-csv", "target-snapchat-capi"], env)
    assert third.returncode == 0, third.stderr.decode()[-4000:]
    third_report = json.loads((out / "report.json").read_text())
    assert third_report["records_read"] == len(new_rows)
    assert third_report["events_delivered"] == len(new_rows)
    received = [event["event_id"] for event in sandbox_process.events()]
    assert sorted(received) == sorted(valid_first | {row.order_id for row in new_rows})
    assert sandbox_process.stats()["duplicates"] == 0
