"""Click recording hand-off point for the redirect.

`recorder()` returns a callable `(code, headers) -> None` that must add no more than one
non-blocking call to the redirect path, or None when click streaming is not configured
(SQURL_CLICK_STREAM empty).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

ClickRecorder = Callable[[str, Mapping[str, str]], None]


def recorder() -> ClickRecorder | None:
    return None
