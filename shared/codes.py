"""Short codes: generation (nanoid over base62 from a CSPRNG) and the rules for custom codes.

Pure standard library plus nanoid at generation time only, so the redirect path can import the
format check without paying for anything else.
"""

from __future__ import annotations

import re

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
DEFAULT_LENGTH = 8
MIN_GENERATED_LENGTH = 6
MAX_CODE_LENGTH = 20

CUSTOM_CODE = re.compile(r"[A-Za-z0-9_-]{3,20}")
# Anything a link could be stored under: generated (base62) or custom. The redirect answers a
# code outside this shape with 404 without reading the table.
POSSIBLE_CODE = re.compile(r"[A-Za-z0-9_-]{1,20}")

# Compared case-insensitively: the spec's list plus every first path segment that squrl routes
# itself (`_squrl` holds the local server's own pages).
RESERVED_CODES = frozenset(
    {
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
    }
)


def generate_code(length: int = DEFAULT_LENGTH) -> str:
    """A new random code: nanoid draws from os.urandom with a mask, so every symbol is uniform."""
    from nanoid import generate

    return str(generate(ALPHABET, length))


def is_possible_code(code: str) -> bool:
    return POSSIBLE_CODE.fullmatch(code) is not None


def custom_code_problem(code: str) -> str | None:
    """Why a custom code is refused (`format` or `reserved`), or None when it is acceptable."""
    if CUSTOM_CODE.fullmatch(code) is None:
        return "format"
    if code.lower() in RESERVED_CODES:
        return "reserved"
    return None
