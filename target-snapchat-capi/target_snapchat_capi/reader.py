"""Reads the Singer messages on stdin with msgspec, never quoting a line (a line is a record: personal data)."""

from __future__ import annotations

import sys
import typing as t

import msgspec
from singer_sdk.singerlib.encoding.base import GenericSingerReader
from singer_sdk.singerlib.exceptions import InvalidInputLine


class SingerMessageReader(GenericSingerReader[bytes]):
    """Reads Singer messages from stdin's bytes with msgspec.

    Unlike the SDK's readers it never puts the offending line into a log or an exception: a line is a record, and a
    record holds personal data.
    """

    def __init__(self) -> None:
        super().__init__()
        self._decoder = msgspec.json.Decoder()
        self._line_number = 0

    @property
    def default_input(self) -> t.IO[bytes]:
        return sys.stdin.buffer

    def deserialize_json(self, line: bytes) -> dict:
        self._line_number += 1
        try:
            message = self._decoder.decode(line)
        except msgspec.DecodeError as exc:
            msg = f"Input line {self._line_number} is not valid JSON ({type(exc).__name__}); content not shown."
            raise InvalidInputLine(msg) from None
        if not isinstance(message, dict):
            msg = f"Input line {self._line_number} is not a JSON object; content not shown."
            raise InvalidInputLine(msg)
        return message

    @staticmethod
    def assert_line_requires(line_dict: dict, requires: set[str]) -> None:
        missing = requires.difference(line_dict)
        if missing:
            kind = line_dict.get("type", "?")
            msg = f"A {kind} message lacks required key(s) {', '.join(sorted(missing))}; content not shown."
            raise InvalidInputLine(msg)
