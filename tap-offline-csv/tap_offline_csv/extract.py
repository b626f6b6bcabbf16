"""One stream's run as plain code: which files to read, each file read row by row, its bookmark kept.

:class:`StreamExtraction` yields the stream's records, file after file, and keeps the stream's state (a plain
dict) in step with them: when a record has been handed over, its file's bookmark counts it. The caller (the
Singer stream) only writes what it receives and, when :meth:`StreamExtraction.records` asks through
``checkpoint``, a STATE message; a STATE written then covers exactly the records handed over before it.

This module imports nothing from singer_sdk.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import typing as t
from dataclasses import dataclass

from tap_offline_csv import bookmarks
from tap_offline_csv.reader import CSVFileReader, CSVFormat, replication_sort_key
from tap_offline_csv.storage import RemoteFile, SourceError, open_binary

if t.TYPE_CHECKING:
    import fsspec

logger = logging.getLogger("tap_offline_csv.extract")

METADATA_COLUMNS = ("_sdc_source_file", "_sdc_source_lineno", "_sdc_source_modified_at")
PENDING_RK_KEY = "pending_replication_key_value"
DEFAULT_STATE_INTERVAL_SECONDS = 5.0
# A state this small costs nothing to repeat; above it, the STATE bytes of a run are kept within
# STATE_BUDGET_FACTOR times the state's current size (so many files never cost n² STATE bytes).
SMALL_STATE_BYTES = 256 * 1024
STATE_BUDGET_FACTOR = 4


@dataclass(frozen=True)
class ExtractSettings:
    """What one stream's run needs from the tap settings."""

    stream_name: str
    fmt: CSVFormat
    columns: tuple[str, ...]
    replication_key: str | None = None
    add_metadata: bool = True
    state_every_rows: int = 0
    """Also checkpoint every N records (0: only by time)."""
    state_interval_seconds: float = DEFAULT_STATE_INTERVAL_SECONDS
    start_date: dt.datetime | None = None
    settle_seconds: float = 0


class StateCadence:
    """Decides when a STATE is due: every few seconds of progress, within a byte budget.

    ``checkpoint()`` returns the size of the STATE it wrote; a state over :data:`SMALL_STATE_BYTES` is written
    again only while the run's STATE bytes stay under :data:`STATE_BUDGET_FACTOR` times its size.
    """

    def __init__(
        self,
        interval_seconds: float,
        every_rows: int = 0,
        clock: t.Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval_seconds
        self.every_rows = every_rows
        self.clock = clock
        self.bytes_written = 0
        self.states_written = 0
        self._last_size = 0
        self._since = 0
        self._next_at = clock() + interval_seconds

    def tick(self) -> bool:
        """Count one record handed over; True when a STATE is due before the next one."""
        since = self._since = self._since + 1
        if self.every_rows and since >= self.every_rows:
            return True
        return not since & 63 and self.due()  # the clock is read every 64 records

    def due(self) -> bool:
        """True when the interval has passed and the byte budget allows another STATE."""
        if self.clock() < self._next_at:
            return False
        size = self._last_size
        return size <= SMALL_STATE_BYTES or self.bytes_written + size <= STATE_BUDGET_FACTOR * size

    def wrote(self, size: int) -> None:
        """A STATE of ``size`` bytes was written."""
        self.bytes_written += size
        self.states_written += 1
        # The next state is at least this big: the budget check uses it.
        self._last_size = max(self._last_size, size)
        self._since = 0
        self._next_at = self.clock() + self.interval


class ReplicationKeyFilter:
    """Rows at or below the stream's bookmark are passed over; the highest value seen becomes pending."""

    def __init__(self, key: str, column_type: str, state: dict[str, t.Any]) -> None:
        self.key = key
        self.state = state
        self.sort_key = replication_sort_key(column_type)
        threshold_value = state.get("replication_key_value")
        self.threshold = self.sort_key(threshold_value) if threshold_value is not None else None
        self.pending_value = state.get(PENDING_RK_KEY)
        self.pending = self.sort_key(self.pending_value) if self.pending_value is not None else None
        self.filtered = 0

    def accepts(self, record: t.Mapping[str, t.Any]) -> bool:
        """False for a row at or below the bookmark; tracks the highest value of the others."""
        value = record.get(self.key)
        if value is None:
            return True
        key = self.sort_key(value)
        if self.threshold is not None and key <= self.threshold:
            self.filtered += 1
            return False
        if self.pending is None or key > self.pending:
            # Kept in the state at once: a run that stops early leaves it for the next run to promote.
            self.pending, self.pending_value = key, value
            self.state[PENDING_RK_KEY] = value
        return True

    def settle(self) -> None:
        """Every due file is read: the pending high-water mark becomes the filter of the next run."""
        state = self.state
        state["replication_key"] = self.key
        if self.pending_value is None:
            return
        if self.threshold is None or (self.pending is not None and self.pending > self.threshold):
            state["replication_key_value"] = self.pending_value
        state.pop(PENDING_RK_KEY, None)


Listing = tuple["fsspec.AbstractFileSystem", list[RemoteFile]]


class StreamExtraction:
    """The records of one stream's due files, in (mtime, URL) order, with the stream state kept in step."""

    def __init__(
        self,
        settings: ExtractSettings,
        listings: t.Sequence[Listing],
        state: dict[str, t.Any],
        *,
        now: dt.datetime | None = None,
    ) -> None:
        self.settings = settings
        self.state = state
        self.files_state: dict[str, t.Any] = state.setdefault(bookmarks.FILES_KEY, {})
        unique = {remote.url: (fs, remote) for fs, found in listings for remote in found}
        ordered = sorted(unique.values(), key=lambda pair: pair[1].sort_key())
        self._fs_by_url = {remote.url: fs for fs, remote in ordered}
        self.pruned = bookmarks.prune(self.files_state, set(self._fs_by_url))
        self.listed = len(ordered)
        self.plan = bookmarks.plan_files(
            [remote for _, remote in ordered],
            self.files_state,
            now=now or dt.datetime.now(dt.UTC),
            start_date=settings.start_date,
            settle_seconds=settings.settle_seconds,
        )
        rk = settings.replication_key
        self.rk_filter = ReplicationKeyFilter(rk, settings.fmt.column_types.get(rk, "string"), state) if rk else None
        if rk:
            state["replication_key"] = rk
        self.cadence = StateCadence(settings.state_interval_seconds, settings.state_every_rows)
        self.finished = False

    def summary(self) -> str:
        """One line for the start of the stream's run."""
        plan = self.plan
        return (
            f"Stream {self.settings.stream_name}: {self.listed} file(s) listed, {len(plan.tasks)} to read, "
            f"{plan.unchanged} unchanged, {plan.settling} settling (left for the next run), "
            f"{plan.before_start_date} before start_date, {self.pruned} bookmark(s) of vanished files pruned"
        )

    def records(self, checkpoint: t.Callable[[], int]) -> t.Iterator[dict[str, t.Any]]:
        """Yield every record of the due files; call ``checkpoint`` (it writes STATE) when one is due.

        ``checkpoint`` is only called between records, so the STATE it writes covers the records handed over.
        """
        for task in self.plan.tasks:
            yield from self._read_file(task, checkpoint)
        self._finish()

    def _read_file(self, task: bookmarks.FileTask, checkpoint: t.Callable[[], int]) -> t.Iterator[dict[str, t.Any]]:
        """One file's records; its bookmark counts each record once the consumer asks for the next."""
        remote = task.remote
        bookmark = bookmarks.new_bookmark(task)
        self.files_state[remote.url] = bookmark
        if task.resume_after_line:
            logger.info(
                "%s: resuming after line %d (%d rows already sent)",
                remote.url,
                task.resume_after_line,
                task.rows_already_sent,
            )
        sent_before = task.rows_already_sent
        try:
            with self._open(task) as reader:
                yield from self._rows(reader, bookmark, checkpoint)
            # Skipped rows are data the user expected: the file's summary says so at WARNING.
            logger.log(
                logging.WARNING if reader.stats.bad_rows else logging.INFO,
                "%s: %d records emitted%s; %s",
                remote.url,
                bookmark["rows"] - sent_before,
                self._filtered_note(),
                reader.stats.summary(),
            )
        except SourceError as exc:  # an unreadable file (CSVFormatError) or entry (gone, dangling link, loop...)
            self._set_aside(bookmark, exc, bookmark["rows"] - sent_before)
        # The file is settled, read whole or set aside: its bookmark says so.
        bookmark["done"] = True
        if self.cadence.due():
            self.cadence.wrote(checkpoint())

    def _open(self, task: bookmarks.FileTask) -> CSVFileReader:
        remote = task.remote
        return CSVFileReader(
            open_binary(self._fs_by_url[remote.url], remote),
            remote.url,
            self.settings.fmt,
            columns=self.settings.columns,
            resume_after_line=task.resume_after_line,
        )

    def _rows(
        self,
        reader: CSVFileReader,
        bookmark: dict[str, t.Any],
        checkpoint: t.Callable[[], int],
    ) -> t.Iterator[dict[str, t.Any]]:
        # Code after the yield runs once the consumer has written the record and asks for the next one.
        tick = self.cadence.tick
        wrote = self.cadence.wrote
        rk_filter = self.rk_filter
        accepts = rk_filter.accepts if rk_filter is not None else None
        metadata = {
            "_sdc_source_file": reader.url,
            "_sdc_source_modified_at": bookmark["mtime"],
        }
        add_metadata = self.settings.add_metadata
        rows = bookmark["rows"]
        for line, record in reader.rows():
            if accepts is not None and not accepts(record):
                continue
            if add_metadata:
                record.update(metadata)
                record["_sdc_source_lineno"] = line
            yield record
            rows += 1
            bookmark["rows"] = rows
            bookmark["line"] = line
            if tick():
                wrote(checkpoint())

    def _filtered_note(self) -> str:
        if self.rk_filter is None:
            return ""
        filtered, self.rk_filter.filtered = self.rk_filter.filtered, 0
        return f", {filtered} rows at or below the replication key bookmark"

    def _set_aside(self, bookmark: dict[str, t.Any], exc: SourceError, sent: int) -> None:
        """One unreadable file must not hold back the files after it.

        It is set aside with its fingerprint and reason, so it is read again as soon as it is replaced or fixed.
        """
        if self.settings.fmt.on_bad_row == "fail":
            raise exc
        logger.error(
            "%s; file skipped after %d record(s). A corrected file (new size or time) is read again.",
            exc,
            sent,
        )
        bookmark["error"] = exc.reason

    def _finish(self) -> None:
        if self.rk_filter is not None:
            self.rk_filter.settle()
        self.finished = True
