"""The Singer side of the target: one sink per stream. Thin: build events, hand batches to delivery, count."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from singer_sdk.sinks import BatchSink
from target_snapchat_capi.events import Event, EventBuilder

if TYPE_CHECKING:
    from singer_sdk import Target
    from target_snapchat_capi.target import RunContext

SOURCE_FILE_COLUMN = "_sdc_source_file"
SOURCE_LINE_COLUMN = "_sdc_source_lineno"


class SnapchatCAPISink(BatchSink):
    """Turns each record into a CAPI event (or a rejection) and delivers a batch when the sink drains.

    A batch is `batch_size * max_concurrency` events, so one drain fills every connection. The batch is delivered in
    the background while the next one is built; the target holds each STATE back until the batches before it have
    settled (see `RunContext`).
    """

    def __init__(
        self,
        target: Target,
        stream_name: str,
        schema: dict,
        key_properties: list[str] | None,
    ) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        run: RunContext = target.run  # type: ignore[attr-defined]
        self.run = run
        self.builder = EventBuilder(
            run.event_settings,
            stream_name,
            schema,
            key_properties or [],
            run.report.normalisation,
        )
        self._events: list[Event] = []
        # Where each pending event came from (the tap's metadata columns), for API rejections found later.
        self._sources: list[tuple[Any, Any]] = []
        self._stream_counts = run.report.stream_counts(stream_name)
        self.logger.info("Stream '%s' mapping: %s", stream_name, self.builder.mapping.describe())

    @property
    def max_size(self) -> int:
        return self.run.sink_batch_size

    def _validate_and_parse(self, record: dict) -> dict:
        """No JSON-schema validation or timestamp parsing by the SDK: their error logs quote cell values (personal
        data), and the event builder checks and parses what Snapchat needs, reporting by field and reason."""
        return record

    def process_record(self, record: dict, context: dict) -> None:
        result = self.builder.build(record, time.time())
        self.run.report.records_read += 1
        self._stream_counts["records_read"] += 1
        source = (record.get(SOURCE_FILE_COLUMN), record.get(SOURCE_LINE_COLUMN))
        if isinstance(result, Event):
            self._events.append(result)
            self._sources.append(source)
        else:
            self.run.reject(self.stream_name, result, source)

    def process_batch(self, context: dict) -> None:
        events, self._events = self._events, []
        sources, self._sources = self._sources, []
        if events:
            self.run.submit(self.stream_name, events, sources)
