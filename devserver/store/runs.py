"""A sorted sequence that a write replaces in O(log n + BLOCK) instead of copying it whole.

A `Run` is immutable: its entries sit in blocks of at most 2 * BLOCK sorted lists, and a write
builds a new Run that shares every block but the one it changed. So a reader holding a Run
walks it under no lock while writers publish new ones, as the store's readers need, and one
insert into a partition of n entries costs a bisection, one block copy (BLOCK entries) and a
tuple of n / BLOCK block references, not a copy of n entries.

Entries are compared as they are: the store keeps one type per key position (the attribute
definitions fix it), and a missing sort key is None in every entry of its index, which tuples
never compare with `<` because equal elements are skipped.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from typing import Any

BLOCK = 256

Position = tuple[int, int]  # (block, index within the block)


class Run:
    __slots__ = ("_blocks", "_lasts", "_size")

    def __init__(self, blocks: tuple[list[Any], ...], size: int, lasts: list[Any] | None = None):
        self._blocks = blocks
        self._lasts = [block[-1] for block in blocks] if lasts is None else lasts
        self._size = size

    @classmethod
    def of(cls, entries: list[Any]) -> Run:
        """A run of `entries`, which are sorted and distinct."""
        blocks = tuple(entries[i : i + BLOCK] for i in range(0, len(entries), BLOCK))
        return cls(blocks, len(entries))

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        for block in self._blocks:
            yield from block

    def __contains__(self, entry: Any) -> bool:
        j = bisect.bisect_left(self._lasts, entry)
        if j == len(self._blocks):
            return False
        block = self._blocks[j]
        i = bisect.bisect_left(block, entry)
        return i < len(block) and block[i] == entry

    def inserted(self, entry: Any) -> Run:
        if not self._blocks:
            return Run(([entry],), 1)
        j = min(bisect.bisect_left(self._lasts, entry), len(self._blocks) - 1)
        block = self._blocks[j]
        i = bisect.bisect_left(block, entry)
        if i < len(block) and block[i] == entry:
            return self
        changed = [*block[:i], entry, *block[i:]]
        if len(changed) > 2 * BLOCK:
            replacement: tuple[list[Any], ...] = (changed[:BLOCK], changed[BLOCK:])
        else:
            replacement = (changed,)
        lasts = [*self._lasts[:j], *(part[-1] for part in replacement), *self._lasts[j + 1 :]]
        return Run(self._blocks[:j] + replacement + self._blocks[j + 1 :], self._size + 1, lasts)

    def removed(self, entry: Any) -> Run | None:
        """The run without `entry` (itself if absent), or None once empty."""
        j = bisect.bisect_left(self._lasts, entry)
        if j == len(self._blocks):
            return self
        block = self._blocks[j]
        i = bisect.bisect_left(block, entry)
        if i == len(block) or block[i] != entry:
            return self
        if self._size == 1:
            return None
        changed = block[:i] + block[i + 1 :]
        replacement: tuple[list[Any], ...] = (changed,) if changed else ()
        lasts = [*self._lasts[:j], *(part[-1] for part in replacement), *self._lasts[j + 1 :]]
        return Run(self._blocks[:j] + replacement + self._blocks[j + 1 :], self._size - 1, lasts)

    def seek(self, reached: Callable[[Any], bool]) -> Position:
        """The first position whose entry is `reached` (False for every entry before it, True
        from there on), or the end."""
        j = bisect.bisect_left(self._lasts, True, key=reached)
        if j == len(self._blocks):
            return (j, 0)
        return (j, bisect.bisect_left(self._blocks[j], True, key=reached))

    def end(self) -> Position:
        return (len(self._blocks), 0)

    def forward(self, position: Position) -> Iterator[Any]:
        """The entries from `position` on, ascending."""
        j, i = position
        for block in self._blocks[j:]:
            yield from block[i:] if i else block
            i = 0

    def backward(self, position: Position) -> Iterator[Any]:
        """The entries before `position`, descending."""
        j, i = position
        if j < len(self._blocks) and i:
            yield from reversed(self._blocks[j][:i])
        for block in reversed(self._blocks[:j]):
            yield from reversed(block)


EMPTY = Run((), 0)
