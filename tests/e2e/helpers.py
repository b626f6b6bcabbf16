"""End-to-end helpers: the sandbox as its own process (as users run it), purchases files with known truth, and
`meltano` itself as users run it."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from target_snapchat_capi.sandbox.launcher import SandboxProcess

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
PIXEL = "11111111-2222-4333-8444-555555555555"
TOKEN = "sandbox-token"
#: Two stores' pixels, each with its own token (the tests that route events to several pixels).
PIXEL_NORTH = "aaaaaaaa-1111-4111-8111-111111111111"
PIXEL_SOUTH = "bbbbbbbb-2222-4222-8222-222222222222"
TOKEN_NORTH = "north-secret-token-1"
TOKEN_SOUTH = "south-secret-token-2"
#: Where `meltano run tap-offline-csv target-snapchat-capi` keeps its state in the dev environment.
STATE_ID = "dev:tap-offline-csv-to-target-snapchat-capi"
HEADER = [
    "Order ID",
    "Purchased At",
    "Email",
    "Phone",
    "First Name",
    "Last Name",
    "Zip Code",
    "Country",
    "Amount",
    "Currency",
    "Status",
]

#: The first columns of a Shopify orders export: one row per line item (order-level fields on its first row only).
SHOPIFY_HEADER = [
    "Name",
    "Email",
    "Financial Status",
    "Currency",
    "Total",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem sku",
]


def sha(text: str) -> str:
    return hashlib.sha256(unicodedata.normalize("NFC", text).encode()).hexdigest()


def token_fingerprint(token: str) -> str:
    """What the sandbox records of the token a request came with."""
    return hashlib.sha256(token.encode()).hexdigest()


def meltano(
    args: list[str],
    env: dict[str, str],
    *,
    environment: str | None = "dev",
    cwd: Path = ROOT,
    timeout: float = 300,
) -> subprocess.CompletedProcess[bytes]:
    """`meltano [--environment=<environment>] <args>` of this venv in `cwd` (the project by default), with `env` over
    this process's environment; usage statistics are off unless `env` says otherwise. `environment=None` for the
    commands that come before or outside a project's environments (`init`, `add`)."""
    selected = [] if environment is None else [f"--environment={environment}"]
    return subprocess.run(
        [str(BIN / "meltano"), *selected, *args],
        cwd=cwd,
        env={
            **os.environ,
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            **env,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        },
        capture_output=True,
        timeout=timeout,
        check=False,
    )


#: The project's one sandbox launcher (the demo and the benchmark use it too).
Sandbox = SandboxProcess


@pytest.fixture
def sandbox_process() -> Iterator[Sandbox]:
    """`snapchat-capi-sandbox` started as a separate process, exactly like the demo does."""
    with SandboxProcess(start_timeout_seconds=15) as sandbox:
        yield sandbox


@dataclass(frozen=True)
class Row:
    order_id: str
    purchased_at: str
    email: str
    phone: str
    first_name: str
    last_name: str
    zip_code: str
    country: str
    amount: str
    currency: str
    status: str
    expect: str  # "ok" or the rejection reason; "tap_bad_row" for a row the tap itself skips

    def cells(self) -> list[str]:
        return [
            self.order_id,
            self.purchased_at,
            self.email,
            self.phone,
            self.first_name,
            self.last_name,
            self.zip_code,
            self.country,
            self.amount,
            self.currency,
            self.status,
        ]


def messy_rows(now: datetime, prefix: str = "O") -> list[Row]:
    """Hand-made rows with known outcomes: what real exports look like, and one of each kind of bad row."""
    day = timedelta(days=1)
    iso_z = (now - day).strftime("%Y-%m-%dT%H:%M:%SZ")
    spaced = (now - 2 * day).strftime("%Y-%m-%d %H:%M:%S")
    us_style = (now - 3 * day).strftime("%m/%d/%Y %H:%M")
    epoch = str(int((now - 4 * day).timestamp()))
    offset = (now - 5 * day).astimezone(timezone(timedelta(hours=2))).isoformat(timespec="seconds")
    old = (now - 60 * day).strftime("%Y-%m-%dT%H:%M:%SZ")
    nfd_name = unicodedata.normalize("NFD", "Raphaël")
    return [
        Row(
            f"{prefix}-1",
            iso_z,
            "  Alice.Smith@Example.COM ",
            "(415) 555-0100",
            "Alice",
            "Smith",
            "94025-1234",
            "US",
            "142.52",
            "USD",
            "Sale",
            "ok",
        ),
        Row(
            f"{prefix}-2",
            spaced,
            "",
            "+44 7911 123456",
            nfd_name,
            "Dupré",
            "SW1A 1AA",
            "GB",
            "20",
            "GBP",
            "Sale",
            "ok",
        ),
        Row(
            f"{prefix}-3",
            us_style,
            "bob@example.org",
            "0044 20 7946 0958",
            "Bob",
            "O'Neil",
            "",
            "",
            "15.00",
            "",
            "sale",
            "ok",
        ),
        Row(
            f"{prefix}-4",
            epoch,
            "",
            "415.555.0199",
            "Carol",
            "Jones",
            "10001",
            "US",
            "7.5",
            "USD",
            "Refund",
            "ok",
        ),
        Row(f"{prefix}-5", offset, "dan@example.net", "", "Dan", "Lee", "", "", "99.99", "EUR", "Sale", "ok"),
        Row(f"{prefix}-6", iso_z, "", "", "Eve", "Nomatch", "", "", "10", "USD", "Sale", "missing_match_keys"),
        Row(
            f"{prefix}-7",
            "yesterday-ish",
            "frank@example.com",
            "",
            "Frank",
            "X",
            "",
            "",
            "10",
            "USD",
            "Sale",
            "invalid_event_time",
        ),
        Row(
            f"{prefix}-8",
            old,
            "gina@example.com",
            "",
            "Gina",
            "Old",
            "",
            "",
            "10",
            "USD",
            "Sale",
            "stale_event",
        ),
        Row(
            f"{prefix}-9",
            iso_z,
            "hank@example.com",
            "",
            "Hank",
            "Lay",
            "",
            "",
            "10",
            "USD",
            "Layaway",
            "unknown_event_name",
        ),
        Row(
            f"{prefix}-10",
            iso_z,
            "ivy@example.com",
            "",
            "Ivy",
            "Cur",
            "",
            "",
            "10",
            "XYZ",
            "Sale",
            "invalid_currency",
        ),
        Row(
            f"{prefix}-11",
            iso_z,
            "jack@example.com",
            "",
            "Jack",
            "Blank",
            "",
            "",
            "",
            "USD",
            "Sale",
            "missing_value",
        ),
    ]


def bulk_rows(now: datetime, count: int, prefix: str = "B") -> list[Row]:
    stamp = (now - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        Row(
            f"{prefix}-{n}",
            stamp,
            f"customer{n}@example.com",
            f"+1 415 555 {n % 10000:04d}",
            "Pat",
            "Doe",
            "94107",
            "US",
            f"{n % 500 + 1}.00",
            "USD",
            "Sale",
            "ok",
        )
        for n in range(count)
    ]


def write_csv(path: Path, rows: list[Row], *, extra_bad_line: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for row in rows:
            writer.writerow(row.cells())
        if extra_bad_line:
            # one field too many: the tap skips it and reports file and line
            writer.writerow([*rows[0].cells(), "surplus"])
    return path


def write_rows(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """A CSV file of `header` and `rows` as given (an export's own columns, unlike `write_csv`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def hours_before(now: datetime, hours: int) -> str:
    """`hours` before `now` as Shopify's exports write a time (`2026-01-31 14:05:00 +0000`)."""
    return (now - timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M:%S +0000")


def target_config(sandbox_url: str, out: Path, **overrides: Any) -> dict[str, Any]:
    config = {
        "pixel_id": PIXEL,
        "access_token": TOKEN,
        "api_url": sandbox_url,
        "default_phone_country": "US",
        "default_currency": "USD",
        "mapping": {"event_time": "Purchased At", "event_name": "Status"},
        "event_name_map": {"Sale": "PURCHASE", "Refund": "CUSTOM_EVENT_1"},
        "reject_path": str(out / "rejects.jsonl"),
        "report_path": str(out / "report.json"),
        "report_html_path": str(out / "report.html"),
        "report_history_path": str(out / "history.jsonl"),
        "ledger_url": f"sqlite:///{out / 'ledger.sqlite'}",
        "dry_run_path": str(out / "dry_run.jsonl"),
    }
    config.update(overrides)
    return config


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def run_pipeline(
    tap_config: Path,
    target_config_path: Path,
    *,
    state: Path | None = None,
    env: dict[str, str] | None = None,
) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    """tap | target through a real OS pipe, as `meltano run` or a shell would."""
    tap_cmd = [str(BIN / "tap-offline-csv"), "--config", str(tap_config)]
    if state is not None:
        tap_cmd += ["--state", str(state)]
    full_env = {**os.environ, **(env or {})}
    tap = subprocess.Popen(tap_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env)
    target = subprocess.Popen(
        [str(BIN / "target-snapchat-capi"), "--config", str(target_config_path)],
        stdin=tap.stdout,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=full_env,
    )
    assert tap.stdout is not None
    tap.stdout.close()
    target_out, target_err = target.communicate(timeout=240)
    tap_err = tap.stderr.read() if tap.stderr else b""
    tap.wait(timeout=30)
    return (
        subprocess.CompletedProcess(tap_cmd, tap.returncode, b"", tap_err),
        subprocess.CompletedProcess(["target-snapchat-capi"], target.returncode, target_out, target_err),
    )


def states_from(stdout: bytes) -> list[dict[str, Any]]:
    """The STATE values a target emitted, in order (the SDK writes the bare state object per line)."""
    states = []
    for raw_line in stdout.decode().splitlines():
        if raw_line.strip():
            message = json.loads(raw_line)
            states.append(message.get("value", message) if message.get("type") == "STATE" else message)
    return states
