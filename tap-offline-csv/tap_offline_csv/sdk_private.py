"""Every private singer-sdk member the tap still relies on, with the reason, in one place.

``tests/tap/test_sdk_private.py`` checks each entry of :data:`PRIVATE_MEMBERS` against the installed SDK (the member
exists, with the signature written here) and fails loudly when an SDK upgrade changes one. Moving the singer-sdk
pin: run that test first; if it fails, read the SDK's changelog for the member it names and adapt the code that
uses it (the ``used_by`` entry says where).

SDK behaviour replaced without touching a private member: the SIGTERM/SIGINT handlers the SDK installs when the
tap is created are replaced by ``writer.stop_on_signals`` (the SDK's write a STATE from inside the handler, possibly
in the middle of a message, and exit 0); ``tests/tap/test_signals.py`` fails if the SDK's come back.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform

if t.TYPE_CHECKING:
    from singer_sdk import Stream
    from singer_sdk.helpers import types


@dataclass(frozen=True)
class PrivateMember:
    """One private SDK member: where it lives, its expected signature, who uses it and why."""

    owner: str
    """Dotted path of the SDK class that defines it."""
    name: str
    signature: str
    used_by: str
    reason: str


PRIVATE_MEMBERS: t.Final = (
    PrivateMember(
        owner="singer_sdk.streams.core.Stream",
        name="_increment_stream_state",
        signature="(self, latest_record: 'types.Record', *, context: 'types.Context | None' = None) -> 'None'",
        used_by="tap_offline_csv.streams.CSVFileStream (overridden by no_increment_stream_state)",
        reason=(
            "The SDK calls it for every record of an INCREMENTAL stream, to keep one replication key value per "
            "stream. This tap is incremental by per-file bookmarks (with or without a replication key) and keeps "
            "its replication key bookmark typed (integers as numbers, date-times compared as instants) in "
            "tap_offline_csv.extract; the SDK's version raises without a replication key and would write a second, "
            "differently compared bookmark. There is no public hook to turn it off."
        ),
    ),
    PrivateMember(
        owner="singer_sdk.streams.core.Stream",
        name="_write_record_message",
        signature="(self, record: 'types.Record') -> 'None'",
        used_by="tap_offline_csv.streams.CSVFileStream._write_record_message",
        reason=(
            "The only way a record reaches the writer. When no SDK step would change a record (every property "
            "selected, the one stream map is the identity without flattening, no type conformance), the tap hands "
            "it to its writer directly: the SDK's version costs ~10 µs a record (deselection walk, conformance "
            "call, message object), more than reading and parsing the row. Otherwise the SDK's own method runs. "
            "post_process, the record limit, child contexts and the record-count metric are the SDK's in both "
            "cases (they run in its _sync_records, which the tap does not replace)."
        ),
    ),
    PrivateMember(
        owner="singer_sdk.streams.core.Stream",
        name="_stream_version",
        signature="attribute: int | None",
        used_by="tap_offline_csv.sdk_private.records_need_no_sdk_step",
        reason="The direct path writes no version: it is only taken while the stream has none (no ACTIVATE_VERSION).",
    ),
)


def no_increment_stream_state(
    self: Stream,
    latest_record: types.Record,
    *,
    context: types.Context | None = None,
) -> None:
    """Replacement for ``Stream._increment_stream_state``: the bookmarks are kept by the extraction."""
    del self, latest_record, context


def records_need_no_sdk_step(stream: Stream) -> bool:
    """True when the SDK's record path would write each record unchanged (see ``_write_record_message``)."""
    maps = stream.stream_maps
    identity = (
        len(maps) == 1
        and type(maps[0]) is SameRecordTransform
        and maps[0].stream_alias == stream.name
        and not maps[0].flattening_enabled
    )
    mask = stream.mask
    all_selected = all(mask.get(("properties", name), True) for name in stream.schema["properties"])
    return (
        identity
        and all_selected
        and stream.TYPE_CONFORMANCE_LEVEL == TypeConformanceLevel.NONE
        and getattr(stream, "_stream_version", None) is None
    )
