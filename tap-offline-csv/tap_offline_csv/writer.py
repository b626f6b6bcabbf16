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
import sys
import typing as t
import weakref

import msgspec
from singer_sdk.singerlib import RecordMessage, StateMessage
from singer_sdk.singerlib.encoding.base import GenericSingerWriter

if t.TYPE_CHECKING:
    from singer_sdk.singerlib.encoding.simple import Message

# Bytes of buffered records written out at once (the pipe is fed in big writes, not per row).
RECORD_BUFFER_BYTES = 256 * 1024
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
        stdout.buffer.write(self.buffer)
        self.buffer.clear()

    def flush(self) -> None:
        """Write out the buffer and flush stdout."""
        self.write_out()
        sys.stdout.buffer.flush()

    def flush_quietly(self) -> None:
        """Flush what is left at exit, ignoring a stdout that is already closed."""
        try:
            if self.buffer:
                self.flush()
        except (OSError, ValueError):  # stdout already closed (e.g. the reader went away)
            pass
