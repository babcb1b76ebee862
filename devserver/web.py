"""The web app at /app/ on the local server, served as CloudFront serves it from S3 (docs/web.md).

The app is built (tools/build_web.py) when the server starts, so `make dev` always serves what is
in web/. `index.html` and `config.json` are `no-cache`; the content-hashed assets are cached for a
year; every answer carries the Content-Security-Policy CloudFront's response headers policy sends.
"""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path

from devserver.lambda_shapes import ProxyResult
from shared.contracts import web

REPO_ROOT = Path(__file__).resolve().parents[1]
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


class WebApp:
    """Answers GET/HEAD under /app; everything else is the API's (`answer` returns None)."""

    def __init__(self, root: Path, config: dict[str, object] | None = None):
        self.root = root
        self.config = json.dumps(config or {"api_base_url": "", "cognito": None}).encode()
        self.headers = web.security_headers()

    @classmethod
    def build(cls, out: Path | None = None) -> WebApp | None:
        """Builds web/ into `out` (default .build/web); None when there is no web/ to build."""
        from tools import build_web

        if not (build_web.SOURCE / "index.html").is_file():
            return None
        built = build_web.build(build_web.SOURCE, out or build_web.OUT)
        return cls(built.out)

    def answer(self, method: str, path: str) -> ProxyResult | None:
        if path != web.PREFIX and not path.startswith(f"{web.PREFIX}/"):
            return None
        if method not in ("GET", "HEAD"):
            return self._plain(405, "Method not allowed.", {"Allow": "GET, HEAD"})
        if path == web.PREFIX:
            return self._plain(301, "", {"Location": f"{web.PREFIX}/"})
        name = path[len(web.PREFIX) + 1 :] or web.INDEX
        if name == web.CONFIG:
            return self._file(self.config, ".json", web.INDEX_CACHE_CONTROL)
        if name == web.INDEX:
            return self._from_disk(web.INDEX, web.INDEX_CACHE_CONTROL)
        if name.startswith(f"{web.ASSETS_DIR}/") and "/" not in name[len(web.ASSETS_DIR) + 1 :]:
            return self._from_disk(name, web.ASSET_CACHE_CONTROL)
        return self._plain(404, "Not found.")

    def _from_disk(self, name: str, cache_control: str) -> ProxyResult:
        target = self.root / name
        if not target.is_file() or target.name.startswith("."):
            return self._plain(404, "Not found.")
        return self._file(target.read_bytes(), target.suffix, cache_control)

    def _file(self, body: bytes, suffix: str, cache_control: str) -> ProxyResult:
        content_type = CONTENT_TYPES.get(suffix) or mimetypes.guess_type(f"x{suffix}")[0]
        headers = {
            **self.headers,
            "Content-Type": content_type or "application/octet-stream",
            "Cache-Control": cache_control,
        }
        return ProxyResult(200, headers, body)

    def _plain(self, status: int, text: str, extra: dict[str, str] | None = None) -> ProxyResult:
        headers = {
            **self.headers,
            "Content-Type": "text/plain; charset=utf-8",
            "Cache-Control": "no-cache",
            **(extra or {}),
        }
        return ProxyResult(status, headers, text.encode())
