"""An exact, compact set of 64-bit id hashes: 8 to 16 bytes an id, where a Python set of ints takes about 60.

The run report counts events whose order id an earlier event of the run already had (accounting.py). A run of a
million events remembers a million ids; as a `set[int]` that was 60 MB of the target's memory, here it is 16 MB.
Open addressing with linear probing over one `array("q")`, kept at most half full so a probe ends within a slot or
two. Zero marks an empty slot, so the hash 0 is stored as 1 (two ids whose hashes differ only that way count as one:
a chance of 2**-63).
"""

from __future__ import annotations

from array import array
from typing import Final

_EMPTY: Final = 0
_FIRST_SLOTS: Final = 1 << 16


class SeenIds:
    """Remembers up to `limit` hashes; `seen(key)` says whether `key` was remembered before, and remembers it."""

    __slots__ = ("_count", "_limit", "_mask", "_slots")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._slots = array("q", (_EMPTY,)) * _FIRST_SLOTS
        self._mask = _FIRST_SLOTS - 1
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @property
    def full(self) -> bool:
        """No new key is remembered any more (repeats of the keys already held are still seen)."""
        return self._count >= self._limit

    def seen(self, key: int) -> bool:
        """True when `key` was remembered before; else remember it (unless full) and return False."""
        key = key or 1
        slots, mask = self._slots, self._mask
        index = key & mask
        while True:
            held = slots[index]
            if held == key:
                return True
            if held == _EMPTY:
                break
            index = (index + 1) & mask
        if self._count >= self._limit:
            return False
        slots[index] = key
        self._count += 1
        if 2 * self._count > len(slots):
            self._grow()
        return False

    def _grow(self) -> None:
        old = self._slots
        size = 2 * len(old)
        slots = array("q", (_EMPTY,)) * size
        mask = size - 1
        for key in old:
            if key == _EMPTY:
                continue
            index = key & mask
            while slots[index] != _EMPTY:
                index = (index + 1) & mask
            slots[index] = key
        self._slots, self._mask = slots, mask
