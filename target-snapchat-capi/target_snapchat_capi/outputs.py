"""The run's output files (rejects, report, dry run): created private, checked at start, errors that name the path.

They hold hashed personal data and counts, so they are created readable by their owner only (0600). A disk error
says which file and what the system said (e.g. "No space left on device"), never "details in the log".
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from target_snapchat_capi.settings import SettingError

PRIVATE_FILE_MODE = 0o600


class OutputError(Exception):
    """An output file cannot be written. The message names the path and the system's reason (no record content)."""

    def __init__(self, path: Path | str, error: OSError) -> None:
        super().__init__(f"cannot write {path}: {describe(error)}")
        self.path = str(path)


def describe(error: OSError) -> str:
    return error.strerror or type(error).__name__


def open_private(path: Path, *, append: bool) -> IO[bytes]:
    """Open for writing (appending or truncating), creating the file (and its folder) readable by its owner only."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
        return os.fdopen(os.open(path, flags, PRIVATE_FILE_MODE), "ab" if append else "wb")
    except OSError as error:
        raise OutputError(path, error) from None


def check_writable(setting: str, path: Path) -> None:
    """At start: the file can be created or appended to. Raises SettingError naming the setting, path and reason."""
    folder = path.parent
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    reason = None
    if path.is_dir():
        reason = "Is a directory"
    elif not existing.is_dir():
        reason = "Not a directory"
    elif not os.access(existing, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        reason = "Permission denied"
    if reason is not None:
        raise SettingError(setting, f"{setting}: cannot write {path} (in {folder}): {reason}")
