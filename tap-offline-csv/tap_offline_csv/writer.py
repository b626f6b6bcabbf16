"""A fast Singer message writer: msgspec JSON into a buffer, flushed at STATE/SCHEMA and at exit.

The SDK's writers flush stdout after every message; with one RECORD per CSV row that costs a system
call per row. Records are buffered here and written out in large chunks; every other message
(SCHEMA, STATE, ACTIVATE_VERSION...) flushes, so a STATE always reaches the target after the records
it covers, and a killed tap has never announced state for records it did not send.
"""

from __future__ import annotations

import atexit
import datetime
import sys
import typing as t
import weakref

import msgspec
from singer_sdk.singerlib import RecordMessage
from singer_sdk.singerlib.encoding.base import GenericSingerWriter

if t.TYPE_CHECKING:
    from singer_sdk.singerlib.encoding.simple import Message

# Bytes of buffered records written out at once (the pipe is fed in big writes, not per row).
RECORD_BUFFER_BYTES = 256 * 1024


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

    :meth:`append_raw_record` lets the stream append pre-encoded RECORD lines to the same buffer
    (its fast path); :meth:`flush` writes everything out.
    """

    def __init__(self) -> None:
        """Start with an empty buffer; flush whatever is left when the interpreter exits."""
        super().__init__()
        self.buffer = bytearray()
        _LIVE_WRITERS.add(self)

    def serialize_message(self, message: Message) -> bytes:
        """One JSON line (with its newline) for ``message``."""
        return ENCODER.encode(message.to_dict()) + b"\n"

    def write_message(self, message: Message) -> None:
        """Buffer ``message``; flush unless it is a RECORD and the buffer is still small."""
        ENCODER.encode_into(message.to_dict(), self.buffer, -1)
        self.buffer += b"\n"
        if not isinstance(message, RecordMessage):
            self.flush()
        elif len(self.buffer) >= RECORD_BUFFER_BYTES:
            self.write_out()

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
