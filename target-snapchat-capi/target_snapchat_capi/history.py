"""The run history: one counts-only JSON line per run, appended to ``report_history_path``.

The HTML report draws its trends from it and the findings compare a run with the one before. Each line is
``history_entry(report)``: the run's figures (integers and shares), its status, mode and start time, and
per-code/per-key counts; never a value from a record, a message, an error text, a URL or a token.
Dictionary keys are kept only when they look like the engine's or Snap's codes (``[A-Za-z0-9_]``), so that a
value can never ride in as a key either.

Durability: the file is created with mode 0600 (and kept at it). A line is written with one ``write`` call and
fsynced. A run killed mid-write leaves a torn last line without its newline: reading skips any line that is not
a JSON object, and the next append first ends the torn line, so the new entry is never glued onto it. Appending
never truncates, so a failed run (which appends its own entry, status ``failed``) keeps every earlier line.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

DEFAULT_REPORT_HISTORY_PATH: Final = "output/snapchat_capi_report_history.jsonl"
FILE_MODE: Final = 0o600
#: How many earlier runs the report's trends show.
DEFAULT_TRENDS_RUNS: Final = 30

#: Top-level integer figures copied as they are.
COUNT_FIGURES: Final[tuple[str, ...]] = (
    "records_read",
    "events_delivered",
    "already_delivered",
    "events_rejected",
    "requests",
    "retries",
    "single_key_events",
    "event_times_parsed",
    "midnight_event_times",
    "duplicate_order_id_rows",
    "events_older_than_7_days",
)
#: Top-level numeric (float) figures.
NUMBER_FIGURES: Final[tuple[str, ...]] = ("duration_seconds", "events_per_second")
#: Nested ``{code: count}`` maps copied with code-shaped keys and integer values only.
COUNT_MAPS: Final[tuple[str, ...]] = ("rejected_by_reason", "match_keys", "normalisation", "validation_errors")
#: The engine's fixed vocabularies for these string fields; anything else is stored as "other".
STATUSES: Final = frozenset({"running", "succeeded", "failed", "interrupted"})
MODES: Final = frozenset({"live", "validate_only", "dry_run"})

_CODE: Final = re.compile(r"[A-Za-z0-9_]{1,64}")
_TIMESTAMP: Final = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def history_entry(report: Mapping[str, Any]) -> dict[str, Any]:
    """The counts-only history line for one run's JSON report (see the module docstring)."""
    started_at = report.get("started_at")
    status = report.get("status")
    mode = report.get("mode")
    entry: dict[str, Any] = {
        "started_at": started_at if isinstance(started_at, str) and _TIMESTAMP.fullmatch(started_at) else None,
        "status": status if status in STATUSES else "other",
        "mode": mode if mode in MODES else "other",
    }
    for name in COUNT_FIGURES:
        value = report.get(name)
        if _is_count(value):
            entry[name] = value
    for name in NUMBER_FIGURES:
        value = report.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            entry[name] = float(value)
    for name in COUNT_MAPS:
        counts = report.get(name)
        if isinstance(counts, Mapping):
            entry[name] = _code_counts(counts)
    user_fields = report.get("user_fields")
    if isinstance(user_fields, Mapping):
        entry["user_fields_sent"] = {
            field: sent
            for field, outcome in user_fields.items()
            if isinstance(field, str)
            and _CODE.fullmatch(field)
            and isinstance(outcome, Mapping)
            and _is_count(sent := outcome.get("sent"))
        }
    return entry


def append_history(path: str | os.PathLike[str], entry: Mapping[str, Any]) -> None:
    """Append one entry as a JSON line (mode 0600), ending a torn last line first."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(entry, separators=(",", ":"), sort_keys=True) + "\n").encode("utf-8")
    descriptor = os.open(target, os.O_RDWR | os.O_APPEND | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)  # an existing file made by hand or an older version
        size = os.fstat(descriptor).st_size
        if size and os.pread(descriptor, 1, size - 1) != b"\n":
            line = b"\n" + line  # a run killed mid-write: never glue onto its torn line
        os.write(descriptor, line)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read_history(path: str | os.PathLike[str], limit: int | None = DEFAULT_TRENDS_RUNS) -> list[dict[str, Any]]:
    """The entries in file order (oldest first), the last ``limit`` of them; torn or foreign lines are skipped.

    A missing file is an empty history.
    """
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return []
    entries: list[dict[str, Any]] = []
    for line in raw.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:  # a torn line (run killed mid-write) or not UTF-8
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries if limit is None else entries[-limit:]


def previous_comparable(history: list[dict[str, Any]], mode: object) -> dict[str, Any] | None:
    """The latest succeeded run of the same mode: what "since the last run" compares with (a failed or a dry
    run's figures would make every key look like it dropped)."""
    for entry in reversed(history):
        if entry.get("status") == "succeeded" and entry.get("mode") == mode:
            return entry
    return None


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _code_counts(counts: Mapping[Any, Any]) -> dict[str, int]:
    return {
        key: value
        for key, value in sorted(counts.items(), key=lambda item: str(item[0]))
        if isinstance(key, str) and _CODE.fullmatch(key) and _is_count(value)
    }
