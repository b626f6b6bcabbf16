"""The delivery pipeline: batches go out in the background, settle in order, and gate every STATE.

The main thread builds events; a drained batch is handed to one sender thread, which delivers it through the run's
`Delivery` strategy while the main thread builds the next one. At most `MAX_BATCHES_IN_FLIGHT` batches are handed
over and not yet settled. Batches settle in the order they were submitted; the first failure sets one flag, after
which nothing more is sent, and is re-raised on the main thread when that batch settles.

The STATE gate: a STATE that arrives after `n` batches were submitted goes out only once those `n` batches have
settled and the rejects they produced are durable, so a bookmark never runs ahead of delivery. A STATE that arrives
while orders are open (line items, orders.py) also waits until each of those orders has been handed over in a batch
(or rejected) and that batch has settled.
"""

from __future__ import annotations

import gc
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from target_snapchat_capi.accounting import Accounting, Source
from target_snapchat_capi.delivery import Delivery
from target_snapchat_capi.orders import OrderGate
from target_snapchat_capi.wire import EncodedEvent

#: Drained batches handed to the sender thread and not yet settled: one sending while the next is built.
MAX_BATCHES_IN_FLIGHT = 1

StateWriter = Callable[[dict[str, Any]], None]
#: The threshold of a STATE queued while some stream holds records back.
HELD: Any = object()


class DeliveryPipeline:
    """Owns the sender thread, the in-flight queue and the STATE gate of one run."""

    def __init__(
        self,
        delivery: Delivery,
        accounting: Accounting,
        write_state: StateWriter | None,
        *,
        max_in_flight: int = MAX_BATCHES_IN_FLIGHT,
        order_gate: OrderGate | None = None,
    ) -> None:
        """`write_state` passes a settled STATE on; None means this run emits no STATE (dry run, validate only)."""
        self._delivery = delivery
        self._accounting = accounting
        self._write_state = write_state
        self._max_in_flight = max_in_flight
        self._sender: ThreadPoolExecutor | None = None
        self._in_flight: deque[Future[None]] = deque()
        self._failed = threading.Event()
        self._order_gate = order_gate
        # STATEs waiting: [batches submitted at the time (HELD while a stream in preflight holds records back: they
        # are in no batch yet), newest order open at the time or -1 (orders.py), state].
        self._pending_states: deque[list[Any]] = deque()
        #: streams holding records back until their preflight is judged (see preflight.py), with how to flush them
        self._holders: dict[str, Callable[[], None]] = {}
        #: set at the end of the input: streams still in preflight judge what they have
        self.ending = False
        self.batches_submitted = 0
        self.batches_settled = 0
        #: batches delivered without error, counted by the sender thread as each one finishes (in order)
        self._batches_delivered = 0
        # The sender thread releases STATEs as soon as their batches are delivered; the main thread queues them.
        self._state_lock = threading.Lock()
        #: the last STATE passed on: the same STATE offered again (an extra checkpoint drain, then the end of the
        #: input) is not written twice
        self._last_written: dict[str, Any] | None = None
        #: Set when a batch was handed over since the last checkpoint: the target then drains every sink so that
        #: the latest STATE is covered by submitted batches and can follow them out.
        self.checkpoint_due = False

    # -- batches

    def submit(self, stream_name: str, events: Sequence[EncodedEvent], sources: Sequence[Source]) -> None:
        """Hand a batch to the sender thread and return, unless too many batches are already waiting."""
        if self._sender is None:
            self._sender = ThreadPoolExecutor(1, thread_name_prefix="capi-batches")
        self._in_flight.append(self._sender.submit(self._deliver, stream_name, events, sources))
        self.batches_submitted += 1
        self.checkpoint_due = True
        while len(self._in_flight) > self._max_in_flight:
            self._settle_oldest()

    def _deliver(self, stream_name: str, events: Sequence[EncodedEvent], sources: Sequence[Source]) -> None:
        if self._failed.is_set():
            return  # a batch before this one failed for good: the run is about to stop
        try:
            self._delivery.deliver(stream_name, events, sources)
        except BaseException:
            self._failed.set()
            raise
        finally:
            # Each HTTP exchange leaves a reference cycle (httpx's response and its stream) holding the request
            # body, and the target runs the collector's old generations rarely (target.py): without this, the
            # bodies of hundreds of requests piled up (275 MB at 1M events). Only objects made since start-up
            # are scanned (the rest is frozen), a few milliseconds per batch.
            gc.collect()
        with self._state_lock:
            self._batches_delivered += 1
            self._write_released_states()  # promptly, even while the main thread waits for input

    def _settle(self, *, wait: bool) -> None:
        """Collect finished batches in submission order, re-raising a delivery failure."""
        while self._in_flight and (wait or self._in_flight[0].done()):
            self._settle_oldest()

    def _settle_oldest(self) -> None:
        self._in_flight.popleft().result()
        self.batches_settled += 1

    # -- streams holding records back

    def hold_back(self, stream_name: str, flush: Callable[[], None]) -> None:
        """A stream keeps records out of any batch for now: no STATE may pass until it submits them. `flush` judges
        and submits what it holds; `end_of_input` calls it."""
        self._holders[stream_name] = flush

    def stop_holding(self, stream_name: str) -> None:
        """The stream has submitted what it held: STATEs queued meanwhile now wait for the batches so far."""
        self._holders.pop(stream_name, None)
        if not self._holders:
            with self._state_lock:
                for pending in self._pending_states:
                    if pending[0] is HELD:
                        pending[0] = self.batches_submitted

    # -- the STATE gate

    def hold_state(self, state: dict[str, Any]) -> None:
        """Queue a STATE behind the batches submitted so far; pass on any STATE that is now settled."""
        self.checkpoint_due = False
        if self._write_state is None:
            return  # a dry or validate-only run must not move the bookmarks
        newest_order = self._order_gate.last_opened if self._order_gate is not None else -1
        with self._state_lock:
            self._pending_states.append([HELD if self._holders else self.batches_submitted, newest_order, state])
        self._release_states(wait=False)

    def end_of_input(self) -> None:
        """No more records: every stream still holding records back judges what it has and submits it."""
        self.ending = True
        for flush in list(self._holders.values()):
            flush()

    def finish(self) -> None:
        """At the end of the input (every stream judged and drained): wait for every batch, then pass on the last
        settled STATE."""
        for stream_name in list(self._holders):
            self.stop_holding(stream_name)  # a stream that never drained holds nothing
        self._release_states(wait=True)

    def _release_states(self, *, wait: bool) -> None:
        """Collect settled batches (re-raising a failure), then emit what they cover."""
        self._settle(wait=wait)
        with self._state_lock:
            self._write_released_states()

    def _write_released_states(self) -> None:
        """Emit the newest STATE whose records are all delivered or rejected (and their rejects made durable).
        Called with `_state_lock` held, by either thread."""
        newest = None
        while self._pending_states:
            pending = self._pending_states[0]
            if pending[0] is HELD:
                break
            if pending[1] >= 0:
                if self._order_gate is None or not self._order_gate.covers(pending[1]):
                    break  # an order open when this STATE arrived has not been handed over yet
                # Those orders were released after their batches were submitted: they are in batches so far.
                pending[0] = max(pending[0], self.batches_submitted)
                pending[1] = -1
            if pending[0] > self._batches_delivered:
                break
            newest = self._pending_states.popleft()[2]
        if newest is None or newest == self._last_written:
            return
        if self._write_state is not None and not self._failed.is_set():
            self._accounting.flush_rejects()
            self._write_state(newest)
            self._last_written = newest

    # -- the end

    def close(self, *, abandon: bool = False) -> None:
        """Stop the sender (cancelling what has not started), then close the delivery and the accounting.

        With `abandon` (the run was interrupted) nothing waits for a request in flight: the process is leaving.
        """
        self._failed.set()  # nothing queued starts now
        try:
            if self._sender is not None:
                self._sender.shutdown(wait=not abandon, cancel_futures=True)
            if not abandon:
                self._delivery.close()
        finally:
            self._accounting.close()
