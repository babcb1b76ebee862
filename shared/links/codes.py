"""Short codes: generation (nanoid over base62 from a CSPRNG) and the rules for custom codes.

What any code may look like (alphabet, lengths, the format check the redirect uses) is
shared.contracts.codes; this module adds what only creating a link needs.
"""

from __future__ import annotations

import re

from shared.contracts.codes import ALPHABET, DEFAULT_LENGTH

CUSTOM_CODE = re.compile(r"[A-Za-z0-9_-]{3,20}")

# Compared case-insensitively: the spec's list plus every first path segment that squrl routes
# itself, now or in the routes docs/api.md sections 8-10 add (`/tokens`, `/imports`,
# `/openapi.json`, the web app at `/app/`), so that no link made today is later shadowed by a
# route (`_squrl` holds the local server's own pages).
RESERVED_CODES = frozenset(
    {
        "app",
        "tokens",
        "imports",
        "openapi",
        "urls",
        "create",
        "health",
        "api",
        "admin",
        "static",
        "assets",
        "docs",
        "login",
        "logout",
        "stats",
        "_squrl",
        # /urls/bulk is a path of its own: a link called `bulk` could never be read at
        # /urls/{code}.
        "bulk",
    }
)


def generate_code(length: int = DEFAULT_LENGTH) -> str:
    """A new random code: nanoid draws from os.urandom with a mask, so every symbol is uniform."""
    from nanoid import generate

    return str(generate(ALPHABET, length))


def custom_code_problem(code: str) -> str | None:
    """Why a custom code is refused (`format` or `reserved`), or None when it is acceptable."""
    if CUSTOM_CODE.fullmatch(code) is None:
        return "format"
    if code.lower() in RESERVED_CODES:
        return "reserved"
    return None
