"""How a click line is marked, so the subscription filter and the decoder agree.

The regional redirect writes each click as a JSON line carrying `"squrl_click": 1`; the Logs
subscription filter (cdk_constructs) selects exactly those lines, and the stream decoder
(shared.clicks.records) recognizes them by the same key.
"""

from __future__ import annotations

MARKER = "squrl_click"
SUBSCRIPTION_FILTER_PATTERN = f"{{ $.{MARKER} = 1 }}"
