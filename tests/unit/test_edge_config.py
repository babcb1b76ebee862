"""The edge's synth-time configuration: the nearest-replica map and the bundle's module."""

from __future__ import annotations

import pytest

from shared.redirect.answer import Link
from shared.redirect.edge_cache import LookupCache
from shared.redirect.edge_config import (
    EdgeBundleConfig,
    EdgeConfigurationError,
    from_environment,
    render_module,
)
from shared.redirect.edge_regions import (
    REGION_LOCATIONS,
    UnknownRegion,
    distance_km,
    nearest_region,
    nearest_replica_map,
)


def test_every_serving_region_reads_its_own_replica() -> None:
    serving = ["us-east-1", "eu-west-1", "ap-southeast-1"]
    mapping = nearest_replica_map(serving)
    assert set(mapping) == set(REGION_LOCATIONS)
    for region in serving:
        assert mapping[region] == region
    assert set(mapping.values()) == set(serving)


def test_a_single_serving_region_serves_everyone() -> None:
    assert set(nearest_replica_map(["us-east-1"]).values()) == {"us-east-1"}


def test_distances_are_plausible() -> None:
    # Dublin-Frankfurt is about 1,100 km; Virginia-Singapore about 15,500 km.
    assert 900 < distance_km("eu-west-1", "eu-central-1") < 1400
    assert 15000 < distance_km("us-east-1", "ap-southeast-1") < 16500
    assert distance_km("eu-west-1", "eu-west-1") == 0


def test_ties_and_errors() -> None:
    assert nearest_region("us-east-1", ["eu-west-1", "us-east-1"]) == "us-east-1"
    with pytest.raises(ValueError):
        nearest_region("us-east-1", [])
    with pytest.raises(UnknownRegion):
        nearest_replica_map(["us-east-1", "mars-north-1"])


def test_rendered_module_round_trips_and_holds_only_literals() -> None:
    config = EdgeBundleConfig(
        "squrl-urls-prod", "us-east-1", ("us-east-1", "eu-west-1"), {"eu-central-1": "eu-west-1"}
    )
    text = render_module(config)
    namespace: dict[str, object] = {}
    exec(compile(text, "bundle_config.py", "exec"), namespace)
    assert namespace["TABLE_NAME"] == "squrl-urls-prod"
    assert namespace["HOME_REGION"] == "us-east-1"
    assert namespace["SERVING_REGIONS"] == ("us-east-1", "eu-west-1")
    assert namespace["NEAREST_REPLICA"] == {"eu-central-1": "eu-west-1"}
    assert "import" not in text


def test_invalid_configurations_fail_at_init() -> None:
    with pytest.raises(EdgeConfigurationError):
        EdgeBundleConfig("", "us-east-1", ("us-east-1",))
    with pytest.raises(EdgeConfigurationError):
        EdgeBundleConfig("t", "eu-west-1", ("us-east-1",))
    with pytest.raises(EdgeConfigurationError):
        EdgeBundleConfig("t", "us-east-1", ("us-east-1",), {"eu-west-1": "eu-west-1"})


def test_environment_configuration_for_local_runs() -> None:
    config = from_environment(
        {
            "AWS_REGION": "eu-central-1",
            "SQURL_ENV": "local",
            "SQURL_HOME_REGION": "us-east-1",
            "SQURL_SERVING_REGIONS": "us-east-1, eu-west-1",
        }
    )
    assert config.table_name == "squrl-urls-local"
    assert config.serving_regions == ("us-east-1", "eu-west-1")
    assert config.replica_region("eu-central-1") == "eu-west-1"
    assert config.replica_region(None) == "us-east-1"
    defaults = from_environment({"AWS_REGION": "eu-west-1"})
    assert defaults.home_region == "eu-west-1"
    assert defaults.serving_regions == ("eu-west-1",)
    assert defaults.table_name == "squrl-urls-dev"


def test_lookup_cache_validates_its_bounds_and_survives_a_clock_step_back() -> None:
    with pytest.raises(ValueError):
        LookupCache(max_entries=0)
    cache = LookupCache(max_entries=2, ttl=30)
    link = Link("https://example.com/", 301, "active", None)
    cache.put("abc", link, 1000.0)
    assert cache.get("abc", 1010.0) is not None
    assert cache.get("abc", 999.0) is None
    # A link that has already expired is not remembered at all.
    cache.put("old", Link("https://example.com/", 301, "active", 900), 1000.0)
    assert cache.get("old", 1000.0) is None
