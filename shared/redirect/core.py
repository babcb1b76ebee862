"""One redirect core for both paths: validate the code, fetch the link, answer.

The regional handler (functions/redirect) and the edge handler (functions/edge_redirect) both
answer `GET /{code}` through a `Redirector`; they differ only in how the request arrives and the
response leaves, and in the edge's short in-memory cache of lookups. A fix to what a code means or
how a link is answered lands here, once.

Standard library only (the client is passed in).
"""

from __future__ import annotations

import math
from typing import Any

from shared.contracts.codes import is_possible_code
from shared.redirect.answer import Answer, answer, fetch_link, not_found
from shared.redirect.edge_cache import LookupCache


class Redirector:
    """Answers codes for one function instance.

    Without a cache (the regional path) every answer reads the table (or DAX). With one (the edge
    path), one GetItem per code per cache lifetime, and an answer built from a remembered lookup
    carries `Age`: the spec's headers as they are, and how old the lookup is, so downstream HTTP
    caches count the time spent here against the answer's lifetime (RFC 9111 section 4.2.3).
    """

    def __init__(self, client: Any, table_name: str, cache: LookupCache | None = None):
        self.client = client
        self.table_name = table_name
        self.cache = cache

    def answer(self, code: str, now: float, accept: str | None) -> Answer:
        """Raises whatever the read raises; a code that cannot exist is answered without one."""
        if not is_possible_code(code):
            return not_found(accept)
        if self.cache is None:
            return answer(code, fetch_link(self.client, self.table_name, code), now, accept)
        entry = self.cache.get(code, now)
        if entry is None:
            entry = self.cache.put(code, fetch_link(self.client, self.table_name, code), now)
            return answer(code, entry.link, now, accept)
        result = answer(code, entry.link, now, accept)
        result.headers["Age"] = str(max(0, math.ceil(now - entry.fetched_at)))
        return result
