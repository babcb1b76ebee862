"""The web app's build and serving (docs/web.md): content-hashed names, the first-load budget,
and the headers the local server sends, which are CloudFront's."""

from __future__ import annotations

import re
import shutil
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from shared.contracts import web
from tools import build_web

pytestmark = pytest.mark.xdist_group("web")

BUDGET_BYTES = 50 * 1024


def test_first_load_is_within_50_kb_gzip(tmp_path: Path) -> None:
    built = build_web.build(build_web.SOURCE, tmp_path)
    assert build_web.FIRST_LOAD_BUDGET_BYTES == BUDGET_BYTES
    # Every file a first visit fetches: the page, the stylesheet and each module it preloads.
    index = (tmp_path / "index.html").read_text()
    referenced = set(re.findall(r'(?:href|src)="(assets/[^"]+)"', index))
    assert referenced == {name for name in built.files if name.startswith("assets/")}
    assert built.first_load_gzip_bytes() <= BUDGET_BYTES


def test_asset_names_carry_their_content_hash_and_importers_follow(tmp_path: Path) -> None:
    source = tmp_path / "web"
    shutil.copytree(build_web.SOURCE, source)
    first = build_web.build(source, tmp_path / "one")
    for name, data in first.files.items():
        if name.startswith("assets/"):
            digest = re.fullmatch(r"assets/[\w-]+\.([0-9a-f]{10})\.(js|css)", name)
            assert digest, name
            assert build_web._digest(data) == digest.group(1)
    # A change in a leaf module renames it and every module that imports it, up to main.
    dom = source / "js" / "dom.js"
    dom.write_text(dom.read_text() + "\nexport const changed = 1;\n")
    second = build_web.build(source, tmp_path / "two")
    renamed = {n.split(".")[0] for n in set(second.files) - set(first.files)}
    assert {"assets/dom", "assets/main", "assets/links"} <= renamed
    assert second.files["index.html"] != first.files["index.html"]
    unchanged = {n.split(".")[0] for n in set(second.files) & set(first.files)}
    assert "assets/app" in unchanged  # the stylesheet did not change
    # Only the current build's assets are left.
    assert {p.name for p in (tmp_path / "two" / "assets").iterdir()} == {
        n.removeprefix("assets/") for n in second.files if n.startswith("assets/")
    }


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_local_server_serves_the_app_with_cloudfronts_headers(web_server: Any) -> None:
    status, headers, body = fetch(f"{web_server.url}/app/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == "no-cache"
    csp = headers["Content-Security-Policy"]
    assert csp == web.content_security_policy()
    assert "script-src 'self';" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    asset = re.search(rb'src="(assets/main\.[0-9a-f]{10}\.js)"', body)
    assert asset
    status, headers, _ = fetch(f"{web_server.url}/app/{asset.group(1).decode()}")
    assert status == 200
    assert headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    status, headers, _ = fetch(f"{web_server.url}/app")
    assert (status, headers["Location"]) == (301, "/app/")
    status, headers, config = fetch(f"{web_server.url}/app/config.json")
    assert (status, headers["Cache-Control"]) == (200, "no-cache")
    assert config == b'{"api_base_url": "", "cognito": null}'
    assert fetch(f"{web_server.url}/app/assets/nothing.0000000000.js")[0] == 404
    assert fetch(f"{web_server.url}/app/../pyproject.toml")[0] == 404
    # The API is untouched next to it.
    assert fetch(f"{web_server.url}/health")[0] == 200


def test_make_dev_prints_a_signed_in_link() -> None:
    from types import SimpleNamespace

    from devserver.server import web_app_line

    local = SimpleNamespace(web=object(), url="http://127.0.0.1:8080", api_key="k/ey+1")
    assert "http://127.0.0.1:8080/app/#token=k%2Fey%2B1" in web_app_line(local)  # type: ignore[arg-type]
    assert web_app_line(SimpleNamespace(web=None, url="", api_key="k")) == ""  # type: ignore[arg-type]
