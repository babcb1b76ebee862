"""Headers and statuses the redirect paths, the edge stack and the local CloudFront agree on."""

from __future__ import annotations

# The redirect statuses a link may answer with (docs/api.md section 2); the first is the default.
REDIRECT_STATUSES = (301, 302, 307, 308)
DEFAULT_REDIRECT_STATUS = 301
PERMANENT_REDIRECTS = frozenset({301, 308})
# Browsers and caches may keep a permanent redirect this long (the edge's cache policy caps its
# TTL at the same value), a temporary one this long in shared caches only.
MAX_PERMANENT_AGE = 3600
MAX_TEMPORARY_SHARED_AGE = 60

# Custom header CloudFront adds to requests it sends to each origin of the origin group, so the
# edge function knows whether it runs before the primary or the failover origin, and the
# regional WAF can tell CloudFront's fallback reads apart.
ORIGIN_ROLE_HEADER = "x-squrl-origin-role"
PRIMARY = "primary"
FAILOVER = "failover"

# Set by the viewer-request CloudFront Function (functions/edge_format/edge_format.js); the
# cache key's only header.
FORMAT_HEADER = "x-squrl-format"
HTML = "html"
JSON = "json"
# The Accept each format stands for: prefers_html(CANONICAL_ACCEPT[f]) == (f == HTML).
CANONICAL_ACCEPT = {HTML: "text/html", JSON: "application/json"}

HEALTH_PATH = "/health"

# What a browser may send to the API and read from its answers (CORS), the same in the API's
# preflight answers (cdk_constructs/api/links_api.py, the local gateway) and in the functions'.
CORS_ALLOW_HEADERS = (
    "Content-Type",
    "Authorization",
    "X-Api-Key",
    "If-Match",
    "Idempotency-Key",
)
CORS_EXPOSE_HEADERS = ("Location", "ETag", "Idempotent-Replayed")

# The error code of a 405: a declared path asked with a method it does not declare
# (docs/api.md section 9); the answer's `Allow` header lists the declared ones.
METHOD_NOT_ALLOWED = "MethodNotAllowed"
