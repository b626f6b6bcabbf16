"""The HTML run report: every number on it is the JSON report's, it opens offline, and it leaks nothing.

The browser test runs the real pipeline (tap | target, separate processes) into the sandbox on PII-laden CSVs
after three earlier runs in the history, and loads the page the target wrote in a real headless Chromium: no
console error, no request beyond the file itself, every `data-figure` equal to the JSON report's (and to the
history's), no sideways scrolling on a phone, it prints, and a screenshot is written to
output/snapchat_capi_report.png.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from target_snapchat_capi.findings import Finding, FindingCode, Severity, compute_findings
from target_snapchat_capi.history import append_history, history_entry, read_history
from target_snapchat_capi.report_html import (
    count_validation_errors,
    format_number,
    format_share,
    render_html,
    summarize_test_event_logs,
)
from target_snapchat_capi.sandbox import SandboxServer

from tests import browser
from tests.browser import open_page
from tests.e2e.helpers import (
    TOKEN,
    bulk_rows,
    messy_rows,
    run_pipeline,
    target_config,
    write_csv,
    write_json,
)

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "output" / "snapchat_capi_report.png"
VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)


# --- reading the page back ------------------------------------------------------------------------------------


class FigureReader(HTMLParser):
    """Collects every data-figure element with its text, and any digit shown outside a figure or fixed text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict[str, str], list[str]]] = []
        self.figures: list[tuple[dict[str, str], str]] = []
        self.stray_digits: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID_ELEMENTS:
            return
        self.stack.append((tag, {name: value or "" for name, value in attrs}, []))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_ELEMENTS or not self.stack:
            return
        while self.stack:
            name, attrs, texts = self.stack.pop()
            if "data-figure" in attrs:
                self.figures.append((attrs, "".join(texts)))
            if self.stack:
                self.stack[-1][2].extend(texts)
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.stack:
            return
        tags = {name for name, _, _ in self.stack}
        if tags & {"style", "title", "head"}:
            return
        accounted = any("data-figure" in attrs or "data-fixed" in attrs for _, attrs, _ in self.stack)
        if not accounted and any(char.isdigit() for char in data):
            self.stray_digits.append(data.strip())
        self.stack[-1][2].append(data)


def lookup(data: Any, path: list[Any]) -> Any:
    for key in path:
        if isinstance(data, dict):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int):
            data = data[key]
        else:
            return None
    return data


def check_figures(
    page: str, report: dict[str, Any], history: list[dict[str, Any]], findings: list[Finding]
) -> tuple[list[str], set[tuple[Any, ...]]]:
    """Problems found (figure differing from the JSON, text differing from the figure, stray digits), and the
    paths of the report figures shown."""
    reader = FigureReader()
    reader.feed(page)
    reader.close()
    problems = [f"a number outside any figure: {text!r}" for text in reader.stray_digits]
    shown: set[tuple[Any, ...]] = set()
    by_figure_id = {finding.figure_id: finding.figure for finding in findings}
    for attrs, text in reader.figures:
        path = json.loads(attrs["data-figure"])
        raw_value = attrs.get("data-value", "")
        if isinstance(path[0], str) and path[0].startswith("finding."):
            expected: Any = by_figure_id.get(path[0])
            is_share = text.endswith("%")
        else:
            source = history[int(attrs["data-history"])] if "data-history" in attrs else report
            expected = lookup(source, path)
            is_share = "data-per" in attrs
            if is_share:
                denominator = lookup(source, json.loads(attrs["data-per"]))
                expected = expected / denominator if denominator else 0.0
            if "data-history" not in attrs:
                shown.add(tuple(path))
        if isinstance(expected, str):
            if raw_value != expected or text != expected:
                problems.append(f"{path}: page says {raw_value!r}/{text!r}, JSON says {expected!r}")
            continue
        if not isinstance(expected, int | float):
            problems.append(f"{path}: no such number in the JSON (page says {raw_value!r})")
            continue
        value = float(raw_value)
        if not math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-12):
            problems.append(f"{path}: page says {value!r}, JSON says {expected!r}")
        formatted = format_share(expected) if is_share else format_number(expected)
        if text.strip() != formatted:
            problems.append(f"{path}: shown as {text!r}, expected {formatted!r}")
    return problems, shown


# --- earlier runs ----------------------------------------------------------------------------------------------


def earlier_runs(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Three earlier runs' history entries: more events, better email coverage, fewer rejects."""
    runs = []
    for step, started in enumerate(("2026-11-28T09:00:00Z", "2026-11-29T09:00:00Z", "2026-11-30T09:00:00Z")):
        delivered = report["events_delivered"] + 10 * (3 - step)
        entry = history_entry(
            {
                **report,
                "started_at": started,
                "records_read": delivered + step,
                "events_delivered": delivered,
                "events_rejected": step,
                "rejected_by_reason": {"stale_event": step} if step else {},
                "match_keys": {**report["match_keys"], "em": delivered - step},
                "duration_seconds": 1.0 + step,
            }
        )
        runs.append(entry)
    return runs


# --- tests ----------------------------------------------------------------------------------------------------


FULL_REPORT: dict[str, Any] = {
    "status": "succeeded",
    "mode": "live",
    "error": None,
    "started_at": "2026-12-01T10:00:00Z",
    "records_read": 1234,
    "events_delivered": 1000,
    "already_delivered": 120,
    "events_rejected": 114,
    "rejected_by_reason": {"stale_event": 100, "missing_match_keys": 14},
    "requests": 3,
    "retries": 1,
    "duration_seconds": 2.512,
    "events_per_second": 398.1,
    "match_keys": {"em": 910, "ph": 420, "fn": 0, "ip_ua": 0},
    "single_key_events": 301,
    "normalisation": {"ph_no_country": 41, "ph_international": 59, "em_hashed": 910},
    "streams": {"purchases": {"events_delivered": 1000, "events_rejected": 114}},
    "user_fields": {"em": {"sent": 910, "not_sent": {"invalid": 30}}, "ph": {"sent": 420, "not_sent": {}}},
    "event_age_days_histogram": [{"from": 0, "to": 7, "events": 700}, {"from": 7, "to": 37, "events": 300}],
    "events_older_than_7_days": 300,
    "pixels": {"p-1": {"events_delivered": 1000, "api_rejected": 114, "requests": 1}},
    "source_files": {
        "a.csv": {"events_delivered": 900, "events_rejected": 4},
        "b.csv": {"events_delivered": 100, "events_rejected": 110},
    },
    "reject_examples": {"stale_event": [{"file": "b.csv", "line": 17}, {"file": "b.csv", "line": 18}]},
}


def test_every_figure_of_a_full_report_is_marked_and_equal() -> None:
    history = earlier_runs(FULL_REPORT)
    findings = compute_findings(FULL_REPORT, history[-1])
    page = render_html(FULL_REPORT, history, findings)
    problems, shown = check_figures(page, FULL_REPORT, history, findings)
    assert problems == []
    for path in [
        ("records_read",),
        ("events_delivered",),
        ("already_delivered",),
        ("events_rejected",),
        ("requests",),
        ("retries",),
        ("duration_seconds",),
        ("match_keys", "em"),
        ("match_keys", "ip_ua"),
        ("single_key_events",),
        ("user_fields", "em", "sent"),
        ("user_fields", "em", "not_sent", "invalid"),
        ("rejected_by_reason", "stale_event"),
        ("reject_examples", "stale_event", 0, "line"),
        ("event_age_days_histogram", 1, "events"),
        ("events_older_than_7_days",),
        ("pixels", "p-1", "events_delivered"),
        ("pixels", "p-1", "api_rejected"),
        ("source_files", "b.csv", "events_rejected"),
        ("streams", "purchases", "events_delivered"),
        ("status",),
        ("mode",),
    ]:
        assert path in shown, path
    # the file with the most rejects comes first
    assert page.index("b.csv</code></th>") < page.index("a.csv</code></th>")
    assert 'data-finding="phones_without_country"' in page
    assert page.index('id="findings"') < page.index('id="run"')


def test_the_checker_catches_a_wrong_or_unmarked_number() -> None:
    page = render_html(FULL_REPORT, [], [])
    wrong = page.replace('data-value="1234">1,234<', 'data-value="1234">1,235<', 1)
    assert any("records_read" in problem for problem in check_figures(wrong, FULL_REPORT, [], [])[0])
    stray = page.replace("<footer><p>", "<footer><p>42 ", 1)
    assert check_figures(stray, FULL_REPORT, [], [])[0] == [
        "a number outside any figure: '42 Counts only: this page never shows a value from your data.'"
    ]


def test_a_minimal_report_renders_and_says_what_is_missing() -> None:
    minimal = {"status": "failed", "mode": "live", "error": "Delivery failed: HTTP 500", "records_read": 0}
    page = render_html(minimal, [], [])
    assert "Not in this report: event_age_days_histogram." in page
    assert "Not in this report: match_keys." in page
    assert "The run failed: <span" in page and ">Delivery failed: HTTP 500</span>" in page
    assert "trends start with the next one" in page
    assert check_figures(page, minimal, [], [])[0] == []
    assert render_html({}, [], [])


def test_validation_section_lists_verdicts_by_error_code_and_the_test_event_logs() -> None:
    report = {
        "status": "succeeded",
        "mode": "validate_only",
        "events_delivered": 7,
        "validation": {"VALID": 7, "INVALID": 3},
        "validation_errors": {"UNHASHED_PII": 2, "INVALID_EVENT_TIME": 1},
        "test_event_logs": {"fetched": 10, "by_status": {"VALID": 7, "INVALID": 3}, "by_event_name": {"PURCHASE": 10}},
    }
    page = render_html(report, [], [])
    assert "Invalid events by error code" in page
    assert page.index("UNHASHED_PII") < page.index("INVALID_EVENT_TIME")  # most frequent first
    assert "What Snap received (test events)" in page
    assert "Events valid" in page
    problems, shown = check_figures(page, report, [], [])
    assert problems == []
    assert {("validation_errors", "UNHASHED_PII"), ("test_event_logs", "by_status", "INVALID")} <= shown


def test_validation_keys_are_built_from_snap_answers_as_counts() -> None:
    verdicts = [
        {"event": 0, "status": "VALID", "errors": {"codes": [], "error_msgs": []}},
        {"event": 1, "status": "INVALID", "errors": {"codes": ["UNHASHED_PII", "INVALID_EVENT_TIME"]}},
        {"event": 2, "status": "INVALID", "errors": {"codes": ["UNHASHED_PII"], "error_msgs": ["raw@example.com"]}},
        {"event": 3, "status": "INVALID"},
    ]
    assert count_validation_errors(verdicts) == {"UNHASHED_PII": 2, "INVALID_EVENT_TIME": 1, "UNKNOWN": 1}
    logs = [
        {"status": "VALID", "event_name": "PURCHASE", "error_records": [], "event_id": "secret-order"},
        {"status": "INVALID", "event_name": "PURCHASE", "error_records": ["raw@example.com is not hashed"]},
        {"status": "VALID", "event_name": "SIGN_UP"},
    ]
    summary = summarize_test_event_logs(logs)
    assert summary == {
        "fetched": 3,
        "by_status": {"INVALID": 1, "VALID": 2},
        "by_event_name": {"PURCHASE": 2, "SIGN_UP": 1},
    }
    assert "raw@example.com" not in json.dumps(summary) and "secret-order" not in json.dumps(summary)


def test_names_from_the_input_are_escaped_and_nothing_external_is_referenced() -> None:
    report = dict(FULL_REPORT)
    report["streams"] = {'<script>alert("x")</script>': {"events_delivered": 1}}
    report["source_files"] = {'"><img src=x onerror=alert(1)>.csv': {"events_rejected": 1}}
    page = render_html(report, [], [])
    assert "<script" not in page
    assert "<img" not in page
    assert "http://" not in page and "https://" not in page
    assert "default-src 'none'" in page
    assert "@media print" in page and 'name="viewport"' in page


def test_real_run_rendered_in_headless_chromium(tmp_path: Path, sandbox: SandboxServer) -> None:
    """The page the target itself writes at the end of a real run (tap | target into the sandbox)."""
    now = datetime.now(UTC)
    drops, out = tmp_path / "drops", tmp_path / "out"
    bulk = bulk_rows(now, 40)
    files = {
        "purchases.csv": messy_rows(now) + bulk,
        "more_purchases.csv": bulk_rows(now, 15, prefix="C"),
        "line_items.csv": bulk[:2],  # two rows repeating orders of purchases.csv: line items
    }
    for name, rows in files.items():
        write_csv(drops / name, rows)
    tap_config = write_json(
        tmp_path / "tap.json",
        {"files": [{"name": "offline_purchases", "path": str(drops / "*.csv"), "key_properties": ["Order ID"]}]},
    )
    # with test_event_code, so that the target reads Snap's test-event log back into the report
    target_config_path = write_json(
        tmp_path / "target.json", target_config(sandbox.url, out, test_event_code="REPORT-TEST")
    )
    history_path = out / "history.jsonl"
    for entry in earlier_runs(FULL_REPORT):
        append_history(history_path, entry)
    tap, target = run_pipeline(tap_config, target_config_path)
    assert tap.returncode == 0, tap.stderr.decode()[-2000:]
    assert target.returncode == 0, target.stderr.decode()[-2000:]

    report = json.loads((out / "report.json").read_text())
    assert report["events_delivered"] > 40 and report["events_rejected"] >= 5
    assert report["duplicate_order_id_rows"] == 2
    rows_per_file = {(drops / name).as_uri(): len(rows) for name, rows in files.items()}
    assert set(report["source_files"]) == set(rows_per_file)
    for name, counts in report["source_files"].items():
        assert counts["events_delivered"] + counts["events_rejected"] == rows_per_file[name]
    events = sandbox.state.test_events()
    assert len(events) == report["events_delivered"]
    assert report["test_event_logs"]["fetched"] == report["events_delivered"]
    history = read_history(history_path)
    assert len(history) == 4 and history[-1]["started_at"] == report["started_at"]
    findings = [_finding(item) for item in report["findings"]]
    html_path = out / "report.html"
    page_text = html_path.read_text(encoding="utf-8")

    page = open_page(html_path, screenshot=SCREENSHOT)

    assert page.errors == []
    assert page.requested_urls == [html_path.resolve().as_uri()]
    assert page.scroll_widths[390] <= 390, "the page scrolls sideways on a phone"
    assert page.scroll_widths[1280] <= 1280
    assert page.pdf_bytes > 10_000
    problems, shown = check_figures(page.dom, report, history[:-1], findings)
    assert problems == []
    for reason in report["rejected_by_reason"]:
        assert ("rejected_by_reason", reason) in shown
    for key in report["match_keys"]:
        assert ("match_keys", key) in shown
    for name in report["streams"]:
        assert ("streams", name, "events_delivered") in shown
    for name in report["source_files"]:
        assert ("source_files", name, "events_rejected") in shown
    assert ("test_event_logs", "fetched") in shown
    assert ("events_older_than_7_days",) in shown
    assert {finding.code for finding in findings} >= {"duplicate_order_ids"}
    assert SCREENSHOT.stat().st_size > 20_000
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # privacy: no raw personal data or token in the page, the DOM, the JSON report or the history
    secrets = {TOKEN}
    for row in messy_rows(now):
        secrets |= {row.email.strip(), row.phone.strip()}
        # short names ("Eve", "Lee") are also English words on the page
        secrets |= {text for text in (row.first_name, row.last_name, row.zip_code) if len(text) >= 5}
    secrets.discard("")
    history_text = history_path.read_text()
    report_text = (out / "report.json").read_text()
    for secret in secrets:
        assert secret not in page_text, secret
        assert secret not in page.dom, secret
        assert secret not in history_text, secret
        assert secret not in report_text, secret


def _finding(data: dict[str, Any]) -> Finding:
    """A finding back from the JSON report (the page's finding figures are checked against these)."""
    return Finding(
        code=FindingCode(data["code"]),
        severity=Severity(data["severity"]),
        figure=data["figure"],
        unit=data["unit"],
        message=data["message"],
        fix=data["fix"],
        subject=data["subject"],
    )


def test_the_browser_check_sees_console_errors_exceptions_and_requests(tmp_path: Path) -> None:
    """The checks above can fail: a page that logs an error, throws and fetches is caught on each count."""
    page_path = tmp_path / "bad.html"
    page_path.write_text(
        "<!DOCTYPE html><html><body><p>x</p>"
        '<img src="http://127.0.0.1:9/tracker.png">'
        '<script>console.error("boom"); throw new Error("kaput");</script></body></html>'
    )
    page = open_page(page_path)
    assert any("boom" in error for error in page.errors)
    assert any("kaput" in error for error in page.errors)
    assert "http://127.0.0.1:9/tracker.png" in page.requested_urls


def test_a_missing_browser_fails_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser, "CHROMIUM_CANDIDATES", ("/nonexistent/chromium",))
    with pytest.raises(pytest.fail.Exception, match="chromium is not installed"):
        browser.chromium_path()
