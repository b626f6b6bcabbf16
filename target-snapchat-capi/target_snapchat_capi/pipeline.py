"""The delivery pipeline: batches go out in the background, settle in order, and gate every STATE.

The main thread builds events; a drained batch is handed to one sender thread, which delivers it through the run's
`Delivery` strategy while the main thread builds the next one. At most `MAX_BATCHES_IN_FLIGHT` batches are handed
over and not yet settled. Batches settle in the order they were submitted; the first failure sets one flag, after
which nothing more is sent, and is re-raised on the main thread when that batch settles.

The STATE gate: a STATE that arrives after `n` batches were submitted goes out only once those `n` batches have
settled and the rejects they produced are durable, so a bookmark never runs ahead of delivery.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from target_snapchat_capi.accounting import Accounting, Source
from target_snapchat_capi.delivery import Delivery
from target_snapchat_capi.events import Event

#: Drained batches handed to the sender thread and not yet settled: one sending while the next is built.
MAX_BATCHES_IN_FLIGHT = 1

StateWriter = Callable[[dict[str, Any]], None]


class DeliveryPipeline:
    """Owns the sender thread, the in-flight queue and the STATE gate of one run."""

    def __init__(
        self,
        delivery: Delivery,
        accounting: Accounting,
        write_state: StateWriter | None,
        *,
        max_in_flight: int = MAX_BATCHES_IN_FLIGHT,
    ) -> None:
        """`write_state` passes a settled STATE on; None means this run emits no STATE (dry run, validate only)."""
        self._delivery = delivery
        self._accounting = accounting
        self._write_state = write_state
        self._max_in_flight = max_in_flight
        self._sender: ThreadPoolExecutor | None = None
        self._in_flight: deque[Future[None]] = deque()
        self._failed = threading.Event()
        # STATEs waiting for the batches submitted before them: (batches submitted at the time, state).
        self._pending_states: deque[tuple[int, dict[str, Any]]] = deque()
        self.batches_submitted = 0
        self.batches_settled = 0
        #: Set when a batch was handed over since the last checkpoint: the target then drains every sink so that
        #: the latest STATE is covered by submitted batches and can follow them out.
        self.checkpoint_due = False

    # -- batches

    def submit(self, stream_name: str, events: Sequence[Event], sources: Sequence[Source]) -> None:
        """Hand a batch to the sender thread and return, unless too many batches are already waiting."""
        if self._sender is None:
            self._sender = ThreadPoolExecutor(1, thread_name_prefix="capi-batches")
        self._in_flight.append(self._sender.submit(self._deliver, stream_name, events, sources))
        self.batches_submitted += 1
        self.checkpoint_due = True
        while len(self._in_flight) > self._max_in_flight:
            self._settle_oldest()

    def _deliver(self, stream_name: str, events: Sequence[Event], sources: Sequence[Source]) -> None:
        if self._failed.is_set():
            return  # a batch before this one failed for good: the run is about to stop
        try:
            self._delivery.deliver(stream_name, events, sources)
        except BaseException:
            self._failed.set()
            raise

    def _settle(self, *, wait: bool) -> None:
        """Collect finished batches in submission order, re-raising a delivery failure."""
        while self._in_flight and (wait or self._in_flight[0].done()):
            self._settle_oldest()

    def _settle_oldest(self) -> None:
        self._in_flight.popleft().result()
        self.batches_settled += 1

    # -- the STATE gate

    def hold_state(self, state: dict[str, Any]) -> None:
        """Queue a STATE behind the batches submitted so far; pass on any STATE that is now settled."""
        self.checkpoint_due = False
        if self._write_state is None:
            return  # a dry or validate-only run must not move the bookmarks
        self._pending_states.append((self.batches_submitted, state))
        self._release_states(wait=False)

    def finish(self) -> None:
        """At the end of the input: wait for every batch, then pass on the last settled STATE."""
        self._release_states(wait=True)

    def _release_states(self, *, wait: bool) -> None:
        """Emit the newest STATE whose records are all delivered or rejected (and their rejects made durable)."""
        self._settle(wait=wait)
        newest = None
        while self._pending_states and self._pending_states[0][0] <= self.batches_settled:
            newest = self._pending_states.popleft()[1]
        if newest is not None and self._write_state is not None:
            self._accounting.flush_rejects()
            self._write_state(newest)

    # -- the end

    def close(self) -> None:
        """Stop the sender (cancelling what has not started), then close the delivery and the accounting."""
        try:
            if self._sender is not None:
                self._sender.shutdown(wait=True, cancel_futures=True)
            self._delivery.close()
        finally:
            self._accounting.close()
