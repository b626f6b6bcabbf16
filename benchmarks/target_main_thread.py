"""`target-snapchat-capi`, run exactly as its console script runs it, that also writes its main thread's CPU seconds.

    python benchmarks/target_main_thread.py OUT_FILE --config target.json < messages.jsonl

At exit, OUT_FILE gets `time.thread_time()` of the main thread (where records are decoded, mapped, normalised,
hashed and encoded; HTTP, the ledger and the delivery figures run in the sender threads). bench.py divides it by the
records read to print the main thread's CPU per record, which issue 7 sets a goal for.
"""

from __future__ import annotations

import atexit
import sys
import time
from pathlib import Path

from target_snapchat_capi.target import TargetSnapchatCAPI


def main() -> None:
    out_file = Path(sys.argv.pop(1))
    atexit.register(lambda: out_file.write_text(f"{time.thread_time():.3f}\n", encoding="utf-8"))
    TargetSnapchatCAPI.cli()


if __name__ == "__main__":
    main()
