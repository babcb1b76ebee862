"""The cost model's pricing rules, on small hand-made templates (docs/cost.md).

Every expected figure is written out from docs/prices.toml's list prices, so a wrong rule or a
changed price fails here.
"""

from __future__ import annotations

from typing import Any

import pytest

from tools.cost_model.assembly import Environment, Stack
from tools.cost_model.assumptions import ASSUMPTIONS
from tools.cost_model.at_rest import at_rest_lines, by_service, canary_runs_per_month
from tools.cost_model.marginal import Features, Model, total
from tools.cost_model.prices import Prices

PRICES = Prices.load()
HOURS = 730
SECONDS = HOURS * 3600


def stack(resources: dict[str, dict[str, Any]], region: str = "us-east-1") -> Stack:
    template = {"Resources": resources}
    return Stack(
        name="squrl-t-api-" + region, env="t", role="api", region=region, template=template
    )


def at_rest(resources: dict[str, dict[str, Any]]) -> dict[str, float]:
    env = Environment("t", [stack(resources)])
    return by_service(at_rest_lines(env, PRICES))


def test_the_price_table_has_a_date_and_a_source_for_every_service() -> None:
    assert PRICES.transcribed == "2026-12-06"
    assert PRICES.hours_per_month == HOURS
    for service in ("lambda", "cloudfront", "waf", "dynamodb", "kinesis", "cloudwatch", "dax"):
        assert PRICES.sources[service].startswith("https://aws.amazon.com/"), service


def test_dax_nodes_and_interface_endpoints() -> None:
    figures = at_rest(
        {
            "Dax": {
                "Type": "AWS::DAX::Cluster",
                "Properties": {"NodeType": "dax.t3.small", "ReplicationFactor": 3},
            },
            "XRay": {
                "Type": "AWS::EC2::VPCEndpoint",
                "Properties": {"VpcEndpointType": "Interface", "SubnetIds": ["a", "b", "c"]},
            },
            "Ddb": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcEndpointType": "Gateway"}},
        }
    )
    assert figures["DAX"] == pytest.approx(3 * 0.04 * HOURS)  # $87.60
    assert figures["VPC endpoints"] == pytest.approx(3 * 0.01 * HOURS)  # gateway: free


def test_an_unpriced_dax_node_type_is_an_error_not_zero() -> None:
    with pytest.raises(KeyError, match=r"no DAX price for dax\.r6g\.large"):
        at_rest(
            {
                "Dax": {
                    "Type": "AWS::DAX::Cluster",
                    "Properties": {"NodeType": "dax.r6g.large", "ReplicationFactor": 1},
                }
            }
        )


def test_waf_streams_alarms_dashboards_keys() -> None:
    rules = [{"Name": str(i)} for i in range(6)]
    figures = at_rest(
        {
            "Acl": {
                "Type": "AWS::WAFv2::WebACL",
                "Properties": {"Scope": "REGIONAL", "Rules": rules},
            },
            "OnDemand": {
                "Type": "AWS::Kinesis::Stream",
                "Properties": {"StreamModeDetails": {"StreamMode": "ON_DEMAND"}},
            },
            "Shards": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 2}},
            "Plain": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "Errors"}},
            "Math": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "Metrics": [
                        {"Id": "e", "Expression": "a/b"},
                        {"Id": "a", "MetricStat": {}},
                        {"Id": "b", "MetricStat": {}},
                    ]
                },
            },
            "Band": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "ThresholdMetricId": "band",
                    "Metrics": [{"Id": "m", "MetricStat": {}}, {"Id": "band", "Expression": "x"}],
                },
            },
            "Composite": {"Type": "AWS::CloudWatch::CompositeAlarm", "Properties": {}},
            "Board": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {}},
            "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
            "Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {}},
            "Check": {
                "Type": "AWS::Route53::HealthCheck",
                "Properties": {"HealthCheckConfig": {"Type": "HTTPS"}},
            },
        }
    )
    assert figures["WAF"] == pytest.approx(5 + 6 * 1)
    assert figures["Kinesis"] == pytest.approx(0.04 * HOURS + 2 * 0.015 * HOURS)
    # 1 metric + 2 metrics (the expression is free) + an anomaly band (3), and a composite.
    assert figures["CloudWatch alarms"] == pytest.approx((1 + 2 + 3) * 0.10 + 0.50)
    assert figures["CloudWatch dashboards"] == pytest.approx(3.00)
    assert figures["KMS"] == pytest.approx(1.00)
    assert figures["Secrets Manager"] == pytest.approx(0.40)
    assert figures["Route 53"] == pytest.approx(0.75 + 2.00)


def test_canary_runs_follow_its_schedule() -> None:
    assert canary_runs_per_month("rate(5 minutes)", PRICES) == HOURS * 12
    assert canary_runs_per_month("rate(1 hour)", PRICES) == HOURS
    with pytest.raises(ValueError, match="only rate"):
        canary_runs_per_month("cron(0 * * * ? *)", PRICES)


def test_table_storage_and_pitr_in_every_region_that_holds_a_copy() -> None:
    pitr = {"PointInTimeRecoveryEnabled": True}
    replicas = [
        {"Region": "us-east-1", "PointInTimeRecoverySpecification": pitr},
        {"Region": "eu-west-1"},
    ]
    env = Environment(
        "t",
        [
            stack(
                {"T": {"Type": "AWS::DynamoDB::GlobalTable", "Properties": {"Replicas": replicas}}}
            )
        ],
    )
    lines = at_rest_lines(env, PRICES)
    gb = ASSUMPTIONS.table_gb
    assert {(line.region, round(line.usd, 4)) for line in lines} == {
        ("us-east-1", round(gb * 0.25, 4)),
        ("us-east-1", round(gb * 0.20, 4)),
        ("eu-west-1", round(gb * 0.25, 4)),
    }


def _function(memory: int, architecture: str, **extra: Any) -> dict[str, Any]:
    props = {"FunctionName": "squrl-t-f", "MemorySize": memory, "Architectures": [architecture]}
    return {"Type": "AWS::Lambda::Function", "Properties": {**props, **extra}}


def test_provisioned_concurrency_and_snapstart_cost_at_rest_and_plain_functions_do_not() -> None:
    figures = at_rest(
        {
            "Fn": _function(512, "arm64"),
            "Live": {
                "Type": "AWS::Lambda::Alias",
                "Properties": {
                    "FunctionName": {"Ref": "Fn"},
                    "ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 2},
                },
            },
            "Snap": _function(1024, "x86_64", SnapStart={"ApplyOn": "PublishedVersions"}),
            "Plain": _function(512, "arm64"),
        }
    )
    provisioned = 2 * 0.5 * SECONDS * 0.0000033334  # $8.76
    snapshot = 1.0 * SECONDS * 0.0000015046  # $3.95
    assert figures["Lambda"] == pytest.approx(provisioned + snapshot)


def _features(**changes: Any) -> Features:
    base: dict[str, Any] = dict(
        edge=True, edge_waf=True, edge_function=True, lambda_edge_gb=0.5,
        realtime_log_percent=100.0, edge_stream_on_demand=True, regional_waf=True,
        redirect_gb=0.5, redirect_arch="arm64", create_gb=0.5, create_arch="arm64",
        create_snapstart=False, traced=True, dax=True, replicas=2, link_indexes=2,
        full_indexes=1, click_stream_on_demand=False, firehoses=2, consumer_gb=0.5,
        consumer_arch="arm64", authorizer_gb=0.5, authorizer_arch="arm64", get_gb=0.5,
        get_arch="arm64", user_pool_tier="ESSENTIALS", import_worker_gb=1.0,
        import_worker_arch="arm64", import_chunk_rows=1000, import_transitions_per_chunk=2,
        import_transitions_per_job=3, import_logs_all=True, app_function=True,
    )  # fmt: skip
    return Features(**{**base, **changes})


def test_an_edge_hit_pays_cloudfront_its_function_and_waf() -> None:
    model = Model(_features(), PRICES)
    transfer = 600 * 1_000_000 / 1024**3 * 0.085
    assert total(model.edge_hit()) == pytest.approx(1.00 + 0.10 + 0.60 + transfer)
    without_waf = Model(_features(edge_waf=False), PRICES)
    assert total(model.edge_hit()) - total(without_waf.edge_hit()) == pytest.approx(0.60)


def test_an_edge_miss_adds_lambda_at_edge_one_read_and_its_log_lines() -> None:
    model = Model(_features(), PRICES)
    duration = 0.5 * 0.020 * 1_000_000 * 0.00005001
    logs = 350 * 1_000_000 / 1024**3 * 0.50
    added = 0.60 + duration + 0.5 * 0.125 + logs
    assert total(model.edge_miss()) - total(model.edge_hit()) == pytest.approx(added)
    # The blend at 90% hits.
    blended = 0.9 * total(model.edge_hit()) + 0.1 * total(model.edge_miss())
    assert model.blended(0.9) == pytest.approx(blended)


def test_dax_saves_only_the_reads_it_answers() -> None:
    model = Model(_features(), PRICES)
    saved = total(model.regional_direct()) - total(model.regional_dax())
    assert saved == pytest.approx(0.9 * 0.5 * 0.125)


def test_creates_replicate_to_every_replica_region() -> None:
    one = Model(_features(replicas=0), PRICES)
    three = Model(_features(replicas=2), PRICES)
    # Per replica: the two items (1 rWRU each) and the link's two index writes (1 WRU each).
    # The authorizer's last_used_at write (1 request in 1,000) replicates too.
    per_replica = 2 * 0.625 + 2 * 0.625 + 0.001 * 0.625
    assert total(three.create()) - total(one.create()) == pytest.approx(2 * per_replica)


def test_counted_clicks_price_the_measured_writes() -> None:
    model = Model(_features(replicas=0, firehoses=0), PRICES)
    writes = dict(model._counting())
    # 486.9 item writes per 1,000 clicks, 2 WRU each (transactions); half rewrite the owner index.
    assert writes["DynamoDB writes"] == pytest.approx(0.4869 * 2 * 0.625)
    assert writes["DynamoDB index writes"] == pytest.approx(0.4869 * 0.5 * 0.625)
