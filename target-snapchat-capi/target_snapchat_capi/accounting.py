"""The run's one bookkeeper: the only writer of the report's counters and of the rejects file.

The main thread counts records read and builds events; the sender thread counts deliveries and API rejections.
Everything both threads touch goes through here, under one lock. Counts and reason codes only, never a value.

Per event sent (delivered, or written by a dry run), at send time: its age (the report's histogram), whether its
time is exactly midnight in ``source_timezone`` (a date written as a time), whether an earlier event of the run
had its order id (line items), and its source file. Order ids are remembered as their in-process hash, at most
`MAX_REMEMBERED_ORDER_IDS` of them (16 MB at most, seen_ids.py); beyond, new ids are not remembered, so repeats of those
are not counted. Every `PROGRESS_CHECK_RECORDS` records read, the main thread looks at the clock and logs one
progress line (counts only) when `PROGRESS_INTERVAL_SECONDS` have passed since the last.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import zoneinfo
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, Final

from target_snapchat_capi.client import DeliveryResult
from target_snapchat_capi.events import Rejection, RejectReason
from target_snapchat_capi.rejects import RejectsFile
from target_snapchat_capi.report import RunReport
from target_snapchat_capi.report_html import EVENT_AGE_BIN_EDGES_DAYS, count_validation_errors
from target_snapchat_capi.seen_ids import SeenIds
from target_snapchat_capi.wire import EncodedEvent

logger = logging.getLogger(__name__)

#: Where a record came from: the tap's (source file, line) metadata columns, when it sent them; for an order's one
#: event, `OrderSources` (each of its lines).
Source = tuple[Any, ...]


class OrderSources(tuple[tuple[Any, Any], ...]):
    """The (file, line) of each line of one order: a rejection of the order lists every line."""

    __slots__ = ()


MAX_REMEMBERED_ORDER_IDS: Final = 1_000_000
PROGRESS_INTERVAL_SECONDS: Final = 10.0
PROGRESS_CHECK_RECORDS: Final = 1_000
_SECONDS_PER_DAY: Final = 86_400
#: Every midnight of a zone whose offset is a whole number of quarter hours (all of today's) is a multiple of this.
_QUARTER_HOUR: Final = 900
#: Whole days of age -> histogram bin (ages past the last edge go to the open-ended last bin).
_BIN_OF_DAY: Final[tuple[int, ...]] = tuple(
    next(index for index in range(len(EVENT_AGE_BIN_EDGES_DAYS) - 1, -1, -1) if EVENT_AGE_BIN_EDGES_DAYS[index] <= day)
    for day in range(EVENT_AGE_BIN_EDGES_DAYS[-1] + 1)
)


class Progress:
    """One INFO line at most every `interval` seconds: records read, delivered, rejected, events/s. Counts only."""

    __slots__ = ("_interval", "_last_delivered", "_last_time", "_report")

    def __init__(self, report: RunReport, interval: float = PROGRESS_INTERVAL_SECONDS) -> None:
        self._report = report
        self._interval = interval
        self._last_time = time.monotonic()
        self._last_delivered = 0

    def check(self) -> None:
        now = time.monotonic()
        elapsed = now - self._last_time
        if elapsed < self._interval:
            return
        report = self._report
        delivered = report.events_delivered
        logger.info(
            "Progress: %d records read, %d events delivered, %d rejected, %.0f events/s",
            report.records_read,
            delivered,
            report.events_rejected,
            (delivered - self._last_delivered) / elapsed,
        )
        self._last_time, self._last_delivered = now, delivered


class StreamReads:
    """Counts one stream's records read. Only the main thread reads records, so no lock on the hot path."""

    __slots__ = ("_progress", "_report", "_stream_counts")

    def __init__(self, report: RunReport, stream_name: str, progress: Progress) -> None:
        self._report = report
        self._stream_counts = report.stream_counts(stream_name)
        self._progress = progress

    def count(self) -> None:
        report = self._report
        report.records_read += 1
        self._stream_counts["records_read"] += 1
        if not report.records_read % PROGRESS_CHECK_RECORDS:
            self._progress.check()


class Accounting:
    """Owns the report and the rejects file for one run. Thread-safe."""

    def __init__(self, report: RunReport, rejects: RejectsFile, *, source_timezone: str = "UTC") -> None:
        self.report = report
        self._rejects = rejects
        self._lock = threading.Lock()
        self._progress = Progress(report)
        self._zone = zoneinfo.ZoneInfo(source_timezone)
        self._zone_is_utc = source_timezone == "UTC"
        #: hashes of the order ids sent so far (sender thread only)
        self._order_ids = SeenIds(MAX_REMEMBERED_ORDER_IDS)

    # -- main thread

    def reads(self, stream_name: str) -> StreamReads:
        """The read counter of a stream (one per sink)."""
        with self._lock:
            return StreamReads(self.report, stream_name, self._progress)

    def normalisation_outcomes(self) -> Counter[str]:
        """The counter the event builders add normalisation outcomes to (main thread only)."""
        return self.report.normalisation

    # -- either thread

    def reject(self, stream_name: str, rejection: Rejection, source: Source) -> None:
        """One rejects line (and one rejection counted) per source line: an order's rejection lists each line."""
        lines = source if isinstance(source, OrderSources) else (source,)
        with self._lock:
            report = self.report
            for source_file, source_line in lines:
                report.add_rejection(stream_name, rejection.reason)
                if source_file is not None:
                    report.source_file_counts(str(source_file))[1] += 1
                    report.add_reject_example(rejection.reason, source_file, source_line)
                self._rejects.write(
                    stream=stream_name,
                    reason=rejection.reason,
                    message=rejection.message,
                    event_id=rejection.event_id,
                    source_file=source_file,
                    source_line=source_line,
                )

    def skipped(self, stream_name: str) -> None:
        """A record whose event name is not mapped, with unmapped_event_names: skip (no rejects line)."""
        with self._lock:
            self.report.add_skipped_stage(stream_name)

    def order_completed(self, stream_name: str, lines: int, *, rejected: bool) -> None:
        """An order of `lines` rows was assembled (main thread; its event is delivered or rejected later)."""
        with self._lock:
            self.report.add_order(stream_name, lines, rejected=rejected)

    def delivered(
        self,
        stream_name: str,
        events: Sequence[EncodedEvent],
        sources: Sequence[Source],
        result: DeliveryResult,
        pixel: str | None = None,
    ) -> None:
        """Count what a send delivered, and put the events Snap refused into the rejects file. `pixel` names the
        pixel the send went to when events are routed to several (routing.py)."""
        for refused in result.rejected:
            event = events[refused.index]
            message = f"Snapchat refused the event: {refused.code}: {refused.message}"
            rejection = Rejection(RejectReason.API_REJECTED, message, event.event_id)
            self.reject(stream_name, rejection, sources[refused.index])
        sent = self._sent_figures(events, sources, result.delivered)
        with self._lock:
            report = self.report
            report.requests += result.requests
            report.retries += result.retries
            report.add_delivered(stream_name, [events[index].match_keys for index in result.delivered])
            self._add_sent_figures(sent)
            if result.verdicts:
                for verdict in result.verdicts:
                    report.validation[str(verdict.get("status"))] += 1
                    report.validation["warnings"] += len(verdict.get("warnings") or ())
                report.validation_errors.update(count_validation_errors(result.verdicts))
            if pixel is not None:
                report.add_pixel_send(pixel, len(result.delivered), len(result.rejected), result.requests)

    def already_delivered(self, stream_name: str, count: int) -> None:
        """The ledger knew these events: Snap accepted them before, so they were not sent again."""
        with self._lock:
            self.report.add_already_delivered(stream_name, count)

    def written(
        self, stream_name: str, events: Sequence[EncodedEvent], requests: int, sources: Sequence[Source] = ()
    ) -> None:
        """A dry run wrote these events in `requests` request bodies."""
        sent = self._sent_figures(events, sources, range(len(events)))
        with self._lock:
            self.report.requests += requests
            self.report.add_delivered(stream_name, [event.match_keys for event in events])
            self._add_sent_figures(sent)

    # -- the figures of the events sent (sender thread; merged into the report under the lock)

    def _sent_figures(
        self, events: Sequence[EncodedEvent], sources: Sequence[Source], indices: Iterable[int]
    ) -> tuple[list[int], int, int, int, dict[Any, int]]:
        """(age bins, event times read, midnight times, repeated order ids, events per source file) of the events
        at `indices`, aged at this moment."""
        now = time.time()
        bins = [0] * len(EVENT_AGE_BIN_EDGES_DAYS)
        bin_of_day, last_day, last_bin = _BIN_OF_DAY, len(_BIN_OF_DAY) - 1, len(EVENT_AGE_BIN_EDGES_DAYS) - 1
        order_ids = self._order_ids
        per_file: dict[Any, int] = {}
        times = midnights = repeats = 0
        with_sources = len(sources) == len(events)
        for index in indices:
            event = events[index]
            event_time = event.event_time
            if event_time is not None:  # every built event has one; hand-made test events may not
                days = int(now - event_time) // _SECONDS_PER_DAY
                bins[bin_of_day[days] if 0 <= days <= last_day else (0 if days < 0 else last_bin)] += 1
                times += 1
                if not event_time % _QUARTER_HOUR and self._is_midnight(event_time):
                    midnights += 1
            order_id = event.order_id
            if order_id is not None and order_ids.seen(hash(order_id)):
                repeats += 1
            if with_sources:
                source = sources[index]
                # An order's event counts for the file of its first line.
                source_file = source[0][0] if isinstance(source, OrderSources) else source[0]
                per_file[source_file] = per_file.get(source_file, 0) + 1
        return bins, times, midnights, repeats, per_file

    def _is_midnight(self, event_time: int) -> bool:
        if self._zone_is_utc:
            return not event_time % _SECONDS_PER_DAY
        local = dt.datetime.fromtimestamp(event_time, self._zone)
        return not (local.hour or local.minute or local.second)

    def _add_sent_figures(self, sent: tuple[list[int], int, int, int, dict[Any, int]]) -> None:
        bins, times, midnights, repeats, per_file = sent
        report = self.report
        for index, count in enumerate(bins):
            report.event_age_bins[index] += count
        report.event_times_parsed += times
        report.midnight_event_times += midnights
        report.duplicate_order_id_rows += repeats
        for source_file, count in per_file.items():
            if source_file is not None:
                report.source_file_counts(str(source_file))[0] += count

    def flush_rejects(self) -> None:
        """Make the rejections durable (before a STATE that covers them goes out)."""
        with self._lock:
            self._rejects.flush()

    def close(self) -> None:
        with self._lock:
            self._rejects.close()
