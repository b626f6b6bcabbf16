"""target-snapchat-capi: the wiring. Settings schema, sink creation, the STATE gate hook, the run's start and end.

Data flows one way: target -> sinks -> events / pipeline / accounting -> delivery -> client. What each part does:

- settings.py: every setting's default and check (the schema below takes its defaults from there)
- sinks.py: one sink per stream; builds events (events.py) and hands batches to the pipeline
- orders.py: line items grouped into one order per order id (bounded); routing.py: pixels by route
- pipeline.py: sender thread, in-order settling, one failure flag, the STATE gate
- accounting.py: the only writer of the report's counters and of the rejects file
- report.py: the run's end: the JSON report, the HTML report (report_html.py) and the history line (history.py),
  written also after a failure or an interruption; findings (findings.py) come first in each and in the summary
- delivery.py: live / validate-only / dry-run strategies; client.py: the HTTP client; ledger.py: what Snap accepted
- sdk_private.py: the few private singer-sdk members still used, and why
"""

from __future__ import annotations

import ctypes
import gc
import math
import os
import platform
import signal
import sys
import time
import traceback
import typing as t

from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError, MapExpressionError, StreamMapConfigError
from singer_sdk.helpers.capabilities import PluginCapabilities
from singer_sdk.singerlib.exceptions import InvalidInputLine
from target_snapchat_capi import capi
from target_snapchat_capi.accounting import Accounting
from target_snapchat_capi.batch_files import batch_records
from target_snapchat_capi.building import Builders, BuildWorkerError
from target_snapchat_capi.client import DeliveryError
from target_snapchat_capi.delivery import client_for, delivery_for
from target_snapchat_capi.ledger import LedgerError
from target_snapchat_capi.orders import OrderGate
from target_snapchat_capi.outputs import OutputError, check_writable
from target_snapchat_capi.pipeline import DeliveryPipeline
from target_snapchat_capi.reader import SingerMessageReader
from target_snapchat_capi.rejects import RejectsFile
from target_snapchat_capi.report import RunReport, RunStatus, write_run_outputs
from target_snapchat_capi.report_html import summarize_test_event_logs
from target_snapchat_capi.settings import DEFAULTS, ConfigError, Mode, OutputPaths, Settings
from target_snapchat_capi.sinks import SinkServices, SnapchatCAPISink

if t.TYPE_CHECKING:
    from types import FrameType

    from singer_sdk.sinks import Sink

#: The GIL switch interval while the target runs. The main thread builds events without pause; at Python's default
#: (5 ms) each of the many short steps of an HTTP exchange in the sender threads waits that long for the GIL, which
#: made sending 5x slower than the network and the API. 0.2 ms lets the senders keep up (measured: -20% wall time).
GIL_SWITCH_INTERVAL_SECONDS = 0.0002
#: Container allocations between young-generation collections. Events are plain dicts and lists freed by reference
#: counting, never cycles; at Python's default (700) the collector ran every few records and its older generations
#: rescanned the thousands of event dicts in flight, for nothing.
GC_YOUNG_THRESHOLD = 50_000

#: glibc malloc arenas for the whole process. By default each thread that allocates (the sender, the request and
#: reply threads) gets its own arena, and memory freed in one is never reused by another: the target held 14 MB more
#: at 300,000 records (160 against 146 MB measured) for no speed. Set before any thread starts; an explicit
#: MALLOC_ARENA_MAX in the environment wins.
MALLOC_ARENAS = 1
#: glibc's mmap threshold, fixed: by default it rises once the first large block is freed, after which the 1.7 MB
#: request bodies came from the heap and smaller blocks allocated behind them kept it from shrinking (16 to 23 MB
#: free but held at 1M records, 4 to 7 MB with the threshold fixed). An explicit MALLOC_MMAP_THRESHOLD_ wins.
MMAP_THRESHOLD_BYTES = 128 * 1024
#: mallopt's parameter numbers (glibc's malloc.h)
_M_ARENA_MAX = -8
_M_MMAP_THRESHOLD = -3

#: A STATE arriving this long after the last checkpoint makes one (drains every sink), so that it goes out promptly.
STATE_CHECKPOINT_SECONDS = 1.0
#: Settings the SDK adds to every target that this one does not honour; --about must not advertise them.
IGNORED_SDK_SETTINGS: t.Final = ("add_record_metadata", "load_method", "batch_size_rows", "validate_records")
#: The SDK's stream-map errors: their messages quote the map's configuration, never a record.
MAP_ERRORS: t.Final = (MapExpressionError, StreamMapConfigError)
MAPPER_MODULE: t.Final = "singer_sdk/mapper.py"
#: Our own errors, written to be safe to show (no token, no record value).
SAFE_ERRORS: t.Final = (DeliveryError, ConfigError, InvalidInputLine, OutputError, LedgerError, BuildWorkerError)

_FIELD_NAMES = ", ".join((*capi.EVENT_FIELDS, *capi.USER_FIELDS, *capi.CUSTOM_DATA_FIELDS))


def _with_defaults(schema: dict[str, t.Any]) -> dict[str, t.Any]:
    """The schema with each setting's default from settings.DEFAULTS (the one place defaults are written)."""
    properties = schema["properties"]
    for key, default in DEFAULTS.items():
        properties[key]["default"] = default
    return schema


class TargetSnapchatCAPI(Target):
    """Singer target for the Snapchat Conversions API v3 (OFFLINE events)."""

    name = "target-snapchat-capi"
    default_sink_class = SnapchatCAPISink
    message_reader_class = SingerMessageReader
    capabilities: t.ClassVar[list] = [PluginCapabilities.ABOUT, PluginCapabilities.STREAM_MAPS]

    config_jsonschema = _with_defaults(
        th.PropertiesList(
            th.Property(
                "pixel_id",
                th.StringType,
                title="Pixel ID",
                description="Snap Pixel ID (a UUID) that receives the OFFLINE events (required unless pixels is set).",
            ),
            th.Property(
                "access_token",
                th.StringType,
                secret=True,
                title="Access token",
                description="Conversions API token from Snapchat Ads Manager (required with pixel_id).",
            ),
            th.Property(
                "pixels",
                th.ObjectType(
                    additional_properties=th.ObjectType(
                        th.Property("pixel_id", th.StringType, required=True),
                        th.Property("access_token", th.StringType, required=True, secret=True),
                    )
                ),
                secret=True,
                title="Pixels by route",
                description="{route value: {pixel_id, access_token}}: each event goes to the pixel of its mapped "
                "pixel_route column (a store, brand or market); unlisted routes are rejected as unknown_pixel_route.",
            ),
            th.Property(
                "api_url",
                th.StringType,
                description="Base URL of the API; point it at the local sandbox for tests and demos.",
            ),
            th.Property(
                "action_source",
                th.StringType,
                allowed_values=sorted(capi.ACTION_SOURCES),
                description="action_source sent on every event.",
            ),
            th.Property(
                "integration",
                th.StringType,
                description="Partner/integration name sent on every event.",
            ),
            th.Property(
                "event_name",
                th.StringType,
                description="Snap event name used when the record has no mapped event_name value.",
            ),
            th.Property(
                "event_name_map",
                th.ObjectType(additional_properties=th.StringType),
                description="{source value: Snap event name}, e.g. {'Closed Won': 'PURCHASE', "
                "'refund': 'CUSTOM_EVENT_1'}. Matched case-insensitively.",
            ),
            th.Property(
                "unmapped_event_names",
                th.StringType,
                allowed_values=["reject", "skip"],
                description="Source event names neither in event_name_map nor Snap's own (CRM stages such as "
                "Qualified): reject (unknown_event_name) or skip (counted as skipped_stage, no rejects line).",
            ),
            th.Property(
                "group_line_items",
                th.BooleanType,
                description="Rows of a stream sharing a non-blank order id (and mapping an item column) are one "
                "order: one PURCHASE with contents, content_ids and num_items.",
            ),
            th.Property(
                "line_item_value",
                th.StringType,
                allowed_values=["order_total", "sum"],
                description="An order's value: order_total (the total its rows carry; rows that disagree are "
                "rejected) or sum (line values, or quantity x item price).",
            ),
            th.Property(
                "max_open_orders",
                th.IntegerType,
                description="Orders held open at once while their lines arrive; beyond it the oldest is sent.",
            ),
            th.Property(
                "mapping",
                th.ObjectType(additional_properties=th.CustomType({"type": ["string", "null"]})),
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
                description="Older events are rejected as stale_event (Snap accepts 37 days).",
            ),
            th.Property(
                "future_tolerance_minutes",
                th.IntegerType,
                description="Clock skew allowed for events in the future (at most 10, as Snapchat).",
            ),
            th.Property(
                "source_timezone",
                th.StringType,
                description="IANA time zone of event times written without one, e.g. Europe/Paris (default UTC).",
            ),
            th.Property(
                "day_first",
                th.BooleanType,
                description="Numeric dates are day-first (03/04/2026 is 3 April) in event times and dates of "
                "birth; dotted dates (31.12.2026) are day-first either way.",
            ),
            th.Property(
                "batch_size",
                th.IntegerType,
                description="Events per request (at most 2000; requests also stay under 2 MB).",
            ),
            th.Property("max_concurrency", th.IntegerType, description="Requests in flight at once."),
            th.Property(
                "max_retries",
                th.IntegerType,
                description="Retries for 429, 5xx, timeouts and dropped connections.",
            ),
            th.Property("request_timeout_seconds", th.NumberType, description="Timeout of one request."),
            th.Property(
                "delivery_timeout_seconds",
                th.NumberType,
                description="Total time one batch may take, retries and their waits included, before the run gives "
                "up with an error (no request outlives it): the longest a hung or failing API can hold a run.",
            ),
            th.Property(
                "validate_only",
                th.BooleanType,
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
                description="No network: write the exact (hashed) request bodies to dry_run_path; emits no state.",
            ),
            th.Property(
                "dry_run_path",
                th.StringType,
                description="Where dry_run writes request bodies, one per line.",
            ),
            th.Property(
                "reject_path",
                th.StringType,
                description="JSON-lines file of rejected records (reason codes, never personal data).",
            ),
            th.Property(
                "report_path",
                th.StringType,
                description="The JSON run report (counts only).",
            ),
            th.Property(
                "ledger_url",
                th.StringType,
                secret=True,  # a PostgreSQL URL may carry a password
                description="The delivery ledger, which remembers what Snap accepted so it is never sent twice: "
                "sqlite:///path (an embedded file, the default), postgresql://user:password@host/db (shared by "
                "runs on several machines), or empty to turn it off. Live runs only.",
            ),
            th.Property(
                "ledger_retention_days",
                th.IntegerType,
                description="Days the ledger remembers a delivered event.",
            ),
            th.Property(
                "report_html_path",
                th.StringType,
                description="The HTML run report: one self-contained page with charts, trends and findings.",
            ),
            th.Property(
                "report_history_path",
                th.StringType,
                description="JSON lines, one per run (counts only), that the HTML report draws its trends from.",
            ),
            th.Property(
                "max_reject_ratio",
                th.NumberType,
                description="Stop before sending a stream when more than this share of its first preflight_records "
                "records is rejected for the same reason (a setting is almost surely wrong); 1 turns the guard off.",
            ),
            th.Property(
                "preflight_records",
                th.IntegerType,
                description="How many first records of each stream are judged by max_reject_ratio before any is sent.",
            ),
            th.Property(
                "build_workers",
                th.IntegerType,
                description="Worker processes that build events (normalise, hash, validate, encode) while the "
                "target reads its input; 0 builds them in the target's own process. One per spare core.",
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
    )

    @classmethod
    def append_builtin_config(cls, config_jsonschema: dict) -> None:
        """The SDK's built-in settings, minus those this target ignores (its sinks size and check batches)."""
        super().append_builtin_config(config_jsonschema)
        for key in IGNORED_SDK_SETTINGS:
            config_jsonschema["properties"].pop(key, None)

    # --- the run's start --------------------------------------------------------------------------------

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        tune_malloc()  # before the first thread
        super().__init__(*args, **kwargs)
        try:
            self.settings = Settings.from_config(self.config)
        except ConfigError as error:
            _write_failed_report(self.config, f"target-snapchat-capi settings: {error}")
            raise ConfigError(f"target-snapchat-capi settings: {error}") from None
        try:
            self._check_output_paths()
        except ConfigError as error:
            _write_failed_report(self.config, f"target-snapchat-capi settings: {error}")
            raise ConfigError(f"target-snapchat-capi settings: {error}") from None
        self.report = RunReport(mode=self.settings.mode)
        self.accounting = Accounting(
            self.report,
            RejectsFile(self.settings.paths.rejects, self.report.started_at),
            source_timezone=self.settings.events.source_timezone,
        )
        order_gate = OrderGate()
        try:
            delivery = delivery_for(self.settings, self.accounting)  # opens the clients and the ledger
        except ConfigError as error:
            self.accounting.close()
            _write_failed_report(self.config, f"target-snapchat-capi settings: {error}")
            raise ConfigError(f"target-snapchat-capi settings: {error}") from None
        # Started now, so the workers' imports overlap the tap's start-up.
        self.builders = Builders(self.settings.build_workers, self.accounting.normalisation_outcomes())
        self.pipeline = DeliveryPipeline(
            delivery,
            self.accounting,
            self.emit_state if self.settings.mode.emits_state else None,
            order_gate=order_gate,
        )
        self._sink_class = SnapchatCAPISink.bind(
            SinkServices(
                event_settings=self.settings.events,
                accounting=self.accounting,
                pipeline=self.pipeline,
                batch_size=self.settings.delivery.sink_batch_size,
                order_gate=order_gate,
                builders=self.builders,
                guard=self.settings.guard,
            )
        )
        # Sinks drain one after another; the parallelism is in the client's requests.
        self.max_parallelism = 1
        self._last_checkpoint = -math.inf  # the first STATE always makes a checkpoint

    def _handle_signals(self) -> None:
        """SIGTERM and SIGINT stop the run where it is (replacing the SDK's drain-and-exit-0): nothing more is sent,
        no further STATE goes out, the report says `interrupted`, and the exit code is 128 + the signal."""

        def interrupt(signum: int, frame: FrameType | None) -> None:
            raise Interrupted(signum)

        signal.signal(signal.SIGTERM, interrupt)
        signal.signal(signal.SIGINT, interrupt)

    def _check_output_paths(self) -> None:
        """Before anything is read or sent: every output file can be written."""
        paths = self.settings.paths
        check_writable("report_path", paths.report)
        check_writable("report_html_path", paths.report_html)
        check_writable("report_history_path", paths.report_history)
        check_writable("reject_path", paths.rejects)
        if self.settings.mode is Mode.DRY_RUN:
            check_writable("dry_run_path", paths.dry_run)

    def get_sink_class(self, stream_name: str) -> type[Sink]:
        """Every stream's sink, bound to this run's services."""
        return self._sink_class

    def run(self, file_input: t.IO[str] | None = None) -> None:
        """Listen to the input to its end, then write the run report whatever happened."""
        sys.setswitchinterval(GIL_SWITCH_INTERVAL_SECONDS)
        gc.freeze()  # what start-up built lives for the whole run: never scan it again
        gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
        self._handle_signals()
        failure: BaseException | None = None
        try:
            self.listen(file_input)
        except BaseException as error:
            failure = error
        # Outside the except block: nothing raised from here on chains (and so prints) the original error.
        failure = self.finish_run(failure)
        if failure is None:
            return
        if isinstance(failure, Interrupted):
            # A request may hang in a sender thread, which interpreter exit would wait for: leave now.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(failure.exit_code)
        if isinstance(failure, KeyboardInterrupt | SystemExit):
            raise failure
        _log_failure(self, failure)
        raise SystemExit(1)

    # --- the STATE gate ---------------------------------------------------------------------------------

    def _write_state_message(self, state: dict) -> None:
        """Private SDK hook (see sdk_private.py): the SDK offers a drained STATE here; the pipeline holds it until
        every batch before it has settled."""
        self._last_checkpoint = time.monotonic()
        self.pipeline.hold_state(state)

    def _process_state_message(self, message_dict: dict) -> None:
        """Private SDK hook (see sdk_private.py): a STATE arriving a while after the last checkpoint drains every
        sink at once, so it follows its records out within seconds even when the tap then goes quiet."""
        super()._process_state_message(message_dict)
        if time.monotonic() - self._last_checkpoint >= STATE_CHECKPOINT_SECONDS:
            self.drain_all()

    def emit_state(self, state: dict) -> None:
        """Write a settled STATE to stdout (the SDK's own writer)."""
        super()._write_state_message(state)

    def _handle_max_record_age(self) -> None:
        """Private SDK hook (see sdk_private.py), called after every RECORD and BATCH message: when a sink handed a
        batch over, drain every sink, so the latest STATE is covered by submitted batches and follows them out."""
        if self.pipeline.checkpoint_due:
            self.drain_all()
            self.pipeline.checkpoint_due = False
        else:
            super()._handle_max_record_age()

    def _process_batch_message(self, message_dict: dict) -> None:
        """Private SDK hook (see sdk_private.py): each record of the batch's files goes through exactly the RECORD
        path (stream maps, hooks, metrics, rejects, delivery, the STATE gate) instead of the SDK's file hand-off."""
        self._assert_line_requires(message_dict, requires={"stream", "encoding", "manifest"})
        stream_name = message_dict["stream"]
        for record in batch_records(message_dict["encoding"], list(message_dict["manifest"])):
            self._process_record_message({"type": "RECORD", "stream": stream_name, "record": record})

    def process_endofpipe(self) -> None:
        self.pipeline.end_of_input()  # streams still in preflight judge what they have and send it
        super().process_endofpipe()
        self.pipeline.finish()

    # --- the run's end, also on failure -----------------------------------------------------------------

    def finish_run(self, error: BaseException | None) -> BaseException | None:
        """Close the pipeline and write the report; return the run's failure (its own, or one closing it met)."""
        abandon = isinstance(error, Interrupted)
        try:
            self.builders.close(abandon=abandon)
            self.pipeline.close(abandon=abandon)
        except Exception as close_error:
            error = error or close_error
        report = self.report
        report.status = (
            RunStatus.SUCCEEDED
            if error is None
            else RunStatus.INTERRUPTED
            if isinstance(error, Interrupted)
            else RunStatus.FAILED
        )
        report.error = None if error is None else _safe_error_text(error)
        if error is None and self.settings.events.test_event_code and self.settings.mode is not Mode.DRY_RUN:
            self._read_test_event_logs()
        summary, write_error = write_run_outputs(report, self.settings.paths)
        if write_error is not None:
            self.logger.error("The run report was not written: %s", write_error)
            error = error or write_error
        for line in summary:
            print(line, file=sys.stderr, flush=True)
        return error

    def _read_test_event_logs(self) -> None:
        """With test_event_code: what Snap's test-event log shows now, counted into the report."""
        try:
            with client_for(self.settings.delivery) as client:
                logs = client.test_event_logs()
        except DeliveryError as error:  # a diagnosis only: the run's outcome stands
            self.logger.warning("Could not read Snap's test-event log: %s", error)
            return
        self.report.test_event_logs = summarize_test_event_logs(logs)

    @classmethod
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: t.Any = None,
        file_input: t.IO[str] | None = None,
    ) -> None:
        """The CLI's entry (the SDK's `Target.invoke` steps, with our run's end): `config` is what the SDK's CLI
        parsed (`.config` files, `.parse_env`). A settings error is one clear line and exit code 1."""
        if about:
            cls.print_about(about_format)
            raise SystemExit(0)
        cls.print_version(print_fn=cls.logger.info)
        try:
            target = cls(
                config=config.config if config else None,
                validate_config=True,
                parse_env_config=config.parse_env if config else False,
            )
        except ConfigError as error:
            cls.logger.error("%s", error)  # one line: the message names the setting
            raise SystemExit(1) from None
        except ConfigValidationError as error:  # the SDK's JSON-schema check of the settings
            message = f"target-snapchat-capi settings: {'; '.join(error.errors) or error}"
            _write_failed_report(config.config if config else {}, message)
            cls.logger.error("%s", message)
            raise SystemExit(1) from None
        target.run(file_input)


def tune_malloc(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas (see MALLOC_ARENAS) and fix its mmap threshold (MMAP_THRESHOLD_BYTES); True when the
    arena cap was set. Elsewhere (musl, macOS) nothing."""
    if sys.platform != "linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    return "MALLOC_ARENA_MAX" not in os.environ and bool(mallopt(_M_ARENA_MAX, arenas))


class Interrupted(BaseException):
    """SIGTERM or SIGINT arrived (a BaseException, like KeyboardInterrupt: no `except Exception` swallows it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.exit_code = 128 + signum


def _write_failed_report(config: t.Mapping[str, t.Any], error: str) -> None:
    """A run stopped by its settings still writes its reports and its history line (where their paths are
    writable; the paths themselves never fail)."""
    report = RunReport(status=RunStatus.FAILED, error=error)
    write_run_outputs(report, OutputPaths.from_config(config))


def _stream_map_failure(error: BaseException) -> str | None:
    """When a stream map failed (the SDK's mapper is in the traceback): which stream and property, and which setting.
    The error's own message is left out unless it is the SDK's expression error (it quotes the expression, which is
    configuration, never a record value)."""
    stream = prop = None
    for frame, _ in traceback.walk_tb(error.__traceback__):
        if not frame.f_code.co_filename.endswith(MAPPER_MODULE):
            continue
        owner = frame.f_locals.get("self")
        stream = getattr(owner, "stream_alias", stream)
        candidate = frame.f_locals.get("prop_key", frame.f_locals.get("property_name"))
        prop = candidate if isinstance(candidate, str) else prop
    if stream is None and not isinstance(error, MAP_ERRORS):
        return None
    where = f"stream {stream!r}" + (f", property {prop!r}" if prop else "")
    detail = (
        f": {error}" if isinstance(error, MAP_ERRORS) else "; its message is withheld as it may quote record values"
    )
    return f"A stream map failed (setting stream_maps, {where}) with {type(error).__name__}{detail}"


def _log_failure(target: TargetSnapchatCAPI, error: BaseException) -> None:
    if (map_failure := _stream_map_failure(error)) is not None:
        target.logger.error("%s", map_failure)
        return
    if isinstance(error, SAFE_ERRORS):
        # A clear one-line message (already free of tokens and personal data) instead of a traceback.
        target.logger.error("%s", error)
        return
    # An unexpected error's message may quote a record (e.g. a library's "could not convert 'x'"):
    # log where it happened, never what it said.
    where = "".join(traceback.format_list(traceback.extract_tb(error.__traceback__)))
    target.logger.error(
        "Unexpected %s; its message is withheld as it may quote personal data. Traceback:\n%s",
        type(error).__name__,
        where,
    )


def _safe_error_text(error: BaseException) -> str:
    """What the report says about a failure: our own errors are written to be safe; others only by type."""
    if (map_failure := _stream_map_failure(error)) is not None:
        return map_failure
    if isinstance(error, SAFE_ERRORS):
        return str(error)
    if isinstance(error, Interrupted):
        return f"interrupted by {error}"
    if isinstance(error, KeyboardInterrupt | SystemExit):
        return type(error).__name__
    return f"{type(error).__name__} (details in the log)"
