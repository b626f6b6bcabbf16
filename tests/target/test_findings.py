"""Data-quality findings: one test (at least) per rule, each firing at its threshold and staying quiet below it."""

from __future__ import annotations

from typing import Any

import pytest
from target_snapchat_capi.findings import (
    REJECT_FIXES,
    Finding,
    FindingCode,
    Severity,
    compute_findings,
    events_older_than,
    format_share,
    summary_lines,
)


def base(**overrides: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "status": "succeeded",
        "mode": "live",
        "records_read": 100,
        "events_delivered": 100,
        "events_rejected": 0,
        "rejected_by_reason": {},
        "match_keys": {"em": 90, "ph": 80, "fn": 70},
        "single_key_events": 10,
        "normalisation": {"em_hashed": 90, "ph_international": 80},
    }
    report.update(overrides)
    return report


def by_code(findings: list[Finding], code: FindingCode) -> list[Finding]:
    return [finding for finding in findings if finding.code == code]


def test_a_clean_run_has_no_findings() -> None:
    assert compute_findings(base()) == []
    assert compute_findings({}) == []


def test_phones_without_country() -> None:
    normalisation = {"ph_unknown_country": 41, "ph_international": 50, "ph_default_country": 9, "ph_empty": 500}
    (finding,) = by_code(compute_findings(base(normalisation=normalisation)), FindingCode.PHONES_WITHOUT_COUNTRY)
    assert finding.figure == pytest.approx(0.41)  # blanks are not phones
    assert finding.severity == Severity.WARNING
    assert "41%" in finding.message
    assert "default_phone_country" in finding.fix
    quiet = {"ph_unknown_country": 4, "ph_international": 96}
    assert not by_code(compute_findings(base(normalisation=quiet)), FindingCode.PHONES_WITHOUT_COUNTRY)


def test_invalid_emails() -> None:
    normalisation = {"em_invalid": 3, "em_hashed": 96, "em_prehashed": 1, "em_empty": 50}
    (finding,) = by_code(compute_findings(base(normalisation=normalisation)), FindingCode.INVALID_EMAILS)
    assert finding.figure == pytest.approx(0.03)
    assert "3.0% of emails are not addresses" in finding.message
    quiet = {"em_invalid": 1, "em_hashed": 199}
    assert not by_code(compute_findings(base(normalisation=quiet)), FindingCode.INVALID_EMAILS)


def test_foreign_hashes() -> None:
    normalisation = {"em_foreign_hash_dropped": 2, "fn_foreign_hash_dropped": 1, "em_hashed": 10}
    (finding,) = by_code(compute_findings(base(normalisation=normalisation)), FindingCode.FOREIGN_HASHES)
    assert finding.figure == 3
    assert finding.unit == "count"


def test_midnight_event_times() -> None:
    (finding,) = by_code(
        compute_findings(base(event_times_parsed=100, midnight_event_times=92)), FindingCode.MIDNIGHT_EVENT_TIMES
    )
    assert finding.figure == pytest.approx(0.92)
    assert "92% of event times are exactly midnight" in finding.message
    assert "source_timezone" in finding.fix
    assert not by_code(
        compute_findings(base(event_times_parsed=100, midnight_event_times=10)), FindingCode.MIDNIGHT_EVENT_TIMES
    )
    # a handful of rows is not evidence
    assert not by_code(
        compute_findings(base(event_times_parsed=5, midnight_event_times=5)), FindingCode.MIDNIGHT_EVENT_TIMES
    )


def test_duplicate_order_ids_look_like_line_items() -> None:
    (finding,) = by_code(compute_findings(base(duplicate_order_id_rows=12)), FindingCode.DUPLICATE_ORDER_IDS)
    assert finding.figure == 12
    assert finding.severity == Severity.ERROR
    assert "line items" in finding.message
    assert not by_code(compute_findings(base(duplicate_order_id_rows=0)), FindingCode.DUPLICATE_ORDER_IDS)


def test_stale_events_from_the_count_or_the_histogram() -> None:
    (finding,) = by_code(compute_findings(base(events_older_than_7_days=40)), FindingCode.STALE_EVENTS)
    assert finding.figure == pytest.approx(0.4)
    assert finding.severity == Severity.WARNING
    histogram = [
        {"from": 0, "to": 7, "events": 70},
        {"from": 7, "to": 14, "events": 20},
        {"from": 30, "to": 37, "events": 10},
    ]
    assert events_older_than(histogram, 7) == 30
    (from_histogram,) = by_code(compute_findings(base(event_age_days_histogram=histogram)), FindingCode.STALE_EVENTS)
    assert from_histogram.figure == pytest.approx(0.3)
    assert not by_code(compute_findings(base(events_older_than_7_days=10)), FindingCode.STALE_EVENTS)


def test_stale_rejects_make_it_an_error_and_replace_the_reject_reason_finding() -> None:
    report = base(
        records_read=130,
        events_delivered=100,
        events_rejected=30,
        rejected_by_reason={"stale_event": 30},
        events_older_than_7_days=10,
    )
    findings = compute_findings(report)
    (finding,) = by_code(findings, FindingCode.STALE_EVENTS)
    assert finding.severity == Severity.ERROR
    assert finding.figure == pytest.approx(40 / 130)
    assert "37-day" in finding.message
    assert not by_code(findings, FindingCode.REJECTS_OF_ONE_REASON)


def test_single_key_events() -> None:
    (finding,) = by_code(compute_findings(base(single_key_events=60)), FindingCode.SINGLE_KEY_EVENTS)
    assert finding.figure == pytest.approx(0.6)
    assert finding.severity == Severity.INFO


def test_coverage_dropped_since_the_last_run() -> None:
    previous = {"events_delivered": 200, "match_keys": {"em": 182, "ph": 100}}
    now = base(events_delivered=100, match_keys={"em": 40, "ph": 45})
    (finding,) = by_code(compute_findings(now, previous), FindingCode.COVERAGE_DROPPED)
    assert finding.subject == "em"
    assert finding.figure == pytest.approx(0.4)
    assert "from 91% to 40%" in finding.message
    assert finding.figure_id == "finding.coverage_dropped.em"
    assert not by_code(compute_findings(now, None), FindingCode.COVERAGE_DROPPED)
    assert not by_code(compute_findings(now, {"events_delivered": 0}), FindingCode.COVERAGE_DROPPED)


def test_many_rejects_of_one_reason_name_the_setting_that_fixes_them() -> None:
    report = base(
        records_read=100,
        events_rejected=33,
        rejected_by_reason={"unknown_event_name": 30, "missing_currency": 2, "brand_new_reason": 1},
    )
    findings = by_code(compute_findings(report), FindingCode.REJECTS_OF_ONE_REASON)
    assert [(finding.subject, finding.severity) for finding in findings] == [("unknown_event_name", Severity.ERROR)]
    assert "event_name_map" in findings[0].fix
    medium = base(records_read=100, rejected_by_reason={"missing_currency": 6})
    (warning,) = by_code(compute_findings(medium), FindingCode.REJECTS_OF_ONE_REASON)
    assert warning.severity == Severity.WARNING
    assert "default_currency" in warning.fix


def test_every_engine_reject_reason_has_a_fix() -> None:
    reasons = {
        "unknown_event_name",
        "missing_event_time",
        "invalid_event_time",
        "stale_event",
        "future_event",
        "missing_match_keys",
        "missing_value",
        "invalid_value",
        "missing_currency",
        "invalid_currency",
        "api_rejected",
    }
    assert reasons <= set(REJECT_FIXES)


def test_validation_errors() -> None:
    (finding,) = by_code(
        compute_findings(base(validation_errors={"UNHASHED_PII": 3, "INVALID_EVENT_TIME": 1})),
        FindingCode.VALIDATION_ERRORS,
    )
    assert finding.figure == 4
    assert "UNHASHED_PII" in finding.message


def test_most_severe_first_and_serialisable() -> None:
    findings = compute_findings(base(single_key_events=60, duplicate_order_id_rows=2, events_older_than_7_days=30))
    assert [finding.severity for finding in findings] == [Severity.ERROR, Severity.WARNING, Severity.INFO]
    as_dict = findings[0].to_dict()
    assert as_dict["code"] == "duplicate_order_ids"
    assert set(as_dict) == {"code", "severity", "figure", "unit", "subject", "message", "fix"}


def test_codes_are_stable() -> None:
    assert {code.value for code in FindingCode} == {
        "phones_without_country",
        "invalid_emails",
        "foreign_hashes",
        "midnight_event_times",
        "duplicate_order_ids",
        "stale_events",
        "single_key_events",
        "coverage_dropped",
        "rejects_of_one_reason",
        "validation_errors",
    }


@pytest.mark.parametrize(("share", "text"), [(0.0, "0%"), (0.041, "4.1%"), (0.41, "41%"), (1.0, "100%")])
def test_share_format(share: float, text: str) -> None:
    assert format_share(share) == text


def test_summary_lines_carry_the_fix() -> None:
    (line,) = summary_lines(compute_findings(base(duplicate_order_id_rows=3)))
    assert line.startswith("  error [duplicate_order_ids]: 3 rows")
    assert "Fix: Export one row per order" in line
