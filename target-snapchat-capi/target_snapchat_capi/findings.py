"""Data-quality findings with fixes, computed from a run's JSON report (counts only) and the previous run's
history entry. Pure: no I/O, no logging; a finding's text names settings, fields and codes, never a value.

``compute_findings(report, previous)`` returns the findings, most severe first; ``previous`` is
``history.previous_comparable(history, mode)``. ``Finding.to_dict()`` gives the JSON report's ``findings`` list,
``summary_lines`` the text summary's lines. Each finding has a stable ``code`` (``FindingCode``), a
``severity``, the ``figure`` behind it (a share in 0..1 or a count, see ``unit``), a ``message`` and a ``fix``.

The report keys each rule reads (``report`` is ``RunReport.to_dict()`` plus the keys listed in ``report_html``'s
docstring):

=========================== ==========================================================================================
rule (code)                 counts it needs
=========================== ==========================================================================================
``phones_without_country``  ``normalisation``: ``ph_unknown_country`` over every ``ph_*`` outcome but ``ph_empty``
``invalid_emails``          ``normalisation``: ``em_invalid`` over every ``em_*`` outcome but ``em_empty``
``foreign_hashes``          ``normalisation``: every ``<field>_foreign_hash_dropped`` (MD5/SHA-1 values)
``midnight_event_times``    ``midnight_event_times`` (event times at exactly 00:00:00, in the source time zone) over
                            ``event_times_parsed`` (records whose event time was read)
``duplicate_order_ids``     ``duplicate_order_id_rows`` (rows whose order id an earlier row of the run carried)
``stale_events``            ``events_older_than_7_days`` over ``events_delivered`` (or, without it,
                            ``event_age_days_histogram``), and ``rejected_by_reason["stale_event"]``
``single_key_events``       ``single_key_events`` over ``events_delivered``
``coverage_dropped``        ``match_keys`` and ``events_delivered`` of this run and of the previous history entry
``rejects_of_one_reason``   ``rejected_by_reason`` over ``records_read``; the fix comes from ``REJECT_FIXES``
``validation_errors``       ``validation_errors`` (validate_only: Snap's error codes over invalid events)
=========================== ==========================================================================================

A rule without its counts finds nothing. Thresholds are module constants, one per rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final


class Severity(StrEnum):
    ERROR = "error"  # data is being lost or will not match
    WARNING = "warning"  # matching suffers; a setting or an export change fixes it
    INFO = "info"  # worth knowing


_SEVERITY_ORDER: Final = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


class FindingCode(StrEnum):
    PHONES_WITHOUT_COUNTRY = "phones_without_country"
    INVALID_EMAILS = "invalid_emails"
    FOREIGN_HASHES = "foreign_hashes"
    MIDNIGHT_EVENT_TIMES = "midnight_event_times"
    DUPLICATE_ORDER_IDS = "duplicate_order_ids"
    STALE_EVENTS = "stale_events"
    SINGLE_KEY_EVENTS = "single_key_events"
    COVERAGE_DROPPED = "coverage_dropped"
    REJECTS_OF_ONE_REASON = "rejects_of_one_reason"
    VALIDATION_ERRORS = "validation_errors"


@dataclass(frozen=True, slots=True)
class Finding:
    code: FindingCode
    severity: Severity
    #: the number behind the finding: a share in 0..1 when ``unit`` is "share", else a count
    figure: float
    unit: str
    message: str
    fix: str
    #: what the finding is about, when a code has several (a match key, a reject reason)
    subject: str | None = None

    @property
    def figure_id(self) -> str:
        """The stable name of the figure, for ``data-figure`` markers and tests."""
        return f"finding.{self.code}" + (f".{self.subject}" if self.subject else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": str(self.code),
            "severity": str(self.severity),
            "figure": self.figure,
            "unit": self.unit,
            "subject": self.subject,
            "message": self.message,
            "fix": self.fix,
        }


#: The suggested fix for each reject reason: one place, used by the findings and the HTML report.
REJECT_FIXES: Final[Mapping[str, str]] = {
    "unknown_event_name": 'Map your source\'s names to Snap\'s in `event_name_map` (e.g. {"Closed Won": "PURCHASE"}).',
    "missing_event_time": "Map `event_time` to the column holding the sale's date and time, and fill it in the export.",
    "invalid_event_time": "Check the event-time column's format; set `day_first` for day-first dates.",
    "stale_event": "Snap takes events up to 37 days old: export and send more often (daily is best).",
    "future_event": "Event times are ahead of now: set `source_timezone` to the zone the times are written in.",
    "missing_match_keys": "Map an email or phone column (`mapping`), or set `default_phone_country` for national "
    "phone numbers.",
    "missing_value": "Map `value` to the order-total column; purchases need a value.",
    "invalid_value": "Check the value column's format (one number per cell, no text).",
    "negative_value": "Refunds are not purchases: map them to a CUSTOM_EVENT_n with `event_name_map`.",
    "missing_currency": "Map `currency` to a column, or set `default_currency`.",
    "invalid_currency": "Use ISO-4217 codes (USD, EUR); for `$`, `¥` or `kr` set `default_currency`.",
    "api_rejected": "Snapchat refused these events: see the error codes in the rejects file, or run with "
    "`validate_only` first.",
}
GENERIC_REJECT_FIX: Final = "See the rejects file for the rows and the message of each rejection."

#: Thresholds: a finding is raised at or above these figures.
PHONES_WITHOUT_COUNTRY_MIN_SHARE: Final = 0.05
INVALID_EMAILS_MIN_SHARE: Final = 0.01
MIDNIGHT_MIN_SHARE: Final = 0.5
MIDNIGHT_MIN_EVENTS: Final = 10
STALE_MIN_SHARE: Final = 0.25
SINGLE_KEY_MIN_SHARE: Final = 0.5
COVERAGE_DROP_MIN_POINTS: Final = 0.2
REJECT_REASON_MIN_SHARE: Final = 0.05
REJECT_REASON_ERROR_SHARE: Final = 0.25
#: Field names as readers know them.
FIELD_LABELS: Final[Mapping[str, str]] = {
    "em": "emails",
    "ph": "phones",
    "fn": "first names",
    "ln": "last names",
    "zp": "zip codes",
    "ct": "cities",
    "st": "states",
    "country": "countries",
    "external_id": "external ids",
    "madid": "mobile ad ids",
    "ip_ua": "IP + user-agent pairs",
    "ge": "genders",
    "db": "dates of birth",
}


def compute_findings(report: Mapping[str, Any], previous: Mapping[str, Any] | None = None) -> list[Finding]:
    """Every finding for this run, most severe first (then in rule order)."""
    normalisation = _counts(report.get("normalisation"))
    stale = _stale_events(report)
    found: list[Finding | None] = [
        _phones_without_country(normalisation),
        _invalid_emails(normalisation),
        _foreign_hashes(normalisation),
        _midnight_event_times(report),
        _duplicate_order_ids(report),
        stale,
        _single_key_events(report),
        *_coverage_dropped(report, previous),
        # the stale-events finding already speaks for stale rejects
        *_rejects_of_one_reason(report, skip=frozenset({"stale_event"}) if stale else frozenset()),
        _validation_errors(report),
    ]
    findings = [finding for finding in found if finding is not None]
    return sorted(findings, key=lambda finding: _SEVERITY_ORDER[finding.severity])


def summary_lines(findings: list[Finding]) -> list[str]:
    """The findings for the text summary on stderr (shown first there too): one line each, with its fix."""
    return [f"  {finding.severity} [{finding.code}]: {finding.message} Fix: {finding.fix}" for finding in findings]


def outcome_total(normalisation: Mapping[str, int], field: str) -> int:
    """How many values of ``field`` were present (every outcome but ``<field>_empty``)."""
    prefix = field + "_"
    return sum(
        count
        for outcome, count in normalisation.items()
        if outcome.startswith(prefix) and outcome != prefix + "empty" and _outcome_field(outcome) == field
    )


def _outcome_field(outcome: str) -> str:
    # "client_ip_address_kept" belongs to "client_ip_address", "external_id_hashed" to "external_id".
    for field in ("client_ip_address", "client_user_agent", "sc_click_id", "external_id"):
        if outcome.startswith(field + "_"):
            return field
    return outcome.split("_", 1)[0]


def _phones_without_country(normalisation: Mapping[str, int]) -> Finding | None:
    unknown = normalisation.get("ph_unknown_country", 0)
    total = outcome_total(normalisation, "ph")
    if not unknown or unknown / total < PHONES_WITHOUT_COUNTRY_MIN_SHARE:
        return None
    share = unknown / total
    return Finding(
        FindingCode.PHONES_WITHOUT_COUNTRY,
        Severity.WARNING,
        share,
        "share",
        f"{_pct(share)} of phones are national numbers without a country, so they were not sent.",
        "Set `default_phone_country` (e.g. US), or map a `country` column.",
    )


def _invalid_emails(normalisation: Mapping[str, int]) -> Finding | None:
    invalid = normalisation.get("em_invalid", 0)
    total = outcome_total(normalisation, "em")
    if not invalid or invalid / total < INVALID_EMAILS_MIN_SHARE:
        return None
    share = invalid / total
    return Finding(
        FindingCode.INVALID_EMAILS,
        Severity.WARNING,
        share,
        "share",
        f"{_pct(share)} of emails are not addresses and were not sent.",
        "Check that `em` is mapped to the email column; fix the addresses at the source.",
    )


def _foreign_hashes(normalisation: Mapping[str, int]) -> Finding | None:
    dropped = sum(count for outcome, count in normalisation.items() if outcome.endswith("_foreign_hash_dropped"))
    if not dropped:
        return None
    return Finding(
        FindingCode.FOREIGN_HASHES,
        Severity.WARNING,
        dropped,
        "count",
        f"{dropped} values were hashed with MD5 or SHA-1, which Snap cannot match; they were not sent.",
        "Export the plain values (the target normalises and hashes them) or SHA-256 hashes.",
    )


def _midnight_event_times(report: Mapping[str, Any]) -> Finding | None:
    midnight = _int(report.get("midnight_event_times"))
    parsed = _int(report.get("event_times_parsed"))
    if parsed < MIDNIGHT_MIN_EVENTS or midnight / parsed < MIDNIGHT_MIN_SHARE:
        return None
    share = midnight / parsed
    return Finding(
        FindingCode.MIDNIGHT_EVENT_TIMES,
        Severity.WARNING,
        share,
        "share",
        f"{_pct(share)} of event times are exactly midnight: these look like dates, not times.",
        "Map `event_time` to a column with the time of day if there is one; otherwise check `source_timezone` "
        "so each date stays on the day the sale happened.",
    )


def _duplicate_order_ids(report: Mapping[str, Any]) -> Finding | None:
    rows = _int(report.get("duplicate_order_id_rows"))
    if not rows:
        return None
    return Finding(
        FindingCode.DUPLICATE_ORDER_IDS,
        Severity.ERROR,
        rows,
        "count",
        f"{rows} rows carry an order id that an earlier row already had: these look like line items, and Snap "
        "keeps one purchase per order id.",
        "Export one row per order (its total as the value), or map `order_id` only when it is unique per row.",
    )


def _stale_events(report: Mapping[str, Any]) -> Finding | None:
    delivered = _int(report.get("events_delivered"))
    older = report.get("events_older_than_7_days")
    if not isinstance(older, int):
        older = events_older_than(report.get("event_age_days_histogram"), 7)
    stale_rejects = _counts(report.get("rejected_by_reason")).get("stale_event", 0)
    if not delivered and not stale_rejects:
        return None
    share = (older + stale_rejects) / (delivered + stale_rejects)
    if share < STALE_MIN_SHARE:
        return None
    tail = f", and {stale_rejects} were past Snap's 37-day limit and rejected" if stale_rejects else ""
    return Finding(
        FindingCode.STALE_EVENTS,
        Severity.ERROR if stale_rejects else Severity.WARNING,
        share,
        "share",
        f"{_pct(share)} of events were more than 7 days old when sent{tail}.",
        "Send conversions sooner (daily): attribution works best on fresh events.",
    )


def _single_key_events(report: Mapping[str, Any]) -> Finding | None:
    delivered = _int(report.get("events_delivered"))
    single = _int(report.get("single_key_events"))
    if not delivered or single / delivered < SINGLE_KEY_MIN_SHARE:
        return None
    share = single / delivered
    return Finding(
        FindingCode.SINGLE_KEY_EVENTS,
        Severity.INFO,
        share,
        "share",
        f"{_pct(share)} of events carry only one match key.",
        "Map more columns (phone, first and last name, zip, country) in `mapping`: each key raises the match rate.",
    )


def _coverage_dropped(report: Mapping[str, Any], previous: Mapping[str, Any] | None) -> list[Finding]:
    if not previous:
        return []
    now_delivered = _int(report.get("events_delivered"))
    then_delivered = _int(previous.get("events_delivered"))
    if not now_delivered or not then_delivered:
        return []
    now_keys, then_keys = _counts(report.get("match_keys")), _counts(previous.get("match_keys"))
    findings = []
    for key, then_count in then_keys.items():
        then_share = then_count / then_delivered
        now_share = now_keys.get(key, 0) / now_delivered
        if then_share - now_share >= COVERAGE_DROP_MIN_POINTS:
            label = FIELD_LABELS.get(key, key)
            findings.append(
                Finding(
                    FindingCode.COVERAGE_DROPPED,
                    Severity.WARNING,
                    now_share,
                    "share",
                    f"Coverage of `{key}` ({label}) fell from {_pct(then_share)} to {_pct(now_share)} since the "
                    "last run.",
                    f"Check that the export still has the {label} column and that `mapping` still names it.",
                    subject=key,
                )
            )
    return findings


def _rejects_of_one_reason(report: Mapping[str, Any], skip: frozenset[str]) -> list[Finding]:
    records = _int(report.get("records_read"))
    if not records:
        return []
    findings = []
    for reason, count in _counts(report.get("rejected_by_reason")).items():
        share = count / records
        if share < REJECT_REASON_MIN_SHARE or reason in skip:
            continue
        findings.append(
            Finding(
                FindingCode.REJECTS_OF_ONE_REASON,
                Severity.ERROR if share >= REJECT_REASON_ERROR_SHARE else Severity.WARNING,
                share,
                "share",
                f"{_pct(share)} of records were rejected as `{reason}` ({count}).",
                REJECT_FIXES.get(reason, GENERIC_REJECT_FIX),
                subject=reason,
            )
        )
    return findings


def _validation_errors(report: Mapping[str, Any]) -> Finding | None:
    errors = _counts(report.get("validation_errors"))
    total = sum(errors.values())
    if not total:
        return None
    top = max(errors, key=lambda code: errors[code])
    return Finding(
        FindingCode.VALIDATION_ERRORS,
        Severity.ERROR,
        total,
        "count",
        f"Snap's validation found {total} errors; the most frequent is `{top}` ({errors[top]}).",
        "Fix these before a live run: the whole request fails when one event in it is invalid.",
    )


def events_older_than(histogram: Any, days: int) -> int:
    """Events in the age histogram (see ``report_html``) whose bin starts at ``days`` or later."""
    if not isinstance(histogram, list):
        return 0
    return sum(
        _int(bin_.get("events")) for bin_ in histogram if isinstance(bin_, Mapping) and _int(bin_.get("from")) >= days
    )


def _counts(value: Any) -> dict[str, int]:
    if not isinstance(value, Mapping):
        return {}
    return {str(key): count for key, count in value.items() if isinstance(count, int) and not isinstance(count, bool)}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def format_share(share: float) -> str:
    """How a share is written, in findings and on the HTML page: one decimal below 10%, none above."""
    percent = 100 * share
    return f"{percent:.1f}%" if 0 < percent < 10 else f"{percent:.0f}%"


_pct = format_share
