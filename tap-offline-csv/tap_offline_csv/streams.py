"""The Singer stream: one per configured file set; each file is a unit of work with a bookmark.

The run itself is plain code in :mod:`extract` (which files, each file's rows, the bookmarks). This class wires
it to singer-sdk through the SDK's public hooks: :meth:`get_records` yields the records (the SDK applies
``post_process``, stream maps, selection and its metrics to every one of them, with or without maps), and STATE
goes out through the tap's ``state_writer`` when the extraction says one is due.
"""

from __future__ import annotations

import datetime as dt
import traceback
import typing as t
from dataclasses import dataclass, field

from singer_sdk import Stream
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_offline_csv import sdk_private
from tap_offline_csv.extract import (
    DEFAULT_STATE_INTERVAL_SECONDS,
    METADATA_COLUMNS,
    ExtractSettings,
    StreamExtraction,
)
from tap_offline_csv.reader import CSVFormat
from tap_offline_csv.storage import RemoteFile, StorageSettings, list_files
from tap_offline_csv.writer import BufferedMsgspecWriter

if t.TYPE_CHECKING:
    import fsspec
    from singer_sdk import Tap
    from singer_sdk.helpers import types


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


def _start_date(config: t.Mapping[str, t.Any]) -> dt.datetime | None:
    value = config.get("start_date")
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _no_checkpoint() -> int:
    return 0


class CSVFileStream(Stream):
    """Rows of the CSV files matching one stream definition."""

    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE  # the reader already types values
    # STATE is paced by the extraction (by time and byte budget), not every N records by the SDK.
    STATE_MSG_FREQUENCY = 2**62
    is_sorted = False

    def __init__(self, tap: Tap, definition: StreamDefinition, schema: dict[str, t.Any]) -> None:
        """Create the stream from its definition and discovered schema."""
        self.definition = definition
        self.tap = tap
        super().__init__(tap=tap, schema=schema, name=definition.name)
        self.primary_keys = list(definition.key_properties)
        self.replication_key = definition.replication_key
        # Bookmarks make every stream incremental, with or without a replication key.
        self.forced_replication_method = "INCREMENTAL"
        self.extraction: StreamExtraction | None = None
        self._direct_writer: t.Callable[[types.Record], None] | None = None

    def get_replication_key_signpost(self, context: types.Context | None = None) -> None:
        """No signpost: the replication key bookmark is kept by the extraction."""
        return None

    # The SDK's own per-record bookmark (one replication key value, compared as the SDK sees it) is replaced
    # by the per-file bookmarks of :mod:`extract`; see :mod:`sdk_private` for why this member is overridden.
    _increment_stream_state = sdk_private.no_increment_stream_state

    def _write_record_message(self, record: types.Record) -> None:
        """Write one record (private SDK member, see :mod:`sdk_private`): straight to the writer when no SDK step
        would change it (every property selected, no stream map, no type conformance), else the SDK's own way."""
        direct = self._direct_writer
        if direct is not None:
            direct(record)
        else:
            super()._write_record_message(record)

    def _choose_record_path(self) -> None:
        """Decide once per sync whether records take the direct path (the stream's maps and mask are fixed by now)."""
        writer = self.tap.message_writer
        self._direct_writer = None
        if isinstance(writer, BufferedMsgspecWriter) and sdk_private.records_need_no_sdk_step(self):
            self._direct_writer = writer.record_writer(self.name)
        # The SDK's own record path marks the state unflushed at every record; once is enough.
        self.state_manager.is_flushed = False

    def generate_child_contexts(
        self,
        record: types.Record,
        context: types.Context | None,
    ) -> t.Iterable[types.Context | None]:
        """No child streams: no contexts (the SDK would otherwise copy every record for none)."""
        if self.child_streams:
            yield from super().generate_child_contexts(record, context)

    def _listings(self) -> list[tuple[fsspec.AbstractFileSystem, list[RemoteFile]]]:
        if not self.definition.listings:
            settings = StorageSettings.from_config(self.config)
            self.definition.listings = [list_files(path, settings) for path in self.definition.paths]
        listings, self.definition.listings = self.definition.listings, []  # a later sync lists again
        return listings

    def extract_settings(self) -> ExtractSettings:
        """The extraction's settings from the tap config and this stream's definition."""
        config = self.config
        return ExtractSettings(
            stream_name=self.name,
            fmt=self.definition.fmt,
            columns=tuple(name for name in self.schema["properties"] if name not in METADATA_COLUMNS),
            replication_key=self.replication_key,
            add_metadata=bool(config.get("add_metadata_columns", True)),
            state_every_rows=int(config.get("state_every_rows") or 0),
            state_interval_seconds=float(config.get("state_interval_seconds") or DEFAULT_STATE_INTERVAL_SECONDS),
            start_date=_start_date(config),
            settle_seconds=float(config.get("settle_seconds") or 0),
        )

    def write_state_now(self) -> int:
        """Write the tap's state as a STATE message (after every record handed over); return its size."""
        writer = self.tap.message_writer
        before = writer.state_bytes if isinstance(writer, BufferedMsgspecWriter) else 0
        self.tap.state_writer.write_state(self.tap_state)
        return (writer.state_bytes if isinstance(writer, BufferedMsgspecWriter) else 0) - before

    def get_records(self, context: types.Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Records of the files due this run, in (mtime, URL) order.

        An unexpected error is reported by where it happened, never by its message: a library's message may quote
        a row ("could not convert 'x'"). Our errors and the SDK's are written to name files and lines instead.
        """
        extraction = StreamExtraction(self.extract_settings(), self._listings(), self.stream_state)
        self.extraction = extraction
        self.logger.info("%s", extraction.summary())
        self._choose_record_path()
        # In BATCH mode the SDK writes STATE after each BATCH message; one written here could count records that
        # are still in an unsent batch.
        checkpoint = self.write_state_now if self.get_batch_config(self.config) is None else _no_checkpoint
        try:
            yield from extraction.records(checkpoint)
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
