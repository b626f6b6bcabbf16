"""What the sandbox remembers: stored events, the deduplication keys, counters, request summaries and faults.

One `SandboxState` per server, shared by its request threads; every method takes the lock. Memory stays
bounded for benchmark runs of about a million events: full events are kept only up to `max_stored_events`,
beyond that only counts and the deduplication keys.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

DEDUP_WINDOW_SECONDS: Final = 48 * 3600
#: PURCHASE events with the same order_id are merged over a longer window (contract section 2).
ORDER_DEDUP_WINDOW_SECONDS: Final = 30 * 24 * 3600
STATS_WINDOW_SECONDS: Final = 3600
VALIDATE_LOGS_WINDOW_SECONDS: Final = 24 * 3600
MAX_VALIDATE_LOGS_PER_PIXEL: Final = 1000
MAX_REQUEST_SUMMARIES: Final = 100_000
DEFAULT_MAX_STORED_EVENTS: Final = 200_000
DEFAULT_REJECT_CODE: Final = "SANDBOX_REJECTED"
DEFAULT_REJECT_REASON: Final = "Event rejected by the sandbox (injected fault)"

ENDPOINT_EVENTS: Final = "events"
ENDPOINT_VALIDATE: Final = "validate"
_ENDPOINT_CHOICES: Final = frozenset({ENDPOINT_EVENTS, ENDPOINT_VALIDATE, "any"})


@dataclass(slots=True)
class TransientFault:
    """Applied to the next `times` matching POSTs, in the order faults were added."""

    times: int = 1
    status: int | None = None
    retry_after: float | None = None
    reason: str | None = None
    delay_seconds: float = 0.0
    drop: bool = False
    endpoint: str = "any"

    def describe(self) -> str:
        if self.drop:
            return "drop"
        parts = [f"delay {self.delay_seconds:g}s"] if self.delay_seconds else []
        if self.status is not None:
            parts.append(str(self.status) + (" retry-after" if self.retry_after is not None else ""))
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class RejectFault:
    """Persistent until reset: any request containing this event_id is answered 400 INVALID."""

    event_id: str
    with_index: bool
    code: str
    reason: str


def parse_fault(spec: Mapping[str, Any]) -> TransientFault | RejectFault:
    """A fault from its JSON description (see the server module docstring); ValueError when malformed."""
    if not isinstance(spec, Mapping):
        raise ValueError("each fault must be a JSON object")
    if "reject_event_id" in spec:
        event_id = spec["reject_event_id"]
        if not isinstance(event_id, str) or not event_id:
            raise ValueError("reject_event_id must be a non-empty string")
        return RejectFault(
            event_id=event_id,
            with_index=bool(spec.get("with_index", True)),
            code=str(spec.get("code", DEFAULT_REJECT_CODE)),
            reason=str(spec.get("reason", DEFAULT_REJECT_REASON)),
        )
    known = {"status", "retry_after", "reason", "delay_seconds", "drop", "times", "endpoint"}
    unknown = set(spec) - known
    if unknown:
        raise ValueError(f"unknown fault keys: {sorted(unknown)}")
    fault = TransientFault(
        times=int(spec.get("times", 1)),
        status=None if spec.get("status") is None else int(spec["status"]),
        retry_after=None if spec.get("retry_after") is None else float(spec["retry_after"]),
        reason=None if spec.get("reason") is None else str(spec["reason"]),
        delay_seconds=float(spec.get("delay_seconds", 0.0)),
        drop=bool(spec.get("drop", False)),
        endpoint=str(spec.get("endpoint", "any")),
    )
    if fault.times < 1:
        raise ValueError("times must be at least 1")
    if fault.endpoint not in _ENDPOINT_CHOICES:
        raise ValueError(f"endpoint must be one of {sorted(_ENDPOINT_CHOICES)}")
    if fault.status is None and not fault.drop and not fault.delay_seconds:
        raise ValueError("a fault needs status, drop, delay_seconds or reject_event_id")
    return fault


class _RateWindow:
    """Event counts over the last hour, for the validate/stats endpoint."""

    def __init__(self) -> None:
        self._entries: deque[tuple[float, int]] = deque()
        self.latest_event_ts = 0

    def add(self, now: float, count: int) -> None:
        self._entries.append((now, count))
        self.latest_event_ts = int(now)

    def count(self, now: float) -> int:
        while self._entries and self._entries[0][0] < now - STATS_WINDOW_SECONDS:
            self._entries.popleft()
        return sum(count for _, count in self._entries)


class SandboxState:
    """The sandbox's memory. Thread-safe; `clock` is injectable so that tests can move time."""

    def __init__(
        self,
        tokens: Mapping[str, Iterable[str]],
        *,
        max_stored_events: int = DEFAULT_MAX_STORED_EVENTS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tokens: dict[str, frozenset[str]] = {token: frozenset(pixels) for token, pixels in tokens.items()}
        self.max_stored_events = max_stored_events
        self.clock = clock
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget everything: events, deduplication keys, faults, counters, logs."""
        with self._lock:
            self._events: list[dict[str, Any]] = []
            self._test_events: list[dict[str, Any]] = []
            self._dedup: dict[tuple[str, str], dict[str, float]] = {}
            self._order_dedup: dict[tuple[str, str], float] = {}
            self._faults: deque[TransientFault] = deque()
            self._rejects: dict[str, RejectFault] = {}
            self._requests: list[dict[str, Any]] = []
            self._ids_in_summaries = 0
            self._validate_logs: dict[str, deque[dict[str, Any]]] = {}
            self._rates: dict[tuple[str, str], _RateWindow] = {}
            self._counters: Counter[str] = Counter()
            self._by_status: Counter[str] = Counter()

    # --- faults -------------------------------------------------------------------------------------------

    def add_faults(self, specs: Iterable[Mapping[str, Any]]) -> int:
        parsed = [parse_fault(spec) for spec in specs]  # all or nothing
        with self._lock:
            for fault in parsed:
                if isinstance(fault, RejectFault):
                    self._rejects[fault.event_id] = fault
                else:
                    self._faults.append(fault)
        return len(parsed)

    def take_fault(self, endpoint: str) -> TransientFault | None:
        """The first queued fault matching this endpoint, consuming one of its `times`."""
        with self._lock:
            for fault in self._faults:
                if fault.endpoint in {"any", endpoint}:
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def reject_faults(self) -> dict[str, RejectFault]:
        with self._lock:
            return dict(self._rejects)

    # --- recording ----------------------------------------------------------------------------------------

    def record_request(
        self,
        method: str,
        path: str,
        status: int,
        events: list[Any] | None = None,
        fault: str | None = None,
    ) -> None:
        event_ids: list[Any] = []
        if events:
            event_ids = [event.get("event_id") if isinstance(event, dict) else None for event in events]
        with self._lock:
            self._counters["requests"] += 1
            self._by_status[str(status)] += 1
            if status >= 400 or status == 0:
                self._counters["rejected_requests"] += 1
            if events:
                self._counters["events_received"] += len(events)
            if len(self._requests) >= MAX_REQUEST_SUMMARIES:
                return
            if self._ids_in_summaries + len(event_ids) > self.max_stored_events:
                event_ids = []  # counts only beyond the cap
            self._ids_in_summaries += len(event_ids)
            self._requests.append(
                {
                    "method": method,
                    "path": path,
                    "status": status,
                    "n_events": len(events) if events else 0,
                    "event_ids": event_ids,
                    "fault": fault,
                }
            )

    def record_events(self, pixel_id: str, events: list[dict[str, Any]]) -> tuple[int, int]:
        """Store accepted events; returns (new, duplicates). Test events are counted apart, not deduped."""
        now = self.clock()
        new = duplicates = tests = 0
        with self._lock:
            for event in events:
                if event.get("test_event_code"):
                    tests += 1
                    if len(self._test_events) < self.max_stored_events:
                        self._test_events.append(event)
                    # the logs endpoint is Snap's test-event log: what arrived with a test code shows there
                    self._validate_log(pixel_id).append(_log_entry(now, pixel_id, event, "VALID", []))
                    continue
                event_id = event.get("event_id")
                if event_id is not None:
                    seen = self._dedup.setdefault((pixel_id, event["event_name"]), {})
                    first_seen = seen.get(event_id)
                    if first_seen is not None and now - first_seen <= DEDUP_WINDOW_SECONDS:
                        duplicates += 1
                        continue
                    seen[event_id] = now
                order_id = (event.get("custom_data") or {}).get("order_id")
                if event.get("event_name") == "PURCHASE" and order_id:
                    first_order = self._order_dedup.get((pixel_id, order_id))
                    if first_order is not None and now - first_order <= ORDER_DEDUP_WINDOW_SECONDS:
                        duplicates += 1
                        continue
                    self._order_dedup[(pixel_id, order_id)] = now
                new += 1
                if len(self._events) < self.max_stored_events:
                    self._events.append(event)
            if new:
                self._rate(pixel_id, "live").add(now, new)
            if tests:
                self._rate(pixel_id, "test").add(now, tests)
            self._counters["test_events"] += tests
            self._counters["events_accepted"] += new
            self._counters["duplicates"] += duplicates
        return new, duplicates

    def record_validation(self, pixel_id: str, events: list[Any], verdicts: list[dict[str, Any]]) -> None:
        now = self.clock()
        with self._lock:
            self._counters["validated_events"] += len(events)
            self._rate(pixel_id, "test").add(now, len(events))
            logs = self._validate_log(pixel_id)
            for event, verdict in zip(events, verdicts, strict=True):
                logs.append(_log_entry(now, pixel_id, event, verdict["status"], verdict["errors"]["error_msgs"]))

    def _validate_log(self, pixel_id: str) -> deque[dict[str, Any]]:
        return self._validate_logs.setdefault(pixel_id, deque(maxlen=MAX_VALIDATE_LOGS_PER_PIXEL))

    def _rate(self, pixel_id: str, kind: str) -> _RateWindow:
        return self._rates.setdefault((pixel_id, kind), _RateWindow())

    # --- reading ------------------------------------------------------------------------------------------

    def events(self, offset: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            end = None if limit is None else offset + limit
            return self._events[offset:end]

    def test_events(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._test_events)

    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(summary) for summary in self._requests]

    def stats(self) -> dict[str, Any]:
        with self._lock:
            counters = {
                name: self._counters[name]
                for name in (
                    "requests",
                    "events_received",
                    "events_accepted",
                    "duplicates",
                    "rejected_requests",
                    "test_events",
                    "validated_events",
                )
            }
            return {
                **counters,
                "stored_events": len(self._events),
                "pending_faults": sum(fault.times for fault in self._faults),
                "by_status": dict(self._by_status),
            }

    def validate_logs(self, pixel_id: str) -> list[dict[str, Any]]:
        now = self.clock()
        with self._lock:
            logs = self._validate_logs.get(pixel_id, ())
            return [
                {key: value for key, value in log.items() if key != "received_at"}
                for log in logs
                if now - log["received_at"] <= VALIDATE_LOGS_WINDOW_SECONDS
            ]

    def rate_stats(self, pixel_id: str) -> dict[str, dict[str, int]]:
        now = self.clock()
        with self._lock:
            result = {}
            for kind in ("test", "live"):
                window = self._rate(pixel_id, kind)
                result[kind] = {
                    "event_count_past_hour": window.count(now),
                    "latest_event_ts": window.latest_event_ts,
                }
            return result


def _log_entry(now: float, pixel_id: str, event: Any, status: str, error_messages: list[str]) -> dict[str, Any]:
    """One entry of the validate/logs answer (Snap's ValidateEvent), plus the sandbox's event_id and receipt time.

    Like Snap's log it says what arrived and its verdict; it never echoes user data.
    """
    fields = event if isinstance(event, dict) else {}
    return {
        "received_at": now,
        "asset_id": pixel_id,
        "event_name": fields.get("event_name"),
        "raw_event_name": fields.get("event_name"),
        "event_time": str(fields.get("event_time")),
        "event_id": fields.get("event_id"),
        "action_source": fields.get("action_source"),
        "integration": fields.get("integration"),
        "status": status,
        "error_records": list(error_messages),
        "warning_records": [],
    }
