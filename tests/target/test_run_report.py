"""The run report's figures, counted by the accounting as events go out (issue 11), and its files at the run's end.

In-process: the accounting is fed real events and delivery results, as the sender thread does; the figures are
then read from the report's JSON form. The real-CLI tests (failure, interruption, kill -9) are in
test_run_report_cli.py.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import zoneinfo
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from target_snapchat_capi import accounting as accounting_module
from target_snapchat_capi import report as report_module
from target_snapchat_capi.accounting import Accounting, Source
from target_snapchat_capi.client import ApiRejection, AuthError, CapiClient, DeliveryResult
from target_snapchat_capi.events import Event, Rejection
from target_snapchat_capi.history import read_history
from target_snapchat_capi.rejects import RejectsFile
from target_snapchat_capi.report import RunReport, RunStatus, write_run_outputs
from target_snapchat_capi.sandbox import DEFAULT_PIXEL_ID, DEFAULT_TOKEN, SandboxServer
from target_snapchat_capi.settings import Mode, OutputPaths
from target_snapchat_capi.wire import EncodedEvent, encode_event

DAY = 86_400


def event_body(event_time: float, order_id: str | None = None, event_id: str = "e") -> dict[str, Any]:
    body: dict[str, Any] = {"event_name": "PURCHASE", "event_time": int(event_time), "event_id": event_id}
    if order_id is not None:
        body["custom_data"] = {"order_id": order_id, "value": 1, "currency": "USD"}
    return body


def event(event_time: float, order_id: str | None = None, event_id: str = "e") -> EncodedEvent:
    """An event as the sink hands it on: encoded."""
    body = event_body(event_time, order_id, event_id)
    return encode_event(Event(body=body, event_id=event_id, match_keys=("em",)))


def new_accounting(tmp_path: Path, zone: str = "UTC", mode: Mode = Mode.LIVE) -> Accounting:
    report = RunReport(mode=mode)
    return Accounting(report, RejectsFile(tmp_path / "rejects.jsonl", report.started_at), source_timezone=zone)


def deliver_all(
    accounting: Accounting, events: Sequence[Event], sources: Sequence[Source] | None = None, **result: Any
) -> None:
    sources = sources or [("file:///a.csv", line) for line in range(2, len(events) + 2)]
    delivered = DeliveryResult(delivered=list(range(len(events))), rejected=[], requests=1, **result)
    accounting.delivered("purchases", events, sources, delivered)


def test_event_age_at_send_time_in_the_report_bins(tmp_path: Path) -> None:
    accounting = new_accounting(tmp_path)
    now = time.time()
    ages_in_days = [0.1, 0.9, 1.5, 4.0, 6.99, 7.01, 20, 36.5, 37.2, -0.005]  # the last: 7 minutes in the future
    deliver_all(accounting, [event(now - age * DAY) for age in ages_in_days])
    report = accounting.report.to_dict()
    histogram = report["event_age_days_histogram"]
    assert [(item["from"], item["to"]) for item in histogram] == [
        (0, 1), (1, 2), (2, 3), (3, 5), (5, 7), (7, 10), (10, 14), (14, 21), (21, 28), (28, 37), (37, None)
    ]  # fmt: skip
    assert [item["events"] for item in histogram] == [3, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1]
    assert report["events_older_than_7_days"] == 4
    assert report["event_times_parsed"] == len(ages_in_days)


def test_only_delivered_events_are_aged_and_refused_ones_are_rejects_with_their_file(tmp_path: Path) -> None:
    accounting = new_accounting(tmp_path)
    now = time.time()
    events = [event(now - DAY, event_id="ok"), event(now - 9 * DAY, event_id="refused")]
    sources = [("file:///a.csv", 2), ("file:///b.csv", 3)]
    result = DeliveryResult(delivered=[0], rejected=[ApiRejection(1, "INVALID", "bad")], requests=1)
    accounting.delivered("purchases", events, sources, result)
    report = accounting.report.to_dict()
    assert report["events_older_than_7_days"] == 0
    assert sum(item["events"] for item in report["event_age_days_histogram"]) == 1
    assert report["source_files"] == {
        "file:///b.csv": {"events_delivered": 0, "events_rejected": 1},
        "file:///a.csv": {"events_delivered": 1, "events_rejected": 0},
    }
    assert list(report["source_files"]) == ["file:///b.csv", "file:///a.csv"]  # most rejects first
    assert report["reject_examples"] == {"api_rejected": [{"file": "file:///b.csv", "line": 3}]}


def test_midnight_is_read_in_the_source_time_zone(tmp_path: Path) -> None:
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    local_midnight = dt.datetime.now(paris).replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
    utc_midnight = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
    times = [local_midnight.timestamp(), utc_midnight.timestamp(), local_midnight.timestamp() + 900]

    in_paris = new_accounting(tmp_path, "Europe/Paris")
    deliver_all(in_paris, [event(moment) for moment in times])
    assert in_paris.report.to_dict()["midnight_event_times"] == 1

    in_utc = new_accounting(tmp_path, "UTC")
    deliver_all(in_utc, [event(moment) for moment in times])
    assert in_utc.report.to_dict()["midnight_event_times"] == 1
    assert in_utc.report.to_dict()["event_times_parsed"] == 3


def test_repeated_order_ids_are_counted_with_a_bounded_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.time() - DAY
    accounting = new_accounting(tmp_path)
    deliver_all(accounting, [event(now, "A"), event(now, "A"), event(now, "B"), event(now, None), event(now, "A")])
    deliver_all(accounting, [event(now, "B")])  # a later batch: still the same run
    assert accounting.report.to_dict()["duplicate_order_id_rows"] == 3

    monkeypatch.setattr(accounting_module, "MAX_REMEMBERED_ORDER_IDS", 2)
    bounded = new_accounting(tmp_path)
    deliver_all(bounded, [event(now, "A"), event(now, "B"), event(now, "C"), event(now, "C"), event(now, "A")])
    # C came after the memory was full: its repeat goes uncounted; A's is still seen
    assert bounded.report.to_dict()["duplicate_order_id_rows"] == 1
    assert len(bounded._order_ids) == 2


def test_source_files_are_capped_and_the_rest_is_counted_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_module, "MAX_TRACKED_SOURCE_FILES", 3)
    monkeypatch.setattr(report_module, "MAX_REPORTED_SOURCE_FILES", 2)
    accounting = new_accounting(tmp_path)
    now = time.time() - DAY
    names = ["f1", "f2", "f3", "f4", "f5"]
    deliver_all(accounting, [event(now) for _ in names], [(name, 2) for name in names])
    for name in ("f2", "f2", "f5"):
        accounting.reject("purchases", Rejection("stale_event", "old", None), (name, 9))
    report = accounting.report.to_dict()
    assert report["source_files"] == {
        "f2": {"events_delivered": 1, "events_rejected": 2},
        "f1": {"events_delivered": 1, "events_rejected": 0},
    }
    # f3 tracked but not listed; f4 and f5 came after the cap
    assert report["source_files_not_listed"] == {"files": 1, "events_delivered": 3, "events_rejected": 1}
    assert len(accounting.report.source_files) == 3


def test_reject_examples_are_a_few_locations_per_reason_never_a_value(tmp_path: Path) -> None:
    accounting = new_accounting(tmp_path)
    for line in range(2, 12):
        rejection = Rejection("missing_match_keys", "no usable match key; em (column 'Email'): invalid", None)
        accounting.reject("purchases", rejection, ("file:///drop.csv", line))
    accounting.reject("purchases", Rejection("stale_event", "old", "id-1"), (None, None))  # no tap metadata
    report = accounting.report.to_dict()
    assert report["reject_examples"] == {
        "missing_match_keys": [{"file": "file:///drop.csv", "line": line} for line in range(2, 7)]
    }
    assert report["source_files"] == {"file:///drop.csv": {"events_delivered": 0, "events_rejected": 10}}
    assert "Email" not in json.dumps(report["reject_examples"])


def test_validate_only_verdicts_are_counted_by_error_code(tmp_path: Path) -> None:
    accounting = new_accounting(tmp_path, mode=Mode.VALIDATE_ONLY)
    now = time.time() - DAY
    events = [event(now, event_id=str(index)) for index in range(3)]
    verdicts = [
        {"event": 0, "status": "VALID", "warnings": []},
        {"event": 1, "status": "INVALID", "errors": {"codes": ["UNHASHED_PII", "STALE"]}, "warnings": ["w"]},
        {"event": 2, "status": "INVALID", "errors": {"codes": ["UNHASHED_PII"]}},
    ]
    result = DeliveryResult(
        delivered=[0],
        rejected=[ApiRejection(1, "UNHASHED_PII", "x"), ApiRejection(2, "UNHASHED_PII", "x")],
        requests=1,
        verdicts=verdicts,
    )
    accounting.delivered("purchases", events, [("f", 2), ("f", 3), ("f", 4)], result)
    report = accounting.report.to_dict()
    assert report["validation_errors"] == {"STALE": 1, "UNHASHED_PII": 2}
    assert report["validation"] == {"INVALID": 2, "VALID": 1, "warnings": 1}


def test_user_fields_come_from_the_builders_outcome_codes() -> None:
    report = RunReport()
    report.normalisation.update({
        "em_hashed": 90,
        "em_invalid": 3,
        "em_not_an_address": 2,
        "ph_default_country": 40,
        "ph_international": 10,
        "ph_unknown_country": 7,
        "client_ip_address_kept": 5,
        "external_id_hashed": 4,
        "value_invalid": 9,  # not a user field
        "event_id_from_content": 1,
    })  # fmt: skip
    assert report.to_dict()["user_fields"] == {
        "client_ip_address": {"sent": 5, "not_sent": {}},
        "em": {"sent": 90, "not_sent": {"invalid": 3, "not_an_address": 2}},
        "external_id": {"sent": 4, "not_sent": {}},
        "ph": {"sent": 50, "not_sent": {"unknown_country": 7}},
    }


def test_progress_line_at_most_every_interval_with_counts_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounting = new_accounting(tmp_path)
    reads = accounting.reads("purchases")
    caplog.set_level(logging.INFO, logger=accounting_module.__name__)
    clock = [1000.0]
    monkeypatch.setattr(accounting_module.time, "monotonic", lambda: clock[0])
    accounting._progress = accounting_module.Progress(accounting.report)  # started at the fake clock
    reads = accounting.reads("purchases")
    for _ in range(2 * accounting_module.PROGRESS_CHECK_RECORDS):
        reads.count()
    assert caplog.records == []  # less than 10 s passed
    clock[0] += 10.0
    accounting.report.events_delivered = 500
    for _ in range(accounting_module.PROGRESS_CHECK_RECORDS - 1):
        reads.count()
    assert caplog.records == []  # the clock is only read every PROGRESS_CHECK_RECORDS records
    reads.count()
    (line,) = [record.getMessage() for record in caplog.records]
    assert line == "Progress: 3000 records read, 500 events delivered, 0 rejected, 50 events/s"
    for _ in range(accounting_module.PROGRESS_CHECK_RECORDS):
        reads.count()
    assert len(caplog.records) == 1  # no new line until another 10 s


def test_run_outputs_findings_first_in_the_json_the_html_and_the_summary(tmp_path: Path) -> None:
    paths = OutputPaths.from_config(
        {
            "report_path": str(tmp_path / "r.json"),
            "report_html_path": str(tmp_path / "r.html"),
            "report_history_path": str(tmp_path / "h.jsonl"),
        }
    )
    report = RunReport()
    report.records_read = report.events_delivered = 100
    report.duplicate_order_id_rows = 4
    report.status = RunStatus.SUCCEEDED
    lines, error = write_run_outputs(report, paths)
    assert error is None
    written = json.loads(paths.report.read_text())
    assert next(iter(written)) == "findings"
    assert [finding["code"] for finding in written["findings"]] == ["duplicate_order_ids"]
    assert lines[0].startswith("Snapchat CAPI run findings (1)")
    assert "[duplicate_order_ids]" in lines[1]
    assert lines[2].startswith("Snapchat CAPI run succeeded")
    page = paths.report_html.read_text()
    assert page.index('id="findings"') < page.index('id="run"')
    assert paths.report_html.stat().st_mode & 0o777 == 0o600
    assert [entry["status"] for entry in read_history(paths.report_history)] == ["succeeded"]

    # a second run: its page draws the first as the start of the trends
    write_run_outputs(report, paths)
    assert len(read_history(paths.report_history)) == 2
    assert 'data-history="0"' in paths.report_html.read_text()


def test_a_report_file_that_cannot_be_written_does_not_stop_the_others(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    paths = OutputPaths.from_config(
        {
            "report_path": str(tmp_path / "r.json"),
            "report_html_path": str(blocker / "r.html"),
            "report_history_path": str(blocker / "h.jsonl"),
        }
    )
    lines, error = write_run_outputs(RunReport(), paths)
    assert error is None and lines
    assert json.loads(paths.report.read_text())["status"] == "running"
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert "The HTML run report was not written" in messages and "The run history was not appended to" in messages

    # the JSON report's folder is a file: the page and the history are still written, the error is returned
    paths = OutputPaths.from_config(
        {
            "report_path": str(blocker / "r.json"),
            "report_html_path": str(tmp_path / "r.html"),
            "report_history_path": str(tmp_path / "h.jsonl"),
        }
    )
    lines, error = write_run_outputs(RunReport(), paths)
    assert error is not None and str(blocker) in str(error)
    assert paths.report_html.exists() and len(read_history(paths.report_history)) == 1
    assert any(line.startswith("Snapchat CAPI run running") for line in lines)


def test_the_test_event_log_is_read_through_the_one_client_and_never_shows_the_token(
    sandbox: SandboxServer,
) -> None:
    with CapiClient(sandbox.url, DEFAULT_PIXEL_ID, DEFAULT_TOKEN) as client:
        body = {**event_body(time.time() - 60, "O-1"), "action_source": "OFFLINE", "test_event_code": "T1"}
        sent = client.send([{**body, "user_data": {"em": ["a" * 64]}}])
        assert sent.delivered == [0], sent.rejected
        logs = client.test_event_logs()
    assert [log["status"] for log in logs] == ["VALID"]
    wrong_token = "tok-never-in-a-message-42"
    with CapiClient(sandbox.url, DEFAULT_PIXEL_ID, wrong_token) as client, pytest.raises(AuthError) as refused:
        client.test_event_logs()
    assert wrong_token not in str(refused.value)
    assert "/events/validate/logs" in str(refused.value)
