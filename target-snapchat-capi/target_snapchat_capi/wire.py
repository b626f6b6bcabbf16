"""How an event goes on the wire: encoded to JSON once, as soon as it is built, and request bodies assembled from
those bytes.

A built event waits in memory until its batch is delivered: 8,000 events being built and 8,000 being sent. As
dicts of hashed strings that is about 3.8 KB an event (60 MB in all); encoded, about 1 KB, and no containers for
the garbage collector to scan. `EncodedEvent` keeps the JSON bytes and the few fields the run still reads after
building (routing, the ledger, the report), nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Final, NamedTuple

import msgspec
from target_snapchat_capi import capi
from target_snapchat_capi.events import Event

#: The one encoder of event JSON: plain dicts in insertion order, no whitespace.
_ENCODER: Final = msgspec.json.Encoder()

BODY_PREFIX: Final = b'{"data":['
BODY_SUFFIX: Final = b"]}"
BODY_OVERHEAD: Final = len(BODY_PREFIX) + len(BODY_SUFFIX)


def encode(body: Mapping[str, Any]) -> bytes:
    """One event object's JSON."""
    return _ENCODER.encode(body)


class EncodedEvent(NamedTuple):
    """A built event ready to send: its JSON, and what delivery and the report read of it. A named tuple: one is made
    per record, and a frozen dataclass's construction costs several times a tuple's."""

    json: bytes
    event_id: str
    event_name: str
    match_keys: tuple[str, ...]
    pixel_route: str = ""
    #: epoch seconds (None only for hand-made events without one)
    event_time: int | None = None
    #: custom_data.order_id, for the report's count of repeated order ids
    order_id: str | None = None


def encode_event(event: Event) -> EncodedEvent:
    body = event.body
    custom_data = body.get("custom_data")
    return EncodedEvent(
        json=_ENCODER.encode(body),
        event_id=event.event_id,
        event_name=str(body.get("event_name", "")),
        match_keys=event.match_keys,
        pixel_route=event.pixel_route,
        event_time=body.get("event_time"),
        order_id=custom_data.get("order_id") if custom_data else None,
    )


def request_body(encoded: Sequence[bytes], indices: Iterable[int]) -> bytes:
    """`{"data":[...]}` assembled from the events' encoded bytes (nothing is encoded twice)."""
    return BODY_PREFIX + b",".join([encoded[index] for index in indices]) + BODY_SUFFIX


def plan_batches(encoded: Sequence[bytes], batch_size: int, indices: Iterable[int]) -> Iterator[list[int]]:
    """Split event indices into requests of at most batch_size events and at most MAX_REQUEST_BYTES of body.

    An event too large on its own comes out alone (the caller decides what to do with it).
    """
    batch: list[int] = []
    size = BODY_OVERHEAD
    for index in indices:
        event_size = len(encoded[index]) + (1 if batch else 0)  # the comma before it
        if batch and (len(batch) >= batch_size or size + event_size > capi.MAX_REQUEST_BYTES):
            yield batch
            batch, size = [], BODY_OVERHEAD
            event_size = len(encoded[index])
        batch.append(index)
        size += event_size
    if batch:
        yield batch


def plan_request_bodies(encoded: Sequence[bytes], batch_size: int = capi.MAX_EVENTS_PER_REQUEST) -> Iterator[bytes]:
    """The exact request bodies a send would POST for these encoded events (dry runs).

    An event too large for any request on its own is yielded alone; a send would reject it locally instead.
    """
    for batch in plan_batches(encoded, min(batch_size, capi.MAX_EVENTS_PER_REQUEST), range(len(encoded))):
        yield request_body(encoded, batch)
