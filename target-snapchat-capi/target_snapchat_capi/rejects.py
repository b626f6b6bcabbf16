"""The rejects file: one JSON object per rejected record, with where it came from and why. No record content."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import IO, Any


class RejectsFile:
    """Appends rejections as JSON lines.

    Appending (rather than truncating per run) keeps the rejects of a run that was killed and resumed: the records
    rejected before the last state are not read again, so their lines must survive the rerun. Each line carries the
    run's start time so runs can be told apart.
    """

    def __init__(self, path: str | os.PathLike[str], run_started_at: float) -> None:
        self.path = Path(path)
        self._run_started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(run_started_at))
        self._file: IO[str] | None = None

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
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        line = {
            "stream": stream,
            "source_file": source_file,
            "source_line": source_line,
            "event_id": event_id,
            "reason": reason,
            "message": message,
            "run_started_at": self._run_started_at,
        }
        self._file.write(json.dumps(line, ensure_ascii=False) + "\n")

    def flush(self) -> None:
        """Make the rejections durable; called before any STATE that covers them is emitted."""
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self.flush()
            self._file.close()
            self._file = None
