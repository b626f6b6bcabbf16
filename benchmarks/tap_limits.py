"""The tap at its limits: many small files, a huge line without a newline, a gzip bomb (figures, not a test).

    python benchmarks/tap_limits.py many-files [--files 20000]
    python benchmarks/tap_limits.py long-line [--gb 2]
    python benchmarks/tap_limits.py gzip-bomb [--mb 1]

Each case runs the tap's CLI as a child process (stdout to a file) and reports its wall time and peak RSS (from
os.wait4), and for many-files the number and total bytes of the STATE messages next to the final state's size.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TAP = Path(sys.executable).parent / "tap-offline-csv"


def run_tap(config: dict, workdir: Path) -> tuple[float, float, Path, int]:
    """Run the tap; return (wall seconds, peak RSS MB, stdout path, exit code)."""
    config_path = workdir / "config.json"
    config_path.write_text(json.dumps(config))
    out_path = workdir / "out.jsonl"
    started = time.perf_counter()
    with out_path.open("wb") as out, (workdir / "tap.log").open("wb") as log:
        process = subprocess.Popen([str(TAP), "--config", str(config_path)], stdout=out, stderr=log)
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    return wall, usage.ru_maxrss / 1024, out_path, os.waitstatus_to_exitcode(status)


def many_files(workdir: Path, files: int) -> None:
    drops = workdir / "drops"
    drops.mkdir()
    for i in range(files):
        path = drops / f"drop_{i:06d}.csv"
        path.write_text(f"event_id,email,value\nev{i},user{i}@example.com,{i}.5\n")
        os.utime(path, (1_700_000_000 + i, 1_700_000_000 + i))
    wall, rss, out, code = run_tap({"path": str(drops / "*.csv"), "key_properties": ["event_id"]}, workdir)
    sizes, records = [], 0
    with out.open("rb") as lines:
        for line in lines:
            if line.startswith(b'{"type":"STATE"'):
                sizes.append(len(line))
            elif line.startswith(b'{"type":"RECORD"'):
                records += 1
    print(
        f"many-files: {files} files, exit {code}, {records} records, {wall:.1f} s, peak RSS {rss:.0f} MB, "
        f"{len(sizes)} STATE messages, {sum(sizes) / 1e6:.2f} MB of STATE in all, final state {sizes[-1] / 1e6:.2f} MB "
        f"({sum(sizes) / sizes[-1]:.1f}x)"
    )


def long_line(workdir: Path, gigabytes: float) -> None:
    path = workdir / "long.csv"
    block = b"x" * (1 << 20)
    with path.open("wb") as out:
        out.write(b"event_id,email\nev1,a@example.com\nev2,")
        for _ in range(int(gigabytes * 1024)):
            out.write(block)
    wall, rss, out_path, code = run_tap({"path": str(path)}, workdir)
    records = sum(1 for line in out_path.open("rb") if line.startswith(b'{"type":"RECORD"'))
    print(
        f"long-line: {gigabytes} GB line without a newline, exit {code}, {records} records, {wall:.1f} s, "
        f"peak RSS {rss:.0f} MB"
    )


def gzip_bomb(workdir: Path, megabytes: float) -> None:
    path = workdir / "bomb.csv.gz"
    # A header, one good row, then zeros: a few MB compressed, gigabytes of one line once decompressed.
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(b"event_id,email\nev1,a@example.com\nev2,")
        zeros = b"0" * (1 << 20)
        for _ in range(int(megabytes * 1024)):  # ~1 MB compressed per GB of zeros
            out.write(zeros)
    wall, rss, out_path, code = run_tap({"path": str(path)}, workdir)
    records = sum(1 for line in out_path.open("rb") if line.startswith(b'{"type":"RECORD"'))
    print(
        f"gzip-bomb: {path.stat().st_size / 1e6:.1f} MB compressed, {megabytes:.0f} GB inflated, exit {code}, "
        f"{records} records, {wall:.1f} s, peak RSS {rss:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("case", choices=["many-files", "long-line", "gzip-bomb"])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--gb", type=float, default=2.0)
    parser.add_argument("--mb", type=float, default=1.0, help="gzip-bomb: compressed size in MB (about 1 GB each)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tap_limits_") as tmp:
        workdir = Path(tmp)
        if args.case == "many-files":
            many_files(workdir, args.files)
        elif args.case == "long-line":
            long_line(workdir, args.gb)
        else:
            gzip_bomb(workdir, args.mb)


if __name__ == "__main__":
    main()
