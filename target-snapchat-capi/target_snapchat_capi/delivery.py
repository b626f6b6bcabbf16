"""How a batch of built events leaves the target, one strategy per run mode.

- `LiveDelivery`: POST to /events; Snap records the conversions.
- `ValidateOnlyDelivery`: POST to /events/validate; Snap judges each event and records nothing.
- `DryRunDelivery`: no network; the exact request bodies are written to a file, one per line.

Each strategy delivers and accounts for what it delivered; the pipeline does not know which one it drives.

Several pixels (routing.py): a live or validate-only run holds one client per pixel, each with that pixel's token;
a batch is split by the events' pixel route, so a request never mixes pixels. An authentication failure names the
route and the pixel, never the token.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Protocol

from target_snapchat_capi.accounting import Accounting, Source
from target_snapchat_capi.client import AuthError, CapiClient, DeliveryError, DeliveryResult
from target_snapchat_capi.ledger import EventKey, Ledger, LedgerError
from target_snapchat_capi.outputs import OutputError, open_private
from target_snapchat_capi.routing import DEFAULT_ROUTE, Pixel
from target_snapchat_capi.settings import DeliverySettings, LedgerSettings, Mode, SettingError, Settings
from target_snapchat_capi.wire import EncodedEvent, plan_request_bodies

#: Test-only fault injection (see `_fault_hook`).
TEST_KILL_ENV = "TARGET_SNAPCHAT_CAPI_TEST_KILL_AT"


class Delivery(Protocol):
    """Delivers one batch of events of a stream and accounts for the outcome. Called by one thread at a time."""

    def deliver(self, stream_name: str, events: Sequence[EncodedEvent], sources: Sequence[Source]) -> None: ...

    def close(self) -> None: ...


class LiveDelivery:
    """Sends events to the API (to /events, or with `validate_only` to /events/validate), each to its pixel.

    With a delivery ledger (live runs), a batch first drops the events Snap already accepted for that pixel (counted
    as already delivered), and what Snap accepts is written to the ledger before `deliver` returns, so before the
    pipeline lets out the STATE covering the batch. A kill between Snap's answer and that write leaves the events
    out of both the ledger and the state: the next run sends them again, which Snap merges (same event id, within
    48 hours).
    """

    validate_only = False

    def __init__(
        self,
        pixels: Mapping[str, tuple[Pixel, CapiClient]],
        accounting: Accounting,
        *,
        routed: bool = False,
        ledger: Ledger | None = None,
    ) -> None:
        """`pixels`: route key -> (pixel, its client); one entry, route "", for the single pixel. `routed`: the
        `pixels` setting is used (the report counts per pixel, errors name the route)."""
        self._pixels = dict(pixels)
        self._only = next(iter(self._pixels.values())) if len(self._pixels) == 1 else None
        self._accounting = accounting
        self._routed = routed
        self._ledger = ledger

    def deliver(self, stream_name: str, events: Sequence[EncodedEvent], sources: Sequence[Source]) -> None:
        if self._only is not None:  # one pixel: nothing to split
            self._send_to(*self._only, stream_name, events, sources)
            return
        for route, indices in by_pixel_route(events).items():
            pixel, client = self._pixels[route]
            self._send_to(pixel, client, stream_name, [events[i] for i in indices], [sources[i] for i in indices])

    def _send_to(
        self,
        pixel: Pixel,
        client: CapiClient,
        stream_name: str,
        events: Sequence[EncodedEvent],
        sources: Sequence[Source],
    ) -> None:
        """Send one pixel's events with that pixel's client (and token)."""
        label = pixel.label if self._routed else None
        if self._ledger is not None:
            events, sources = self._not_yet_delivered(pixel.pixel_id, stream_name, events, sources)
            if not events:
                return
        try:
            result = client.send_encoded([event.json for event in events], validate_only=self.validate_only)
        except DeliveryError as error:
            # Count (and remember) what did get through before the failure, so the report of a failed run still
            # adds up and the next run does not send it again.
            if error.result is not None:
                self._accounting.delivered(stream_name, events, sources, error.result, label)
                self._remember(pixel.pixel_id, events, error.result)
            if isinstance(error, AuthError) and self._routed:
                raise AuthError(
                    f"pixel route {pixel.label!r} (pixel {pixel.pixel_id}): {error}",
                    status=error.status,
                    result=error.result,
                ) from None
            raise
        # Counted first: should the ledger write fail, the report still says what Snap has.
        self._accounting.delivered(stream_name, events, sources, result, label)
        self._remember(pixel.pixel_id, events, result)

    def _not_yet_delivered(
        self, pixel_id: str, stream_name: str, events: Sequence[EncodedEvent], sources: Sequence[Source]
    ) -> tuple[Sequence[EncodedEvent], Sequence[Source]]:
        """The batch without the events the ledger has for this pixel: one lookup for the whole batch."""
        assert self._ledger is not None
        known = self._ledger.already_delivered(pixel_id, [_ledger_key(event) for event in events])
        if not known:
            return events, sources
        kept = [index for index, event in enumerate(events) if _ledger_key(event) not in known]
        self._accounting.already_delivered(stream_name, len(events) - len(kept))
        return [events[index] for index in kept], [sources[index] for index in kept]

    def _remember(self, pixel_id: str, events: Sequence[EncodedEvent], result: DeliveryResult) -> None:
        if self._ledger is not None and result.delivered:
            _fault_hook("before_ledger_write")
            self._ledger.record_delivered(pixel_id, [_ledger_key(events[index]) for index in result.delivered])

    def close(self) -> None:
        try:
            for _, client in self._pixels.values():
                client.close()
        finally:
            if self._ledger is not None:
                self._ledger.close()


def by_pixel_route(events: Sequence[EncodedEvent]) -> dict[str, list[int]]:
    """The indices of a batch's events per pixel route, so that no request mixes pixels."""
    by_route: dict[str, list[int]] = {}
    for index, event in enumerate(events):
        by_route.setdefault(event.pixel_route, []).append(index)
    return by_route


class ValidateOnlyDelivery(LiveDelivery):
    """Asks Snap to validate each event; its verdicts go into the report. Never reads or writes the ledger."""

    validate_only = True


class DryRunDelivery:
    """Writes the request bodies a live run would POST; sends nothing."""

    def __init__(self, path: Path, batch_size: int, accounting: Accounting, *, routed: bool = False) -> None:
        """`routed`: events go to several pixels; each request body then holds one pixel's events."""
        self._routed = routed
        self._path = path
        self._batch_size = batch_size
        self._accounting = accounting
        self._file: IO[bytes] | None = None

    def deliver(self, stream_name: str, events: Sequence[EncodedEvent], sources: Sequence[Source]) -> None:
        output = self._open()
        requests = 0
        groups = by_pixel_route(events).values() if self._routed else [range(len(events))]
        try:
            for indices in groups:
                encoded = [events[index].json for index in indices]
                for request_body in plan_request_bodies(encoded, self._batch_size):
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


def client_for(settings: DeliverySettings, pixel: Pixel | None = None) -> CapiClient:
    """A client of the single pixel, or of `pixel`."""
    try:
        return CapiClient(
            settings.api_url,
            pixel.pixel_id if pixel is not None else settings.pixel_id,
            pixel.access_token if pixel is not None else settings.access_token,
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
        return DryRunDelivery(
            settings.paths.dry_run, settings.delivery.batch_size, accounting, routed=settings.delivery.routes.routed
        )
    routes = settings.delivery.routes
    if routes.routed:
        pixels = {key: (pixel, client_for(settings.delivery, pixel)) for key, pixel in routes.pixels.items()}
    else:
        single = Pixel(DEFAULT_ROUTE, settings.delivery.pixel_id, settings.delivery.access_token)
        pixels = {DEFAULT_ROUTE: (single, client_for(settings.delivery))}
    if settings.mode is Mode.VALIDATE_ONLY:
        return ValidateOnlyDelivery(pixels, accounting, routed=routes.routed)
    try:
        ledger = ledger_for(settings.ledger)
    except SettingError:
        for _, client in pixels.values():
            client.close()
        raise
    return LiveDelivery(pixels, accounting, routed=routes.routed, ledger=ledger)


def ledger_for(settings: LedgerSettings) -> Ledger | None:
    """The live run's ledger, opened and pruned; None when `ledger_url` is empty."""
    try:
        ledger = Ledger.from_setting(settings.url, settings.retention_days)
        if ledger is not None:
            ledger.prune()
    except LedgerError as error:  # its message names the URL without the password
        raise SettingError("ledger_url", f"ledger_url: {error}") from None
    return ledger


def _ledger_key(event: EncodedEvent) -> EventKey:
    return (event.event_name, event.event_id)


def _fault_hook(point: str) -> None:
    """Test-only: with TARGET_SNAPCHAT_CAPI_TEST_KILL_AT=<point>, the process kills itself (SIGKILL) there, to prove
    what a crash at that point leaves behind. Unset in any real run: one environment lookup per batch."""
    if os.environ.get(TEST_KILL_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)
