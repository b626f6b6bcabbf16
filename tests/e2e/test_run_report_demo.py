"""`make demo` twice, then the HTML run report in a real headless Chromium (issue 11's "done when").

Each demo run drops a new sample file (scripts/demo.py's own step) and runs tap | target with the dev environment's
settings into the sandbox, the second from the first's STATE (as Meltano keeps it). The page of the second run must
show both runs (history of 2, trends drawn from the first), every figure equal to the JSON report's, and findings
for the sample's bad rows. The screenshot goes to output/; with UPDATE_SCREENSHOT=1 also to docs/img/run-report.png
(the README's picture).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
from pathlib import Path
from types import ModuleType

import pytest
from target_snapchat_capi.findings import Finding, FindingCode, Severity
from target_snapchat_capi.history import read_history

from tests.browser import open_page
from tests.e2e.helpers import ROOT, TOKEN, Sandbox, run_pipeline, states_from, target_config, write_json
from tests.target.test_report_html import check_figures

SCREENSHOT = ROOT / "output" / "snapchat_capi_report_demo.png"
README_SCREENSHOT = ROOT / "docs" / "img" / "run-report.png"


def _demo_module(drops: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo_under_test", ROOT / "scripts" / "demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "DROPS", drops)
    return module


def _finding(data: dict) -> Finding:
    return Finding(
        code=FindingCode(data["code"]),
        severity=Severity(data["severity"]),
        figure=data["figure"],
        unit=data["unit"],
        message=data["message"],
        fix=data["fix"],
        subject=data["subject"],
    )


def test_two_demo_runs_show_both_runs_the_trend_and_findings_for_the_bad_rows(
    tmp_path: Path, sandbox_process: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    drops, out = tmp_path / "drops", tmp_path / "out"
    demo = _demo_module(drops, monkeypatch)
    tap_config = write_json(
        tmp_path / "tap.json",
        {"files": [{"name": "offline_purchases", "path": str(drops / "*.csv"), "key_properties": ["Order ID"]}]},
    )
    target_path = write_json(tmp_path / "target.json", target_config(sandbox_process.url, out))

    demo._new_sample_drop()
    _, first = run_pipeline(tap_config, target_path)
    assert first.returncode == 0, first.stderr.decode()[-2000:]
    first_report = json.loads((out / "report.json").read_text())
    demo._new_sample_drop()
    assert len(list(drops.glob("*.csv"))) == 2
    state_path = write_json(tmp_path / "state.json", states_from(first.stdout)[-1])
    _, second = run_pipeline(tap_config, target_path, state=state_path)
    assert second.returncode == 0, second.stderr.decode()[-2000:]

    report = json.loads((out / "report.json").read_text())
    history = read_history(out / "history.jsonl")
    assert len(history) == 2
    assert [entry["records_read"] for entry in history] == [first_report["records_read"], report["records_read"]]
    assert 250 < report["records_read"] < 300  # only the new drop: 300 rows, one the tap skips
    assert report["events_rejected"] >= 6  # one of each bad row kind

    page = open_page(out / "report.html", screenshot=SCREENSHOT)
    assert page.errors == []
    findings = [_finding(item) for item in report["findings"]]
    problems, shown = check_figures(page.dom, report, history[:-1], findings)
    assert problems == []
    for reason in report["rejected_by_reason"]:
        assert ("rejected_by_reason", reason) in shown
    # the trend: the first run's figures are drawn beside this run's
    assert 'id="trends"' in page.dom and 'data-history="0"' in page.dom
    # findings for the sample's bad rows: the 60-day-old purchase is Snap's 37-day limit at work
    stale = [finding for finding in findings if finding.code is FindingCode.STALE_EVENTS]
    assert stale and "past Snap's 37-day limit and rejected" in stale[0].message
    assert page.dom.index('id="findings"') < page.dom.index('id="run"')
    assert "37-day limit and rejected" in page.dom
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        README_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SCREENSHOT, README_SCREENSHOT)

    # privacy: no raw contact or token in the report files or the page
    texts = {name: (out / name).read_text() for name in ("report.json", "report.html", "history.jsonl")}
    texts["dom"] = page.dom
    raw_values = _raw_contacts(drops)
    assert raw_values
    for name, text in texts.items():
        assert TOKEN not in text, name
        for value in raw_values:
            assert value not in text, f"a raw value of the input is in {name}"


def _raw_contacts(drops: Path) -> set[str]:
    """Emails and phones of the sample drops, as written and lowercased (what would leak)."""
    values: set[str] = set()
    for path in drops.glob("*.csv"):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                for column in ("Email", "Phone"):
                    text = (row.get(column) or "").strip()
                    if len(text) >= 6:
                        values |= {text, text.lower()}
    return values
