"""Issue 10 through `meltano run`, as a user runs it: a Shopify line-item export becomes one PURCHASE per order, a
`--full-refresh` re-reads it all and the delivery ledger keeps Snap from counting anything twice, and a `pixels`
setting given as a JSON environment variable routes each store's sales to its own pixel with its own token.

As in test_meltano.py, meltano.yml is used as is (dev environment); what differs per test run is set through
Meltano's environment variables.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from target_snapchat_capi.sandbox.launcher import SandboxProcess

from tests.e2e.helpers import (
    PIXEL_NORTH,
    PIXEL_SOUTH,
    SHOPIFY_HEADER,
    STATE_ID,
    TOKEN_NORTH,
    TOKEN_SOUTH,
    Sandbox,
    hours_before,
    meltano,
    sha,
    token_fingerprint,
    write_rows,
)

RUN = ["run", "tap-offline-csv", "target-snapchat-capi"]


def _env(tmp_path: Path, sandbox_url: str, stream: str, mapping: dict[str, str | None]) -> dict[str, str]:
    """Meltano merges an object setting from the environment into meltano.yml's, key by key: a None (JSON null)
    value is how a key of the dev environment's mapping (event_name: Status) is taken out."""
    out = tmp_path / "out"
    return {
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "TAP_OFFLINE_CSV_FILES": json.dumps([{"name": stream, "path": str(tmp_path / "drops" / "*.csv")}]),
        "TARGET_SNAPCHAT_CAPI_API_URL": sandbox_url,
        "TARGET_SNAPCHAT_CAPI_MAPPING": json.dumps(mapping),
        "TARGET_SNAPCHAT_CAPI_EVENT_NAME_MAP": "{}",
        "TARGET_SNAPCHAT_CAPI_REPORT_PATH": str(out / "report.json"),
        "TARGET_SNAPCHAT_CAPI_REPORT_HTML_PATH": str(out / "report.html"),
        "TARGET_SNAPCHAT_CAPI_REPORT_HISTORY_PATH": str(out / "history.jsonl"),
        "TARGET_SNAPCHAT_CAPI_REJECT_PATH": str(out / "rejects.jsonl"),
        "TARGET_SNAPCHAT_CAPI_LEDGER_URL": f"sqlite:///{out / 'ledger.sqlite'}",
    }


def _report(env: dict[str, str]) -> dict[str, Any]:
    return json.loads(Path(env["TARGET_SNAPCHAT_CAPI_REPORT_PATH"]).read_text())


def test_meltano_run_line_items_then_full_refresh_and_state_clear_send_nothing_again(
    tmp_path: Path, sandbox_process: Sandbox
) -> None:
    now = datetime.now(UTC)
    early, later = hours_before(now, 6), hours_before(now, 3)
    drops = tmp_path / "drops"
    # Shopify writes email, currency and total on an order's first line only; #2001 and #2003 go on in the 2nd file.
    write_rows(
        drops / "orders_export_1.csv",
        SHOPIFY_HEADER,
        [
            ["#2001", "ann@example.com", "paid", "USD", "62.00", early, "2", "Mug", "12.00", "MUG-1"],
            ["#2002", "bo@example.com", "paid", "EUR", "40.00", early, "1", "Cap", "30.00", "CAP-1"],
            ["#2001", "", "", "", "", early, "1", "Pot", "35.00", "POT-9"],
            ["#2003", "cy@example.com", "paid", "USD", "18.50", later, "1", "Pen", "2.50", "PEN-1"],
            ["#2002", "", "", "", "", early, "2", "Sock", "5.00", "SOCK-1"],
        ],
    )
    write_rows(
        drops / "orders_export_2.csv",
        SHOPIFY_HEADER,
        [
            ["#2003", "", "", "", "", later, "2", "Ink", "8.00", "INK-2"],
            ["#2001", "", "", "", "", early, "3", "Spoon", "1.00", "SPOON-3"],
        ],
    )
    env = _env(tmp_path, sandbox_process.url, "shopify_orders", {"event_time": "Created at", "event_name": None})

    # --- first run: one PURCHASE per order, its lines as contents -------------------------------------------------
    first = meltano(RUN, env)
    assert first.returncode == 0, first.stderr.decode()[-4000:]
    events = {event["event_id"]: event for event in sandbox_process.events()}
    assert set(events) == {"#2001", "#2002", "#2003"}
    assert {event["event_name"] for event in events.values()} == {"PURCHASE"}
    ann = events["#2001"]["custom_data"]
    assert ann["contents"] == [
        {"id": "MUG-1", "quantity": 2, "item_price": 12.0},
        {"id": "POT-9", "quantity": 1, "item_price": 35.0},
        {"id": "SPOON-3", "quantity": 3, "item_price": 1.0},
    ]
    assert (ann["num_items"], ann["value"], ann["currency"]) == (6, 62.0, "USD")
    assert events["#2001"]["user_data"]["em"] == [sha("ann@example.com")]
    assert (events["#2002"]["custom_data"]["num_items"], events["#2002"]["custom_data"]["currency"]) == (3, "EUR")
    assert events["#2003"]["custom_data"]["content_ids"] == ["PEN-1", "INK-2"]
    assert events["#2003"]["custom_data"]["num_items"] == 3
    report = _report(env)
    assert report["orders"] == {"orders": 3, "order_lines": 7, "orders_rejected": 0}
    assert (report["records_read"], report["events_delivered"], report["events_rejected"]) == (7, 3, 0)
    requests_sent = sandbox_process.stats()["requests"]

    # --- --full-refresh: the tap re-reads every line; the ledger knows every order, nothing goes out ----------------
    refreshed = meltano([*RUN[:1], "--full-refresh", *RUN[1:]], env)
    assert refreshed.returncode == 0, refreshed.stderr.decode()[-4000:]
    report = _report(env)
    assert report["records_read"] == 7, "a full refresh re-reads both files"
    assert (report["already_delivered"], report["events_delivered"], report["events_rejected"]) == (3, 0, 0)
    assert sandbox_process.stats()["requests"] == requests_sent, "no request reached Snap"

    # --- state clear, then a plain run: the same ---------------------------------------------------------------------
    cleared = meltano(["state", "clear", "--force", STATE_ID], env)
    assert cleared.returncode == 0, cleared.stderr.decode()[-2000:]
    again = meltano(RUN, env)
    assert again.returncode == 0, again.stderr.decode()[-4000:]
    report = _report(env)
    assert (report["records_read"], report["already_delivered"], report["events_delivered"]) == (7, 3, 0)
    stats = sandbox_process.stats()
    assert (stats["requests"], stats["events_received"], stats["duplicates"]) == (requests_sent, 3, 0)


def test_meltano_run_routes_to_two_pixels_from_a_json_environment_variable(tmp_path: Path) -> None:
    when = hours_before(datetime.now(UTC), 2)
    stores = ["North", "south", "north", "South", "West"]
    write_rows(
        tmp_path / "drops" / "sales.csv",
        ["Order ID", "Sold At", "Email", "Amount", "Currency", "Store"],
        [[f"P-{n}", when, f"buyer{n}@example.com", "10.00", "USD", store] for n, store in enumerate(stores)],
    )
    tokens = ["--token", f"{TOKEN_NORTH}:{PIXEL_NORTH}", "--token", f"{TOKEN_SOUTH}:{PIXEL_SOUTH}"]
    with SandboxProcess(start_timeout_seconds=15, extra_args=tokens) as sandbox:
        env = _env(
            tmp_path, sandbox.url, "store_sales", {"event_time": "Sold At", "event_name": None, "pixel_route": "Store"}
        )
        env["TARGET_SNAPCHAT_CAPI_PIXELS"] = json.dumps(
            {
                "north": {"pixel_id": PIXEL_NORTH, "access_token": TOKEN_NORTH},
                "south": {"pixel_id": PIXEL_SOUTH, "access_token": TOKEN_SOUTH},
            }
        )
        result = meltano(RUN, env)
        assert result.returncode == 0, result.stderr.decode()[-4000:]
        requests = [r for r in sandbox.get("/_sandbox/requests") if r["method"] == "POST"]

    fingerprint = {PIXEL_NORTH: token_fingerprint(TOKEN_NORTH), PIXEL_SOUTH: token_fingerprint(TOKEN_SOUTH)}
    sent_to: dict[str, str] = {}
    for request in requests:
        assert request["status"] == 200
        assert request["token_sha256"] == fingerprint[request["pixel_id"]], "each pixel with its own token"
        sent_to.update(dict.fromkeys(request["event_ids"], request["pixel_id"]))
    assert sent_to == {"P-0": PIXEL_NORTH, "P-2": PIXEL_NORTH, "P-1": PIXEL_SOUTH, "P-3": PIXEL_SOUTH}
    report = _report(env)
    assert report["rejected_by_reason"] == {"unknown_pixel_route": 1}
    assert (report["pixels"]["north"]["events_delivered"], report["pixels"]["south"]["events_delivered"]) == (2, 2)
    written = result.stdout.decode() + result.stderr.decode() + json.dumps(report)
    assert TOKEN_NORTH not in written and TOKEN_SOUTH not in written
