"""target-snapchat-capi: settings, wiring, and the run's shared parts (client, rejects, report)."""

from __future__ import annotations

import sys
import threading
import traceback
import typing as t
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.helpers.capabilities import PluginCapabilities
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib.encoding.base import GenericSingerReader
from singer_sdk.singerlib.exceptions import InvalidInputLine
from target_snapchat_capi import capi
from target_snapchat_capi.client import CapiClient, DeliveryError, DeliveryResult
from target_snapchat_capi.events import ConfigError, Event, EventSettings, Rejection
from target_snapchat_capi.rejects import RejectsFile
from target_snapchat_capi.report import RunReport
from target_snapchat_capi.sinks import SnapchatCAPISink

DEFAULT_REJECT_PATH = "output/snapchat_capi_rejects.jsonl"
DEFAULT_REPORT_PATH = "output/snapchat_capi_report.json"
DEFAULT_DRY_RUN_PATH = "output/snapchat_capi_dry_run.jsonl"
#: Drained batches handed to the sender thread and not yet settled: one sending while the next is built.
MAX_BATCHES_IN_FLIGHT = 1
#: The GIL switch interval while the target runs. The main thread builds events without pause; at Python's default
#: (5 ms) each of the many short steps of an HTTP exchange in the sender threads waits that long for the GIL, which
#: made sending 5x slower than the network and the API. 0.2 ms lets the senders keep up (measured: -20% wall time).
GIL_SWITCH_INTERVAL_SECONDS = 0.0002

_FIELD_NAMES = ", ".join((*capi.EVENT_FIELDS, *capi.USER_FIELDS, *capi.CUSTOM_DATA_FIELDS))


class SingerMessageReader(GenericSingerReader[bytes]):
    """Reads Singer messages from stdin's bytes with msgspec.

    Unlike the SDK's readers it never puts the offending line into a log or an exception: a line is a record, and a
    record holds personal data.
    """

    def __init__(self) -> None:
        super().__init__()
        self._decoder = msgspec.json.Decoder()
        self._line_number = 0

    @property
    def default_input(self) -> t.IO[bytes]:
        return sys.stdin.buffer

    def deserialize_json(self, line: bytes) -> dict:
        self._line_number += 1
        try:
            message = self._decoder.decode(line)
        except msgspec.DecodeError as exc:
            msg = f"Input line {self._line_number} is not valid JSON ({type(exc).__name__}); content not shown."
            raise InvalidInputLine(msg) from None
        if not isinstance(message, dict):
            msg = f"Input line {self._line_number} is not a JSON object; content not shown."
            raise InvalidInputLine(msg)
        return message

    @staticmethod
    def assert_line_requires(line_dict: dict, requires: set[str]) -> None:
        missing = requires.difference(line_dict)
        if missing:
            kind = line_dict.get("type", "?")
            msg = f"A {kind} message lacks required key(s) {', '.join(sorted(missing))}; content not shown."
            raise InvalidInputLine(msg)


@dataclass
class RunContext:
    """What every sink of one run shares: one client, one rejects file, one report, and the delivery pipeline.

    Delivery is pipelined: a drained batch is sent by a background thread while the main thread builds the next
    one, with at most `MAX_BATCHES_IN_FLIGHT` batches handed over and not yet settled. Batches settle in the order
    they were submitted; the target emits a STATE only once every batch submitted before it has settled (see
    `TargetSnapchatCAPI._write_state_message`), so the pipelining never lets a bookmark run ahead of delivery.
    """

    event_settings: EventSettings
    report: RunReport
    rejects: RejectsFile
    client: CapiClient | None
    sink_batch_size: int
    mode: str
    dry_run_path: Path | None = None
    _dry_run_file: t.IO[bytes] | None = field(default=None, repr=False)
    # Guards the rejects file and the report counters both threads touch.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _sender: ThreadPoolExecutor | None = field(default=None, repr=False)
    _in_flight: deque[Future[None]] = field(default_factory=deque, repr=False)
    batches_submitted: int = 0
    batches_settled: int = 0
    request_batch_size: int = capi.MAX_EVENTS_PER_REQUEST
    # Set when a batch fails for good: batches queued behind it are not sent (the run is about to stop).
    _failed: threading.Event = field(default_factory=threading.Event, repr=False)

    def reject(self, stream_name: str, rejection: Rejection, source: tuple[t.Any, t.Any]) -> None:
        with self._lock:
            self.report.add_rejection(stream_name, rejection.reason)
            self.rejects.write(
                stream=stream_name,
                reason=rejection.reason,
                message=rejection.message,
                event_id=rejection.event_id,
                source_file=source[0],
                source_line=source[1],
            )

    def submit(self, stream_name: str, events: list[Event], sources: list[tuple[t.Any, t.Any]]) -> None:
        """Hand a batch to the sender thread and return, unless too many batches are already waiting."""
        if self._sender is None:
            self._sender = ThreadPoolExecutor(1, thread_name_prefix="capi-batches")
        self._in_flight.append(self._sender.submit(self.deliver, stream_name, events, sources))
        self.batches_submitted += 1
        while len(self._in_flight) > MAX_BATCHES_IN_FLIGHT:
            self._settle_oldest()

    def settle(self, *, wait: bool) -> int:
        """Collect finished batches in submission order (re-raising a delivery failure); return how many settled."""
        while self._in_flight and (wait or self._in_flight[0].done()):
            self._settle_oldest()
        return self.batches_settled

    def _settle_oldest(self) -> None:
        self._in_flight.popleft().result()
        self.batches_settled += 1

    def flush_rejects(self) -> None:
        with self._lock:
            self.rejects.flush()

    def deliver(self, stream_name: str, events: list[Event], sources: list[tuple[t.Any, t.Any]]) -> None:
        """Send events; count the delivered ones and put the ones Snap refused into the rejects file."""
        bodies = [event.body for event in events]
        if self.mode == "dry_run":
            self._write_dry_run(bodies)
            with self._lock:
                self.report.add_delivered(stream_name, [event.match_keys for event in events])
            return
        assert self.client is not None
        if self._failed.is_set():
            return
        try:
            result = self.client.send(bodies, validate_only=self.mode == "validate_only")
        except DeliveryError as exc:
            self._failed.set()
            # Count what did get through before the failure, so the report of a failed run still adds up.
            if exc.result is not None:
                self._account(stream_name, events, sources, exc.result)
            raise
        except BaseException:
            self._failed.set()
            raise
        self._account(stream_name, events, sources, result)

    def _account(
        self,
        stream_name: str,
        events: list[Event],
        sources: list[tuple[t.Any, t.Any]],
        result: DeliveryResult,
    ) -> None:
        for rejection in result.rejected:
            event = events[rejection.index]
            message = f"Snapchat refused the event: {rejection.code}: {rejection.message}"
            self.reject(stream_name, Rejection("api_rejected", message, event.event_id), sources[rejection.index])
        with self._lock:
            self.report.requests += result.requests
            self.report.retries += result.retries
            self.report.add_delivered(stream_name, [events[index].match_keys for index in result.delivered])
            for verdict in result.verdicts or ():
                self.report.validation[str(verdict.get("status"))] += 1
                self.report.validation["warnings"] += len(verdict.get("warnings") or ())

    def _write_dry_run(self, bodies: list[dict[str, t.Any]]) -> None:
        assert self.dry_run_path is not None
        if self._dry_run_file is None:
            self.dry_run_path.parent.mkdir(parents=True, exist_ok=True)
            self._dry_run_file = self.dry_run_path.open("wb")
        for request_body in CapiClient.plan_request_bodies(bodies, self.request_batch_size):
            self._dry_run_file.write(request_body + b"\n")
            self.report.requests += 1
        self._dry_run_file.flush()

    def close(self) -> None:
        if self._sender is not None:
            self._sender.shutdown(wait=True, cancel_futures=True)
        self.rejects.close()
        if self._dry_run_file is not None:
            self._dry_run_file.close()
        if self.client is not None:
            self.client.close()


class TargetSnapchatCAPI(Target):
    """Singer target for the Snapchat Conversions API v3 (OFFLINE events)."""

    name = "target-snapchat-capi"
    default_sink_class = SnapchatCAPISink
    message_reader_class = SingerMessageReader
    capabilities: t.ClassVar[list] = [PluginCapabilities.ABOUT, PluginCapabilities.STREAM_MAPS]

    config_jsonschema = th.PropertiesList(
        th.Property(
            "pixel_id",
            th.StringType,
            required=True,
            title="Pixel ID",
            description="Snap Pixel ID (a UUID) that receives the OFFLINE events.",
        ),
        th.Property(
            "access_token",
            th.StringType,
            required=True,
            secret=True,
            title="Access token",
            description="Conversions API token from Snapchat Ads Manager.",
        ),
        th.Property(
            "api_url",
            th.StringType,
            default=capi.DEFAULT_API_URL,
            description="Base URL of the API; point it at the local sandbox for tests and demos.",
        ),
        th.Property(
            "action_source",
            th.StringType,
            default="OFFLINE",
            allowed_values=sorted(capi.ACTION_SOURCES),
            description="action_source sent on every event.",
        ),
        th.Property(
            "integration",
            th.StringType,
            default="target-snapchat-capi",
            description="Partner/integration name sent on every event.",
        ),
        th.Property(
            "event_name",
            th.StringType,
            default="PURCHASE",
            description="Snap event name used when the record has no mapped event_name value.",
        ),
        th.Property(
            "event_name_map",
            th.ObjectType(additional_properties=th.StringType),
            default={},
            description="{source value: Snap event name}, e.g. {'Closed Won': 'PURCHASE', "
            "'refund': 'CUSTOM_EVENT_1'}. Matched case-insensitively.",
        ),
        th.Property(
            "mapping",
            th.ObjectType(additional_properties=th.CustomType({"type": ["string", "null"]})),
            default={},
            description=f"{{Snap field: source column or dotted path}}. Fields: {_FIELD_NAMES}. "
            "Unmapped fields are auto-detected from common column names; null switches a field off.",
        ),
        th.Property(
            "default_phone_country",
            th.StringType,
            description="ISO-3166 alpha-2 country used to read national phone numbers (e.g. US).",
        ),
        th.Property("default_currency", th.StringType, description="ISO-4217 currency for rows without one."),
        th.Property(
            "max_event_age_days",
            th.IntegerType,
            default=capi.MAX_EVENT_AGE_DAYS,
            description="Older events are rejected as stale_event (Snap accepts 37 days).",
        ),
        th.Property(
            "future_tolerance_minutes",
            th.IntegerType,
            default=10,
            description="Clock skew allowed for events in the future (at most 10, as Snapchat).",
        ),
        th.Property(
            "source_timezone",
            th.StringType,
            default="UTC",
            description="IANA time zone of event times written without one, e.g. Europe/Paris (default UTC).",
        ),
        th.Property(
            "batch_size",
            th.IntegerType,
            default=capi.MAX_EVENTS_PER_REQUEST,
            description="Events per request (at most 2000; requests also stay under 2 MB).",
        ),
        th.Property("max_concurrency", th.IntegerType, default=4, description="Requests in flight at once."),
        th.Property(
            "max_retries",
            th.IntegerType,
            default=8,
            description="Retries for 429, 5xx, timeouts and dropped connections.",
        ),
        th.Property("request_timeout_seconds", th.NumberType, default=30, description="Timeout of one request."),
        th.Property(
            "validate_only",
            th.BooleanType,
            default=False,
            description="Send to /events/validate and report per-event verdicts; records no conversion "
            "and emits no state.",
        ),
        th.Property(
            "test_event_code",
            th.StringType,
            description="Sent on each event as test_event_code, to see them in Snap's test events tool.",
        ),
        th.Property(
            "dry_run",
            th.BooleanType,
            default=False,
            description="No network: write the exact (hashed) request bodies to dry_run_path; emits no state.",
        ),
        th.Property(
            "dry_run_path",
            th.StringType,
            default=DEFAULT_DRY_RUN_PATH,
            description="Where dry_run writes request bodies, one per line.",
        ),
        th.Property(
            "reject_path",
            th.StringType,
            default=DEFAULT_REJECT_PATH,
            description="JSON-lines file of rejected records (reason codes, never personal data).",
        ),
        th.Property(
            "report_path",
            th.StringType,
            default=DEFAULT_REPORT_PATH,
            description="The JSON run report (counts only).",
        ),
        th.Property(
            "data_processing_options",
            th.ArrayType(th.StringType),
            description="e.g. ['LDU'] for Limited Data Use; also mappable per row.",
        ),
        th.Property(
            "data_processing_options_country",
            th.IntegerType,
            description="LDU country (1 = US); also mappable per row.",
        ),
        th.Property(
            "data_processing_options_state",
            th.IntegerType,
            description="LDU state (e.g. 1000 = California); also mappable per row.",
        ),
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.run = self._build_run_context()
        self._lean_streams: set[str] = set()
        # STATEs waiting for the batches submitted before them: (batches submitted at the time, state).
        self._pending_states: deque[tuple[int, dict]] = deque()
        # Sinks drain one after another; the parallelism is in the client's requests.
        self.max_parallelism = 1
        sys.setswitchinterval(GIL_SWITCH_INTERVAL_SECONDS)

    def _build_run_context(self) -> RunContext:
        config = self.config
        try:
            event_settings = EventSettings.from_config(config)
        except ConfigError as exc:
            raise ConfigError(f"target-snapchat-capi settings: {exc}") from None
        batch_size = int(config.get("batch_size", capi.MAX_EVENTS_PER_REQUEST))
        max_concurrency = int(config.get("max_concurrency", 4))
        if not 1 <= batch_size <= capi.MAX_EVENTS_PER_REQUEST:
            raise ConfigError(f"batch_size must be between 1 and {capi.MAX_EVENTS_PER_REQUEST}, got {batch_size}.")
        if not 1 <= max_concurrency <= 64:
            raise ConfigError(f"max_concurrency must be between 1 and 64, got {max_concurrency}.")
        if config.get("dry_run") and config.get("validate_only"):
            raise ConfigError("dry_run and validate_only exclude each other: choose one.")
        mode = "dry_run" if config.get("dry_run") else "validate_only" if config.get("validate_only") else "live"
        report = RunReport(mode=mode)
        client = None
        if mode != "dry_run":
            client = CapiClient(
                str(config.get("api_url") or capi.DEFAULT_API_URL),
                str(config["pixel_id"]),
                str(config["access_token"]),
                timeout_seconds=float(config.get("request_timeout_seconds", 30)),
                max_retries=int(config.get("max_retries", 8)),
                max_concurrency=max_concurrency,
                batch_size=batch_size,
            )
        return RunContext(
            event_settings=event_settings,
            report=report,
            rejects=RejectsFile(config.get("reject_path") or DEFAULT_REJECT_PATH, report.started_at),
            client=client,
            sink_batch_size=batch_size * max_concurrency,
            request_batch_size=batch_size,
            mode=mode,
            dry_run_path=Path(config.get("dry_run_path") or DEFAULT_DRY_RUN_PATH),
        )

    # --- the record hot path -------------------------------------------------------------------------------

    def _process_schema_message(self, message_dict: dict) -> None:
        super()._process_schema_message(message_dict)
        stream_name = message_dict["stream"]
        stream_maps = self.mapper.stream_maps.get(stream_name, [])
        # Without user stream maps, records go straight to the sink: no copy, no transform, no schema validation
        # (the event builder validates what Snapchat needs), which is most of the SDK's per-record cost.
        if (
            len(stream_maps) == 1
            and type(stream_maps[0]) is SameRecordTransform
            and stream_maps[0].stream_alias == stream_name
        ):
            self._lean_streams.add(stream_name)
        else:
            self._lean_streams.discard(stream_name)

    def _process_record_message(self, message_dict: dict) -> None:
        stream_name = message_dict.get("stream")
        if stream_name not in self._lean_streams:
            super()._process_record_message(message_dict)
            return
        record = message_dict.get("record")
        if not isinstance(record, dict):
            msg = f"A RECORD message of stream '{stream_name}' has no record object; content not shown."
            raise InvalidInputLine(msg)
        sink = self._sinks_active[stream_name]
        sink._singer_validate_message(record)  # key properties present: cheap, and the Singer contract
        sink.process_record(record, sink._get_context(record))
        sink.tally_record_read()
        if sink.is_full:
            # drain_all (not drain_one) so that the latest STATE, now fully covered, is emitted right away.
            self.drain_all()
        else:
            self._handle_max_record_age()

    def _write_state_message(self, state: dict) -> None:
        if self.run.mode != "live":
            # A dry or validate-only run must not move the bookmarks: the next live run still has to send it all.
            self.logger.debug("No STATE emitted in %s mode.", self.run.mode)
            return
        self._pending_states.append((self.run.batches_submitted, state))
        self._emit_settled_states(wait=False)

    def _emit_settled_states(self, *, wait: bool) -> None:
        """Emit the newest STATE whose records are all delivered or rejected (and their rejects made durable)."""
        settled = self.run.settle(wait=wait)
        newest = None
        while self._pending_states and self._pending_states[0][0] <= settled:
            newest = self._pending_states.popleft()[1]
        if newest is not None:
            self.run.flush_rejects()
            super()._write_state_message(newest)

    def process_endofpipe(self) -> None:
        super().process_endofpipe()
        self._emit_settled_states(wait=True)

    # --- the run's end, also on failure --------------------------------------------------------------------

    def finish_run(self, error: BaseException | None) -> None:
        report = self.run.report
        if error is None:
            report.status = "succeeded"
        else:
            report.status = "failed"
            report.error = _safe_error_text(error)
        try:
            self.run.close()
        finally:
            report.write(self.config.get("report_path") or DEFAULT_REPORT_PATH)
            for line in report.summary_lines():
                print(line, file=sys.stderr, flush=True)

    @classmethod
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: t.Any = None,
        file_input: t.IO[str] | None = None,
    ) -> None:
        """Run the target, then write the run report whatever happened."""
        super(Target, cls).invoke(about=about, about_format=about_format)
        cls.print_version(print_fn=cls.logger.info)
        target = cls(
            config=config.config if config else None,
            validate_config=True,
            parse_env_config=config.parse_env if config else False,
        )
        try:
            target.listen(file_input)
        except BaseException as exc:
            target.finish_run(exc)
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            if isinstance(exc, DeliveryError | ConfigError | InvalidInputLine):
                # A clear one-line message (already free of tokens and personal data) instead of a traceback.
                target.logger.error("%s", exc)
            else:
                # An unexpected error's message may quote a record (e.g. a library's "could not convert 'x'"):
                # log where it happened, never what it said.
                where = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
                target.logger.error(
                    "Unexpected %s; its message is withheld as it may quote personal data. Traceback:\n%s",
                    type(exc).__name__,
                    where,
                )
            raise SystemExit(1) from None
        target.finish_run(None)


def _safe_error_text(error: BaseException) -> str:
    """What the report says about a failure: our own errors are written to be safe; others only by type."""
    if isinstance(error, DeliveryError | ConfigError | InvalidInputLine):
        return str(error)
    if isinstance(error, KeyboardInterrupt | SystemExit):
        return type(error).__name__
    return f"{type(error).__name__} (details in the log)"
