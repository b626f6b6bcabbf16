"""An exact, compact set of 64-bit id hashes: 8 to 16 bytes an id, where a Python set of ints takes about 60.

The run report counts events whose order id an earlier event of the run already had (accounting.py). A run of a
million events remembers a million ids; as a `set[int]` that was 60 MB of the target's memory, here it is 16 MB.
Open addressing with linear probing over `array("q")` tables, each kept at most half full so a probe ends within a
slot or two. Zero marks an empty slot, so the hash 0 is stored as 1 (two ids whose hashes differ only that way count
as one: a chance of 2**-63).

The hashes are spread over `SHARDS` tables by their high bits (Python's string hashes are uniform in every bit), and
each table doubles on its own: growing copies one small table, never the whole set. One table of a million ids held
its old 8 MB beside the new 16 MB while it doubled, and that 24 MB moment set the target's peak memory.
"""

from __future__ import annotations

from array import array
from typing import Final

_EMPTY: Final = 0
#: Tables; the `_SHARD_BITS` bits below a hash's sign bit pick its table, its low bits its slot there.
_SHARD_BITS: Final = 6
SHARDS: Final = 1 << _SHARD_BITS
_SHARD_SHIFT: Final = 63 - _SHARD_BITS
#: Slots of each table at first: 64 tables of 8 KB (512 KB, as the one table of 65,536 slots was).
_FIRST_SLOTS: Final = 1 << 10


class SeenIds:
    """Remembers up to `limit` hashes; `seen(key)` says whether `key` was remembered before, and remembers it."""

    __slots__ = ("_count", "_filled", "_limit", "_tables")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._tables = [array("q", (_EMPTY,)) * _FIRST_SLOTS for _ in range(SHARDS)]
        #: keys held by each table
        self._filled = [0] * SHARDS
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @property
    def full(self) -> bool:
        """No new key is remembered any more (repeats of the keys already held are still seen)."""
        return self._count >= self._limit

    @property
    def nbytes(self) -> int:
        """The bytes the tables hold."""
        return sum(table.itemsize * len(table) for table in self._tables)

    def seen(self, key: int) -> bool:
        """True when `key` was remembered before; else remember it (unless full) and return False."""
        key = key or 1
        shard = (key >> _SHARD_SHIFT) & (SHARDS - 1)
        slots = self._tables[shard]
        mask = len(slots) - 1
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
        filled = self._filled[shard] = self._filled[shard] + 1
        if 2 * filled > len(slots):
            self._tables[shard] = _doubled(slots)
        return False


def _doubled(old: array[int]) -> array[int]:
    """`old`'s keys in a table twice its size."""
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
    return slots
