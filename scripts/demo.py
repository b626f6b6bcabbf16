"""`make demo`: bundled sample data → tap-offline-csv → target-snapchat-capi → the local CAPI sandbox, via Meltano.

Steps: drop a new sample file into data/drops (each run is a new day's export: the first is
offline_purchases_<day>.csv, later ones get a number and their own order ids), start the sandbox, `meltano run
tap-offline-csv target-snapchat-capi` in the dev environment, print the run summary from the report and the path of
the HTML run report, stop the sandbox. State stays in Meltano's system database (.meltano/meltano.db), so each run
reads only the new drop; the run history (output/snapchat_capi_report_history.jsonl) makes the HTML report's trends.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from target_snapchat_capi.sandbox.launcher import SandboxProcess, SandboxStartError

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DROPS = ROOT / "data" / "drops"
REPORT = ROOT / "output" / "snapchat_capi_report.json"
HTML_REPORT = ROOT / "output" / "snapchat_capi_report.html"
REJECTS = ROOT / "output" / "snapchat_capi_rejects.jsonl"
SANDBOX_LOG = ROOT / "output" / "sandbox.log"  # one line per request: method, path without token, status, count
SANDBOX_PORT = 8765  # the dev environment's api_url in meltano.yml
SANDBOX_URL = f"http://127.0.0.1:{SANDBOX_PORT}"
SAMPLE_SEED = 7  # make_sample_data.py's default: the first drop


def main() -> int:
    _new_sample_drop()
    print(f"Sample drops: {', '.join(path.name for path in sorted(DROPS.glob('*.csv')))}")

    if _sandbox_is_up():
        print(f"Something already answers on {SANDBOX_URL}; stop it first (the demo starts its own sandbox).")
        return 1
    try:
        sandbox = SandboxProcess(port=SANDBOX_PORT, log_path=SANDBOX_LOG, start_timeout_seconds=15).start()
    except SandboxStartError:
        raise SystemExit(f"The sandbox did not start on {SANDBOX_URL}; see {SANDBOX_LOG}.") from None
    try:
        REPORT.unlink(missing_ok=True)
        HTML_REPORT.unlink(missing_ok=True)
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        command = [
            str(BIN / "meltano"),
            "--environment=dev",
            "run",
            "tap-offline-csv",
            "target-snapchat-capi",
        ]
        print("$ " + " ".join(["meltano", *command[1:]]), flush=True)
        run = subprocess.run(command, cwd=ROOT, env=env, check=False)
        _print_summary(run.returncode)
        return run.returncode
    finally:
        sandbox.stop()


def _new_sample_drop() -> None:
    """Today's sample file; if there are drops already, a new one (its own seed, so its own order ids)."""
    earlier = len(list(DROPS.glob("*.csv")))
    command = [sys.executable, str(ROOT / "scripts" / "make_sample_data.py"), "--out", str(DROPS)]
    if earlier:
        name = f"offline_purchases_{datetime.now(UTC):%Y-%m-%d}_{earlier + 1:02d}.csv"
        command += ["--seed", str(SAMPLE_SEED + earlier), "--name", name]
    subprocess.run(command, check=True)


def _sandbox_is_up() -> bool:
    try:
        with urllib.request.urlopen(f"{SANDBOX_URL}/_sandbox/health", timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _sandbox_stats() -> dict:
    with urllib.request.urlopen(f"{SANDBOX_URL}/_sandbox/stats", timeout=5) as response:
        return dict(json.load(response))


def _print_summary(returncode: int) -> None:
    print()
    print("=" * 78)
    if not REPORT.exists():
        print(f"The run failed before the target wrote its report (exit code {returncode}); see the log above.")
        return
    report = json.loads(REPORT.read_text(encoding="utf-8"))
    if report.get("findings"):
        print("Findings (what to fix first):")
        for finding in report["findings"]:
            print(f"  {finding['severity']}: {finding['message']}")
            print(f"    fix: {finding['fix']}")
    if report["records_read"] == 0 and report["status"] == "succeeded":
        print("Nothing new to deliver: every file in data/drops was already sent (the bookmarks are in Meltano's")
        print("state). Drop a new CSV into data/drops and run again, or `make clean-state` to start over.")
    else:
        print(
            f"Run {report['status']}: {report['records_read']} records read, "
            f"{report['events_delivered']} events delivered, {report['events_rejected']} rejected, "
            f"{report['requests']} requests, {report['retries']} retries, {report['duration_seconds']} s."
        )
        if report["rejected_by_reason"]:
            print("Rejected by reason:")
            for reason, count in report["rejected_by_reason"].items():
                print(f"  {reason:<24} {count}")
            print(f"  (one line each, with file and line, in {REJECTS.relative_to(ROOT)})")
        delivered = report["events_delivered"]
        if delivered:
            print("Match-key coverage of delivered events:")
            for key, count in report["match_keys"].items():
                print(f"  {key:<12} {count:>6}  {100 * count / delivered:5.1f}%")
            print(f"  single-key events: {report['single_key_events']}")
        if report.get("error"):
            print(f"Error: {report['error']}")
    stats = _sandbox_stats()
    print(
        f"Sandbox received {stats.get('events_received', 0)} events in {stats.get('requests', 0)} requests; "
        f"{stats.get('events_accepted', 0)} accepted, {stats.get('duplicates', 0)} duplicates."
    )
    print(f"Full report: {REPORT.relative_to(ROOT)}; the sandbox's request log: {SANDBOX_LOG.relative_to(ROOT)}")
    print("=" * 78)
    if HTML_REPORT.exists():
        print(f"Run report (charts, findings, trends): {HTML_REPORT.relative_to(ROOT)}  ({HTML_REPORT.as_uri()})")


if __name__ == "__main__":
    raise SystemExit(main())
