"""A fast Singer message writer: msgspec JSON into a buffer, flushed at STATE/SCHEMA and at exit.

The SDK's writers flush stdout after every message; with one RECORD per CSV row that costs a system
call per row. Records are buffered here and written out in large chunks; every other message
(SCHEMA, STATE, ACTIVATE_VERSION...) flushes, so a STATE always reaches the target after the records
it covers, and a killed tap has never announced state for records it did not send.

This is singer-sdk's public writer interface (``Tap.message_writer_class``): the SDK hands every message to
:meth:`BufferedMsgspecWriter.write_message`.
"""

from __future__ import annotations

import atexit
import datetime
import logging
import os
import select
import signal
import sys
import threading
import time
import typing as t
import weakref

import msgspec
from singer_sdk.singerlib import RecordMessage, StateMessage
from singer_sdk.singerlib.encoding.base import GenericSingerWriter

if t.TYPE_CHECKING:
    from singer_sdk.singerlib.encoding.simple import Message

logger = logging.getLogger("tap_offline_csv.writer")

# Bytes of buffered records written out at once (the pipe is fed in big writes, not per row).
RECORD_BUFFER_BYTES = 256 * 1024
# Bytes per write system call: a signal is noticed between two writes (and interrupts a blocked one).
WRITE_CHUNK_BYTES = 64 * 1024
# After a stop signal, how long a blocked reader gets to take the rest of a half-written line.
FINISH_LINE_SECONDS = 10.0
# Records of the direct path share one time_extracted for this many records (a few milliseconds).
TIME_EXTRACTED_EVERY = 1000


def _encode_fallback(value: t.Any) -> t.Any:
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep="T")
    return str(value)


ENCODER = msgspec.json.Encoder(enc_hook=_encode_fallback, decimal_format="number")


_LIVE_WRITERS: weakref.WeakSet[BufferedMsgspecWriter] = weakref.WeakSet()


@atexit.register
def _flush_live_writers() -> None:
    for writer in list(_LIVE_WRITERS):
        writer.flush_quietly()


class BufferedMsgspecWriter(GenericSingerWriter[bytes, "Message"]):
    """Writes Singer messages as JSON lines to ``sys.stdout.buffer``; RECORDs are buffered.

    ``state_bytes`` counts the bytes of the STATE messages written (the stream paces STATE by it).
    """

    def __init__(self) -> None:
        """Start with an empty buffer; flush whatever is left when the interpreter exits."""
        super().__init__()
        self.buffer = bytearray()
        self.state_bytes = 0
        self.stop_code: int | None = None
        self._writing = False
        self._stopped = False
        self._prefixes: dict[str, bytes] = {}  # RECORD lines of one stream share their prefix
        _LIVE_WRITERS.add(self)

    def serialize_message(self, message: Message) -> bytes:
        """One JSON line (with its newline) for ``message``."""
        return ENCODER.encode(message.to_dict()) + b"\n"

    def _record_prefix(self, stream: str) -> bytes:
        prefix = self._prefixes.get(stream)
        if prefix is None:
            prefix = b'{"type":"RECORD","stream":' + ENCODER.encode(stream) + b',"record":'
            self._prefixes[stream] = prefix
        return prefix

    def write_record(
        self,
        stream: str,
        record: t.Mapping[str, t.Any],
        time_extracted: datetime.datetime | None = None,
        version: int | None = None,
    ) -> None:
        """Buffer one RECORD message: the same bytes as :meth:`write_message` of the equivalent RecordMessage."""
        buffer = self.buffer
        buffer += self._record_prefix(stream)
        ENCODER.encode_into(record, buffer, -1)
        if version is not None:
            buffer += b',"version":%d' % version
        if time_extracted is not None:
            buffer += b',"time_extracted":'
            ENCODER.encode_into(time_extracted, buffer, -1)
        buffer += b"}\n"
        if len(buffer) >= RECORD_BUFFER_BYTES:
            self.write_out()

    def record_writer(self, stream: str) -> t.Callable[[t.Mapping[str, t.Any]], None]:
        """A function writing RECORD messages of ``stream``, its prefix encoded once (the tap's direct path).

        ``time_extracted`` is read from the clock every :data:`TIME_EXTRACTED_EVERY` records, not per record.
        """
        buffer = self.buffer
        prefix = self._record_prefix(stream)
        encode_into = ENCODER.encode_into
        suffix = b"}\n"
        countdown = 0

        def write(record: t.Mapping[str, t.Any]) -> None:
            nonlocal suffix, countdown
            if countdown <= 0:
                suffix = b',"time_extracted":' + ENCODER.encode(datetime.datetime.now(datetime.UTC)) + b"}\n"
                countdown = TIME_EXTRACTED_EVERY
            countdown -= 1
            buffer.extend(prefix)
            encode_into(record, buffer, -1)
            buffer.extend(suffix)
            if len(buffer) >= RECORD_BUFFER_BYTES:
                self.write_out()

        return write

    def write_message(self, message: Message) -> None:
        """Buffer ``message``; flush unless it is a RECORD and the buffer is still small."""
        if type(message) is RecordMessage:
            self.write_record(message.stream, message.record, message.time_extracted, message.version)
            return
        buffer = self.buffer
        start = len(buffer)
        ENCODER.encode_into(message.to_dict(), buffer, -1)
        buffer += b"\n"
        if isinstance(message, StateMessage):
            self.state_bytes += len(buffer) - start
        self.flush()

    def write_out(self) -> None:
        """Hand the buffered bytes to stdout (without forcing an OS-level flush)."""
        if not self.buffer:
            return
        stdout = sys.stdout
        stdout.flush()  # text written through sys.stdout must not overtake our bytes
        binary = stdout.buffer
        try:
            fd = binary.fileno()
        except (AttributeError, OSError, ValueError):  # not a file (an in-memory stream in tests)
            binary.write(self.buffer)
        else:
            binary.flush()
            self._write_fd(fd)
        self.buffer.clear()

    def _write_fd(self, fd: int) -> None:
        """Write the buffer to ``fd`` in chunks; after a stop signal, end at a line boundary and exit."""
        data = self.buffer
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        position = 0
        self._writing = True
        try:
            while position < len(data) and self.stop_code is None:
                if poller.poll(200):  # else the reader is not reading: look at the stop flag again
                    position += os.write(fd, data[position : position + WRITE_CHUNK_BYTES])
        finally:
            self._writing = False
        if self.stop_code is not None:
            self._stop_at_line_end(fd, poller, position)

    def _stop_at_line_end(self, fd: int, poller: select.poll, position: int) -> t.NoReturn:
        """Finish the line being written (a reader never sees half a message), drop the rest, exit."""
        data = self.buffer
        at_boundary = position == 0 or data[position - 1] == 0x0A  # every message ends with a newline
        line_end = position if at_boundary else data.find(b"\n", position) + 1
        deadline = time.monotonic() + FINISH_LINE_SECONDS
        while position < line_end and time.monotonic() < deadline:
            if poller.poll(200):
                position += os.write(fd, data[position:line_end])
        self.discard()
        raise SystemExit(self.stop_code)

    def discard(self) -> None:
        """Forget the buffered records: no STATE after them was written, so the next run reads them again."""
        self.buffer.clear()
        self._stopped = True

    def request_stop(self, code: int) -> None:
        """A stop signal: exit with ``code`` now, or at the end of the line being written."""
        self.stop_code = code
        if not self._writing:
            self.discard()
            raise SystemExit(code)

    def flush(self) -> None:
        """Write out the buffer and flush stdout."""
        self.write_out()
        sys.stdout.buffer.flush()

    def flush_quietly(self) -> None:
        """Flush what is left at exit, ignoring a stdout that is already closed."""
        try:
            if self.buffer and not self._stopped:
                self.flush()
        except (OSError, ValueError):  # stdout already closed (e.g. the reader went away)
            pass


def stop_on_signals(writer: BufferedMsgspecWriter) -> None:
    """SIGTERM and SIGINT stop the tap with exit code 143 and 130, never inside a message.

    What was sent stays covered by the last STATE written; the records buffered after it are dropped (the next run
    reads them again), so a message is never torn and never repeated. Replaces singer-sdk's handlers, which write a
    STATE from inside the handler (possibly in the middle of a message) and exit 0.
    """
    if threading.current_thread() is not threading.main_thread():
        return

    def on_signal(signum: int, frame: object) -> None:
        del frame
        logger.warning(
            "Stopped by %s: every record before the last STATE was sent; the next run resumes from there",
            signal.Signals(signum).name,
        )
        writer.request_stop(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
