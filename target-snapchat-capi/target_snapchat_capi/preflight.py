"""The reject-ratio guard: judge a stream on its first records before anything of it is sent.

A misconfigured run (a wrong column, a missing default) rejects most rows for one reason and would still move the
bookmarks past them. So each stream's first `preflight_records` records are held back and judged: when more than
`max_reject_ratio` of them were rejected for the same reason (a systematic cause; a messy file's varied defects
are not stopped), the run stops with the top reasons and the setting that most likely fixes
them; nothing of that stream has been sent and no STATE covering it goes out. `max_reject_ratio: 1` turns it off.
Pure: counts and reason codes only.
"""

from __future__ import annotations

from collections import Counter
from typing import Final

from target_snapchat_capi.settings import ConfigError

#: reason code -> the setting that most often fixes it
LIKELY_FIX: Final[dict[str, str]] = {
    "missing_event_time": "mapping.event_time",
    "invalid_event_time": "mapping.event_time or source_timezone",
    "stale_event": "the input (older than max_event_age_days)",
    "future_event": "source_timezone",
    "missing_match_keys": "mapping.em / mapping.ph, or default_phone_country",
    "unknown_event_name": "event_name_map",
    "missing_value": "mapping.value",
    "invalid_value": "mapping.value",
    "missing_currency": "default_currency or mapping.currency",
    "invalid_currency": "mapping.currency or default_currency",
    "missing_key_property": "the tap's key_properties",
}
TOP_REASONS: Final = 3


class RejectRatioExceeded(ConfigError):
    """The first records of a stream were mostly rejected: almost surely a setting, not the data."""


class Preflight:
    """Counts one stream's first records; `judge` raises RejectRatioExceeded past the ratio."""

    __slots__ = ("_limit", "_max_ratio", "_read", "_rejected", "judged")

    def __init__(self, preflight_records: int, max_reject_ratio: float) -> None:
        self._limit = preflight_records
        self._max_ratio = max_reject_ratio
        self._read = 0
        self._rejected: Counter[str] = Counter()
        #: True once the stream passed (or the guard is off): its events flow without holding
        self.judged = max_reject_ratio >= 1

    def count(self, reason: str | None) -> bool:
        """Count a record (its rejection reason, or None when it became an event); True when it is time to judge."""
        self._read += 1
        if reason is not None:
            self._rejected[reason] += 1
        return self._read >= self._limit

    def judge(self, stream_name: str) -> None:
        self.judged = True
        rejected = sum(self._rejected.values())
        top_count = max(self._rejected.values(), default=0)
        if not self._read or top_count / self._read <= self._max_ratio:
            return
        top = ", ".join(
            f"{reason}={count} (check {LIKELY_FIX.get(reason, 'the mapping')})"
            for reason, count in self._rejected.most_common(TOP_REASONS)
        )
        raise RejectRatioExceeded(
            f"stream {stream_name!r}: {rejected} of its first {self._read} records were rejected, "
            f"{100 * top_count / self._read:.0f}% for one reason (above max_reject_ratio {self._max_ratio:g}); "
            f"top reasons: {top}. "
            "Nothing of this stream was sent and no STATE was emitted. Fix the setting, or set max_reject_ratio: 1 "
            "to send the good rows anyway."
        )
