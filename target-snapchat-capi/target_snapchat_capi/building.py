"""Where events are built: in the main thread, or in worker processes while the main thread reads the input.

Building an event (normalising, hashing, validating, encoding) is most of the target's work, about 70 µs a record,
and Python runs one thread of it at a time. With `build_workers` > 0 the sinks hand chunks of records to that many
worker processes (build_worker.py) and read back encoded events or rejections, in order; the main thread is left
with the Singer side (reading, stream maps, the SDK's hooks), the accounting and the STATE gate. With 0 the same
chunks are built in the main thread, by the same function (`build_chunk`), so both give the same request bodies.

The protocol over each worker's stdin and stdout is length-prefixed pickles, written and read only by this
module and build_worker.py (never by anyone else: pickles run code when loaded):

- `("stream", StreamBuild)`: a stream's settings and columns; the worker makes its builder;
- `("build", stream_key, chunk)`: records (dicts) and orders (lists of dicts); the reply is
  `(results, outcomes)`: one `EncodedEvent` or `Rejection` per item, and the normalisation outcomes counted
  meanwhile; or `("failed", where)` when building raised, with the traceback's frames but never its message
  (it could quote a record).

A worker lives exactly as long as its stdin is open: the end of the run closes it, and so does the target's
process ending in any way. Workers ignore SIGINT and SIGTERM; the target handles them and its exit closes the pipes.
"""

from __future__ import annotations

import collections
import contextlib
import pickle
import queue
import struct
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any, Final, TypeAlias

from target_snapchat_capi.events import Event, EventBuilder, EventSettings, Rejection
from target_snapchat_capi.wire import EncodedEvent, encode_event

#: A record, or the records of one order (orders.py).
BuildInput: TypeAlias = dict[str, Any] | list[dict[str, Any]]
BuildResult: TypeAlias = EncodedEvent | Rejection

WORKER_MODULE: Final = "target_snapchat_capi.build_worker"
#: Each message is preceded by its length (8 bytes, little-endian).
HEADER: Final = struct.Struct("<Q")
PICKLE_PROTOCOL: Final = pickle.HIGHEST_PROTOCOL
#: Chunks handed to one worker and not yet read back: one being built, one waiting, so it never idles.
CHUNKS_AHEAD_PER_WORKER: Final = 2


class BuildWorkerError(Exception):
    """A worker failed or stopped; the message names where, never a record's value (safe to show)."""


@dataclass(frozen=True)
class StreamBuild:
    """What a worker needs to build one stream's events: the same builder the main thread would make."""

    key: int
    settings: EventSettings
    stream_name: str
    #: the stream's columns, as resolved by the main thread (a loose schema's: from its first record)
    properties: Mapping[str, Any]
    key_properties: tuple[str, ...]

    def builder(self, outcomes: collections.Counter[str]) -> EventBuilder:
        return EventBuilder.for_properties(
            self.settings, self.stream_name, self.properties, self.key_properties, outcomes
        )


def build_chunk(builder: EventBuilder, chunk: Sequence[BuildInput]) -> list[BuildResult]:
    """Each record's (or order's) encoded event or rejection, in order. One clock reading serves the chunk."""
    now = time.time()
    build, build_order = builder.build, builder.build_order
    results: list[BuildResult] = []
    append = results.append
    for item in chunk:
        result = build_order(item, now) if type(item) is list else build(item, now)
        append(encode_event(result) if type(result) is Event else result)
    return results


class BuildTicket:
    """The results of one chunk, ready now (inline) or once its worker replies."""

    __slots__ = ("_results", "_worker")

    def __init__(self, worker: BuildWorker | None, results: list[BuildResult] | None = None) -> None:
        self._worker = worker
        self._results = results

    def resolve(self, results: list[BuildResult]) -> None:
        self._results = results

    def results(self) -> list[BuildResult]:
        """Wait for the chunk's results (reading the worker's earlier replies first)."""
        while self._results is None:
            assert self._worker is not None
            self._worker.receive_one()
        return self._results


class Builders:
    """The run's event building: `submit` a chunk for a stream, read its `BuildTicket` later, in order.

    Inline (no workers) a chunk is built at once; with workers, chunks go round-robin to them.
    """

    def __init__(self, workers: int, outcomes: collections.Counter[str]) -> None:
        self._outcomes = outcomes
        self._workers = [BuildWorker(outcomes) for _ in range(workers)]
        self._next = 0
        #: inline builders, by stream key
        self._builders: dict[int, EventBuilder] = {}
        self._stream_count = 0

    @property
    def chunks_ahead(self) -> int:
        """Chunks a sink may have submitted and not yet read before it must read the oldest."""
        return max(1, CHUNKS_AHEAD_PER_WORKER * len(self._workers))

    def add_stream(
        self, settings: EventSettings, stream_name: str, properties: Mapping[str, Any], key_properties: Sequence[str]
    ) -> int:
        """Register a stream's builder; returns the key its chunks are submitted under."""
        stream = StreamBuild(self._stream_count, settings, stream_name, dict(properties), tuple(key_properties))
        self._stream_count += 1
        if not self._workers:
            self._builders[stream.key] = stream.builder(self._outcomes)
        for worker in self._workers:
            worker.send(("stream", stream))
        return stream.key

    def submit(self, stream_key: int, chunk: list[BuildInput]) -> BuildTicket:
        if not self._workers:
            return BuildTicket(None, build_chunk(self._builders[stream_key], chunk))
        worker = self._workers[self._next]
        self._next = (self._next + 1) % len(self._workers)
        return worker.submit(stream_key, chunk)

    def close(self, *, abandon: bool = False) -> None:
        for worker in self._workers:
            worker.close(abandon=abandon)


class BuildWorker:
    """One worker process, its pipes, and the thread that reads its replies (so it never blocks writing them
    while the main thread blocks writing the next chunk)."""

    def __init__(self, outcomes: collections.Counter[str]) -> None:
        self._outcomes = outcomes
        self._process = subprocess.Popen(
            [sys.executable, "-m", WORKER_MODULE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._stdin: IO[bytes] = self._process.stdin
        self._replies: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._waiting: deque[BuildTicket] = deque()
        self._reader = threading.Thread(
            target=_read_replies, args=(self._process.stdout, self._replies), name="capi-build-replies", daemon=True
        )
        self._reader.start()

    def send(self, message: tuple[Any, ...]) -> None:
        data = pickle.dumps(message, PICKLE_PROTOCOL)
        try:
            self._stdin.write(HEADER.pack(len(data)) + data)
        except (BrokenPipeError, OSError):
            raise self._stopped() from None

    def submit(self, stream_key: int, chunk: list[BuildInput]) -> BuildTicket:
        ticket = BuildTicket(self)
        self._waiting.append(ticket)
        self.send(("build", stream_key, chunk))
        return ticket

    def receive_one(self) -> None:
        """Read the next reply: it belongs to the oldest waiting chunk."""
        data = self._replies.get()
        if data is None:
            raise self._stopped()
        reply = pickle.loads(data)
        if reply[0] == "failed":
            raise BuildWorkerError(f"building events failed in a worker process: {reply[1]}")
        results, outcomes = reply
        if outcomes:
            self._outcomes.update(outcomes)
        self._waiting.popleft().resolve(results)

    def _stopped(self) -> BuildWorkerError:
        code = self._process.poll()
        return BuildWorkerError(
            "an event-building worker process stopped"
            + (f" (exit code {code})" if code is not None else "")
            + "; set build_workers: 0 to build in the target's own process"
        )

    def close(self, *, abandon: bool = False) -> None:
        """End the worker: it exits when its stdin closes. With `abandon` nothing waits for it."""
        with contextlib.suppress(OSError):  # already gone
            self._stdin.close()
        if abandon:
            return
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._reader.join(timeout=10)


def _read_replies(stream: IO[bytes], replies: queue.SimpleQueue[bytes | None]) -> None:
    """The reader thread: each reply's bytes, then None at the end (the main thread unpickles)."""
    try:
        while (header := _read_exactly(stream, HEADER.size)) is not None:
            data = _read_exactly(stream, HEADER.unpack(header)[0])
            if data is None:
                break
            replies.put(data)
    finally:
        replies.put(None)


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    """`size` bytes, or None at the end of the stream."""
    if not size:
        return b""
    parts: list[bytes] = []
    while size:
        part = stream.read(size)
        if not part:
            return None
        parts.append(part)
        size -= len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)
