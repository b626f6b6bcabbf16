"""The Singer stream: one per configured file set; each file is a unit of work with a bookmark.

The domain lives in :mod:`storage` (listing, fingerprints), :mod:`reader` (parsing) and
:mod:`bookmarks` (what to read, where to resume). This class wires them to the SDK and keeps the
per-record path short: records are encoded straight into the writer's buffer (no per-record SDK
message objects, type conformance or state increments), and STATE is emitted after each file and
every ``state_every_rows`` records.
"""

from __future__ import annotations

import datetime as dt
import traceback
import typing as t
from dataclasses import dataclass, field

from singer_sdk import Stream
from singer_sdk.exceptions import MaxRecordsLimitException
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform

from tap_offline_csv import bookmarks
from tap_offline_csv.reader import CSVFileReader, CSVFormat, CSVFormatError, replication_sort_key
from tap_offline_csv.storage import RemoteFile, StorageSettings, list_files, open_binary
from tap_offline_csv.writer import ENCODER, BufferedMsgspecWriter

if t.TYPE_CHECKING:
    import fsspec
    from singer_sdk import Tap
    from singer_sdk.helpers import types

METADATA_COLUMNS = ("_sdc_source_file", "_sdc_source_lineno", "_sdc_source_modified_at")
PENDING_RK_KEY = "pending_replication_key_value"


@dataclass
class StreamDefinition:
    """One entry of the ``files`` setting, validated."""

    name: str
    paths: list[str]
    fmt: CSVFormat
    key_properties: tuple[str, ...] = ()
    replication_key: str | None = None
    listings: list[tuple[fsspec.AbstractFileSystem, list[RemoteFile]]] = field(default_factory=list)
    """Listings made at discovery, reused by the sync of the same run."""


class CSVFileStream(Stream):
    """Rows of the CSV files matching one stream definition."""

    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE  # the reader already types values
    is_sorted = False

    def __init__(self, tap: Tap, definition: StreamDefinition, schema: dict[str, t.Any]) -> None:
        """Create the stream from its definition and discovered schema."""
        self.definition = definition
        super().__init__(tap=tap, schema=schema, name=definition.name)
        self.primary_keys = list(definition.key_properties)
        self.replication_key = definition.replication_key
        # Bookmarks make every stream incremental, with or without a replication key.
        self.forced_replication_method = "INCREMENTAL"

    def get_replication_key_signpost(self, context: types.Context | None = None) -> None:
        """No signpost: the replication key bookmark is kept by this stream (see _sync_records)."""
        return None

    # -- listing and planning ------------------------------------------------------------------

    def _listings(self) -> list[tuple[fsspec.AbstractFileSystem, list[RemoteFile]]]:
        if not self.definition.listings:
            settings = StorageSettings.from_config(self.config)
            self.definition.listings = [list_files(path, settings) for path in self.definition.paths]
        return self.definition.listings

    def _start_date(self) -> dt.datetime | None:
        value = self.config.get("start_date")
        if not value:
            return None
        parsed = dt.datetime.fromisoformat(str(value))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)

    def _fast_path_possible(self) -> bool:
        """True when records need no stream map or property selection, so they can be pre-encoded."""
        maps = self.stream_maps
        only_identity = (
            len(maps) == 1 and isinstance(maps[0], SameRecordTransform) and maps[0].stream_alias == self.name
        )
        all_selected = all(self.mask.get(("properties", name), True) for name in self.schema["properties"])
        return only_identity and all_selected and isinstance(self._tap.message_writer, BufferedMsgspecWriter)

    # -- sync ------------------------------------------------------------------------------------

    def _checkpoint(
        self,
        bookmark: dict[str, t.Any],
        *,
        emitted: int,
        line: int,
        done: bool,
        state: dict[str, t.Any],
        pending_value: t.Any,
        write_messages: bool,
    ) -> None:
        """Record progress in the file's bookmark and emit STATE (after the records it covers)."""
        bookmark["rows"] = emitted
        bookmark["line"] = line
        bookmark["done"] = done
        if self.replication_key and pending_value is not None:
            state[PENDING_RK_KEY] = pending_value
        if write_messages:
            self.state_manager.is_flushed = False
            self._write_state_message()

    def get_records(self, context: types.Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Records of all files due this run (used when the SDK asks for records directly)."""
        yield from self._sync_records(context, write_messages=False)

    def _sync_records(
        self,
        context: types.Context | None = None,
        *,
        write_messages: bool = True,
    ) -> t.Generator[dict, t.Any, t.Any]:
        """Read the due files in (mtime, URL) order, emitting RECORDs and STATE; yield each record.

        An unexpected error is reported by where it happened, never by its message: a library's message may quote
        a row ("could not convert 'x'"). Our errors and the SDK's are written to name files and lines instead.
        """
        try:
            yield from self._read_due_files(context, write_messages=write_messages)
        except Exception as exc:
            if type(exc).__module__.startswith(("tap_offline_csv", "singer_sdk")):
                raise
            where = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
            self.logger.error(
                "Unexpected %s; its message is withheld as it may quote row content. Traceback:\n%s",
                type(exc).__name__,
                where,
            )
            raise SystemExit(1) from None

    def _read_due_files(
        self,
        context: types.Context | None,
        *,
        write_messages: bool,
    ) -> t.Generator[dict, t.Any, t.Any]:
        config = self.config
        state = self.stream_state
        files_state: dict[str, t.Any] = state.setdefault(bookmarks.FILES_KEY, {})
        listings = self._listings()
        all_files = sorted(
            {remote.url: (fs, remote) for fs, found in listings for remote in found}.values(),
            key=lambda pair: pair[1].sort_key(),
        )
        pruned = bookmarks.prune(files_state, {remote.url for _, remote in all_files})
        fs_by_url = {remote.url: fs for fs, remote in all_files}
        plan = bookmarks.plan_files(
            [remote for _, remote in all_files],
            files_state,
            now=dt.datetime.now(dt.UTC),
            start_date=self._start_date(),
            settle_seconds=float(config.get("settle_seconds") or 0),
        )
        self.logger.info(
            "Stream %s: %d file(s) listed, %d to read, %d unchanged, %d settling (left for the next run), "
            "%d before start_date, %d bookmark(s) of vanished files pruned",
            self.name,
            len(all_files),
            len(plan.tasks),
            plan.unchanged,
            plan.settling,
            plan.before_start_date,
            pruned,
        )

        every = max(1, int(config.get("state_every_rows") or 10000))
        add_metadata = bool(config.get("add_metadata_columns", True))
        columns = [name for name in self.schema["properties"] if name not in METADATA_COLUMNS]
        fast = write_messages and self._fast_path_possible()
        writer = t.cast("BufferedMsgspecWriter", self._tap.message_writer)
        out = writer.buffer if fast else bytearray()
        flush_at = 256 * 1024
        encode_into = ENCODER.encode_into
        record_prefix = b'{"type":"RECORD","stream":' + ENCODER.encode(self.name) + b',"record":'
        limit = self.ABORT_AT_RECORD_COUNT

        rk = self.replication_key
        rk_key = replication_sort_key(self.definition.fmt.column_types.get(rk or "", "string"))
        threshold_value = state.get("replication_key_value") if rk else None
        threshold = rk_key(threshold_value) if threshold_value is not None else None
        pending_value = state.get(PENDING_RK_KEY) if rk else None
        pending = rk_key(pending_value) if pending_value is not None else None
        if rk:
            state["replication_key"] = rk

        total = 0
        record_counter = self.get_record_counter()
        with record_counter, self.get_sync_timer():
            for task in plan.tasks:
                remote = task.remote
                bookmark = bookmarks.new_bookmark(task)
                files_state[remote.url] = bookmark
                emitted = task.rows_already_sent
                filtered = 0
                since_state = 0
                line = task.resume_after_line
                time_extracted = dt.datetime.now(dt.UTC)
                record_suffix = b',"time_extracted":' + ENCODER.encode(time_extracted.isoformat()) + b"}\n"
                file_metadata = {
                    "_sdc_source_file": remote.url,
                    "_sdc_source_modified_at": remote.modified_iso,
                }
                if task.resume_after_line:
                    self.logger.info("%s: resuming after line %d (%d rows already sent)", remote.url, line, emitted)

                try:
                    reader = CSVFileReader(
                        open_binary(fs_by_url[remote.url], remote),
                        remote.url,
                        self.definition.fmt,
                        columns=columns,
                        resume_after_line=task.resume_after_line,
                    )
                    with reader:
                        for line, record in reader.rows():
                            if rk is not None:
                                value = record.get(rk)
                                if value is not None:
                                    key = rk_key(value)
                                    if threshold is not None and key <= threshold:
                                        filtered += 1
                                        continue
                                    if pending is None or key > pending:
                                        pending, pending_value = key, value
                            if add_metadata:
                                record.update(file_metadata)
                                record["_sdc_source_lineno"] = line
                            if limit is not None and total >= limit:
                                # This row is not sent: the bookmark stops at the line before it.
                                self._checkpoint(
                                    bookmark,
                                    emitted=emitted,
                                    line=line - 1,
                                    done=False,
                                    state=state,
                                    pending_value=pending_value,
                                    write_messages=write_messages,
                                )
                                self._abort_sync(
                                    MaxRecordsLimitException(f"Stream {self.name} reached its record limit {limit}")
                                )
                            if fast:
                                out += record_prefix
                                encode_into(record, out, -1)
                                out += record_suffix
                                if len(out) >= flush_at:
                                    writer.write_out()
                            elif write_messages:
                                self._write_record_message(record)
                            emitted += 1
                            total += 1
                            since_state += 1
                            if since_state >= every:
                                self._checkpoint(
                                    bookmark,
                                    emitted=emitted,
                                    line=line,
                                    done=False,
                                    state=state,
                                    pending_value=pending_value,
                                    write_messages=write_messages,
                                )
                                record_counter.increment(since_state)
                                since_state = 0
                            yield record
                    self.logger.info(
                        "%s: %d records emitted, %d rows at or below the replication key bookmark; %s",
                        remote.url,
                        emitted - task.rows_already_sent,
                        filtered,
                        reader.stats.summary(),
                    )
                except CSVFormatError as exc:
                    if self.definition.fmt.on_bad_row == "fail":
                        raise
                    # One unreadable file must not hold back the files after it. It is set aside with its
                    # fingerprint, so it is read again as soon as it is replaced or fixed.
                    self.logger.error(
                        "%s; file skipped after %d record(s). A corrected file (new size or time) is read again.",
                        exc,
                        emitted - task.rows_already_sent,
                    )
                    bookmark["error"] = exc.reason
                # The file is settled, read whole or set aside: its bookmark says so, and STATE covers it.
                self._checkpoint(
                    bookmark,
                    emitted=emitted,
                    line=line,
                    done=True,
                    state=state,
                    pending_value=pending_value,
                    write_messages=write_messages,
                )
                record_counter.increment(since_state)

        if (
            rk
            and pending_value is not None
            and all(files_state.get(task.remote.url, {}).get("done") for task in plan.tasks)
        ):
            # Every due file was read: the new high-water mark becomes the filter of the next run.
            if threshold is None or (pending is not None and pending > threshold):
                state["replication_key_value"] = pending_value
            state.pop(PENDING_RK_KEY, None)
        self.definition.listings = []  # a later sync of this object lists again
        self._finalize_state(self.stream_state)
        if write_messages:
            self.state_manager.is_flushed = False
            self._write_state_message()
            writer.flush()
