"""The viewer-request CloudFront Function (functions/edge_format/edge_format.js), run with node.

It must put `x-squrl-format: html` exactly when shared.redirect.answer.prefers_html(Accept) is
true, so that the cache key's format and the regional handler's negotiation never disagree.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from cdk_constructs.edge.edge_format import SOURCE
from shared.contracts.http import CANONICAL_ACCEPT, FORMAT_HEADER
from shared.redirect.answer import prefers_html
from shared.redirect.edge import response_format

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ACCEPTS: list[str | None] = [
    None,
    "",
    "*/*",
    "text/html",
    "application/json",
    BROWSER,
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    "application/json, text/plain, */*",
    "text/html;q=0.9, application/json",
    "text/html, application/json;q=0.9",
    "text/html;q=0.5, application/json;q=0.5",
    "text/*",
    "text/*, application/*;q=0.9",
    "application/*",
    "*/*;q=0.1, text/html;q=0.2",
    "text/html;q=0",
    "TEXT/HTML",
    "  text/html ; Q=0.8 , application/json ; q = 0.7 ",
    "text/html;level=1;q=0.7, application/json;q=0.6",
    "text/html;q=abc",
    "text/html;q=, */*;q=0.5",
    "text/html;q",
    "text/html;q=1.5",
    "text/html;q=.5, application/json;q=0.4",
    "text/html;q=1., application/json;q=0.99",
    "text/html;q=5e-1, application/json;q=0.4",
    "text/html;q=1_0, application/json;q=9",
    "text/html;q=0x1, application/json;q=0.1",
    "text/html;q=inf, application/json;q=1",
    "text/html;q=-Infinity, application/json;q=-5",
    "text/html;q=nan",
    "text/html;q=0.3;q=0.9, application/json;q=0.5",
    "text/html/extra, application/json;q=0.1",
    "text, */*;q=0.1",
    "*/html, application/json;q=0.1",
    "text/html, text/html;q=0.1, application/json;q=0.5",
    "text/*;q=0.9, text/html;q=0.1, application/json;q=0.5",
    ",,;,text/html,",
    "application/json;q=0.9, */*",
    "image/png",
    "text/plain, */*;q=0.01",
]


def run_function(accepts: list[str | None], extra: dict[str, str] | None = None) -> list[str]:
    """The header the function sets for each Accept (None: no Accept header)."""
    script = (
        SOURCE.read_text()
        + """
const cases = JSON.parse(process.argv[1]);
const extra = JSON.parse(process.argv[2]);
const out = cases.map((accept) => {
  const headers = {};
  for (const name of Object.keys(extra)) headers[name] = { value: extra[name] };
  if (accept !== null) headers.accept = { value: accept };
  const request = handler({ version: '1.0', context: {}, viewer: {}, request: {
    method: 'GET', uri: '/abc', querystring: {}, headers, cookies: {} } });
  return request.headers['"""
        + FORMAT_HEADER
        + """'].value;
});
process.stdout.write(JSON.stringify(out));
"""
    )
    result = subprocess.run(
        [str(NODE), "-e", script, json.dumps(accepts), json.dumps(extra or {})],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_the_function_agrees_with_prefers_html() -> None:
    got = run_function(ACCEPTS)
    expected = ["html" if prefers_html(accept) else "json" for accept in ACCEPTS]
    assert dict(zip(map(repr, ACCEPTS), got, strict=True)) == dict(
        zip(map(repr, ACCEPTS), expected, strict=True)
    )
    assert [response_format(accept) for accept in ACCEPTS] == expected
    assert set(got) == {"html", "json"}


def test_a_viewers_own_format_header_is_overwritten() -> None:
    assert run_function(["application/json", BROWSER], {FORMAT_HEADER: "html"}) == [
        "json",
        "html",
    ]
    assert run_function([None], {FORMAT_HEADER: "xml"}) == ["json"]


def test_canonical_accepts_name_their_format() -> None:
    assert {fmt: response_format(accept) for fmt, accept in CANONICAL_ACCEPT.items()} == {
        "html": "html",
        "json": "json",
    }


def test_the_function_stays_small() -> None:
    # CloudFront Functions allow 10 KB; this one should stay a fraction of that.
    assert len(SOURCE.read_bytes()) < 4096
