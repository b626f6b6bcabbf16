"""SeenIds against a plain Python set: the same answers, in a fraction of the memory."""

from __future__ import annotations

import random
import tracemalloc

from target_snapchat_capi.seen_ids import SeenIds


def test_answers_like_a_set_over_random_and_colliding_keys() -> None:
    generator = random.Random(7)
    seen, reference = SeenIds(limit=10**9), set()
    # Random 64-bit hashes, negative ones, and keys sharing their low bits (long probe runs), each several times.
    keys = [generator.randrange(-(2**63), 2**63) for _ in range(60_000)]
    keys += [(index << 20) | 5 for index in range(2_000)]
    keys += [-1, -2, 2**63 - 1, -(2**63)]
    keys = keys * 2
    generator.shuffle(keys)
    for key in keys:
        assert seen.seen(key) is (key in reference)
        reference.add(key)
    assert len(seen) == len(reference)


def test_zero_is_remembered_like_any_key() -> None:
    seen = SeenIds(limit=10)
    assert seen.seen(0) is False
    assert seen.seen(0) is True


def test_past_the_limit_new_keys_are_not_remembered_but_old_ones_still_seen() -> None:
    seen = SeenIds(limit=3)
    assert [seen.seen(key) for key in (10, 20, 30)] == [False, False, False]
    assert seen.full
    assert seen.seen(40) is False
    assert seen.seen(40) is False, "not remembered: the memory is full"
    assert seen.seen(20) is True
    assert len(seen) == 3


def test_a_million_ids_take_about_16_mb() -> None:
    seen = SeenIds(limit=1_000_000)
    for key in range(1, 1_000_001):
        seen.seen(key * 0x9E3779B97F4A7C15 % 2**63)
    assert len(seen) == 1_000_000
    held = seen.nbytes
    assert held <= 16.1 * 2**20, f"{held / 2**20:.1f} MB"


def test_growing_never_holds_two_copies_of_the_ids() -> None:
    """Regression: the one table of a million ids doubled at 524,288 of them and held its old 8 MB beside the new
    16 MB, and that moment set the target's peak memory. Here 300,000 ids (the one table: 4 MB beside 8 at 262,144);
    growing one table of several must stay far below that."""
    keys = [key * 0x9E3779B97F4A7C15 % 2**64 - 2**63 for key in range(1, 300_001)]  # spread like str hashes
    tracemalloc.start()
    try:
        seen = SeenIds(limit=1_000_000)
        for key in keys:
            seen.seen(key)
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(seen) == 300_000
    assert held <= 8.1 * 2**20, f"{held / 2**20:.1f} MB held"
    assert peak <= held + 2**20, f"{peak / 2**20:.1f} MB at the peak, {held / 2**20:.1f} MB held after"
