"""The web app's serving contract (docs/web.md): where it lives, how long each file is cached and
the headers every answer carries, the same from the local server and from CloudFront.
"""

from __future__ import annotations

from collections.abc import Sequence

# Served at /app/ on the short domain; `app` is a reserved code (shared/links/codes.py).
PREFIX = "/app"
ASSETS_DIR = "assets"
INDEX = "index.html"
CONFIG = "config.json"

# The entry page and its configuration are asked for again every time (cheap 304s); the
# content-hashed assets never change under their names, so they are kept for a year.
INDEX_CACHE_CONTROL = "no-cache"
ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable"
ASSET_MAX_AGE_SECONDS = 31536000

# Besides the Content-Security-Policy.
REFERRER_POLICY = "no-referrer"
FRAME_OPTIONS = "DENY"


def content_security_policy(connect: Sequence[str] = ()) -> str:
    """No inline script or style, nothing from other origins but the API (and Cognito's token
    endpoint) it calls: `connect` lists those origins; locally the API is on the same origin."""
    directives = {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # data: for the empty favicon, blob: for the QR code preview.
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'", *connect],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "manifest-src": ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def security_headers(connect: Sequence[str] = ()) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(connect),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": REFERRER_POLICY,
        "X-Frame-Options": FRAME_OPTIONS,
    }
