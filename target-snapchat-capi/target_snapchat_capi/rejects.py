"""The rejects file: one JSON object per rejected record, with where it came from and why. No record content."""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import IO, Any, Final

from target_snapchat_capi.outputs import OutputError, open_private

#: Line separators json.dumps leaves as they are; escaped so that splitlines() readers see one line per rejection.
_LINE_SEPARATOR_ESCAPES: Final = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


class RejectsFile:
    """Appends rejections as JSON lines.

    Appending (rather than truncating per run) keeps the rejects of a run that was killed and resumed: the records
    rejected before the last state are not read again, so their lines must survive the rerun. Each line carries the
    run's start time so runs can be told apart.
    """

    def __init__(self, path: str | os.PathLike[str], run_started_at: float) -> None:
        self.path = Path(path)
        self._run_started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(run_started_at))
        self._file: IO[bytes] | None = None

    def write(
        self,
        *,
        stream: str,
        reason: str,
        message: str,
        event_id: str | None,
        source_file: Any = None,
        source_line: Any = None,
    ) -> None:
        if self._file is None:
            self._file = self._open()
        line = {
            "stream": stream,
            "source_file": source_file,
            "source_line": source_line,
            "event_id": event_id,
            "reason": reason,
            "message": message,
            "run_started_at": self._run_started_at,
        }
        text = json.dumps(line, ensure_ascii=False).translate(_LINE_SEPARATOR_ESCAPES) + "\n"
        try:
            self._file.write(text.encode("utf-8"))
        except OSError as error:
            raise OutputError(self.path, error) from None

    def _open(self) -> IO[bytes]:
        output = open_private(self.path, append=True)
        try:
            if self.path.is_file() and self.path.stat().st_size:
                with self.path.open("rb") as existing:
                    existing.seek(-1, os.SEEK_END)
                    if existing.read(1) != b"\n":
                        output.write(b"\n")  # a run killed mid-line left it torn: never append to that line
        except OSError as error:
            output.close()
            raise OutputError(self.path, error) from None
        return output

    def flush(self) -> None:
        """Make the rejections durable; called before any STATE that covers them is emitted."""
        if self._file is not None:
            try:
                self._file.flush()
                os.fsync(self._file.fileno())
            except OSError as error:
                raise OutputError(self.path, error) from None

    def close(self) -> None:
        if self._file is not None:
            try:
                self.flush()
            finally:
                output, self._file = self._file, None
                with contextlib.suppress(OSError):  # flush already reported the error
                    output.close()
