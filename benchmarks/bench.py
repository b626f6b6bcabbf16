"""Throughput and peak memory of the tap, the target and the pipeline, next to two one-process baselines.

    python benchmarks/bench.py [--rows 1000000] [--bad-fraction 0] [--keep] [--profile] [--big-file-gb 1]

In one run, on the same generated file (benchmarks/datagen.py; valid rows only unless --bad-fraction):

  plain baseline  benchmarks/plain_baseline.py: csv + hashlib + phonenumbers, the contract's section 3 rules
                  written plainly, no project code; bodies of 2000 sent over one keep-alive connection to the
                  same sandbox. Every ratio in the table is against this one.
  baseline        benchmarks/baseline.py: csv + the target's EventBuilder + JSON bodies of 2000, not sent
  tap             tap-offline-csv → /dev/null
  target          a recorded Singer message file → target-snapchat-capi → the local sandbox over HTTP
  tap | target    a real OS pipe between the two processes → the local sandbox

Each stage is a child process started with subprocess.Popen and reaped with os.wait4, whose rusage gives
that child's own peak RSS (ru_maxrss) and CPU time. Wall time runs from spawn to exit, so interpreter
start-up counts. The sandbox (snapchat-capi-sandbox on a free port, full events stored only up to
--max-stored-events) is reset between stages so deduplication never turns a stage into a cheaper one.
A benchmark prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import datagen  # noqa: E402
from target_snapchat_capi.sandbox.launcher import SandboxProcess, SandboxStartError  # noqa: E402

BIN = Path(sys.executable).parent
TAP = BIN / "tap-offline-csv"
TARGET = BIN / "target-snapchat-capi"
#: the target as its console script runs it, also writing its main thread's CPU seconds to the file named first
TARGET_TIMED = [BIN / "python", HERE / "target_main_thread.py"]
SANDBOX = BIN / "snapchat-capi-sandbox"
SANDBOX_TOKEN = "sandbox-token"
SANDBOX_PIXEL = "11111111-2222-4333-8444-555555555555"
STREAM = "offline_conversions"
KEY_PROPERTIES = ["Order ID"]

Command = Sequence[str | os.PathLike[str]]


class BenchError(RuntimeError):
    """A stage failed or a piece is missing; the message says which and where its log is."""


@dataclass
class Measured:
    """One child process: wall time from spawn to exit, its own peak RSS and CPU seconds (from os.wait4)."""

    label: str
    returncode: int
    wall_seconds: float
    max_rss_mb: float
    cpu_seconds: float


@dataclass
class StageResult:
    name: str
    rows: int
    wall_seconds: float
    processes: list[Measured]
    notes: list[str] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.wall_seconds if self.wall_seconds else 0.0


# --- child processes ------------------------------------------------------------------------------


def _spawn(
    cmd: Command,
    *,
    stdin: Any = None,
    stdout: Any = None,
    stderr: Any = None,
) -> subprocess.Popen[bytes]:
    return subprocess.Popen([os.fspath(part) for part in cmd], stdin=stdin, stdout=stdout, stderr=stderr)


def _reap(proc: subprocess.Popen[bytes], label: str, started: float) -> Measured:
    """Wait for one child with os.wait4: its rusage is that child's alone (RUSAGE_CHILDREN sums them all)."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not try to reap it again
    return Measured(
        label=label,
        returncode=proc.returncode,
        wall_seconds=time.perf_counter() - started,
        max_rss_mb=usage.ru_maxrss / 1024,  # KiB on Linux
        cpu_seconds=usage.ru_utime + usage.ru_stime,
    )


def _check(measured: Sequence[Measured], logs: Sequence[Path]) -> None:
    failed = [m for m in measured if m.returncode != 0]
    if failed:
        tails = "\n".join(f"--- {log} (last lines) ---\n{_tail(log)}" for log in logs if log.exists())
        names = ", ".join(f"{m.label} exited {m.returncode}" for m in failed)
        raise BenchError(f"{names}\n{tails}")


def _tail(path: Path, lines: int = 15) -> str:
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 8000))
        return "\n".join(handle.read().decode("utf-8", "replace").splitlines()[-lines:])


def run_one(
    label: str, cmd: Command, *, stdin_path: Path | None, stdout_path: Path | None, log_path: Path
) -> tuple[Measured, Path]:
    with contextlib.ExitStack() as files:
        stdin = files.enter_context(stdin_path.open("rb")) if stdin_path else subprocess.DEVNULL
        stdout = files.enter_context(stdout_path.open("wb")) if stdout_path else subprocess.DEVNULL
        log = files.enter_context(log_path.open("wb"))
        started = time.perf_counter()
        proc = _spawn(cmd, stdin=stdin, stdout=stdout, stderr=log)
        try:
            measured = _reap(proc, label, started)
        except BaseException:
            proc.kill()
            raise
    _check([measured], [log_path])
    return measured, log_path


def run_pipe(tap_cmd: Command, target_cmd: Command,
             workdir: Path) -> list[Measured]:  # fmt: skip
    """tap | target through a real OS pipe, as a shell or Meltano runs them."""
    tap_log, target_log = workdir / "pipe-tap.log", workdir / "pipe-target.log"
    with tap_log.open("wb") as tap_err, target_log.open("wb") as target_err:
        started = time.perf_counter()
        tap = _spawn(tap_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=tap_err)
        assert tap.stdout is not None
        target = _spawn(target_cmd, stdin=tap.stdout, stdout=subprocess.DEVNULL, stderr=target_err)
        tap.stdout.close()  # the target holds the read end now; the tap sees EPIPE if the target dies
        try:
            measured = [_reap(tap, "tap", started), _reap(target, "target", started)]
        except BaseException:
            for proc in (tap, target):
                if proc.returncode is None:
                    proc.kill()
            raise
    _check(measured, [tap_log, target_log])
    return measured


# --- the sandbox ----------------------------------------------------------------------------------


class Sandbox(SandboxProcess):
    """snapchat-capi-sandbox as a child process on a port it picks itself (the project's one launcher)."""

    def __init__(self, workdir: Path, max_stored_events: int) -> None:
        extra = ["--max-stored-events", str(max_stored_events), "--log-level", "WARNING"]
        super().__init__(log_path=workdir / "sandbox.log", extra_args=extra)
        try:
            self.start()
        except SandboxStartError as error:
            raise BenchError(f"{error}:\n{_tail(workdir / 'sandbox.log')}") from None


# --- stages ---------------------------------------------------------------------------------------


def write_configs(workdir: Path, csv_path: Path, sandbox_url: str, args: argparse.Namespace) -> tuple[Path, Path]:
    tap_config = {
        "files": [{"name": STREAM, "path": str(csv_path), "key_properties": KEY_PROPERTIES}],
        "add_metadata_columns": True,
    }
    target_config = {
        "pixel_id": SANDBOX_PIXEL,
        "access_token": SANDBOX_TOKEN,
        "api_url": sandbox_url,
        "mapping": datagen.TARGET_MAPPING,
        "event_name_map": datagen.EVENT_NAME_MAP,
        "default_phone_country": "US",
        "default_currency": "USD",
        "batch_size": args.batch_size,
        "max_concurrency": args.max_concurrency,
        "reject_path": str(workdir / "rejects.jsonl"),
        "report_path": str(workdir / "report.json"),
        "report_html_path": str(workdir / "report.html"),
        "report_history_path": str(workdir / "report_history.jsonl"),
    }
    if args.no_ledger:
        target_config["ledger_url"] = ""
    if args.build_workers is not None:
        target_config["build_workers"] = args.build_workers
    tap_path, target_path = workdir / "tap.json", workdir / "target.json"
    tap_path.write_text(json.dumps(tap_config, indent=2), encoding="utf-8")
    target_path.write_text(json.dumps(target_config, indent=2), encoding="utf-8")
    return tap_path, target_path


def _target_config_for(base: Path, workdir: Path, stage: str) -> tuple[Path, Path]:
    """A copy of the target config whose report and rejects are this stage's own."""
    config = json.loads(base.read_text(encoding="utf-8"))
    report = workdir / f"report-{stage}.json"
    config["report_path"] = str(report)
    config["reject_path"] = str(workdir / f"rejects-{stage}.jsonl")
    config["report_html_path"] = str(workdir / f"report-{stage}.html")
    # Each stage its own fresh delivery ledger (the same events are sent by several stages), unless --no-ledger.
    if config.get("ledger_url") != "":
        config["ledger_url"] = f"sqlite:///{workdir / f'ledger-{stage}.sqlite'}"
    path = workdir / f"target-{stage}.json"
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return path, report


def _by_reason(counts: dict[str, int] | None) -> str:
    return f" ({', '.join(f'{reason} {count}' for reason, count in counts.items())})" if counts else ""


def _delivery_note(report_path: Path, sandbox: Sandbox, sandbox_cpu_before: float) -> list[str]:
    notes = []
    if report_path.exists():
        report = json.loads(report_path.read_text(encoding="utf-8"))
        notes.append(
            f"report: read {report.get('records_read')}, delivered {report.get('events_delivered')}, "
            f"rejected {report.get('events_rejected')}{_by_reason(report.get('rejected_by_reason'))}, "
            f"requests {report.get('requests')}, retries {report.get('retries')}, "
            f"target-reported {report.get('events_per_second')} events/s"
        )
    with contextlib.suppress(OSError, ValueError):
        stats = sandbox.get("/_sandbox/stats")
        keys = ("requests", "events_received", "events_accepted", "duplicates", "rejected_requests")
        counters = ", ".join(f"{key} {stats.get(key)}" for key in keys)
        cpu = sandbox.cpu_seconds() - sandbox_cpu_before
        notes.append(f"sandbox: {counters}; its CPU during the stage {cpu:.1f} s")
    return notes


def _main_thread_note(cpu_file: Path, records: int) -> str:
    """The target's main-thread CPU per record (start-up included), and its build workers' peak RSS and CPU, from
    target_main_thread.py's file."""
    try:
        seconds, *workers = (float(field) for field in cpu_file.read_text(encoding="utf-8").split())
    except (OSError, ValueError):
        return "target main thread: not measured"
    note = f"target main thread: {seconds:.1f} CPU s, {seconds / max(records, 1) * 1e6:.0f} µs per record"
    if len(workers) == 2 and workers[1] > 0:
        note += f"; build workers: peak RSS {workers[0]:.0f} MB (the largest), {workers[1]:.1f} CPU s in all"
    return note


def stage_baseline(workdir: Path, csv_path: Path, target_config: Path, rows: int) -> StageResult:
    out = workdir / "baseline.json"
    cmd: list[str | os.PathLike[str]] = [
        sys.executable,
        HERE / "baseline.py",
        "--file",
        csv_path,
        "--target-config",
        target_config,
    ]
    for key in KEY_PROPERTIES:
        cmd += ["--key-property", key]
    measured, _ = run_one("baseline", cmd, stdin_path=None, stdout_path=out, log_path=workdir / "baseline.log")
    result = json.loads(out.read_text(encoding="utf-8"))
    note = (
        f"baseline: {result['events']} events in {result['batches']} bodies "
        f"({result['body_bytes'] / 1e6:.0f} MB), rejected {result['rejected']}"
        f"{_by_reason(result['rejected_by_reason'])}, in-process {result['seconds']} s"
    )
    return StageResult("baseline (1 process)", rows, measured.wall_seconds, [measured], [note])


def stage_plain(workdir: Path, csv_path: Path, target_config: Path, rows: int, sandbox: Sandbox) -> StageResult:
    """The plain script: the yardstick, delivering to the same sandbox as the target does."""
    sandbox.reset()
    out = workdir / "plain.json"
    cmd: list[str | os.PathLike[str]] = [
        sys.executable, HERE / "plain_baseline.py", "--file", csv_path, "--target-config", target_config,
    ]  # fmt: skip
    sandbox_cpu = sandbox.cpu_seconds()
    measured, _ = run_one("plain", cmd, stdin_path=None, stdout_path=out, log_path=workdir / "plain.log")
    result = json.loads(out.read_text(encoding="utf-8"))
    notes = [
        f"plain: {result['events']} events delivered in {result['requests']} requests "
        f"({result['body_bytes'] / 1e6:.0f} MB, {result['failed_requests']} failed), skipped {result['skipped']}"
        f"{_by_reason(result['skipped_by_reason'])}, in-process {result['seconds']} s",
        *_delivery_note(workdir / "no-report", sandbox, sandbox_cpu),
    ]
    return StageResult("plain baseline (1 process)", rows, measured.wall_seconds, [measured], notes)


def stage_tap(workdir: Path, tap_config: Path, rows: int, name: str = "tap → /dev/null") -> StageResult:
    measured, _ = run_one(
        "tap", [TAP, "--config", tap_config], stdin_path=None, stdout_path=None, log_path=workdir / "tap.log"
    )
    return StageResult(name, rows, measured.wall_seconds, [measured])


def record_messages(workdir: Path, tap_config: Path) -> tuple[Path, int]:
    """The tap's output saved once, for the target-alone stage (not timed as a stage)."""
    messages = workdir / "messages.jsonl"
    run_one("tap", [TAP, "--config", tap_config], stdin_path=None, stdout_path=messages,
            log_path=workdir / "record.log")  # fmt: skip
    with messages.open("rb") as handle:
        records = sum(1 for line in handle if b'"type":"RECORD"' in line or b'"type": "RECORD"' in line)
    return messages, records


def stage_target(workdir: Path, target_config: Path, messages: Path, records: int, sandbox: Sandbox) -> StageResult:
    sandbox.reset()
    config, report = _target_config_for(target_config, workdir, "target")
    sandbox_cpu = sandbox.cpu_seconds()
    main_cpu = workdir / "main-thread-target.txt"
    measured, _ = run_one("target", [*TARGET_TIMED, main_cpu, "--config", config], stdin_path=messages,
                          stdout_path=None, log_path=workdir / "target.log")  # fmt: skip
    notes = [*_delivery_note(report, sandbox, sandbox_cpu), _main_thread_note(main_cpu, records)]
    return StageResult("target ← file → sandbox", records, measured.wall_seconds, [measured], notes)


def stage_pipeline(workdir: Path, tap_config: Path, target_config: Path, rows: int, sandbox: Sandbox) -> StageResult:
    sandbox.reset()
    config, report = _target_config_for(target_config, workdir, "pipe")
    sandbox_cpu = sandbox.cpu_seconds()
    main_cpu = workdir / "main-thread-pipe.txt"
    measured = run_pipe([TAP, "--config", tap_config], [*TARGET_TIMED, main_cpu, "--config", config], workdir)
    wall = max(m.wall_seconds for m in measured)
    notes = [*_delivery_note(report, sandbox, sandbox_cpu), _main_thread_note(main_cpu, rows)]
    return StageResult("tap | target → sandbox", rows, wall, measured, notes)


def profile_target(workdir: Path, target_config: Path, messages: Path, sandbox: Sandbox, top: int) -> str:
    """The target alone under cProfile (main thread: the per-record work; HTTP runs in worker threads)."""
    sandbox.reset()
    config, _ = _target_config_for(target_config, workdir, "profile")
    profile = workdir / "target.prof"
    cmd: list[str | os.PathLike[str]] = [
        sys.executable,
        "-m",
        "cProfile",
        "-o",
        profile,
        TARGET,
        "--config",
        config,
    ]
    run_one("target (cProfile)", cmd, stdin_path=messages, stdout_path=None, log_path=workdir / "profile.log")
    text = _ProfileText()
    stats = pstats.Stats(str(profile), stream=text)  # type: ignore[arg-type]
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return text.value()


class _ProfileText:
    def __init__(self) -> None:
        self._parts: list[str] = []

    def write(self, text: str) -> int:
        self._parts.append(text)
        return len(text)

    def value(self) -> str:
        return "".join(self._parts)


# --- output ---------------------------------------------------------------------------------------


def print_table(results: Sequence[StageResult], baseline_rps: float | None) -> None:
    """One line per stage; ``x plain`` is its rows per second over the plain baseline's.

    ``CPU µs/row`` adds up the stage's processes: on a busy machine, where wall time mostly measures waiting for a
    core, it is the steadier figure.
    """
    columns = (("stage", "<26"), ("rows", ">10"), ("wall s", ">8"), ("rows/s", ">9"), ("x plain", ">7"),
               ("peak RSS MB", ">18"), ("CPU s", ">14"), ("CPU µs/row", ">10"))  # fmt: skip
    header = " ".join(f"{name:{spec}}" for name, spec in columns)
    print(header)
    print("-" * len(header))
    for result in results:
        ratio = f"{result.rows_per_second / baseline_rps:.2f}" if baseline_rps else "-"
        rss = " / ".join(f"{m.max_rss_mb:.0f}" for m in result.processes)
        cpu = " / ".join(f"{m.cpu_seconds:.1f}" for m in result.processes)
        per_row = sum(m.cpu_seconds for m in result.processes) / result.rows * 1e6 if result.rows else 0.0
        print(
            f"{result.name:<26} {result.rows:>10,} {result.wall_seconds:>8.1f} "
            f"{result.rows_per_second:>9,.0f} {ratio:>7} {rss:>18} {cpu:>14} {per_row:>10.0f}"
        )
    if any(len(result.processes) > 1 for result in results):
        print("(pipeline: peak RSS and CPU are tap / target)")
    for result in results:
        for note in result.notes:
            print(f"  {result.name}: {note}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows to generate (default 1,000,000)")
    parser.add_argument("--bad-fraction", type=float, default=0.0,
                        help="share of rows with a defect (default 0: valid rows only)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--max-concurrency", type=int, default=4)
    parser.add_argument("--max-stored-events", type=int, default=20_000,
                        help="sandbox: keep full events only up to this many (memory)")  # fmt: skip
    parser.add_argument("--stages", default="plain,baseline,tap,target,pipe",
                        help="comma-separated subset of plain,baseline,tap,target,pipe")  # fmt: skip
    parser.add_argument("--profile", action="store_true", help="also profile the target alone with cProfile")
    parser.add_argument("--no-ledger", action="store_true", help="run the target without its delivery ledger")
    parser.add_argument("--build-workers", type=int, default=None,
                        help="the target's build_workers (default: the target's own default)")  # fmt: skip
    parser.add_argument("--profile-top", type=int, default=25)
    parser.add_argument("--big-file-gb", type=float, default=None,
                        help="also measure the tap's peak memory on a file this many GB big")  # fmt: skip
    parser.add_argument("--workdir", type=Path, default=None, help="work folder (default: a new temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (data, configs, logs, reports)")
    return parser.parse_args(argv)


@contextlib.contextmanager
def _workdir(args: argparse.Namespace) -> Iterator[Path]:
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        yield args.workdir
        return
    path = Path(tempfile.mkdtemp(prefix="capi-bench-"))
    try:
        yield path
    finally:
        if args.keep:
            print(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stages = set(args.stages.split(","))
    for executable in (TAP, TARGET, SANDBOX):
        if not executable.exists():
            raise BenchError(f"{executable} is missing: install the project first (make install)")
    now = datetime.now(UTC)
    print(
        f"benchmark {now:%Y-%m-%d %H:%M} UTC · Python {platform.python_version()} · {os.cpu_count()} CPUs · "
        f"{args.rows:,} rows, {'valid only' if not args.bad_fraction else f'{args.bad_fraction:.1%} bad'}"
    )
    with _workdir(args) as workdir:
        csv_path = workdir / datagen.sample_file_name(now)
        started = time.perf_counter()
        datagen.write_csv(csv_path, args.rows, seed=args.seed, now=now, bad_fraction=args.bad_fraction)
        print(f"generated {csv_path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - started:.1f} s")
        sandbox = Sandbox(workdir, args.max_stored_events)
        results: list[StageResult] = []
        baseline_rps: float | None = None
        results_printed = False
        try:
            tap_config, target_config = write_configs(workdir, csv_path, sandbox.url, args)
            messages: Path | None = None
            for stage in ("plain", "baseline", "tap", "target", "pipe"):
                if stage not in stages:
                    continue
                if stage == "plain":
                    result = stage_plain(workdir, csv_path, target_config, args.rows, sandbox)
                    baseline_rps = result.rows_per_second
                elif stage == "baseline":
                    result = stage_baseline(workdir, csv_path, target_config, args.rows)
                elif stage == "tap":
                    result = stage_tap(workdir, tap_config, args.rows)
                elif stage == "target":
                    messages, records = record_messages(workdir, tap_config)
                    result = stage_target(workdir, target_config, messages, records, sandbox)
                else:
                    result = stage_pipeline(workdir, tap_config, target_config, args.rows, sandbox)
                results.append(result)
                print(f"  {result.name}: {result.wall_seconds:.1f} s", flush=True)
            _print_results(results, baseline_rps, sandbox)
            results_printed = True
            if args.profile:
                if messages is None:
                    messages, _ = record_messages(workdir, tap_config)
                print("\nProfile of the target alone (cProfile, main thread):", flush=True)
                print(profile_target(workdir, target_config, messages, sandbox, args.profile_top))
        finally:
            if not results_printed:  # figures measured before a failure are still worth seeing
                _print_results(results, baseline_rps, sandbox)
            sandbox.stop()
        if args.big_file_gb:
            big_file(workdir, args, now, small=next((r for r in results if r.name.startswith("tap →")), None))
    return 0


def _print_results(results: Sequence[StageResult], baseline_rps: float | None, sandbox: Sandbox) -> None:
    print()
    print_table(results, baseline_rps)
    sandbox_rss = sandbox.peak_rss_mb()
    if sandbox_rss is not None:
        print(f"  sandbox peak RSS: {sandbox_rss:.0f} MB")


def big_file(workdir: Path, args: argparse.Namespace, now: datetime, small: StageResult | None) -> None:
    """The tap's peak memory on a big file: it must stay flat in the file's size (goal: < 150 MB for 1 GB)."""
    big_dir = workdir / "big"
    big_path = big_dir / "big.csv"
    started = time.perf_counter()
    rows = datagen.write_big_csv(big_path, int(args.big_file_gb * 1e9), seed=args.seed, now=now)
    size_gb = big_path.stat().st_size / 1e9
    print(f"\nbig file: {size_gb:.2f} GB, {rows:,} rows, written in {time.perf_counter() - started:.0f} s")
    config = big_dir / "tap.json"
    config.write_text(json.dumps({"files": [{"name": STREAM, "path": str(big_path)}]}), encoding="utf-8")
    result = stage_tap(big_dir, config, rows, name=f"tap → /dev/null, {size_gb:.1f} GB")
    print_table([r for r in (small, result) if r is not None], None)
    big_path.unlink()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        sys.exit(1)
