"""The records of a Singer BATCH message's files (JSON lines, optionally gzip), read one at a time.

A BATCH message names files (its `manifest`, as URLs) and their `encoding`; each line of a file is one record. Local
`file://` URLs are read directly; other schemes through fsspec when it is installed. Errors name the file, never a
line's content (a line is a record: personal data).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlsplit

import msgspec
from target_snapchat_capi.settings import ConfigError


class BatchFileError(ConfigError):
    """A BATCH message this target cannot read (format, compression, a missing file or a bad line)."""


def batch_records(encoding: Mapping[str, Any], manifest: list[str]) -> Iterator[dict[str, Any]]:
    """Every record of every file of the manifest, in order."""
    file_format = str(encoding.get("format", "")).lower()
    compression = str(encoding.get("compression") or "none").lower()
    if file_format != "jsonl":
        raise BatchFileError(f"BATCH files in format {file_format!r} are not supported (jsonl only)")
    if compression not in ("none", "gzip"):
        raise BatchFileError(f"BATCH files compressed with {compression!r} are not supported (gzip or none)")
    decoder = msgspec.json.Decoder()
    for url in manifest:
        yield from _file_records(str(url), compression == "gzip", decoder)


def _file_records(url: str, gzipped: bool, decoder: msgspec.json.Decoder) -> Iterator[dict[str, Any]]:
    with _open(url) as raw, gzip.open(raw) if gzipped else nullcontext(raw) as stream:
        try:
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                try:
                    record = decoder.decode(line)
                except msgspec.DecodeError:
                    raise BatchFileError(
                        f"BATCH file {url} line {number} is not valid JSON; content not shown"
                    ) from None
                if not isinstance(record, dict):
                    raise BatchFileError(f"BATCH file {url} line {number} is not a JSON object; content not shown")
                yield record
        except (OSError, EOFError) as error:
            raise BatchFileError(f"BATCH file {url} cannot be read ({type(error).__name__})") from None


def _open(url: str) -> AbstractContextManager[IO[bytes]]:
    parts = urlsplit(url)
    try:
        if parts.scheme in ("", "file"):
            return Path(unquote(parts.path) if parts.scheme else url).open("rb")
        import fsspec  # noqa: PLC0415 - only for remote batch storage

        return fsspec.open(url, "rb")
    except ImportError:
        raise BatchFileError(f"BATCH file {url}: reading {parts.scheme}:// needs fsspec installed") from None
    except OSError as error:
        raise BatchFileError(f"BATCH file {url} cannot be opened ({error.strerror or type(error).__name__})") from None
