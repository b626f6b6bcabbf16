"""Run counters, the run's report files and its one-screen summary. Counts only: never a value from a record.

At the run's end (also after a failure or an interruption) `write_run_outputs` writes, from one `RunReport`:
the JSON report (``findings`` first), the HTML report (`report_html`, atomically, mode 0600) and one history
line (`history`, also for a failed run); it returns the stderr summary, findings first.

Bounds (memory stays flat on any input): per source file, at most `MAX_TRACKED_SOURCE_FILES` files are counted
(the events of later new files are counted together as ``source_files_not_listed``) and the report lists the
`MAX_REPORTED_SOURCE_FILES` files with the most rejects; `MAX_REJECT_EXAMPLES` locations (file and line) per
reject reason. The accounting (the only writer of these counters) bounds the order ids it remembers.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from target_snapchat_capi.capi import REPORTED_MATCH_KEYS
from target_snapchat_capi.findings import Finding, compute_findings
from target_snapchat_capi.findings import summary_lines as finding_lines
from target_snapchat_capi.history import append_history, history_entry, previous_comparable, read_history
from target_snapchat_capi.normalize import summarise_outcomes
from target_snapchat_capi.outputs import OutputError, describe, open_private
from target_snapchat_capi.report_html import EVENT_AGE_BIN_EDGES_DAYS, FRESH_DAYS, MAX_REJECT_EXAMPLES, render_html
from target_snapchat_capi.settings import Mode, OutputPaths

logger = logging.getLogger(__name__)

#: Source files counted one by one; events of further new files are counted together.
MAX_TRACKED_SOURCE_FILES: Final = 10_000
#: Source files listed in the report, most rejects first.
MAX_REPORTED_SOURCE_FILES: Final = 1_000
#: The event-age histogram's bins: ``[edge_i, edge_i+1)`` days, and an open-ended last one from the last edge.
AGE_BIN_COUNT: Final = len(EVENT_AGE_BIN_EDGES_DAYS)


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
    rejected_by_reason: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    retries: int = 0
    match_keys: Counter[str] = field(default_factory=Counter)
    single_key_events: int = 0
    normalisation: Counter[str] = field(default_factory=Counter)
    #: validate_only: Snap's per-event verdicts by status, and how many warnings they carried.
    validation: Counter[str] = field(default_factory=Counter)
    #: validate_only: Snap's error codes of the events it judged INVALID
    validation_errors: Counter[str] = field(default_factory=Counter)
    streams: dict[str, Counter[str]] = field(default_factory=dict)
    #: events found in the delivery ledger: Snap accepted them in an earlier run (or batch), so not sent again;
    #: neither delivered nor rejected
    already_delivered: int = 0
    #: events sent, by age at send time: one count per bin (see AGE_BIN_COUNT)
    event_age_bins: list[int] = field(default_factory=lambda: [0] * AGE_BIN_COUNT)
    #: events sent (their time was read), and how many of those times were exactly midnight in the source zone
    event_times_parsed: int = 0
    midnight_event_times: int = 0
    #: events whose order id an earlier event of the run carried
    duplicate_order_id_rows: int = 0
    #: per input file (the tap's source file column): [events delivered, events rejected]
    source_files: dict[str, list[int]] = field(default_factory=dict)
    #: the same for files beyond MAX_TRACKED_SOURCE_FILES, together
    source_files_untracked: list[int] = field(default_factory=lambda: [0, 0])
    #: a few (file, line) locations per reject reason
    reject_examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: with test_event_code: what Snap's test-event log shows after the run (report_html.summarize_test_event_logs)
    test_event_logs: dict[str, Any] | None = None
    #: line items (orders.py): orders assembled, their lines, orders rejected
    orders: Counter[str] = field(default_factory=Counter)
    #: records skipped by unmapped_event_names: skip (no rejects line)
    skipped_stage: int = 0
    #: with several pixels: per pixel (its route), events delivered and refused by Snap, requests
    pixels: dict[str, Counter[str]] = field(default_factory=dict)
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

    def source_file_counts(self, name: str) -> list[int]:
        """[delivered, rejected] of one input file (the shared untracked pair once the cap is reached)."""
        counts = self.source_files.get(name)
        if counts is None:
            if len(self.source_files) >= MAX_TRACKED_SOURCE_FILES:
                return self.source_files_untracked
            counts = self.source_files[name] = [0, 0]
        return counts

    def add_reject_example(self, reason: str, source_file: object, source_line: object) -> None:
        examples = self.reject_examples.get(reason)
        if examples is None:
            examples = self.reject_examples[reason] = []
        if len(examples) < MAX_REJECT_EXAMPLES:
            line = source_line if isinstance(source_line, int) and not isinstance(source_line, bool) else None
            examples.append({"file": str(source_file), "line": line})

    def add_skipped_stage(self, stream_name: str) -> None:
        self.skipped_stage += 1
        self.stream_counts(stream_name)["skipped_stage"] += 1

    def add_order(self, stream_name: str, lines: int, *, rejected: bool) -> None:
        counts = self.stream_counts(stream_name)
        for counter in (self.orders, counts):
            counter["orders"] += 1
            counter["order_lines"] += lines
            if rejected:
                counter["orders_rejected"] += 1

    def add_pixel_send(self, pixel: str, delivered: int, rejected: int, requests: int) -> None:
        counts = self.pixels.get(pixel)
        if counts is None:
            counts = self.pixels[pixel] = Counter()
        counts["events_delivered"] += delivered
        counts["api_rejected"] += rejected
        counts["requests"] += requests

    def add_delivered(self, stream_name: str, match_keys_per_event: list[tuple[str, ...]]) -> None:
        self.events_delivered += len(match_keys_per_event)
        self.stream_counts(stream_name)["events_delivered"] += len(match_keys_per_event)
        coverage = self.match_keys
        for keys in match_keys_per_event:
            coverage.update(keys)
            if len(keys) == 1:
                self.single_key_events += 1

    def add_already_delivered(self, stream_name: str, count: int) -> None:
        self.already_delivered += count
        self.stream_counts(stream_name)["already_delivered"] += count

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
            "rejected_by_reason": dict(sorted(self.rejected_by_reason.items())),
            "requests": self.requests,
            "retries": self.retries,
            "duration_seconds": round(duration, 3),
            "events_per_second": round(self.events_delivered / duration, 1),
            "match_keys": {key: self.match_keys.get(key, 0) for key in REPORTED_MATCH_KEYS},
            "single_key_events": self.single_key_events,
            "normalisation": dict(sorted(self.normalisation.items())),
            "streams": {name: dict(sorted(counts.items())) for name, counts in sorted(self.streams.items())},
            "already_delivered": self.already_delivered,
            "user_fields": summarise_outcomes(self.normalisation),
            "event_age_days_histogram": self._age_histogram(),
            "events_older_than_7_days": self._events_older_than(FRESH_DAYS),
            "event_times_parsed": self.event_times_parsed,
            "midnight_event_times": self.midnight_event_times,
            "duplicate_order_id_rows": self.duplicate_order_id_rows,
            **self._source_files(),
            "reject_examples": {reason: list(examples) for reason, examples in sorted(self.reject_examples.items())},
        }
        if self.mode is Mode.VALIDATE_ONLY:
            report["validation"] = dict(sorted(self.validation.items()))
            report["validation_errors"] = dict(sorted(self.validation_errors.items()))
        if self.test_event_logs is not None:
            report["test_event_logs"] = self.test_event_logs
        if self.orders:
            report["orders"] = {key: self.orders.get(key, 0) for key in ("orders", "order_lines", "orders_rejected")}
        if self.skipped_stage:
            report["skipped_stage"] = self.skipped_stage
        if self.pixels:
            report["pixels"] = {name: dict(sorted(counts.items())) for name, counts in sorted(self.pixels.items())}
        return report

    def _age_histogram(self) -> list[dict[str, Any]]:
        edges = EVENT_AGE_BIN_EDGES_DAYS
        return [
            {"from": edges[index], "to": edges[index + 1] if index + 1 < len(edges) else None, "events": events}
            for index, events in enumerate(self.event_age_bins)
        ]

    def _events_older_than(self, days: int) -> int:
        """Events sent more than `days` days old (`days` is one of the bin edges)."""
        first_bin = EVENT_AGE_BIN_EDGES_DAYS.index(days)
        return sum(self.event_age_bins[first_bin:])

    def _source_files(self) -> dict[str, Any]:
        ranked = sorted(self.source_files.items(), key=lambda item: (-item[1][1], -item[1][0], item[0]))
        listed, rest = ranked[:MAX_REPORTED_SOURCE_FILES], ranked[MAX_REPORTED_SOURCE_FILES:]
        figures: dict[str, Any] = {
            "source_files": {
                name: {"events_delivered": delivered, "events_rejected": rejected}
                for name, (delivered, rejected) in listed
            }
        }
        not_listed = [sum(counts[0] for _, counts in rest), sum(counts[1] for _, counts in rest)]
        not_listed[0] += self.source_files_untracked[0]
        not_listed[1] += self.source_files_untracked[1]
        if rest or any(not_listed):
            figures["source_files_not_listed"] = {
                "files": len(rest),
                "events_delivered": not_listed[0],
                "events_rejected": not_listed[1],
            }
        return figures

    def write(self, path: str | os.PathLike[str], findings: list[Finding] | None = None) -> dict[str, Any]:
        """Write the JSON report atomically, its findings first, and return what was written."""
        report = {"findings": [finding.to_dict() for finding in findings or ()], **self.to_dict()}
        write_atomically(Path(path), json.dumps(report, indent=2) + "\n")
        return report

    def summary_lines(self, findings: list[Finding] | None = None) -> list[str]:
        """A short human summary for stderr: the findings first, then the figures."""
        report = self.to_dict()
        delivered_label = {
            Mode.LIVE: "delivered",
            Mode.VALIDATE_ONLY: "valid (validate only)",
            Mode.DRY_RUN: "written (dry run)",
        }
        lines = [f"Snapchat CAPI run findings ({len(findings)}):", *finding_lines(findings)] if findings else []
        lines += [
            f"Snapchat CAPI run {report['status']} ({self.mode.value}): {report['records_read']} records read, "
            f"{report['events_delivered']} {delivered_label[self.mode]}, "
            f"{report['already_delivered']} already delivered, "
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
        lines += user_field_lines(report["user_fields"])
        if self.orders:
            lines.append(
                f"  orders: {self.orders['orders']} from {self.orders['order_lines']} line-item rows, "
                f"{self.orders['orders_rejected']} rejected"
            )
        if self.skipped_stage:
            lines.append(f"  skipped (unmapped stage): {self.skipped_stage}")
        for name, counts in sorted(self.pixels.items()):
            lines.append(
                f"  pixel {name}: {counts['events_delivered']} delivered, {counts['api_rejected']} refused, "
                f"{counts['requests']} requests"
            )
        if self.error:
            lines.append(f"  error: {self.error}")
        return lines


def user_field_lines(user_fields: dict[str, dict[str, Any]]) -> list[str]:
    """One line per user field: ``ph: 8,120 sent, 311 no country, 42 impossible length``."""
    if not user_fields:
        return []
    lines = ["  user fields (values sent, and not sent by reason):"]
    for snap_field, counts in user_fields.items():
        parts = [f"{counts['sent']:,} sent"]
        not_sent = sorted(counts["not_sent"].items(), key=lambda item: -item[1])  # the biggest loss first
        parts += [f"{count:,} {reason.replace('_', ' ')}" for reason, count in not_sent]
        lines.append(f"    {snap_field}: {', '.join(parts)}")
    return lines


def write_run_outputs(report: RunReport, paths: OutputPaths) -> tuple[list[str], OutputError | None]:
    """The run's end: the JSON report, the HTML report and the history line. Returns the stderr summary, and the
    error that kept the JSON report from being written, if any.

    Each file is written on its own, so that one that cannot be written does not stop the others; a failure of the
    HTML report or of the history is logged (the path and the system's reason, never a value).
    """
    figures = report.to_dict()
    try:
        history = read_history(paths.report_history)
    except OSError as error:
        logger.warning("Cannot read the run history %s (%s); trends start over", paths.report_history, describe(error))
        history = []
    findings = compute_findings(figures, previous_comparable(history, str(report.mode)))
    report_error = None
    try:
        written = report.write(paths.report, findings)
    except OutputError as error:
        report_error = error
        written = {"findings": [finding.to_dict() for finding in findings], **figures}
    try:
        write_atomically(paths.report_html, render_html(written, history, findings))
    except OutputError as error:
        logger.warning("The HTML run report was not written: %s", error)
    try:
        append_history(paths.report_history, history_entry(written))
    except OSError as error:
        logger.warning(
            "The run history was not appended to: cannot write %s: %s", paths.report_history, describe(error)
        )
    return report.summary_lines(findings), report_error


def write_atomically(path: Path, text: str) -> None:
    """Write a whole file (private, see outputs.py) so that a reader never sees half of it: a temporary file, then
    a rename. Raises OutputError naming the file."""
    tmp = path.with_name(path.name + ".tmp")
    with open_private(tmp, append=False) as output:
        try:
            output.write(text.encode("utf-8"))
            output.flush()
            os.fsync(output.fileno())
        except OSError as error:
            raise OutputError(tmp, error) from None
    try:
        tmp.replace(path)
    except OSError as error:
        raise OutputError(path, error) from None


def _iso(epoch_seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_seconds))
