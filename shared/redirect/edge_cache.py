"""A small in-memory cache of recent link lookups for one edge function instance.

CloudFront already caches answers per edge location, but the origin-request function runs in a
regional edge cache that many locations share, and sees every miss of each of them (and both
format variants of a path). Remembering a lookup for a few seconds saves the cross-region read
for hot codes and for floods of unknown codes. Answers built from a remembered lookup carry
`Age` (shared.redirect.core).

Bounds:
- size: at most `max_entries` codes, least recently used evicted first (a link item is at most a
  few KB, so 4096 entries stay well inside the function's memory);
- lifetime: `ttl` seconds, and never past the link's own `expires_at`, so an expired link is
  never answered from memory as active.

One Lambda instance handles one request at a time, so there is no locking.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from shared.redirect.answer import Link


@dataclass(frozen=True)
class Lookup:
    link: Link | None
    fetched_at: float
    valid_until: float


class LookupCache:
    def __init__(self, max_entries: int = 4096, ttl: float = 30.0):
        if max_entries < 1 or ttl < 0:
            raise ValueError("max_entries must be positive and ttl not negative")
        self.max_entries = max_entries
        self.ttl = ttl
        self._entries: OrderedDict[str, Lookup] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, code: str, now: float) -> Lookup | None:
        entry = self._entries.get(code)
        if entry is None:
            return None
        if now >= entry.valid_until or now < entry.fetched_at:
            # Expired, or the clock stepped back past the read: either way, read again.
            del self._entries[code]
            return None
        self._entries.move_to_end(code)
        return entry

    def put(self, code: str, link: Link | None, now: float) -> Lookup:
        valid_until = now + self.ttl
        if link is not None and link.expires_at is not None:
            valid_until = min(valid_until, float(link.expires_at))
        entry = Lookup(link=link, fetched_at=now, valid_until=valid_until)
        if valid_until > now:
            self._entries[code] = entry
            self._entries.move_to_end(code)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return entry

    def discard(self, code: str) -> None:
        """Forget one code's lookup (the local server does, as soon as the link changes)."""
        self._entries.pop(code, None)

    def clear(self) -> None:
        self._entries.clear()
