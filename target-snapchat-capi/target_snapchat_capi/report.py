"""Run counters, the run report file and its one-screen summary. Counts only: never a value from a record."""

from __future__ import annotations

import enum
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from target_snapchat_capi.capi import REPORTED_MATCH_KEYS
from target_snapchat_capi.outputs import OutputError, open_private
from target_snapchat_capi.settings import Mode


class RunStatus(enum.StrEnum):
    """How a run ended (the report's `status`)."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  #: SIGTERM or SIGINT


@dataclass
class RunReport:
    """Everything a run counts. Only `accounting.Accounting` adds to it; written at the end, also on failure."""

    mode: Mode = Mode.LIVE
    records_read: int = 0
    events_delivered: int = 0
    events_rejected: int = 0
    #: events found in the delivery ledger: Snap accepted them in an earlier run (or batch), so not sent again
    events_already_delivered: int = 0
    rejected_by_reason: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    retries: int = 0
    match_keys: Counter[str] = field(default_factory=Counter)
    single_key_events: int = 0
    normalisation: Counter[str] = field(default_factory=Counter)
    #: validate_only: Snap's per-event verdicts by status, and how many warnings they carried.
    validation: Counter[str] = field(default_factory=Counter)
    streams: dict[str, Counter[str]] = field(default_factory=dict)
    status: RunStatus = RunStatus.RUNNING
    error: str | None = None
    started_monotonic: float = field(default_factory=time.monotonic)
    started_at: float = field(default_factory=time.time)

    def stream_counts(self, stream_name: str) -> Counter[str]:
        counts = self.streams.get(stream_name)
        if counts is None:
            counts = self.streams[stream_name] = Counter()
        return counts

    def add_rejection(self, stream_name: str, reason: str) -> None:
        self.events_rejected += 1
        self.rejected_by_reason[reason] += 1
        self.stream_counts(stream_name)["events_rejected"] += 1

    def add_delivered(self, stream_name: str, match_keys_per_event: list[tuple[str, ...]]) -> None:
        self.events_delivered += len(match_keys_per_event)
        self.stream_counts(stream_name)["events_delivered"] += len(match_keys_per_event)
        coverage = self.match_keys
        for keys in match_keys_per_event:
            coverage.update(keys)
            if len(keys) == 1:
                self.single_key_events += 1

    def add_already_delivered(self, stream_name: str, count: int) -> None:
        self.events_already_delivered += count
        self.stream_counts(stream_name)["events_already_delivered"] += count

    def to_dict(self) -> dict[str, Any]:
        duration = max(time.monotonic() - self.started_monotonic, 1e-9)
        report = {
            "status": self.status,
            "mode": self.mode,
            "error": self.error,
            "started_at": _iso(self.started_at),
            "records_read": self.records_read,
            "events_delivered": self.events_delivered,
            "events_rejected": self.events_rejected,
            "events_already_delivered": self.events_already_delivered,
            "rejected_by_reason": dict(sorted(self.rejected_by_reason.items())),
            "requests": self.requests,
            "retries": self.retries,
            "duration_seconds": round(duration, 3),
            "events_per_second": round(self.events_delivered / duration, 1),
            "match_keys": {key: self.match_keys.get(key, 0) for key in REPORTED_MATCH_KEYS},
            "single_key_events": self.single_key_events,
            "normalisation": dict(sorted(self.normalisation.items())),
            "streams": {name: dict(sorted(counts.items())) for name, counts in sorted(self.streams.items())},
        }
        if self.mode is Mode.VALIDATE_ONLY:
            report["validation"] = dict(sorted(self.validation.items()))
        return report

    def write(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        """Write the report atomically (a reader never sees half a file) and return what was written."""
        report = self.to_dict()
        target = Path(path)
        tmp = target.with_name(target.name + ".tmp")
        with open_private(tmp, append=False) as output:
            try:
                output.write((json.dumps(report, indent=2) + "\n").encode("utf-8"))
            except OSError as error:
                raise OutputError(tmp, error) from None
        try:
            tmp.replace(target)
        except OSError as error:
            raise OutputError(target, error) from None
        return report

    def summary_lines(self) -> list[str]:
        """A short human summary for stderr."""
        report = self.to_dict()
        delivered_label = {
            Mode.LIVE: "delivered",
            Mode.VALIDATE_ONLY: "valid (validate only)",
            Mode.DRY_RUN: "written (dry run)",
        }
        lines = [
            f"Snapchat CAPI run {report['status']} ({self.mode.value}): {report['records_read']} records read, "
            f"{report['events_delivered']} {delivered_label[self.mode]}, "
            f"{report['events_already_delivered']} already delivered, "
            f"{report['events_rejected']} rejected, {report['requests']} requests, {report['retries']} retries, "
            f"{report['duration_seconds']} s ({report['events_per_second']} events/s).",
        ]
        if self.rejected_by_reason:
            reasons = ", ".join(f"{code}={count}" for code, count in report["rejected_by_reason"].items())
            lines.append(f"  rejected by reason: {reasons}")
        if self.events_delivered:
            coverage = ", ".join(
                f"{key} {100 * count / self.events_delivered:.0f}%"
                for key, count in report["match_keys"].items()
                if count
            )
            lines.append(f"  match-key coverage: {coverage}; single-key events: {self.single_key_events}")
        if self.error:
            lines.append(f"  error: {self.error}")
        return lines


def _iso(epoch_seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_seconds))
