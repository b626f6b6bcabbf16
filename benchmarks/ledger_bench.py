"""What the delivery ledger costs: batched lookups and writes for many events, on SQLite and on PostgreSQL.

    python benchmarks/ledger_bench.py [--events 1000000] [--batch-size 2000] [--backends sqlite,postgresql]

Per backend, on an empty ledger, two passes over the same event ids in batches, as the target does per batch:

  first run    already_delivered (nothing found) + record_delivered (one committed transaction per batch)
  second run   already_delivered only (everything found: a source read again, nothing is sent)

SQLite is a file in a temporary folder (WAL, synchronous=FULL: the default ledger). PostgreSQL is Debian's server
started on loopback by tests/servers/postgres.py with its durable defaults (fsync on). Each batch mixes two event
names, as a CRM stream with stage changes does. A benchmark prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from target_snapchat_capi.ledger import Ledger  # noqa: E402

from tests.servers.postgres import running_postgres  # noqa: E402

PIXEL = "11111111-2222-4333-8444-555555555555"


@contextmanager
def ledger_location(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="ledger-bench-") as folder:
            yield f"sqlite:///{Path(folder) / 'ledger.sqlite'}"
    else:
        with running_postgres(durable=True) as server:
            yield server.create_database("ledger_bench")


def batches(events: int, batch_size: int) -> Iterator[list[tuple[str, str]]]:
    for start in range(0, events, batch_size):
        yield [
            ("PURCHASE" if n % 4 else "CUSTOM_EVENT_1", f"order-{n:09d}")
            for n in range(start, min(start + batch_size, events))
        ]


def run(backend: str, events: int, batch_size: int) -> None:
    with ledger_location(backend) as url, Ledger.open(url) as ledger:
        lookup_ms: list[float] = []
        write_ms: list[float] = []
        started = time.perf_counter()
        for keys in batches(events, batch_size):
            t0 = time.perf_counter()
            found = ledger.already_delivered(PIXEL, keys)
            t1 = time.perf_counter()
            ledger.record_delivered(PIXEL, [key for key in keys if key not in found])
            t2 = time.perf_counter()
            lookup_ms.append((t1 - t0) * 1000)
            write_ms.append((t2 - t1) * 1000)
        first = time.perf_counter() - started
        again_ms: list[float] = []
        started = time.perf_counter()
        hits = 0
        for keys in batches(events, batch_size):
            t0 = time.perf_counter()
            hits += len(ledger.already_delivered(PIXEL, keys))
            again_ms.append((time.perf_counter() - t0) * 1000)
        second = time.perf_counter() - started
        assert hits == events, (hits, events)
        entries = sum(row.entries for row in ledger.summary())
        size = ""
        if backend == "sqlite":
            database = Path(url.removeprefix("sqlite:///"))
            size = f", file {sum(p.stat().st_size for p in database.parent.iterdir()) / 1e6:.0f} MB"
        print(f"{backend}: {entries:,} entries{size}")
        print(
            f"  first run : {first:7.1f} s, {events / first:9,.0f} events/s; per batch of {batch_size}: "
            f"lookup {statistics.median(lookup_ms):.1f} ms (p95 {_p95(lookup_ms):.1f}), "
            f"write {statistics.median(write_ms):.1f} ms (p95 {_p95(write_ms):.1f})"
        )
        print(
            f"  second run: {second:7.1f} s, {events / second:9,.0f} events/s; per batch: "
            f"lookup {statistics.median(again_ms):.1f} ms (p95 {_p95(again_ms):.1f})",
            flush=True,
        )


def _p95(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.95)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        run(backend.strip(), args.events, args.batch_size)


if __name__ == "__main__":
    main()
