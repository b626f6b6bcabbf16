"""The Singer side of the target: one sink per stream. Thin: build events, hand batches to the pipeline.

A sink gets everything it needs at construction (`SinkServices`, bound to the class by `SnapchatCAPISink.bind`);
it never reaches back into the target. Every record, with or without stream maps, arrives through the SDK's own
record path and hooks (`preprocess_record`, `process_record`, the record-count metric).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk.sinks import BatchSink
from target_snapchat_capi.accounting import Accounting, OrderSources, Source
from target_snapchat_capi.building import Builders, BuildInput, BuildResult, BuildTicket
from target_snapchat_capi.events import EventBuilder, EventSettings, Rejection, RejectReason, check_mapped_columns
from target_snapchat_capi.orders import OpenOrder, OrderBook, OrderGate
from target_snapchat_capi.pipeline import DeliveryPipeline
from target_snapchat_capi.preflight import Preflight
from target_snapchat_capi.settings import GuardSettings
from target_snapchat_capi.wire import EncodedEvent

if TYPE_CHECKING:
    from singer_sdk import Target
    from singer_sdk.sinks.core import BaseJSONSchemaValidator

SOURCE_FILE_COLUMN = "_sdc_source_file"
SOURCE_LINE_COLUMN = "_sdc_source_lineno"
#: Records (or orders) a sink hands to its builders at once: large enough that a worker's reply costs little per
#: record, small enough that the wait for the last chunk before a batch goes out is short.
CHUNK_SIZE = 500

# What each entry of a chunk is: its kind, then what settling it needs, then where it came from.
_RECORD, _ORDER, _LOCAL_REJECT = 0, 1, 2
ChunkEntry = tuple[int, Any, Any]


@dataclass(frozen=True)
class SinkServices:
    """What every sink of one run shares."""

    event_settings: EventSettings
    accounting: Accounting
    pipeline: DeliveryPipeline
    #: events a sink collects before it drains: one request's worth per connection
    batch_size: int
    #: the open orders of every sink, for the STATE gate (orders.py)
    order_gate: OrderGate
    #: where events are built: inline or in worker processes (building.py)
    builders: Builders
    guard: GuardSettings = field(default_factory=GuardSettings)


class SnapchatCAPISink(BatchSink):
    """Turns each record into a CAPI event (or a rejection) and hands a batch to the pipeline when it drains.

    Records go to the run's builders in chunks (building.py) and their results are settled in input order: the
    rejects file, the preflight guard and the batches see the records as they arrived, wherever they were built.
    A record the sink rejects itself (no key property, a late order line) takes its place in the same order.

    A batch is `batch_size * max_concurrency` events, so one drain fills every connection. The batch is delivered in
    the background while the next one is built; the pipeline holds each STATE back until the batches before it have
    settled.
    """

    services: ClassVar[SinkServices]

    @classmethod
    def bind(cls, services: SinkServices) -> type[SnapchatCAPISink]:
        """This sink class with the run's services, for `Target.get_sink_class` (the SDK constructs sinks)."""
        return type(cls.__name__, (cls,), {"services": services})

    def __init__(
        self,
        target: Target,
        stream_name: str,
        schema: dict,
        key_properties: Sequence[str] | None,
    ) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        services = self.services
        # At SCHEMA time, before anything of the stream is read: a mapping pointing at a column the stream lacks
        # would reject every row and still move the bookmarks.
        check_mapped_columns(services.event_settings.mapping, stream_name, schema)
        self._accounting = services.accounting
        self._pipeline = services.pipeline
        self._batch_size = services.batch_size
        self.builder = EventBuilder(
            services.event_settings,
            stream_name,
            schema,
            list(key_properties or []),
            services.accounting.normalisation_outcomes(),
        )
        self._reads = services.accounting.reads(stream_name)
        self._builders = services.builders
        self._stream_key: int | None = None  # registered with the builders at the first record (loose schemas)
        #: the chunk being filled: what the builders get, and every entry in order (building or not)
        self._chunk: list[BuildInput] = []
        self._entries: list[ChunkEntry] = []
        #: chunks handed to the builders, oldest first, with their entries
        self._chunks: deque[tuple[BuildTicket | None, list[ChunkEntry]]] = deque()
        self._key_names = tuple(key_properties or ())
        #: key properties the record being processed lacked (set by preprocess_record, read by process_record)
        self._missing_keys: tuple[str, ...] = ()
        self._preflight = Preflight(services.guard.preflight_records, services.guard.max_reject_ratio)
        self._holding = False
        #: built events, encoded at once (wire.py): a dict of hashes weighs about four times its JSON
        self._events: list[EncodedEvent] = []
        # Where each pending event came from (the tap's metadata columns), for API rejections found later.
        self._sources: list[Source] = []
        # Line items (orders.py): open orders, and the complete ones not yet handed to the pipeline.
        self._order_gate = services.order_gate
        self._orders = OrderBook(services.order_gate, services.event_settings.max_open_orders)
        self._orders_to_release: list[int] = []
        self.logger.info("Stream '%s' mapping: %s", stream_name, self.builder.mapping.describe())

    # -- SDK settings this target decides for itself

    @property
    def max_size(self) -> int:
        return self._batch_size

    @property
    def include_sdc_metadata_properties(self) -> bool:
        """The SDK's `_sdc_*` columns are never sent; the tap's own ones (source file and line) are kept."""
        return False

    def get_validator(self) -> BaseJSONSchemaValidator | None:
        """No JSON-schema validation by the SDK: its errors quote cell values (personal data). The event builder
        checks what Snapchat needs and reports by field and reason."""
        return None

    def _validate_and_parse(self, record: dict) -> dict:
        """Private SDK hook (see sdk_private.py): skip the SDK's timestamp parsing too, for the same reason; the
        builder reads times itself (and faster)."""
        return record

    # -- records and batches

    def preprocess_record(self, record: dict, context: dict) -> dict:
        """A record without one of its key properties becomes a counted rejection (the SDK would stop the run)."""
        for key in self._key_names:
            if key not in record:
                self._missing_keys = tuple(name for name in self._key_names if name not in record)
                for name in self._missing_keys:
                    record[name] = None  # passes the SDK's key check; process_record rejects the record
                break
        return record

    def process_record(self, record: dict, context: dict) -> None:
        if self._missing_keys:
            self._reject_missing_keys(record)
            return
        self._reads.count()
        source = (record.get(SOURCE_FILE_COLUMN), record.get(SOURCE_LINE_COLUMN))
        order_id = self.builder.order_id_of(record)  # resolves a loose schema's mapping at the first record
        if self._stream_key is None:
            self._stream_key = self._builders.add_stream(
                self.services.event_settings, self.stream_name, self.builder.resolved_properties, self._key_names
            )
        if order_id is not None:
            self._add_line(order_id, record, source)
            return
        self._chunk.append(record)
        self._entries.append((_RECORD, None, source))
        if len(self._entries) >= CHUNK_SIZE:
            self._hand_over_chunk()

    # -- chunks: handed to the builders, settled in order

    def _hand_over_chunk(self) -> None:
        if not self._entries:
            return
        assert self._stream_key is not None or not self._chunk
        ticket = self._builders.submit(self._stream_key, self._chunk) if self._chunk else None
        self._chunks.append((ticket, self._entries))
        self._chunk, self._entries = [], []
        while len(self._chunks) > self._builders.chunks_ahead:
            self._settle_oldest_chunk()

    def _settle_all(self) -> None:
        self._hand_over_chunk()
        while self._chunks:
            self._settle_oldest_chunk()

    def _settle_oldest_chunk(self) -> None:
        ticket, entries = self._chunks.popleft()
        results = iter(ticket.results() if ticket is not None else ())
        for kind, detail, source in entries:
            if kind == _RECORD:
                self._settle_record(next(results), source)
            elif kind == _ORDER:
                self._settle_order(detail, next(results), source)
            else:
                self._settle_local_rejection(detail, source)

    def _settle_record(self, result: BuildResult, source: Source) -> None:
        if type(result) is EncodedEvent:
            self._events.append(result)
            self._sources.append(source)
            if not self._preflight.judged:
                self._count_preflight(None)
            return
        assert isinstance(result, Rejection)
        if result.reason is RejectReason.SKIPPED_STAGE:
            self._accounting.skipped(self.stream_name)
            reason = None
        else:
            self._accounting.reject(self.stream_name, result, source)
            reason = result.reason
        if not self._preflight.judged:
            self._count_preflight(reason)

    def _settle_local_rejection(self, rejection: Rejection, source: Source) -> None:
        self._accounting.reject(self.stream_name, rejection, source)
        if not self._preflight.judged:
            self._count_preflight(rejection.reason)

    def _count_preflight(self, reason: str | None) -> None:
        if not self._holding:
            self._pipeline.hold_back(self.stream_name, self._flush_held)
            self._holding = True
        if self._preflight.count(reason):
            self._preflight.judge(self.stream_name)  # raises past max_reject_ratio

    # -- orders (line items)

    def _add_line(self, order_id: str, record: dict, source: Source) -> None:
        completed = self._orders.add(order_id, record, source)
        if completed is None:
            message = (
                "a line of an order that was already sent without it: more than max_open_orders orders were "
                "open at once; raise max_open_orders"
            )
            self._entries.append((_LOCAL_REJECT, Rejection(RejectReason.LATE_ORDER_LINE, message, None), source))
        else:
            for order in completed:
                self._complete_order(order)
        if len(self._entries) >= CHUNK_SIZE:
            self._hand_over_chunk()

    def _complete_order(self, order: OpenOrder) -> None:
        """The order is built as one item of the chunk (its lines travel together)."""
        self._chunk.append(list(order.records))
        self._entries.append((_ORDER, order, OrderSources(order.sources)))

    def _settle_order(self, order: OpenOrder, result: BuildResult, sources: OrderSources) -> None:
        """The order's one event goes with the next batch; a rejected order lists each of its lines."""
        rejected = isinstance(result, Rejection) and result.reason is not RejectReason.SKIPPED_STAGE
        self._accounting.order_completed(self.stream_name, len(order.records), rejected=rejected)
        if not self._preflight.judged:  # the guard judges an order as one record
            self._count_preflight(result.reason if rejected and isinstance(result, Rejection) else None)
        if type(result) is EncodedEvent:
            self._events.append(result)
            self._sources.append(sources)
            self._orders_to_release.append(order.seq)
            return
        assert isinstance(result, Rejection)
        if result.reason is RejectReason.SKIPPED_STAGE:
            self._accounting.skipped(self.stream_name)
        else:
            self._accounting.reject(self.stream_name, result, sources)
        self._order_gate.release(order.seq)

    def _reject_missing_keys(self, record: dict) -> None:
        missing, self._missing_keys = self._missing_keys, ()
        self._reads.count()
        message = (
            f"the record has no key property {', '.join(repr(name) for name in missing)} "
            f"(the stream's key properties: {', '.join(self._key_names)})"
        )
        source = (record.get(SOURCE_FILE_COLUMN), record.get(SOURCE_LINE_COLUMN))
        self._entries.append((_LOCAL_REJECT, Rejection(RejectReason.MISSING_KEY_PROPERTY, message, None), source))
        if len(self._entries) >= CHUNK_SIZE:
            self._hand_over_chunk()

    def _flush_held(self) -> None:
        """At the end of the input: judge the held records and submit them (or raise past the ratio)."""
        self.process_batch({})

    def process_batch(self, context: dict[str, Any]) -> None:
        self._settle_all()  # every record read so far is an event in this batch, or counted and rejected
        if not self._preflight.judged:
            if not self._pipeline.ending:
                return  # still in preflight: keep holding the events back
            self._preflight.judge(self.stream_name)  # a short stream: judged on what it has
        events, self._events = self._events, []
        sources, self._sources = self._sources, []
        if events:
            self._pipeline.submit(self.stream_name, events, sources)
        if self._holding:
            self._holding = False
            self._pipeline.stop_holding(self.stream_name)
        if self._orders_to_release:
            for seq in self._orders_to_release:
                self._order_gate.release(seq)  # handed over: the STATE gate now waits for its batch
            self._orders_to_release = []

    def clean_up(self) -> None:
        """The end of the stream's input: every open order is complete and goes out before the last STATE."""
        for order in self._orders.complete_all():
            self._complete_order(order)
        self.process_batch({})
        super().clean_up()
