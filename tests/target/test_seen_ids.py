"""SeenIds against a plain Python set: the same answers, in a fraction of the memory."""

from __future__ import annotations

import random
import sys

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
    held = sys.getsizeof(seen._slots)
    assert held <= 16.1 * 2**20, f"{held / 2**20:.1f} MB"
