"""column_types date-time reads every event-time form the target reads (contract §3a), and reports what it cannot."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from tap_helpers import run_tap
from tap_offline_csv.datetimes import DateTimeError, parse_datetime_text
from target_snapchat_capi.cells import parse_event_time

# Every form of the contract's event-time rule, as exports write them.
FORMS = [
    "2026-11-30T10:00:00+01:00",
    "2026-11-30 10:00:00",
    "2026-11-30 10:00",
    "2026-11-30T10:00:00.250Z",
    "2026-11-30T10:00:00z",
    "2026-11-30 10:00:00 UTC",
    "2026-11-30 10:00:00 GMT",
    "2026-11-30T10:00:00+0100",
    "2026-11-30",
    "20261130",
    "1796032800",
    "1796032800000",
    "1796032800000000",
    "11/30/2026",
    "11/30/2026 10:00",
    "11/30/2026 10:00:05 PM",
    "11/30/2026 12:00 AM",
    "30/11/2026 10:00",
    "30.11.2026",
    "30.11.2026 10:00:05",
    "Mon, 30 Nov 2026 10:00:00 +0000",
]


@pytest.mark.parametrize("raw", FORMS)
def test_every_contract_form_is_read_as_the_target_reads_it(raw: str) -> None:
    typed = parse_datetime_text(raw)
    # What the tap emits is ISO 8601 text the target reads to the same instant as the raw cell.
    assert dt.date.fromisoformat(typed[:10])
    expected = parse_event_time(raw)
    if expected is not None:  # forms the target reads today; the others are the contract's
        assert parse_event_time(typed) == expected


def test_day_first_reads_slashed_dates_day_first() -> None:
    assert parse_datetime_text("03/04/2026") == "2026-03-04"
    assert parse_datetime_text("03/04/2026", day_first=True) == "2026-04-03"
    assert parse_datetime_text("13/04/2026") == "2026-04-13"  # over 12: it can only be a day


def test_a_time_without_a_zone_stays_without_one_and_a_date_stays_a_date() -> None:
    assert parse_datetime_text("2026-11-30 10:00") == "2026-11-30T10:00:00"
    assert parse_datetime_text("2026-12-02") == "2026-12-02"
    assert parse_datetime_text("1796032800") == "2026-11-30T10:00:00+00:00"


@pytest.mark.parametrize("raw", ["yesterday", "2026-13-40", "31.02.2026", "11/30/2026 13:00 PM", "nan", "1e400"])
def test_what_is_not_a_date_time_raises_without_the_value(raw: str) -> None:
    with pytest.raises(DateTimeError) as caught:
        parse_datetime_text(raw)
    assert raw not in str(caught.value)


def test_the_demo_forms_are_not_skipped_and_failures_are_counted_per_column(tmp_path: Path) -> None:
    secret = "jane.secret@example.com"
    rows = [f'ev{i},"{form}"' for i, form in enumerate(FORMS)] + [f"bad1,{secret}", "bad2,not a time"]
    path = tmp_path / "a.csv"
    path.write_text("event_id,event_time\n" + "\n".join(rows) + "\n")
    out = run_tap({"path": str(path), "column_types": {"event_time": "date-time"}})
    assert [r["event_id"] for r in out.records] == [f"ev{i}" for i in range(len(FORMS))]
    url = f"file://{path}"
    warnings = [line for line in out.logs if line.startswith("WARNING")]
    assert f"WARNING {url} line {len(FORMS) + 2}: column 'event_time': not a valid date-time; row skipped" in warnings
    summary = [line for line in warnings if "records emitted" in line]
    assert len(summary) == 1 and "column 'event_time' not a valid date-time: 2" in summary[0]
    assert secret not in "\n".join(out.logs) and "not a time" not in "\n".join(out.logs)
