"""GET /urls/{code}/qr (docs/api.md section 9): the short URL as a QR code, read back with
zxing-cpp, a decoder that is not the encoder."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from functions.get_url import handler as get_module
from shared.links.qr import DEFAULT_BORDER, DEFAULT_SCALE
from tests.qr_reading import decode_png, decode_svg, png_pixels, svg_modules
from tests.unit.events import context, event
from tests.unit.links_client import OTHER, make, patch, use_moto


@pytest.fixture(autouse=True)
def _moto(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    use_moto(dynamodb, monkeypatch)


def qr(code: str, query: str = "", headers: dict[str, str] | None = None, **kwargs: Any):
    response = get_module.handler(
        event("GET", f"/urls/{code}/qr", query=query, headers=headers, **kwargs), context()
    )
    raw = response.get("body") or ""
    body = base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode()
    headers = dict(response.get("headers") or {})
    for key, values in (response.get("multiValueHeaders") or {}).items():
        headers[key] = ", ".join(values)
    return response["statusCode"], headers, body


def test_the_default_is_an_svg_of_the_short_url() -> None:
    link = make("https://qr.example/page")
    status, headers, body = qr(link["short_code"])
    assert status == 200
    assert headers["Content-Type"] == "image/svg+xml"
    assert decode_svg(body) == [link["short_url"]]
    width, height, _ = svg_modules(body)
    # Defaults: 8 units a module, a 4-module quiet zone (21 modules for version 1 and up).
    assert DEFAULT_SCALE == 8 and DEFAULT_BORDER == 4
    assert width == height >= 21 + 2 * 4


def test_png_decodes_to_the_short_url_and_matches_the_svg_modules() -> None:
    link = make("https://qr.example/png")
    status, headers, png = qr(link["short_code"], "format=png&scale=3&border=2&ecc=H")
    assert status == 200
    assert headers["Content-Type"] == "image/png"
    assert decode_png(png) == [link["short_url"]]
    _, _, svg = qr(link["short_code"], "format=svg&scale=3&border=2&ecc=H")
    size, _, dark = svg_modules(svg)
    width, height, pixels = png_pixels(png)
    assert width == height == size * 3
    from_png = {
        (x, y) for y in range(size) for x in range(size) if pixels[(y * 3) * width + x * 3] < 128
    }
    assert from_png == dark


@pytest.mark.parametrize("scale", [1, 40])
@pytest.mark.parametrize("border", [0, 16])
def test_scale_and_border_bounds(scale: int, border: int) -> None:
    link = make(f"https://qr.example/{scale}-{border}")
    status, _, png = qr(link["short_code"], f"format=png&scale={scale}&border={border}")
    assert status == 200
    width, _, _ = png_pixels(png)
    _, _, svg = qr(link["short_code"], f"scale=1&border={border}")
    modules, _, _ = svg_modules(svg)
    assert width == modules * scale
    if scale == 40 or border == 0:
        assert decode_png(png) == [link["short_url"]]


def test_a_higher_ecc_level_draws_more_modules() -> None:
    link = make("https://qr.example/ecc")
    sizes = [svg_modules(qr(link["short_code"], f"ecc={e}&border=0")[2])[0] for e in "LMQH"]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]


@pytest.mark.parametrize(
    ("query", "field", "reason"),
    [
        ("format=gif", "format", "not_allowed"),
        ("scale=0", "scale", "out_of_range"),
        ("scale=41", "scale", "out_of_range"),
        ("scale=abc", "scale", "type"),
        ("scale=-1", "scale", "type"),
        ("border=17", "border", "out_of_range"),
        ("border=1.5", "border", "type"),
        ("ecc=X", "ecc", "not_allowed"),
        ("ecc=m", "ecc", "not_allowed"),
        ("size=3", "size", "unknown_field"),
        ("scale=2&scale=3", "scale", "duplicate_field"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(query: str, field: str, reason: str) -> None:
    link = make("https://qr.example/bad")
    status, _, body = qr(link["short_code"], query)
    assert status == 400
    error = json.loads(body)
    assert error["error"] == "ValidationError"
    assert error["details"] == {"reason": reason, "field": field}
    assert field in error["message"]


def test_only_the_owner_gets_it() -> None:
    link = make("https://qr.example/mine")
    assert qr(link["short_code"], owner=OTHER)[0] == 404
    assert qr("nosuchcode")[0] == 404


def test_it_is_cacheable_with_an_etag() -> None:
    link = make("https://qr.example/cache")
    status, headers, body = qr(link["short_code"], "format=png")
    assert headers["Cache-Control"] == "private, max-age=86400"
    etag = headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    # The same parameters give the same bytes and tag; others another tag.
    assert qr(link["short_code"], "format=png")[2] == body
    assert qr(link["short_code"], "format=png&ecc=H")[1]["ETag"] != etag
    status, headers, body = qr(link["short_code"], "format=png", {"If-None-Match": etag})
    assert status == 304 and body == b""
    assert headers["ETag"] == etag
    assert qr(link["short_code"], "format=png", {"If-None-Match": '"other"'})[0] == 200


def test_a_disabled_link_still_has_its_code() -> None:
    # The owner may print it again before enabling the link; the redirect answers 410 meanwhile.
    link = make("https://qr.example/disabled")
    assert patch(link["short_code"], {"status": "disabled"}).status == 200
    status, _, body = qr(link["short_code"])
    assert status == 200 and decode_svg(body) == [link["short_url"]]
