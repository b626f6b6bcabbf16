"""The pipeline's memory stays flat over a long run: nothing of a settled batch outlives it."""

from __future__ import annotations

import gc
import time
from pathlib import Path

import httpx
from target_snapchat_capi.accounting import Accounting
from target_snapchat_capi.client import CapiClient
from target_snapchat_capi.delivery import LiveDelivery
from target_snapchat_capi.events import Event
from target_snapchat_capi.pipeline import DeliveryPipeline
from target_snapchat_capi.rejects import RejectsFile
from target_snapchat_capi.report import RunReport
from target_snapchat_capi.routing import Pixel
from target_snapchat_capi.sandbox import SandboxServer
from target_snapchat_capi.target import GC_YOUNG_THRESHOLD
from target_snapchat_capi.wire import EncodedEvent, encode_event

from tests.conftest import SANDBOX_PIXEL_ID, SANDBOX_TOKEN

BATCHES = 20
EVENTS_PER_BATCH = 100
CONNECTIONS = 2


def _event(number: int) -> EncodedEvent:
    body = {
        "event_name": "PURCHASE",
        "event_time": int(time.time()) - 60,
        "event_id": f"order-{number}",
        "action_source": "OFFLINE",
        "user_data": {"em": ["a" * 64]},
        "custom_data": {"order_id": f"order-{number}", "value": 1.0, "currency": "USD"},
    }
    return encode_event(Event(body=body, event_id=f"order-{number}", match_keys=("em",)))


def _live_responses() -> int:
    return sum(isinstance(candidate, httpx.Response) for candidate in gc.get_objects())


def test_the_request_bodies_of_settled_batches_do_not_pile_up(tmp_path: Path, sandbox: SandboxServer) -> None:
    """httpx leaves every response in a reference cycle that holds the request's body (1.7 MB for 2000 events), and
    the target runs the collector's older generations rarely: the pipeline collects them after each batch. Without
    that, 275 MB at 1,000,000 events."""
    gc.collect()
    thresholds = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 1000, 1000)  # the target's young threshold; older generations seldom
    report = RunReport()
    accounting = Accounting(report, RejectsFile(tmp_path / "rejects.jsonl", report.started_at))
    client = CapiClient(
        sandbox.url, SANDBOX_PIXEL_ID, SANDBOX_TOKEN, max_concurrency=CONNECTIONS, batch_size=EVENTS_PER_BATCH // 2
    )
    pixel = Pixel(route="", pixel_id=SANDBOX_PIXEL_ID, access_token=SANDBOX_TOKEN)
    pipeline = DeliveryPipeline(LiveDelivery({"": (pixel, client)}, accounting), accounting, None)
    try:
        for batch in range(BATCHES):
            events = [_event(batch * EVENTS_PER_BATCH + index) for index in range(EVENTS_PER_BATCH)]
            pipeline.submit("purchases", events, [(None, None)] * len(events))
        pipeline.finish()
        alive = _live_responses()
    finally:
        pipeline.close()
        gc.set_threshold(*thresholds)
    assert report.events_delivered == BATCHES * EVENTS_PER_BATCH
    assert sandbox.state.stats()["events_accepted"] == BATCHES * EVENTS_PER_BATCH
    # At most the last batch's responses may still be waiting for a collection; never every batch's.
    assert alive <= CONNECTIONS, f"{alive} responses of {BATCHES * CONNECTIONS} requests still in memory"
