"""What a short code can look like, wherever one is read: the API, both redirect paths, the
click decoders and the configuration that sets the generated length.

Standard library only: the redirect imports this module on the hot path.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

# nanoid's alphabet for generated codes: base62, case-sensitive.
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
DEFAULT_LENGTH = 8
MIN_GENERATED_LENGTH = 6
MAX_CODE_LENGTH = 20

# Anything a link could be stored under: generated (base62) or custom. The redirect answers a
# code outside this shape with 404 without reading the table.
POSSIBLE_CODE = re.compile(r"[A-Za-z0-9_-]{1,20}")


def is_possible_code(code: str) -> bool:
    return POSSIBLE_CODE.fullmatch(code) is not None


def code_from_path(path: str) -> str:
    """The code a raw (still percent-encoded) request path names: `/%50e` is `Pe`.

    Used wherever squrl sees the path as the viewer sent it (CloudFront's origin request, its
    real-time logs), so a percent-encoded code is answered and counted as the code it spells.
    API Gateway's `pathParameters` arrive decoded already and must not be decoded twice.
    """
    return unquote(path[1:]) if path.startswith("/") else ""
