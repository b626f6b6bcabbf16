"""Per-file bookmarks: which files to read this run, where to resume, what to forget.

A stream's state holds one bookmark per file URL (without credentials)::

    {"files": {"s3://bucket/drops/a.csv": {"mtime": "...", "size": 123, "etag": "...",
                                           "rows": 500, "line": 501, "done": false}}}

``rows`` is how many records were emitted from the file, ``line`` the last physical line already
handled (a resumed read passes over rows starting at or before it), ``done`` whether the file was
read to its end. The bookmark is per file, never a global high-water mark, so files sharing a
modified time cannot hide each other.

This module imports nothing from singer_sdk.
"""

from __future__ import annotations

import datetime as dt
import logging
import typing as t
from dataclasses import dataclass

from tap_offline_csv.storage import RemoteFile

logger = logging.getLogger("tap_offline_csv.bookmarks")

FILES_KEY = "files"


@dataclass(frozen=True)
class FileTask:
    """A file to read this run, with the point to resume from."""

    remote: RemoteFile
    resume_after_line: int = 0
    rows_already_sent: int = 0


@dataclass
class Plan:
    """What a run does with the listed files."""

    tasks: list[FileTask]
    unchanged: int = 0
    settling: int = 0
    before_start_date: int = 0


def same_fingerprint(bookmark: t.Mapping[str, t.Any], remote: RemoteFile) -> bool:
    """True when ``bookmark`` describes the same version of the file as ``remote``."""
    return (
        bookmark.get("mtime") == remote.modified_iso
        and bookmark.get("size") == remote.size
        and bookmark.get("etag") == remote.etag
    )


def plan_files(
    files: t.Sequence[RemoteFile],
    bookmarks: t.Mapping[str, t.Mapping[str, t.Any]],
    *,
    now: dt.datetime,
    start_date: dt.datetime | None = None,
    settle_seconds: float = 0,
) -> Plan:
    """Decide, for files already sorted by (mtime, URL), which to read and from where.

    * modified before ``start_date``: ignored;
    * modified less than ``settle_seconds`` ago: left for a later run (may still be uploading);
    * same fingerprint and ``done``: skipped; same fingerprint, not done: resumed after its line;
    * new or changed fingerprint: read from the start.
    """
    plan = Plan(tasks=[])
    settle_limit = now - dt.timedelta(seconds=settle_seconds) if settle_seconds > 0 else None
    for remote in files:
        if start_date is not None and remote.modified < start_date:
            plan.before_start_date += 1
            continue
        if settle_limit is not None and remote.modified > settle_limit:
            plan.settling += 1
            continue
        bookmark = bookmarks.get(remote.url)
        if bookmark is not None and same_fingerprint(bookmark, remote):
            if bookmark.get("done"):
                plan.unchanged += 1
                continue
            plan.tasks.append(
                FileTask(
                    remote,
                    resume_after_line=int(bookmark.get("line") or 0),
                    rows_already_sent=int(bookmark.get("rows") or 0),
                )
            )
            continue
        plan.tasks.append(FileTask(remote))
    return plan


def prune(bookmarks: dict[str, t.Any], present_urls: t.Collection[str]) -> int:
    """Drop bookmarks of files no longer listed, so state does not grow forever; returns how many."""
    gone = [url for url in bookmarks if url not in present_urls]
    for url in gone:
        del bookmarks[url]
    return len(gone)


def new_bookmark(task: FileTask) -> dict[str, t.Any]:
    """The bookmark of a file about to be read (plain JSON)."""
    return {
        **task.remote.fingerprint(),
        "rows": task.rows_already_sent,
        "line": task.resume_after_line,
        "done": False,
    }


class StateError(Exception):
    """The tap state given to a run cannot be used (corrupt, wrong shape, another configuration's)."""


_BOOKMARK_FIELDS: t.Final[dict[str, tuple[type, ...]]] = {
    "mtime": (str,),
    "size": (int,),
    "rows": (int,),
    "line": (int,),
    "done": (bool,),
}


def _check_bookmark(stream: str, url: t.Any, bookmark: t.Any) -> None:
    where = f"bookmarks.{stream}.files[{url!r}]"
    if not isinstance(url, str) or not isinstance(bookmark, dict):
        raise StateError(f"the state's {where} is not a file bookmark (an object keyed by file URL)")
    for name, types in _BOOKMARK_FIELDS.items():
        value = bookmark.get(name)
        wrong = type(value) is bool and bool not in types  # JSON true is not a count
        if value is None or wrong or not isinstance(value, types) or (isinstance(value, int) and value < 0):
            raise StateError(f"the state's {where}.{name} is missing or not a valid {types[0].__name__}")


def check_state_shape(state: t.Any) -> None:
    """Raise StateError when ``state`` is not a Singer state (an object whose ``bookmarks`` is an object)."""
    if not isinstance(state, dict):
        raise StateError(f"the state is a JSON {type(state).__name__}, not an object with `bookmarks`")
    stream_states = state.get("bookmarks", {})
    if not isinstance(stream_states, dict):
        raise StateError("the state's `bookmarks` is not an object keyed by stream name")


def check_stream_state(stream: str, stream_state: t.Any, url_prefixes: t.Sequence[str]) -> None:
    """Raise StateError when a stream's state is malformed, or its file bookmarks all lie outside the stream's paths.

    Bookmarks of files none of which is under this configuration's paths are another configuration's state: using
    it would forget them (pruned) and read every file again, so it is refused.
    """
    if not isinstance(stream_state, dict):
        raise StateError(f"the state's bookmarks.{stream} is not an object")
    files = stream_state.get(FILES_KEY, {})
    if not isinstance(files, dict):
        raise StateError(f"the state's bookmarks.{stream}.files is not an object keyed by file URL")
    for url, bookmark in files.items():
        _check_bookmark(stream, url, bookmark)
    if files and not any(url.startswith(prefix) for url in files for prefix in url_prefixes):
        raise StateError(
            f"the state's {len(files)} file bookmark(s) of stream {stream} lie outside its path(s) "
            f"({', '.join(url_prefixes)}): it is another configuration's state; pass this configuration's "
            "state, or none to read every file again"
        )
