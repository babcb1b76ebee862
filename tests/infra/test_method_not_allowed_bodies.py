"""The 405 MOCK methods (cdk_constructs/api/links_api.py) answer 405 for a body of any type a
client plausibly sends: a type without a request template reaches the mock raw and fails it
(a 500). The API's binary media types and `application/octet-stream` must have one."""

from __future__ import annotations

import pytest

from tests.infra.helpers import methods

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]

# What an upload or a misdirected file sends, besides the API's own binary media types.
FILE_TYPES = ("application/octet-stream",)


def api_stacks(synth):
    return [name for name in synth.templates if "-api-" in name]


def test_every_405_method_has_a_template_for_binary_and_octet_stream_bodies(synth):
    checked = 0
    for name in api_stacks(synth):
        template = synth.templates[name]
        (api,) = [
            r["Properties"]
            for r in template["Resources"].values()
            if r["Type"] == "AWS::ApiGateway::RestApi"
        ]
        binary = api.get("BinaryMediaTypes", [])
        assert "image/png" in binary, name
        for (method, path), props in methods(template).items():
            if method != "ANY":
                continue
            integration = props["Integration"]
            assert integration["Type"] == "MOCK", (name, path)
            templates = integration["RequestTemplates"]
            for content_type in (*binary, *FILE_TYPES, "application/json", "text/csv"):
                assert templates.get(content_type) == '{"statusCode": 405}', (
                    name,
                    path,
                    content_type,
                )
            checked += 1
    assert checked > 0
