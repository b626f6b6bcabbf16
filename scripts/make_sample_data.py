"""Write today's sample file of offline purchases for the demo: data/drops/offline_purchases_<YYYY-MM-DD>.csv.

    python scripts/make_sample_data.py --out data/drops --rows 300 [--seed 7] [--name FILE.csv]

The rows come from benchmarks/datagen.py (the one generator; the benchmark uses it too). Purchase times
fall in the 30 days before today (UTC), so the file is made at demo time; the same seed on the same day
gives the same file.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from datagen import sample_file_name, write_csv


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("data/drops"), help="folder to write into")
    parser.add_argument("--rows", type=int, default=300, help="number of data rows (default 300)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--name", default=None, help="file name (default: offline_purchases_<UTC day>.csv)")
    parser.add_argument(
        "--bad-fraction",
        type=float,
        default=0.03,
        help="share of rows with a defect on purpose (default 0.03)",
    )
    parser.add_argument(
        "--now",
        type=datetime.fromisoformat,
        default=None,
        help="pretend it is this ISO-8601 time (default: now, UTC); the file is named after its UTC day",
    )
    args = parser.parse_args(argv)
    if args.rows < 0:
        parser.error("--rows must be >= 0")
    if not 0.0 <= args.bad_fraction <= 1.0:
        parser.error("--bad-fraction must be between 0 and 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    now = args.now or datetime.now(UTC)
    path = write_csv(
        args.out / (args.name or sample_file_name(now)),
        args.rows,
        seed=args.seed,
        now=now,
        bad_fraction=args.bad_fraction,
    )
    print(f"wrote {args.rows} rows to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
