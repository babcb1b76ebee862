"""The contract between CloudFront real-time logs (edge stack) and the click consumer (analytics).

The edge stack's real-time log configuration sends exactly FIELDS, and shared.clicks.records
splits each tab-separated record by the same tuple, so the two cannot disagree.

CloudFront writes a record's fields in its own fixed order (the order of the field reference in
the CloudFront Developer Guide, "Real-time log configuration fields"), whatever order the
configuration lists them in. FIELDS is therefore kept in that order; CLOUDFRONT_FIELD_ORDER holds
the documented order and a unit test checks FIELDS against it.

Privacy: no `c-ip`, no `x-forwarded-for`, no cookies, no query string field. `cs-user-agent`
travels only to the consumer, which reduces it to a device class and a bot flag and never stores
it; `cs-referer` is reduced to a domain. Values are URL-encoded by CloudFront; `-` means empty.

Standard library only, no imports: the consumer imports it on its hot path.
"""

from __future__ import annotations

# The documented field order (CloudFront Developer Guide, real-time logs). New fields are appended
# by AWS at the end.
CLOUDFRONT_FIELD_ORDER = (
    "timestamp",
    "c-ip",
    "time-to-first-byte",
    "sc-status",
    "sc-bytes",
    "cs-method",
    "cs-protocol",
    "cs-host",
    "cs-uri-stem",
    "cs-bytes",
    "x-edge-location",
    "x-edge-request-id",
    "x-host-header",
    "time-taken",
    "cs-protocol-version",
    "c-ip-version",
    "cs-user-agent",
    "cs-referer",
    "cs-cookie",
    "cs-uri-query",
    "x-edge-response-result-type",
    "x-forwarded-for",
    "ssl-protocol",
    "ssl-cipher",
    "x-edge-result-type",
    "fle-encrypted-fields",
    "fle-status",
    "sc-content-type",
    "sc-content-len",
    "sc-range-start",
    "sc-range-end",
    "c-port",
    "x-edge-detailed-result-type",
    "c-country",
    "cs-accept-encoding",
    "cs-accept",
    "cache-behavior-path-pattern",
    "cs-headers",
    "cs-header-names",
    "cs-headers-count",
)

# What a click needs, and nothing that identifies a person.
FIELDS = (
    "timestamp",  # epoch seconds with milliseconds, when the edge finished the response
    "sc-status",  # only 301/302/307/308 are clicks
    "cs-method",  # only GET is a click (HEAD is not, docs/api.md section 1)
    "cs-uri-stem",  # /{code}; real-time logs append the query string when there is one
    "x-edge-location",  # operations: which edge served it
    "x-edge-request-id",  # de-duplicates records delivered twice
    "cs-user-agent",  # reduced to device class and bot flag by the consumer, never stored
    "cs-referer",  # reduced to its domain by the consumer
    "c-country",  # two-letter country code
)

# Never sent: they identify a viewer or carry their secrets.
FORBIDDEN_FIELDS = frozenset({"c-ip", "x-forwarded-for", "cs-cookie", "cs-headers", "c-port"})


def parse_record(line: str) -> dict[str, str]:
    """One real-time log record as {field: raw value}. Raises ValueError on a wrong field count."""
    values = line.rstrip("\n").split("\t")
    if len(values) != len(FIELDS):
        raise ValueError(f"expected {len(FIELDS)} tab-separated fields, got {len(values)}")
    return dict(zip(FIELDS, values, strict=True))
