"""The event-building worker process (building.py starts it as `python -m target_snapchat_capi.build_worker`).

It reads length-prefixed pickles on stdin (streams to build, chunks of records) and writes one reply per chunk on
stdout, in order. It never logs: a failure is reported to the target as the traceback's frames, without the
exception's message, which could quote a record's value.
"""

from __future__ import annotations

import collections
import os
import pickle
import signal
import sys
import traceback
from typing import IO

from target_snapchat_capi.building import HEADER, PICKLE_PROTOCOL, StreamBuild, build_chunk
from target_snapchat_capi.events import EventBuilder


def serve(requests: IO[bytes], replies: IO[bytes]) -> None:
    """Answer build requests until the end of `requests`."""
    outcomes: collections.Counter[str] = collections.Counter()
    builders: dict[int, EventBuilder] = {}
    while (message := _read_message(requests)) is not None:
        if message[0] == "stream":
            stream: StreamBuild = message[1]
            builders[stream.key] = stream.builder(outcomes)
            continue
        _, stream_key, chunk = message
        assert isinstance(stream_key, int) and isinstance(chunk, list)
        try:
            reply: tuple[object, ...] = (build_chunk(builders[stream_key], chunk), dict(outcomes))
        except Exception as error:  # a defect: the target stops the run with where it happened
            frames = "".join(traceback.format_list(traceback.extract_tb(error.__traceback__)))
            reply = ("failed", f"{type(error).__name__} (message withheld: it may quote a record) at\n{frames}")
        outcomes.clear()
        data = pickle.dumps(reply, PICKLE_PROTOCOL)
        replies.write(HEADER.pack(len(data)) + data)
        replies.flush()


def _read_message(requests: IO[bytes]) -> tuple[object, ...] | None:
    header = requests.read(HEADER.size)
    if len(header) < HEADER.size:
        return None  # the target closed the pipe (or ended)
    (size,) = HEADER.unpack(header)
    data = requests.read(size)
    if len(data) < size:
        return None
    message: tuple[object, ...] = pickle.loads(data)
    return message


def main() -> None:
    # The target handles both and ends the run; closing its pipes then ends this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # Replies get their own copy of stdout; fd 1 becomes stderr, so nothing a library prints can corrupt them.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    try:
        serve(sys.stdin.buffer, replies)
    except BrokenPipeError:
        pass  # the target is gone
    except BaseException as error:  # outside building (decoding a message): where, never the message
        frames = "".join(traceback.format_list(traceback.extract_tb(error.__traceback__)))
        sys.stderr.write(f"event-building worker: {type(error).__name__} (message withheld) at\n{frames}")
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
