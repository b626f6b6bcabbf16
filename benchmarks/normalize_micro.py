"""Per-call cost of the target's cell rules (normalise + hash per user field, event time, value), in µs.

Runs each preparer over one column of `datagen.py`'s realistic rows (names, cities, states and countries
repeat as in real files; emails, phones and zips do not) and prints the best of `--repeat` passes, per call.
Standard library plus the target package; prints figures, fails nothing.

    .venv/bin/python benchmarks/normalize_micro.py                  # 50,000 rows
    .venv/bin/python benchmarks/normalize_micro.py --rows 200000 --repeat 5

To compare with another version of the rules, put that version's ``target_snapchat_capi`` package first on
the path: ``PYTHONPATH=/tmp/old .venv/bin/python benchmarks/normalize_micro.py`` (``git show REV:path`` of
``normalize.py`` and ``cells.py`` into ``/tmp/old/target_snapchat_capi/`` with an empty ``__init__.py``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import datagen
from target_snapchat_capi import cells, normalize


def best_per_call_us(function: Callable[..., Any], arguments: Sequence[tuple[Any, ...]], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for args in arguments:
            function(*args)
        best = min(best, time.perf_counter() - start)
    return best / max(len(arguments), 1) * 1e6


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args(argv)

    rows = list(datagen.generate_rows(options.rows, seed=options.seed, bad_fraction=0.0))
    column = {name: index for index, name in enumerate(datagen.HEADER)}

    def cells_of(name: str) -> list[str]:
        return [row[column[name]] for row in rows]

    countries = cells_of("Country")
    row_countries = [normalize.normalize_country(text) if text.strip() else None for text in countries]
    cases: dict[str, tuple[Callable[..., Any], list[tuple[Any, ...]]]] = {
        "em": (normalize.prepare_em, [(text,) for text in cells_of("Email")]),
        "ph": (
            normalize.prepare_ph,
            [(text, country, "US") for text, country in zip(cells_of("Phone"), row_countries, strict=True)],
        ),
        "fn": (normalize.prepare_fn, [(text,) for text in cells_of("First Name")]),
        "ln": (normalize.prepare_ln, [(text,) for text in cells_of("Last Name")]),
        "ct": (normalize.prepare_ct, [(text,) for text in cells_of("City")]),
        "st": (normalize.prepare_st, [(text,) for text in cells_of("State")]),
        "zp": (
            normalize.prepare_zp,
            [(text, country) for text, country in zip(cells_of("Zip Code"), row_countries, strict=True)],
        ),
        "country": (normalize.prepare_country, [(text,) for text in countries if text.strip()]),
        "event_time": (cells.parse_event_time, [(text,) for text in cells_of("Purchased At")]),
        "value": (cells.parse_value, [(text,) for text in cells_of("Amount")]),
    }
    total = 0.0
    print(f"{options.rows:,} rows, best of {options.repeat}; µs per call (normalise + hash)")
    for field, (function, arguments) in cases.items():
        function(*arguments[0])  # warm up lazily built tables outside the timing
        per_call = best_per_call_us(function, arguments, options.repeat)
        total += per_call
        print(f"  {field:<11} {per_call:7.2f}")
    print(f"  {'all':<11} {total:7.2f}")


if __name__ == "__main__":
    main()
