"""`target-snapchat-capi`, run exactly as its console script runs it, that also writes its main thread's CPU seconds.

    python benchmarks/target_main_thread.py OUT_FILE --config target.json < messages.jsonl

At exit, OUT_FILE gets `time.thread_time()` of the main thread (where records are decoded and handed to the event
builders; HTTP, the ledger and the delivery figures run in the sender threads), then the peak RSS (MB) and CPU
seconds of the processes the target started and reaped (its event-building workers, building.py). bench.py divides
the first by the records read to print the main thread's CPU per record, which issue 7 sets a goal for, and shows
the workers' figures beside the target's own: os.wait4 reports the larger of the two peaks, not their sum.
"""

from __future__ import annotations

import atexit
import resource
import sys
import time
from pathlib import Path

from target_snapchat_capi.target import TargetSnapchatCAPI


def main() -> None:
    out_file = Path(sys.argv.pop(1))
    atexit.register(_write_figures, out_file)
    TargetSnapchatCAPI.cli()


def _write_figures(out_file: Path) -> None:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = children.ru_utime + children.ru_stime
    out_file.write_text(f"{time.thread_time():.3f} {children.ru_maxrss / 1024:.1f} {cpu:.3f}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
