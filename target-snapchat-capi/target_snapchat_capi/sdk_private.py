"""The private singer-sdk members this target still relies on, each with the reason. The only list of them.

Everything else goes through the SDK's public API: records (with or without stream maps) take the SDK's own record
path and hooks (`preprocess_record`, `process_record`, the record-count metric); sinks are created by the SDK through
`get_sink_class`; validation is switched off with `get_validator`; `--about` is trimmed with `append_builtin_config`.

`tests/target/test_sdk_private.py` checks each entry against the installed SDK (exists, is a function, takes these
parameters), so an SDK release that renames or reshapes one fails the suite loudly instead of breaking a run.
When moving the singer-sdk pin, run that test first; see the README's Development section.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class PrivateMember:
    owner: str  #: "singer_sdk.Target" or "singer_sdk.sinks.Sink"
    name: str
    parameters: tuple[str, ...]  #: positional parameter names, self first
    how: str  #: overridden, or called
    why: str


PRIVATE_MEMBERS: Final[tuple[PrivateMember, ...]] = (
    PrivateMember(
        owner="singer_sdk.Target",
        name="_write_state_message",
        parameters=("self", "state"),
        how="overridden (the STATE gate), and called through super() to write a settled STATE",
        why="The SDK has no public hook for the STATE it is about to emit; a STATE must wait until every batch "
        "before it has been delivered or rejected, or a bookmark would run ahead of delivery.",
    ),
    PrivateMember(
        owner="singer_sdk.Target",
        name="_process_state_message",
        parameters=("self", "message_dict"),
        how="overridden; calls super(), then drains every sink when the last checkpoint is over a second ago",
        why="The SDK only stores a STATE until its next drain (a full sink or 5 minutes); a tap that goes quiet "
        "after a STATE would have its delivered progress held back that long.",
    ),
    PrivateMember(
        owner="singer_sdk.Target",
        name="_handle_max_record_age",
        parameters=("self",),
        how="overridden; calls super() unless a checkpoint is due",
        why="The SDK calls it after every RECORD and BATCH message. When a sink has just handed a batch over, the "
        "target drains every sink (public drain_all) so the latest STATE is covered by submitted batches and can "
        "follow them out, instead of waiting up to the SDK's 5-minute record age.",
    ),
    PrivateMember(
        owner="singer_sdk.Target",
        name="_process_batch_message",
        parameters=("self", "message_dict"),
        how="overridden: each record of the batch files is handed to _process_record_message",
        why="The SDK hands a BATCH's records to Sink.process_batch in one block, past stream maps, preprocess_record "
        "and the per-record checks; batch records must take exactly the path of RECORD messages.",
    ),
    PrivateMember(
        owner="singer_sdk.Target",
        name="_process_record_message",
        parameters=("self", "message_dict"),
        how="called (not overridden) for each record read from a BATCH file",
        why="It is the SDK's RECORD path; calling it is what makes batch records behave exactly like RECORDs.",
    ),
    PrivateMember(
        owner="singer_sdk.Target",
        name="_assert_line_requires",
        parameters=("self", "message_dict", "requires"),
        how="called to check a BATCH message's keys",
        why="The SDK's own message check, which goes through our reader (errors never quote the line).",
    ),
    PrivateMember(
        owner="singer_sdk.sinks.Sink",
        name="_validate_and_parse",
        parameters=("self", "record"),
        how="overridden to return the record unchanged",
        why="Besides validation (switched off publicly with get_validator) it parses date-time cells, logging "
        "unparseable values (personal data) and costing microseconds per record; the event builder reads and "
        "judges times itself, reporting by field and reason.",
    ),
)
