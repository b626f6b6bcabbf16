"""`target-snapchat-capi`, run exactly as its console script runs it, that also writes its main thread's CPU seconds.

    python benchmarks/target_main_thread.py OUT_FILE --config target.json < messages.jsonl

At exit, OUT_FILE gets `time.thread_time()` of the main thread (where records are decoded and handed to the event
builders; HTTP, the ledger and the delivery figures run in the sender threads), then the peak RSS (MB) of the
largest event-building worker (building.py) and the CPU seconds of the processes the target started and reaped.
bench.py divides the first by the records read to print the main thread's CPU per record, which issue 7 sets a goal
for, and shows the workers' figures beside the target's own.

The workers' peak is read from their `/proc/<pid>/status` (VmHWM) once a second while they run: `os.wait4` reports
only the larger of the target's and its workers' peaks, and a reaped child's `ru_maxrss` starts from its parent's
size at the fork before it became Python, not from its own.
"""

from __future__ import annotations

import atexit
import os
import resource
import sys
import threading
import time
from pathlib import Path

from target_snapchat_capi.target import TargetSnapchatCAPI

#: the highest VmHWM (KiB) seen of any child process, in its one slot
_worker_peak_kib = [0]


def main() -> None:
    out_file = Path(sys.argv.pop(1))
    atexit.register(_write_figures, out_file)
    threading.Thread(target=_watch_children, name="bench-watch-children", daemon=True).start()
    TargetSnapchatCAPI.cli()


def _watch_children() -> None:
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
    while True:
        for pid in children.read_text().split():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue  # it just ended
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    _worker_peak_kib[0] = max(_worker_peak_kib[0], int(line.split()[1]))
        time.sleep(1.0)


def _write_figures(out_file: Path) -> None:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = children.ru_utime + children.ru_stime
    out_file.write_text(f"{time.thread_time():.3f} {_worker_peak_kib[0] / 1024:.1f} {cpu:.3f}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
