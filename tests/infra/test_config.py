from __future__ import annotations

import copy

import pytest

from squrl_config import ConfigError, load_config, minimum_price_class, select_environments

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]


def test_cdk_json_declares_the_three_environments(context):
    config = load_config(context)
    assert set(config.environments) == {"dev", "staging", "prod"}
    assert config.environments["dev"].serving_regions == ["us-east-1"]
    assert {"us-east-1", "eu-west-1", "ap-southeast-1"} <= set(
        config.environments["prod"].serving_regions
    )
    assert config.environments["dev"].dax.enabled is False
    assert config.environments["prod"].dax.enabled is True


def test_missing_value_names_the_key(context):
    broken = copy.deepcopy(context)
    del broken["squrl"]["environments"]["staging"]["account"]
    with pytest.raises(ConfigError, match=r"squrl\.environments\.staging\.account: Field required"):
        load_config(broken)


@pytest.mark.parametrize(
    ("path", "value", "key"),
    [
        (("prod", "home_region"), "moon-base-1", "squrl.environments.prod.home_region"),
        (("dev", "code_length"), 3, "squrl.environments.dev.code_length"),
        (("dev", "log_retention_days"), 10, "squrl.environments.dev.log_retention_days"),
        (("dev", "dax", "node_tpye"), "x", "squrl.environments.dev.dax.node_tpye"),
        (("dev", "waf", "rate_limit"), 1, "squrl.environments.dev.waf.rate_limit"),
        (("dev", "api", "cors_allowed_origins"), ["ftp://x"], "cors_allowed_origins"),
    ],
)
def test_wrong_value_names_the_key(context, path, value, key):
    broken = copy.deepcopy(context)
    node = broken["squrl"]["environments"]
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(broken)


def test_home_region_must_serve(context):
    broken = copy.deepcopy(context)
    broken["squrl"]["environments"]["dev"]["home_region"] = "eu-west-1"
    with pytest.raises(ConfigError, match="home_region 'eu-west-1' must be one of"):
        load_config(broken)


def test_missing_squrl_context_is_explained():
    with pytest.raises(ConfigError, match="'squrl' is missing"):
        load_config({})


def test_unknown_environment_lists_known_ones(context):
    config = load_config(context)
    with pytest.raises(ConfigError, match=r"unknown environment 'qa'.*known: dev, prod, staging"):
        select_environments(config, "qa")
    assert [e.name for e in select_environments(config, "staging")] == ["staging"]
    assert [e.name for e in select_environments(config, None)] == ["dev", "staging", "prod"]


def test_cli_override_replaces_one_value(context):
    overridden = {
        **context,
        "squrl.dev.account": "444444444444",
        "squrl.dev.waf.enabled": "false",
        "squrl.dev.serving_regions": '["us-east-1","eu-west-1"]',
    }
    dev = load_config(overridden).environments["dev"]
    assert dev.account == "444444444444"
    assert dev.waf.enabled is False
    assert dev.replica_regions == ["eu-west-1"]


@pytest.mark.parametrize(
    ("region", "price_class"),
    [
        ("us-east-1", "PriceClass_100"),
        ("eu-west-1", "PriceClass_100"),
        ("il-central-1", "PriceClass_100"),
        ("ap-southeast-1", "PriceClass_200"),
        ("ap-northeast-1", "PriceClass_200"),
        ("ap-south-1", "PriceClass_200"),
        ("me-central-1", "PriceClass_200"),
        ("af-south-1", "PriceClass_200"),
        ("ap-southeast-2", "PriceClass_All"),
        ("sa-east-1", "PriceClass_All"),
    ],
)
def test_minimum_price_class_follows_cloudfront_table(region, price_class):
    assert minimum_price_class(region) == price_class


@pytest.mark.parametrize(
    ("region", "price_class", "wanted"),
    [
        ("ap-southeast-1", "PriceClass_100", "PriceClass_200"),
        ("sa-east-1", "PriceClass_200", "PriceClass_All"),
        ("ap-southeast-2", "PriceClass_100", "PriceClass_All"),
    ],
)
def test_price_class_must_cover_every_serving_region(context, region, price_class, wanted):
    broken = copy.deepcopy(context)
    dev = broken["squrl"]["environments"]["dev"]
    dev["serving_regions"] = ["us-east-1", region]
    dev["edge"] = {"enabled": True, "price_class": price_class}
    with pytest.raises(ConfigError, match=r"squrl\.environments\.dev:.*edge\.price_class") as err:
        load_config(broken)
    assert region in str(err.value) and f"set edge.price_class to '{wanted}'" in str(err.value)
    dev["edge"]["price_class"] = wanted
    assert load_config(broken).environments["dev"].edge.price_class == wanted


def test_price_class_is_not_checked_without_an_edge(context):
    config = copy.deepcopy(context)
    dev = config["squrl"]["environments"]["dev"]
    dev["serving_regions"] = ["us-east-1", "sa-east-1"]
    dev["edge"] = {"enabled": False}
    assert load_config(config).environments["dev"].edge.price_class == "PriceClass_100"


def test_on_demand_edge_log_stream_takes_no_shard_count(context):
    broken = copy.deepcopy(context)
    broken["squrl"]["environments"]["dev"]["edge"] = {
        "enabled": True,
        "realtime_log_stream_mode": "on_demand",
        "realtime_log_shards": 2,
    }
    with pytest.raises(ConfigError, match=r"squrl\.environments\.dev\.edge: .*realtime_log_shards"):
        load_config(broken)
    del broken["squrl"]["environments"]["dev"]["edge"]["realtime_log_shards"]
    edge = load_config(broken).environments["dev"].edge
    assert edge.realtime_log_stream_mode == "on_demand"


@pytest.mark.parametrize("ttl", [0, 300_001])
def test_dax_ttl_is_bounded(context, ttl):
    # 0 means "forever" to DAX; above DAX's own 5-minute default there is no reason to go.
    broken = copy.deepcopy(context)
    broken["squrl"]["environments"]["prod"]["dax"]["record_ttl_millis"] = ttl
    with pytest.raises(ConfigError, match=r"squrl\.environments\.prod\.dax\.record_ttl_millis"):
        load_config(broken)


def test_the_cloudfront_fallback_limit_is_never_below_the_per_client_one(context):
    broken = copy.deepcopy(context)
    broken["squrl"]["environments"]["dev"]["waf"] = {
        "rate_limit": 5000,
        "edge_fallback_rate_limit": 4000,
    }
    with pytest.raises(ConfigError, match=r"squrl\.environments\.dev\.waf: .*at least"):
        load_config(broken)
    broken["squrl"]["environments"]["dev"]["waf"]["edge_fallback_rate_limit"] = 5000
    assert load_config(broken).environments["dev"].waf.edge_fallback_rate_limit == 5000
