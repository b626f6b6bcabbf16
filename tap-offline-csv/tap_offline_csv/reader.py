"""Reading one CSV file as a stream of typed rows.

The file is streamed: bytes are decompressed and decoded incrementally (``io.TextIOWrapper`` over the
decompressing binary stream, ``newline=""``) and parsed with :mod:`csv`, so memory stays flat
whatever the file size. :class:`CSVFileReader` yields ``(line_number, row)`` pairs where
``line_number`` is the physical line (1-based, counting skipped junk lines and the header) on which
the row starts, and ``row`` maps the stream's column names to values typed per ``column_types``.

Defined behaviour for bad input (every message names the file URL and the line, never row content):

* empty file (no header): a WARNING, no rows; header-only file: no rows.
* blank header names become ``column_<n>`` (n = 1-based position); duplicate names get a suffix
  ``_2``, ``_3``...; both are logged at WARNING once per file.
* a byte-order mark at the start of the file is dropped; CRLF, CR and LF line endings all work;
  quoted fields may contain delimiters, quotes (doubled) and newlines.
* bad rows - too many or too few fields, malformed quoting, an unterminated quote (reported at the line
  where the quote opened; it swallows the rest of the file), a field longer than ``max_field_size``,
  bytes that are not valid in the configured encoding, a value that does not parse as its
  ``column_types`` type - are skipped and counted (``on_bad_row="skip"``, a WARNING each) or raise
  :class:`BadRowError` (``on_bad_row="fail"``). Blank lines are ignored.
* a file whose header differs from the stream's columns: file columns that the stream does not have
  are dropped (WARNING naming the columns), stream columns missing from the file are null. A file that
  shares no column with the stream, or lacks a key property column, raises :class:`CSVFormatError`.

This module imports nothing from singer_sdk.
"""

from __future__ import annotations

import bz2
import codecs
import contextlib
import csv
import datetime as dt
import gzip
import io
import logging
import lzma
import math
import threading
import typing as t
import zipfile
from collections import Counter
from dataclasses import dataclass, field

from tap_offline_csv.datetimes import parse_datetime_text
from tap_offline_csv.storage import ConfigError, SourceError

logger = logging.getLogger("tap_offline_csv.reader")

COLUMN_TYPES = ("string", "integer", "number", "boolean", "date-time", "date")
COMPRESSIONS = ("infer", "none", "gzip", "bz2", "zip", "zstd", "xz")
BAD_ROW_POLICIES = ("skip", "fail")
DEFAULT_MAX_FIELD_SIZE = 10 * 1024 * 1024
DEFAULT_MAX_LINE_SIZE = 16 * 1024 * 1024
TEXT_CHUNK_SIZE = 256 * 1024

_SUFFIX_COMPRESSION = {
    ".gz": "gzip",
    ".gzip": "gzip",
    ".bz2": "bz2",
    ".zip": "zip",
    ".zst": "zstd",
    ".zstd": "zstd",
    ".xz": "xz",
}
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


class BadRowError(Exception):
    """A row cannot be read; raised under ``on_bad_row: fail``. Names file and line, not content."""

    def __init__(self, url: str, line: int, reason: str) -> None:
        self.url = url
        self.line = line
        self.reason = reason
        super().__init__(f"{url} line {line}: {reason}")


class CSVFormatError(SourceError):
    """The file as a whole cannot be read as the stream's CSV (bad header, archive, encoding...)."""


# Decoding errors are counted by a codec error handler (it runs when a chunk is decoded, ahead of
# the CSV parser), and the bad bytes are kept as lone surrogates (like 'surrogateescape'), which
# valid text can never contain. The row loop only compares one integer per row; rows are scanned for
# surrogates only while some decoding error has not been attributed to a row yet. The counter is
# per thread (decoding happens in the thread that reads), so readers in different threads never mix.
_thread_state = threading.local()


def _error_counter() -> list[int]:
    counter: list[int] | None = getattr(_thread_state, "decode_errors", None)
    if counter is None:
        counter = [0]
        _thread_state.decode_errors = counter
    return counter


def _count_and_escape(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    _error_counter()[0] += len(bad)
    return "".join(chr(0xDC00 + b) for b in bad), exc.end


codecs.register_error("tap_offline_csv_count", _count_and_escape)


def _count_surrogates(row: t.Sequence[str]) -> int:
    return sum(1 for value in row for ch in value if "\udc80" <= ch <= "\udcff")


def _to_integer(value: str) -> int:
    return int(value)


def _to_number(value: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("not finite")
    return number


def _to_boolean(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("not a boolean")


def _to_datetime(value: str) -> str:
    return parse_datetime_text(value)


def _to_datetime_day_first(value: str) -> str:
    return parse_datetime_text(value, day_first=True)


def _to_date(value: str) -> str:
    return dt.date.fromisoformat(value.strip()).isoformat()


CONVERTERS: dict[str, t.Callable[[str], t.Any]] = {
    "integer": _to_integer,
    "number": _to_number,
    "boolean": _to_boolean,
    "date-time": _to_datetime,
    "date": _to_date,
}


def replication_sort_key(column_type: str) -> t.Callable[[t.Any], t.Any]:
    """A function making typed values of ``column_type`` comparable (date-times compared in UTC)."""
    if column_type == "date-time":

        def as_utc(value: str) -> dt.datetime:
            parsed = dt.datetime.fromisoformat(value)
            return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed

        return as_utc
    return lambda value: value


@dataclass(frozen=True)
class CSVFormat:
    """How the files of one stream are written (the per-stream settings)."""

    delimiter: str = ","
    quotechar: str = '"'
    encoding: str = "utf-8"
    compression: str = "infer"
    skip_rows: int = 0
    column_types: t.Mapping[str, str] = field(default_factory=dict)
    on_bad_row: str = "skip"
    key_properties: tuple[str, ...] = ()
    max_field_size: int = DEFAULT_MAX_FIELD_SIZE
    max_line_size: int = DEFAULT_MAX_LINE_SIZE
    day_first: bool = False
    """Slashed dates (03/04/2026) in date-time columns are day first (as the target's ``day_first``)."""

    def converter(self, column: str) -> t.Callable[[str], t.Any]:
        """The function typing a cell of ``column`` (a ``column_types`` column)."""
        kind = self.column_types[column]
        if kind == "date-time" and self.day_first:
            return _to_datetime_day_first
        return CONVERTERS[kind]

    def __post_init__(self) -> None:
        """Validate the settings once, with messages naming the setting."""
        delimiter = {"\\t": "\t", "tab": "\t"}.get(self.delimiter, self.delimiter)
        object.__setattr__(self, "delimiter", delimiter)
        if len(delimiter) != 1:
            raise ConfigError(f"delimiter must be one character, got {len(delimiter)} characters")
        if len(self.quotechar) != 1:
            raise ConfigError("quotechar must be one character")
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise ConfigError(f"encoding {self.encoding!r} is not a known text encoding") from None
        if self.compression not in COMPRESSIONS:
            raise ConfigError(f"compression must be one of {', '.join(COMPRESSIONS)}")
        if self.on_bad_row not in BAD_ROW_POLICIES:
            raise ConfigError("on_bad_row must be 'skip' or 'fail'")
        if self.skip_rows < 0:
            raise ConfigError("skip_rows must be 0 or more")
        if self.max_field_size < 1 or self.max_line_size < 2:
            raise ConfigError("max_field_size and max_line_size must be positive")
        for column, column_type in self.column_types.items():
            if column_type not in COLUMN_TYPES:
                raise ConfigError(
                    f"column_types.{column} must be one of {', '.join(COLUMN_TYPES)}, got {column_type!r}"
                )


def compression_for(url: str, compression: str) -> str:
    """The compression to use for ``url`` ('none' when nothing applies)."""
    if compression != "infer":
        return compression
    lowered = url.lower()
    for suffix, name in _SUFFIX_COMPRESSION.items():
        if lowered.endswith(suffix):
            return name
    return "none"


class _ZstdStream(io.RawIOBase):
    """zstd frames streamed from a file. A file that ends inside a frame raises EOFError, as gzip, bz2 and xz do;
    zstandard's own stream reader just stops there, which would pass a truncated upload off as a whole file."""

    def __init__(self, binary: t.BinaryIO) -> None:
        import zstandard  # noqa: PLC0415

        self._binary = binary
        self._context = zstandard.ZstdDecompressor()
        self._frame = self._context.decompressobj()
        self._in_frame = False
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: t.Any) -> int:
        while not self._pending:
            chunk = self._binary.read(TEXT_CHUNK_SIZE)
            if self._frame.eof:  # a file may hold several frames: the rest starts a new one
                chunk = self._frame.unused_data + chunk
                self._frame = self._context.decompressobj()
                self._in_frame = False
            if not chunk:
                if self._in_frame:
                    raise EOFError("the zstd data ends inside a frame (a truncated file?)")
                return 0
            self._in_frame = True
            self._pending = memoryview(self._frame.decompress(chunk))
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def close(self) -> None:
        self._binary.close()
        super().close()


def _decompressed(binary: t.BinaryIO, url: str, compression: str) -> t.BinaryIO:
    if compression == "none":
        return binary
    if compression == "gzip":
        return t.cast("t.BinaryIO", gzip.GzipFile(fileobj=binary, mode="rb"))
    if compression == "bz2":
        return t.cast("t.BinaryIO", bz2.BZ2File(binary, mode="rb"))
    if compression == "xz":
        return t.cast("t.BinaryIO", lzma.LZMAFile(binary, mode="rb"))
    if compression == "zstd":
        return t.cast("t.BinaryIO", io.BufferedReader(_ZstdStream(binary), buffer_size=TEXT_CHUNK_SIZE))
    # zip: exactly one file member, streamed from the archive.
    try:
        archive = zipfile.ZipFile(binary)
    except zipfile.BadZipFile:
        raise CSVFormatError(url, "not a valid zip archive") from None
    members = [info for info in archive.infolist() if not info.is_dir()]
    if len(members) != 1:
        raise CSVFormatError(url, f"the zip archive holds {len(members)} files; exactly one CSV file is expected")
    return t.cast("t.BinaryIO", archive.open(members[0]))


def normalise_header(raw: t.Sequence[str], url: str) -> list[str]:
    """Clean header names: strip, blank -> ``column_<n>``, duplicates -> ``<name>_2``... (logged)."""
    names: list[str] = []
    seen: set[str] = set()
    renamed: list[str] = []
    for position, raw_name in enumerate(raw, start=1):
        name = raw_name.strip()
        if not name:
            name = f"column_{position}"
            renamed.append(f"blank column {position} -> {name}")
        if name in seen:
            suffix = 2
            while f"{name}_{suffix}" in seen:
                suffix += 1
            renamed.append(f"duplicate {name!r} (column {position}) -> {name}_{suffix}")
            name = f"{name}_{suffix}"
        seen.add(name)
        names.append(name)
    if renamed:
        logger.warning("%s line 1 of the header: renamed %s", url, "; ".join(renamed))
    return names


@dataclass
class ReadStats:
    """What happened to the rows of one file."""

    rows: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    blank_lines: int = 0

    @property
    def bad_rows(self) -> int:
        """How many rows were skipped, for any reason."""
        return sum(self.skipped.values())

    def summary(self) -> str:
        """One line for the per-file log (counts per reason, and per column for values that do not parse)."""
        reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(self.skipped.items()))
        skipped = sum(self.skipped.values())
        return f"{self.rows} rows read, {skipped} bad rows skipped" + (f" ({reasons})" if reasons else "")


class CSVFileReader:
    """Reads one CSV file as ``(line_number, row)`` pairs; see the module docstring for bad input.

    Args:
        binary: the file's raw (possibly compressed) byte stream; closed by :meth:`close`.
        url: the file URL without credentials, used in every message.
        fmt: the stream's CSV settings.
        columns: the stream's columns (schema order); None means "the file's own header".
        resume_after_line: rows starting at or before this line are passed over without conversion
            (resuming a file that was partly sent).
    """

    def __init__(
        self,
        binary: t.BinaryIO,
        url: str,
        fmt: CSVFormat,
        columns: t.Sequence[str] | None = None,
        resume_after_line: int = 0,
    ) -> None:
        self.url = url
        self.fmt = fmt
        self.stats = ReadStats()
        self.resume_after_line = resume_after_line
        self._binary = binary
        self._stream = _decompressed(binary, url, compression_for(url, fmt.compression))
        # utf-8-sig drops a byte-order mark before the CSV parser sees it: Excel's "CSV UTF-8" writes one, often
        # followed by a quoted header ("\ufeff"email"), which the parser would otherwise take as part of the name.
        encoding = "utf-8-sig" if codecs.lookup(fmt.encoding).name == "utf-8" else fmt.encoding
        self._text = io.TextIOWrapper(
            t.cast("t.IO[bytes]", self._stream),
            encoding=encoding,
            errors="tap_offline_csv_count",
            newline="",
        )
        self._text._CHUNK_SIZE = TEXT_CHUNK_SIZE  # type: ignore[attr-defined]  # bigger reads, fewer calls
        csv.field_size_limit(fmt.max_field_size)
        self._overlong_lines = 0  # over-long lines handed to the parser as empty ones, not reported yet
        self._errors = _error_counter()
        self._errors_seen = self._errors[0]
        self.header = self._read_header()
        self.columns: list[str] = list(columns) if columns is not None else list(self.header)
        self._plan_columns()

    # -- setup -----------------------------------------------------------------------------------

    def _read_header(self) -> list[str]:
        raw = self._first_row()
        if self._overlong_lines:
            raise CSVFormatError(self.url, f"a line above the data is longer than {self.fmt.max_line_size} characters")
        if raw is None or not any(name.strip() for name in raw):
            self.empty = raw is None
            return []
        self.empty = False
        if raw[0].startswith("\ufeff"):
            raw[0] = raw[0][1:]
        if self._errors[0] != self._errors_seen and _count_surrogates(raw):
            raise CSVFormatError(
                self.url,
                f"line {self.fmt.skip_rows + 1}: the header has bytes that are not valid "
                f"{self.fmt.encoding}; check the encoding setting",
            )
        return normalise_header(raw, self.url)

    def _first_row(self) -> list[str] | None:
        """The header row as parsed: after the junk lines and any blank lines above it (None: empty file)."""
        try:
            for _ in range(self.fmt.skip_rows):
                if not self._skip_line():
                    break
            self._csv = csv.reader(
                self._bounded_lines(),
                delimiter=self.fmt.delimiter,
                quotechar=self.fmt.quotechar,
                doublequote=True,
                strict=True,
            )
            raw = next(self._csv, None)
            while raw is not None and not any(cell.strip() for cell in raw):
                raw = next(self._csv, None)  # blank (or delimiter-only) lines above the header
        except csv.Error as exc:
            raise CSVFormatError(
                self.url, f"line {self.fmt.skip_rows + 1}: the header cannot be parsed ({exc})"
            ) from None
        except (OSError, EOFError, zipfile.BadZipFile) as exc:
            raise CSVFormatError(self.url, f"cannot be decompressed or read ({type(exc).__name__})") from None
        except Exception as exc:
            if type(exc).__module__.startswith("zstandard"):
                raise CSVFormatError(self.url, f"cannot be decompressed ({type(exc).__name__})") from None
            raise
        return raw

    def _bounded_lines(self) -> t.Iterator[str]:
        """The file's lines for the CSV parser, none longer than ``max_line_size`` characters.

        Memory stays bounded however long a line is (a file without newlines, a decompression bomb): an over-long
        line is read past in bounded pieces and handed on as an empty line (so line numbers stay right), and the
        row loop reports it as a bad row.
        """
        readline = self._text.readline
        limit = self.fmt.max_line_size
        while line := readline(limit):
            if len(line) == limit and line[-1] not in "\r\n":
                self._skip_line()
                self._overlong_lines += 1
                yield "\n"
            else:
                yield line

    def _skip_line(self) -> bool:
        """Read past the rest of the current line in bounded pieces; False at the end of the file."""
        while piece := self._text.readline(TEXT_CHUNK_SIZE):
            if piece[-1] in "\r\n":
                return True
        return False

    def _plan_columns(self) -> None:
        """Work out, once per file, how a parsed row becomes a record of the stream's columns."""
        header, columns = self.header, self.columns
        self._same_layout = header == columns
        wanted = set(columns)
        present = [name for name in header if name in wanted]
        if header and not present:
            raise CSVFormatError(self.url, "the header shares no column with the stream's columns")
        missing_keys = [key for key in self.fmt.key_properties if header and key not in header]
        if missing_keys:
            raise CSVFormatError(self.url, f"the header lacks the key column(s) {', '.join(missing_keys)}")
        if header and not self._same_layout:
            extra = [name for name in header if name not in wanted]
            missing = [name for name in columns if name not in set(header)]
            logger.warning(
                "%s: header differs from the stream's columns; dropped file column(s) [%s], "
                "null for missing column(s) [%s]",
                self.url,
                ", ".join(extra),
                ", ".join(missing),
            )
        self._picks = [(name, header.index(name)) for name in columns if name in set(header)]
        self._missing = [name for name in columns if name not in set(header)]
        self._typed = [
            (name, self.fmt.converter(name))
            for name in columns
            if self.fmt.column_types.get(name, "string") != "string" and name in set(header)
        ]

    # -- reading ---------------------------------------------------------------------------------

    def _bad(self, line: int, reason: str, key: str) -> None:
        if self.fmt.on_bad_row == "fail":
            raise BadRowError(self.url, line, reason)
        self.stats.skipped[key] += 1
        logger.warning("%s line %d: %s; row skipped", self.url, line, reason)

    def rows(self) -> t.Iterator[tuple[int, dict[str, t.Any]]]:
        """Yield ``(line_number, row)`` for every good row; see the class docstring."""
        if not self.header:
            if self.empty:
                logger.warning("%s: the file is empty (no header line); no rows", self.url)
            return
        self._previous_end = self._csv.line_num
        while True:
            try:
                yield from self._parse_rows()
                return
            except csv.Error as exc:
                self._report_csv_error(exc)
            except UnicodeError:
                raise CSVFormatError(self.url, f"cannot be decoded as {self.fmt.encoding}") from None
            except (OSError, EOFError, zipfile.BadZipFile) as exc:
                raise CSVFormatError(
                    self.url,
                    f"cannot be decompressed or read after line {self._previous_end + self.fmt.skip_rows} "
                    f"({type(exc).__name__})",
                ) from None

    def _parse_rows(self) -> t.Iterator[tuple[int, dict[str, t.Any]]]:
        """The row loop (the hot path): rare cases are handled by the methods it calls."""
        reader = self._csv
        width = len(self.header)
        offset = self.fmt.skip_rows + 1
        header_names = self.header
        same_layout = self._same_layout
        typed = self._typed
        resume_after = self.resume_after_line
        errors = self._errors
        stats = self.stats
        previous_end = self._previous_end
        for row in reader:
            line = previous_end + offset
            previous_end = self._previous_end = reader.line_num
            if line <= resume_after:
                self._pass_over(row)
                continue
            if (len(row) != width or errors[0] != self._errors_seen) and not self._row_is_whole(line, row):
                continue
            record = dict(zip(header_names, row, strict=False)) if same_layout else self._pick(row)
            if typed and not self._convert(line, record):
                continue
            stats.rows += 1
            yield line, record

    def _pass_over(self, row: list[str]) -> None:
        """A row at or before the resume point: not converted, but its decoding errors are attributed."""
        if self._errors[0] != self._errors_seen:
            self._has_bad_bytes(row)

    def _row_is_whole(self, line: int, row: list[str]) -> bool:
        """False (counted) for a blank line, a row with undecodable bytes, or one with the wrong field count."""
        width = len(self.header)
        if not row:
            if self._overlong_lines:
                self._overlong_lines -= 1
                self._bad(line, f"the line is longer than {self.fmt.max_line_size} characters", "line too long")
            else:
                self.stats.blank_lines += 1
            return False
        if self._errors[0] != self._errors_seen and self._has_bad_bytes(row):
            self._bad(line, f"bytes not valid in {self.fmt.encoding}", "bad bytes")
            return False
        if len(row) != width:
            reason = "too many fields" if len(row) > width else "too few fields"
            self._bad(line, f"{reason} ({len(row)} instead of {width})", reason)
            return False
        return True

    def _pick(self, row: list[str]) -> dict[str, t.Any]:
        """A row of a file whose header differs from the stream's columns, as a record of the stream's columns."""
        record: dict[str, t.Any] = {name: row[index] for name, index in self._picks}
        for name in self._missing:
            record[name] = None
        return record

    def _convert(self, line: int, record: dict[str, t.Any]) -> bool:
        """Type the ``column_types`` columns in place; False (reported) when a value does not parse."""
        column = ""
        try:
            for column, convert in self._typed:
                value = record[column]
                record[column] = convert(value) if value else None
        except (ValueError, TypeError, OverflowError):
            kind = self.fmt.column_types[column]
            self._bad(line, f"column {column!r}: not a valid {kind}", f"column {column!r} not a valid {kind}")
            return False
        return True

    def _report_csv_error(self, exc: csv.Error) -> None:
        """A row the CSV parser rejects: reported at the line it starts on (the parser goes on after it)."""
        line = self._previous_end + 1 + self.fmt.skip_rows
        self._previous_end = self._csv.line_num
        message = str(exc)
        if "unexpected end of data" in message:
            last = self._previous_end + self.fmt.skip_rows
            lost = f"; lines {line}-{last} ({last - line + 1} lines) could not be read" if last > line else ""
            reason = f"unterminated quote: the quoted field opened on this line never closes{lost}"
            key = "unterminated quote"
        elif "field larger than field limit" in message:
            reason = f"a field is longer than {self.fmt.max_field_size} characters"
            key = "field too long"
        else:
            reason = f"malformed quoting ({message})"
            key = "malformed quoting"
        if line > self.resume_after_line:
            self._bad(line, reason, key)

    def _has_bad_bytes(self, row: t.Sequence[str]) -> bool:
        found = _count_surrogates(row)
        if found:
            self._errors_seen += found
            # Errors from text decoded ahead but belonging to later rows stay pending.
            self._errors_seen = min(self._errors_seen, self._errors[0])
            return True
        return False

    def close(self) -> None:
        """Close the text, decompression and raw streams."""
        for stream in (self._text, self._stream, self._binary):
            with contextlib.suppress(Exception):  # closing is best effort
                stream.close()

    def __enter__(self) -> CSVFileReader:
        """Use as a context manager that closes the streams."""
        return self

    def __exit__(self, *_: object) -> None:
        """Close the streams."""
        self.close()


def read_header(binary: t.BinaryIO, url: str, fmt: CSVFormat) -> list[str]:
    """The normalised header of a file (for discovery); ``[]`` for an empty file."""
    with CSVFileReader(binary, url, fmt) as reader:
        return reader.header
