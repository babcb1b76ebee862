"""The domain settings: a short domain is optional, a zone needs it, and it needs the edge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from squrl_config import ConfigError, load_config

CDK_JSON = Path(__file__).resolve().parents[2] / "cdk.json"


def context(**dev: Any) -> dict[str, Any]:
    squrl = json.loads(CDK_JSON.read_text())["context"]["squrl"]
    squrl["environments"]["dev"] |= dev
    return {"squrl": squrl}


def test_the_committed_config_names_no_short_domain() -> None:
    # A DNS-validated certificate for a domain nobody controls never validates, so the
    # committed environments deploy without one.
    for env in load_config(context()).environments.values():
        assert env.short_domain is None
        assert env.domain.hosted_zone_id is None
        assert env.api_host is None


def test_a_zone_gives_the_api_host() -> None:
    config = load_config(
        context(short_domain="sq.mycorp.io", domain={"hosted_zone_id": "Z0123456789ABC"})
    )
    dev = config.environments["dev"]
    assert dev.short_domain == "sq.mycorp.io"
    assert dev.api_host == "api.sq.mycorp.io"


def test_without_a_zone_or_with_api_host_off_there_is_no_api_host() -> None:
    assert load_config(context(short_domain="sq.mycorp.io")).environments["dev"].api_host is None
    off = context(
        short_domain="sq.mycorp.io", domain={"hosted_zone_id": "Z0123456789ABC", "api_host": False}
    )
    assert load_config(off).environments["dev"].api_host is None


def test_a_zone_without_a_short_domain_is_refused() -> None:
    with pytest.raises(ConfigError, match="hosted_zone_id is set without short_domain"):
        load_config(context(domain={"hosted_zone_id": "Z0123456789ABC"}))


def test_a_short_domain_needs_the_edge() -> None:
    with pytest.raises(ConfigError, match=r"short_domain needs edge\.enabled"):
        load_config(context(short_domain="sq.mycorp.io", edge={"enabled": False}))


@pytest.mark.parametrize("zone", ["z0123", "0123456789", "Z-123", ""])
def test_a_malformed_zone_id_names_the_key(zone: str) -> None:
    with pytest.raises(ConfigError, match=r"squrl\.environments\.dev\.domain\.hosted_zone_id"):
        load_config(context(short_domain="sq.mycorp.io", domain={"hosted_zone_id": zone}))
