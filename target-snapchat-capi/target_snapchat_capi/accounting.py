"""The run's one bookkeeper: the only writer of the report's counters and of the rejects file.

The main thread counts records read and builds events; the sender thread counts deliveries and API rejections.
Everything both threads touch goes through here, under one lock. Counts and reason codes only, never a value.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

from target_snapchat_capi.client import DeliveryResult
from target_snapchat_capi.events import Event, Rejection, RejectReason
from target_snapchat_capi.rejects import RejectsFile
from target_snapchat_capi.report import RunReport

#: Where a record came from: the tap's (source file, line) metadata columns, when it sent them.
Source = tuple[Any, Any]


class StreamReads:
    """Counts one stream's records read. Only the main thread reads records, so no lock on the hot path."""

    __slots__ = ("_report", "_stream_counts")

    def __init__(self, report: RunReport, stream_name: str) -> None:
        self._report = report
        self._stream_counts = report.stream_counts(stream_name)

    def count(self) -> None:
        self._report.records_read += 1
        self._stream_counts["records_read"] += 1


class Accounting:
    """Owns the report and the rejects file for one run. Thread-safe."""

    def __init__(self, report: RunReport, rejects: RejectsFile) -> None:
        self.report = report
        self._rejects = rejects
        self._lock = threading.Lock()

    # -- main thread

    def reads(self, stream_name: str) -> StreamReads:
        """The read counter of a stream (one per sink)."""
        with self._lock:
            return StreamReads(self.report, stream_name)

    def normalisation_outcomes(self) -> Counter[str]:
        """The counter the event builders add normalisation outcomes to (main thread only)."""
        return self.report.normalisation

    # -- either thread

    def reject(self, stream_name: str, rejection: Rejection, source: Source) -> None:
        with self._lock:
            self.report.add_rejection(stream_name, rejection.reason)
            self._rejects.write(
                stream=stream_name,
                reason=rejection.reason,
                message=rejection.message,
                event_id=rejection.event_id,
                source_file=source[0],
                source_line=source[1],
            )

    def delivered(
        self,
        stream_name: str,
        events: Sequence[Event],
        sources: Sequence[Source],
        result: DeliveryResult,
    ) -> None:
        """Count what a send delivered, and put the events Snap refused into the rejects file."""
        for refused in result.rejected:
            event = events[refused.index]
            message = f"Snapchat refused the event: {refused.code}: {refused.message}"
            rejection = Rejection(RejectReason.API_REJECTED, message, event.event_id)
            self.reject(stream_name, rejection, sources[refused.index])
        with self._lock:
            report = self.report
            report.requests += result.requests
            report.retries += result.retries
            report.add_delivered(stream_name, [events[index].match_keys for index in result.delivered])
            for verdict in result.verdicts or ():
                report.validation[str(verdict.get("status"))] += 1
                report.validation["warnings"] += len(verdict.get("warnings") or ())

    def already_delivered(self, stream_name: str, count: int) -> None:
        """The ledger knew these events: Snap accepted them before, so they were not sent again."""
        with self._lock:
            self.report.add_already_delivered(stream_name, count)

    def written(self, stream_name: str, events: Sequence[Event], requests: int) -> None:
        """A dry run wrote these events in `requests` request bodies."""
        with self._lock:
            self.report.requests += requests
            self.report.add_delivered(stream_name, [event.match_keys for event in events])

    def flush_rejects(self) -> None:
        """Make the rejections durable (before a STATE that covers them goes out)."""
        with self._lock:
            self._rejects.flush()

    def close(self) -> None:
        with self._lock:
            self._rejects.close()
