"""How a batch of built events leaves the target, one strategy per run mode.

- `LiveDelivery`: POST to /events; Snap records the conversions.
- `ValidateOnlyDelivery`: POST to /events/validate; Snap judges each event and records nothing.
- `DryRunDelivery`: no network; the exact request bodies are written to a file, one per line.

Each strategy delivers and accounts for what it delivered; the pipeline does not know which one it drives.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Protocol

from target_snapchat_capi.accounting import Accounting, Source
from target_snapchat_capi.client import CapiClient, DeliveryError, DeliveryResult
from target_snapchat_capi.events import Event
from target_snapchat_capi.ledger import EventKey, Ledger, LedgerError
from target_snapchat_capi.outputs import OutputError, open_private
from target_snapchat_capi.settings import DeliverySettings, LedgerSettings, Mode, SettingError, Settings

#: Test-only fault injection (see `_fault_hook`).
TEST_KILL_ENV = "TARGET_SNAPCHAT_CAPI_TEST_KILL_AT"


class Delivery(Protocol):
    """Delivers one batch of events of a stream and accounts for the outcome. Called by one thread at a time."""

    def deliver(self, stream_name: str, events: Sequence[Event], sources: Sequence[Source]) -> None: ...

    def close(self) -> None: ...


class LiveDelivery:
    """Sends events to the API (to /events, or with `validate_only` to /events/validate).

    With a delivery ledger (live runs), a batch first drops the events Snap already accepted (counted as
    already delivered), and what Snap accepts is written to the ledger before `deliver` returns, so before the
    pipeline lets out the STATE covering the batch. A kill between Snap's answer and that write leaves the events
    out of both the ledger and the state: the next run sends them again, which Snap merges (same event id, within
    48 hours).
    """

    validate_only = False

    def __init__(
        self,
        client: CapiClient,
        accounting: Accounting,
        ledger: Ledger | None = None,
        pixel_id: str = "",
    ) -> None:
        self._client = client
        self._accounting = accounting
        self._ledger = ledger
        self._pixel_id = pixel_id

    def deliver(self, stream_name: str, events: Sequence[Event], sources: Sequence[Source]) -> None:
        if self._ledger is not None:
            events, sources = self._not_yet_delivered(stream_name, events, sources)
            if not events:
                return
        try:
            result = self._client.send([event.body for event in events], validate_only=self.validate_only)
        except DeliveryError as error:
            # Count (and remember) what did get through before the failure, so the report of a failed run still
            # adds up and the next run does not send it again.
            if error.result is not None:
                self._accounting.delivered(stream_name, events, sources, error.result)
                self._remember(events, error.result)
            raise
        # Counted first: should the ledger write fail, the report still says what Snap has.
        self._accounting.delivered(stream_name, events, sources, result)
        self._remember(events, result)

    def _not_yet_delivered(
        self, stream_name: str, events: Sequence[Event], sources: Sequence[Source]
    ) -> tuple[Sequence[Event], Sequence[Source]]:
        """The batch without the events in the ledger: one lookup for the whole batch."""
        assert self._ledger is not None
        known = self._ledger.already_delivered(self._pixel_id, [_ledger_key(event) for event in events])
        if not known:
            return events, sources
        kept = [index for index, event in enumerate(events) if _ledger_key(event) not in known]
        self._accounting.already_delivered(stream_name, len(events) - len(kept))
        return [events[index] for index in kept], [sources[index] for index in kept]

    def _remember(self, events: Sequence[Event], result: DeliveryResult) -> None:
        if self._ledger is not None and result.delivered:
            _fault_hook("before_ledger_write")
            self._ledger.record_delivered(self._pixel_id, [_ledger_key(events[index]) for index in result.delivered])

    def close(self) -> None:
        try:
            self._client.close()
        finally:
            if self._ledger is not None:
                self._ledger.close()


class ValidateOnlyDelivery(LiveDelivery):
    """Asks Snap to validate each event; its verdicts go into the report. Never reads or writes the ledger."""

    validate_only = True


class DryRunDelivery:
    """Writes the request bodies a live run would POST; sends nothing."""

    def __init__(self, path: Path, batch_size: int, accounting: Accounting) -> None:
        self._path = path
        self._batch_size = batch_size
        self._accounting = accounting
        self._file: IO[bytes] | None = None

    def deliver(self, stream_name: str, events: Sequence[Event], sources: Sequence[Source]) -> None:
        output = self._open()
        requests = 0
        try:
            for request_body in CapiClient.plan_request_bodies([event.body for event in events], self._batch_size):
                output.write(request_body + b"\n")
                requests += 1
            output.flush()
        except OSError as error:
            raise OutputError(self._path, error) from None
        self._accounting.written(stream_name, events, requests, sources)

    def _open(self) -> IO[bytes]:
        if self._file is None:
            self._file = open_private(self._path, append=False)
        return self._file

    def close(self) -> None:
        if self._file is not None:
            output, self._file = self._file, None
            try:
                output.close()
            except OSError as error:
                raise OutputError(self._path, error) from None


def client_for(settings: DeliverySettings) -> CapiClient:
    try:
        return CapiClient(
            settings.api_url,
            settings.pixel_id,
            settings.access_token,
            timeout_seconds=settings.request_timeout_seconds,
            max_retries=settings.max_retries,
            max_concurrency=settings.max_concurrency,
            batch_size=settings.batch_size,
            give_up_seconds=settings.delivery_timeout_seconds,
        )
    except ValueError as error:  # the client's own checks (e.g. the URL's scheme); no secret in the message
        raise SettingError("api_url", str(error)) from None


def delivery_for(settings: Settings, accounting: Accounting) -> Delivery:
    """The strategy of the run's mode."""
    if settings.mode is Mode.DRY_RUN:
        return DryRunDelivery(settings.paths.dry_run, settings.delivery.batch_size, accounting)
    client = client_for(settings.delivery)
    if settings.mode is Mode.VALIDATE_ONLY:
        return ValidateOnlyDelivery(client, accounting)
    return LiveDelivery(client, accounting, ledger_for(settings.ledger), settings.delivery.pixel_id)


def ledger_for(settings: LedgerSettings) -> Ledger | None:
    """The live run's ledger, opened and pruned; None when `ledger_url` is empty."""
    try:
        ledger = Ledger.from_setting(settings.url, settings.retention_days)
        if ledger is not None:
            ledger.prune()
    except LedgerError as error:  # its message names the URL without the password
        raise SettingError("ledger_url", f"ledger_url: {error}") from None
    return ledger


def _ledger_key(event: Event) -> EventKey:
    return (event.body["event_name"], event.event_id)


def _fault_hook(point: str) -> None:
    """Test-only: with TARGET_SNAPCHAT_CAPI_TEST_KILL_AT=<point>, the process kills itself (SIGKILL) there, to prove
    what a crash at that point leaves behind. Unset in any real run: one environment lookup per batch."""
    if os.environ.get(TEST_KILL_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)
