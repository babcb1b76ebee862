"""The viewer-request CloudFront Function that reduces Accept to `x-squrl-format: html|json`.

The distribution's cache key is the path plus that one header, so a path has at most two cached
variants and the Accept-negotiated 404/410 pages are never served in the wrong format. The code
runs in AWS, so it lives with the functions: `functions/edge_format/edge_format.js`
(cloudfront-js-2.0); tests/unit/test_edge_format.py checks it against
shared.redirect.answer.prefers_html.
"""

from __future__ import annotations

from aws_cdk import aws_cloudfront as cloudfront
from constructs import Construct

from cdk_constructs.core.bundling import FUNCTIONS_DIR
from shared.contracts import names

SOURCE = FUNCTIONS_DIR / "edge_format" / "edge_format.js"


class EdgeFormatFunction(Construct):
    """Exposes `.function` (what the default behaviour associates on viewer request)."""

    def __init__(self, scope: Construct, construct_id: str, *, env_name: str) -> None:
        super().__init__(scope, construct_id)
        self.function = cloudfront.Function(
            self,
            "Function",
            function_name=names.function_name(env_name, "edge_format"),
            comment="squrl: Accept -> x-squrl-format (html|json), the cache key's only header",
            code=cloudfront.FunctionCode.from_file(file_path=str(SOURCE)),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )
