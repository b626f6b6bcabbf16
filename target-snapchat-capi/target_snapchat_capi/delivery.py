"""How a batch of built events leaves the target, one strategy per run mode.

- `LiveDelivery`: POST to /events; Snap records the conversions.
- `ValidateOnlyDelivery`: POST to /events/validate; Snap judges each event and records nothing.
- `DryRunDelivery`: no network; the exact request bodies are written to a file, one per line.

Each strategy delivers and accounts for what it delivered; the pipeline does not know which one it drives.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import IO, Protocol

from target_snapchat_capi.accounting import Accounting, Source
from target_snapchat_capi.client import CapiClient, DeliveryError
from target_snapchat_capi.events import Event
from target_snapchat_capi.outputs import OutputError, open_private
from target_snapchat_capi.settings import DeliverySettings, Mode, SettingError, Settings


class Delivery(Protocol):
    """Delivers one batch of events of a stream and accounts for the outcome. Called by one thread at a time."""

    def deliver(self, stream_name: str, events: Sequence[Event], sources: Sequence[Source]) -> None: ...

    def close(self) -> None: ...


class LiveDelivery:
    """Sends events to the API (to /events, or with `validate_only` to /events/validate)."""

    validate_only = False

    def __init__(self, client: CapiClient, accounting: Accounting) -> None:
        self._client = client
        self._accounting = accounting

    def deliver(self, stream_name: str, events: Sequence[Event], sources: Sequence[Source]) -> None:
        try:
            result = self._client.send([event.body for event in events], validate_only=self.validate_only)
        except DeliveryError as error:
            # Count what did get through before the failure, so the report of a failed run still adds up.
            if error.result is not None:
                self._accounting.delivered(stream_name, events, sources, error.result)
            raise
        self._accounting.delivered(stream_name, events, sources, result)

    def close(self) -> None:
        self._client.close()


class ValidateOnlyDelivery(LiveDelivery):
    """Asks Snap to validate each event; its verdicts go into the report."""

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
    return LiveDelivery(client, accounting)
