"""A warehouse in front: `meltano run tap-postgres target-snapchat-capi` against a real PostgreSQL on loopback.

MeltanoLabs' Postgres tap (the `tap-postgres` extractor of meltano.yml, PyPI `meltanolabs-tap-postgres`) reads a
table of offline orders shaped as warehouses hold them: `timestamptz` with offsets, `numeric` amounts, NULLs, a
status column, incremental by `created_at`. Its replication key is inclusive: each run re-emits the rows at the
bookmark, so the last order comes back on every run and must not be counted twice. BigQuery and Snowflake taps emit
the same shapes (ISO date-times, decimal numbers, nulls), which is why this is the warehouse pattern of the README.

The target's delivery ledger (a SQLite file here) is what keeps the re-read rows from being sent again.

Only what differs per test run is set through Meltano's environment variables (the server's port, the sandbox, the
output files, the system database); the rest is meltano.yml as shipped.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.e2e.helpers import PIXEL, Sandbox, meltano, sha
from tests.servers.postgres import PostgresServer

READER, READER_PASSWORD = "warehouse_reader", "reader-pass-do-not-log"

CREATE_TABLE = """
CREATE TABLE offline_orders (
    order_id     text PRIMARY KEY,
    created_at   timestamptz NOT NULL,
    email        text,
    phone        text,
    first_name   text,
    last_name    text,
    postal_code  text,
    country      char(2),
    amount       numeric(12, 2),
    currency     char(3),
    status       text NOT NULL,
    store_id     integer
)
"""
INSERT = (
    "INSERT INTO offline_orders (order_id, created_at, email, phone, first_name, last_name, postal_code, country, "
    "amount, currency, status, store_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def orders(now: datetime) -> list[tuple[Any, ...]]:
    """Realistic rows; the last two share the newest created_at (the bookmark the next run starts from)."""
    paris = timezone(timedelta(hours=1))
    day = timedelta(days=1)
    newest = (now - day).replace(microsecond=0)
    return [
        # order_id, created_at, email, phone, first, last, postal, country, amount, currency, status, store
        (
            "WH-1001",
            now - 4 * day,
            " Alice.Smith@Example.COM",
            "(415) 555-0100",
            "Alice",
            "Smith",
            "94025",
            "US",
            Decimal("142.50"),
            "USD",
            "completed",
            12,
        ),
        (
            "WH-1002",
            (now - 3 * day).astimezone(paris),
            None,
            "+44 7911 123456",
            "Raphaël",
            "Dupré",
            "SW1A 1AA",
            "GB",
            Decimal("20.00"),
            "GBP",
            "completed",
            40,
        ),
        (
            "WH-1003",
            now - 3 * day + timedelta(hours=2),
            "bob@example.org",
            None,
            None,
            None,
            None,
            None,
            Decimal("15.99"),
            "EUR",
            "completed",
            None,
        ),
        (
            "WH-1004",
            now - 2 * day,
            "carol@example.net",
            None,
            "Carol",
            "Jones",
            "10001",
            "US",
            Decimal("7.50"),
            "USD",
            "refunded",
            12,
        ),
        (
            "WH-1005",
            now - 2 * day,
            None,
            None,
            "Eve",
            "Nomatch",
            None,
            None,
            Decimal("10.00"),
            "USD",
            "completed",
            7,
        ),  # no email, no phone: missing_match_keys
        (
            "WH-1006",
            now - 2 * day,
            "dan@example.com",
            None,
            "Dan",
            "Lee",
            None,
            None,
            None,
            "USD",
            "completed",
            7,
        ),  # NULL amount on a purchase: missing_value
        (
            "WH-1007",
            now - 60 * day,
            "gina@example.com",
            None,
            "Gina",
            "Old",
            None,
            None,
            Decimal("5.00"),
            "USD",
            "completed",
            7,
        ),  # older than Snap's 37 days: stale_event
        (
            "WH-1008",
            newest,
            "hank@example.com",
            "415.555.0199",
            "Hank",
            "Lay",
            "94107",
            "US",
            Decimal("1234.56"),
            "USD",
            "completed",
            12,
        ),
        ("WH-1009", newest, "ivy@example.com", None, "Ivy", "Cur", None, "US", Decimal("0.99"), "USD", "completed", 40),
    ]


def insert(url: str, rows: list[tuple[Any, ...]]) -> None:
    with psycopg.connect(url) as connection:
        connection.cursor().executemany(INSERT, rows)


def conversions(sandbox: Sandbox) -> Counter[str]:
    """How many times the sandbox counted each order as a conversion (after its own merging)."""
    return Counter(event["event_id"] for event in sandbox.events())


@pytest.mark.slow
def test_meltano_run_from_postgres_counts_each_order_once_across_runs(
    tmp_path: Path, sandbox_process: Sandbox, postgres_server: PostgresServer
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    database_url = postgres_server.create_database("warehouse")
    with psycopg.connect(database_url) as connection:
        connection.execute(CREATE_TABLE)
    # The tap reads as a read-only user with a password, as it would in production.
    postgres_server.create_password_user(READER, READER_PASSWORD)
    postgres_server.psql(f"GRANT SELECT ON offline_orders TO {READER}", database="warehouse")
    rows = orders(now)
    insert(database_url, rows)
    out = tmp_path / "out"
    env = {
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "TAP_POSTGRES_HOST": postgres_server.host,
        "TAP_POSTGRES_PORT": str(postgres_server.port),
        "TAP_POSTGRES_USER": READER,
        "TAP_POSTGRES_PASSWORD": READER_PASSWORD,
        "TAP_POSTGRES_DATABASE": "warehouse",
        "TARGET_SNAPCHAT_CAPI_API_URL": sandbox_process.url,
        "TARGET_SNAPCHAT_CAPI_REPORT_PATH": str(out / "report.json"),
        "TARGET_SNAPCHAT_CAPI_REJECT_PATH": str(out / "rejects.jsonl"),
        "TARGET_SNAPCHAT_CAPI_LEDGER_URL": f"sqlite:///{out / 'ledger.sqlite'}",
        # The warehouse's own column names; the other fields (email, phone, names, postal code, country, amount,
        # currency, order id) are found by auto-detection.
        "TARGET_SNAPCHAT_CAPI_MAPPING": json.dumps({"event_time": "created_at", "event_name": "status"}),
        "TARGET_SNAPCHAT_CAPI_EVENT_NAME_MAP": json.dumps({"completed": "PURCHASE", "refunded": "CUSTOM_EVENT_1"}),
    }

    # --- first run: every valid order once, the bad ones rejected with their reason -------------------------
    first = meltano(["run", "tap-postgres", "target-snapchat-capi"], env)
    assert first.returncode == 0, first.stderr.decode()[-4000:]
    delivered = {"WH-1001", "WH-1002", "WH-1003", "WH-1004", "WH-1008", "WH-1009"}
    assert conversions(sandbox_process) == Counter(dict.fromkeys(delivered, 1))
    report = json.loads((out / "report.json").read_text())
    assert report["records_read"] == len(rows)
    assert report["events_delivered"] == len(delivered)
    assert report["rejected_by_reason"] == {"missing_match_keys": 1, "missing_value": 1, "stale_event": 1}

    # The warehouse's types arrive as Snap wants them: numeric -> value, timestamptz (any offset) -> epoch seconds.
    events = {event["event_id"]: event for event in sandbox_process.events()}
    by_id = {row[0]: row for row in rows}
    for order_id, event in events.items():
        assert event["event_time"] == int(by_id[order_id][1].timestamp())
        assert event["custom_data"]["order_id"] == order_id
        assert Decimal(str(event["custom_data"]["value"])) == by_id[order_id][8]
        assert event["custom_data"]["currency"] == by_id[order_id][9]
    assert events["WH-1004"]["event_name"] == "CUSTOM_EVENT_1"
    assert {events[order]["event_name"] for order in delivered - {"WH-1004"}} == {"PURCHASE"}
    assert events["WH-1001"]["user_data"]["em"] == [sha("alice.smith@example.com")]
    assert "em" not in events["WH-1002"]["user_data"]  # NULL email: not sent, not an empty hash

    # --- second run, nothing new: the tap re-reads the two orders at the bookmark; nothing is counted again ----
    second = meltano(["run", "tap-postgres", "target-snapchat-capi"], env)
    assert second.returncode == 0, second.stderr.decode()[-4000:]
    second_report = json.loads((out / "report.json").read_text())
    # Only WH-1008 and WH-1009: the bookmark is the newest created_at, and inclusive replication keys re-read it.
    assert second_report["records_read"] == 2
    # The ledger knew both: nothing was sent (not even for Snap to merge), and nothing counts as a rejection.
    assert second_report["already_delivered"] == 2
    assert second_report["events_delivered"] == 0 and second_report["events_rejected"] == 0
    assert sandbox_process.stats()["events_received"] == len(delivered)
    assert conversions(sandbox_process) == Counter(dict.fromkeys(delivered, 1))

    # --- third run: a new order and a late one stamped at the bookmark: exactly those two are new -------------
    late = (
        "WH-1010",
        by_id["WH-1008"][1],
        "jack@example.com",
        None,
        "Jack",
        "Late",
        None,
        "US",
        Decimal("42.00"),
        "USD",
        "completed",
        12,
    )
    fresh = (
        "WH-1011",
        now - timedelta(hours=1),
        None,
        "+1 415 555 0142",
        "Kim",
        "New",
        "94110",
        "US",
        Decimal("99.95"),
        "USD",
        "completed",
        40,
    )
    insert(database_url, [late, fresh])
    third = meltano(["run", "tap-postgres", "target-snapchat-capi"], env)
    assert third.returncode == 0, third.stderr.decode()[-4000:]
    third_report = json.loads((out / "report.json").read_text())
    assert third_report["records_read"] == 4  # WH-1008, WH-1009, WH-1010 at the bookmark; WH-1011 after it
    assert (third_report["events_delivered"], third_report["already_delivered"]) == (2, 2)
    assert conversions(sandbox_process) == Counter(dict.fromkeys(delivered | {"WH-1010", "WH-1011"}, 1))
    assert sandbox_process.stats()["duplicates"] == 0  # Snap never had to merge anything

    # The ledger's console script, as a command of the plugin: it reads the plugin's own ledger_url setting.
    shown = meltano(["invoke", "target-snapchat-capi:ledger", "show"], env)
    assert shown.returncode == 0, shown.stderr.decode()[-2000:]
    assert f"pixel {PIXEL}: 8 entries" in shown.stdout.decode()
