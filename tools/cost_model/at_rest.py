"""Cost at rest: what each resource in the templates costs a month with no traffic."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from tools.cost_model.assembly import Environment, Stack
from tools.cost_model.assumptions import ASSUMPTIONS, Assumptions
from tools.cost_model.prices import Prices

GB = 1024**3


@dataclass(frozen=True)
class Line:
    region: str
    service: str
    what: str
    usd: float


Pricer = Callable[[Stack, str, dict[str, Any], Prices, Assumptions], Iterator[Line]]


def _dax(
    stack: Stack, _id: str, props: dict[str, Any], p: Prices, _a: Assumptions
) -> Iterator[Line]:
    nodes, node = int(props["ReplicationFactor"]), props["NodeType"]
    usd = nodes * p.dax_node_hour(node) * p.hours_per_month
    yield Line(stack.region, "DAX", f"{nodes} x {node}", usd)


def _endpoint(
    stack: Stack, _id: str, props: dict[str, Any], p: Prices, _a: Assumptions
) -> Iterator[Line]:
    if props.get("VpcEndpointType") != "Interface":
        return  # gateway endpoints (DynamoDB) cost nothing
    zones = len(props.get("SubnetIds", []))
    usd = zones * p("privatelink", "interface_endpoint_az_hour") * p.hours_per_month
    yield Line(stack.region, "VPC endpoints", f"interface endpoint in {zones} zones", usd)


def _web_acl(
    stack: Stack, _id: str, props: dict[str, Any], p: Prices, _a: Assumptions
) -> Iterator[Line]:
    rules = len(props.get("Rules", []))
    usd = p("waf", "web_acl_month") + rules * p("waf", "rule_month")
    yield Line(stack.region, "WAF", f"{props['Scope'].lower()} web ACL, {rules} rules", usd)


def _stream(
    stack: Stack, _id: str, props: dict[str, Any], p: Prices, _a: Assumptions
) -> Iterator[Line]:
    name = props.get("Name", "stream")
    if props.get("StreamModeDetails", {}).get("StreamMode") == "ON_DEMAND":
        usd = p("kinesis", "on_demand_stream_hour") * p.hours_per_month
        yield Line(stack.region, "Kinesis", f"{name}, on-demand", usd)
        return
    shards = int(props.get("ShardCount", 1))
    usd = shards * p("kinesis", "shard_hour") * p.hours_per_month
    yield Line(stack.region, "Kinesis", f"{name}, {shards} shard(s)", usd)


def alarm_metrics(props: dict[str, Any], p: Prices) -> float:
    """Metrics an alarm is billed for: each metric it reads, three for an anomaly band."""
    if "Metrics" not in props:
        return 1.0
    metrics = sum(1 for m in props["Metrics"] if "MetricStat" in m)
    if props.get("ThresholdMetricId"):
        return metrics * p("cloudwatch", "anomaly_detection_metrics")
    return float(metrics)


def _alarm(
    stack: Stack, _id: str, props: dict[str, Any], p: Prices, _a: Assumptions
) -> Iterator[Line]:
    usd = alarm_metrics(props, p) * p("cloudwatch", "alarm_metric_month")
    yield Line(stack.region, "CloudWatch alarms", "alarm metrics", usd)


def _composite(
    stack: Stack, _id: str, _props: dict[str, Any], p: Prices, _a: Assumptions
) -> Iterator[Line]:
    yield Line(
        stack.region,
        "CloudWatch alarms",
        "composite alarms",
        p("cloudwatch", "composite_alarm_month"),
    )


def _dashboard(
    stack: Stack, _id: str, _props: dict[str, Any], p: Prices, _a: Assumptions
) -> Iterator[Line]:
    yield Line(
        stack.region, "CloudWatch dashboards", "dashboard", p("cloudwatch", "dashboard_month")
    )


_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours)\)$")


def canary_runs_per_month(expression: str, p: Prices) -> float:
    match = _RATE.match(expression)
    if match is None:
        raise ValueError(f"canary schedule {expression!r}: only rate(N minutes|hours) is priced")
    every_minutes = int(match[1]) * (60 if match[2].startswith("hour") else 1)
    return p.hours_per_month * 60 / every_minutes


def _canary(
    stack: Stack, _id: str, props: dict[str, Any], p: Prices, _a: Assumptions
) -> Iterator[Line]:
    expression = props["Schedule"]["Expression"]
    runs = canary_runs_per_month(expression, p)
    usd = runs * p("synthetics", "canary_run")
    yield Line(stack.region, "Synthetics", f"canary, {expression} ({runs:,.0f} runs)", usd)


def _key(
    stack: Stack, _id: str, _props: dict[str, Any], p: Prices, _a: Assumptions
) -> Iterator[Line]:
    yield Line(stack.region, "KMS", "customer managed key", p("kms", "key_month"))


def _secret(
    stack: Stack, _id: str, _props: dict[str, Any], p: Prices, _a: Assumptions
) -> Iterator[Line]:
    yield Line(stack.region, "Secrets Manager", "secret", p("secrets_manager", "secret_month"))


def _health_check(
    stack: Stack, _id: str, props: dict[str, Any], p: Prices, _a: Assumptions
) -> Iterator[Line]:
    usd = p("route53", "health_check_month")
    if str(props.get("HealthCheckConfig", {}).get("Type", "")).startswith("HTTPS"):
        usd += p("route53", "health_check_https_month")
    yield Line(stack.region, "Route 53", "health check", usd)


def _table(
    stack: Stack, _id: str, props: dict[str, Any], p: Prices, a: Assumptions
) -> Iterator[Line]:
    for replica in props.get("Replicas", []):
        region = replica["Region"]
        yield Line(
            region,
            "DynamoDB",
            f"storage, {a.table_gb:g} GB",
            a.table_gb * p("dynamodb", "storage_gb_month"),
        )
        pitr = replica.get("PointInTimeRecoverySpecification", {})
        if pitr.get("PointInTimeRecoveryEnabled"):
            usd = a.table_gb * p("dynamodb", "pitr_gb_month")
            yield Line(region, "DynamoDB", f"point-in-time recovery, {a.table_gb:g} GB", usd)


def function_gb(stack: Stack, logical_id: str) -> tuple[float, str]:
    """A function's memory in GB and its architecture, from the template."""
    props = stack.resource(logical_id)
    architecture = props.get("Architectures", ["x86_64"])[0]
    return int(props.get("MemorySize", 128)) / 1024, architecture


def _function_of(props: dict[str, Any]) -> str:
    name = props["FunctionName"]
    return str(name["Ref"] if isinstance(name, dict) else name)


def _alias(
    stack: Stack, _id: str, props: dict[str, Any], p: Prices, _a: Assumptions
) -> Iterator[Line]:
    units = props.get("ProvisionedConcurrencyConfig", {}).get("ProvisionedConcurrentExecutions")
    if not units:
        return
    function = _function_of(props)
    gb, architecture = function_gb(stack, function)
    usd = units * gb * p.seconds_per_month * p("lambda", f"provisioned_gb_second_{architecture}")
    name = stack.resource(function).get("FunctionName", function)
    yield Line(stack.region, "Lambda", f"{name}: provisioned concurrency {units}", usd)


def _function(
    stack: Stack, logical_id: str, props: dict[str, Any], p: Prices, a: Assumptions
) -> Iterator[Line]:
    if props.get("SnapStart", {}).get("ApplyOn") != "PublishedVersions":
        return  # on-demand functions cost nothing at rest
    gb, _ = function_gb(stack, logical_id)
    versions = a.snapstart_active_versions
    usd = versions * gb * p.seconds_per_month * p("lambda", "snapstart_cache_gb_second")
    name = props.get("FunctionName", logical_id)
    yield Line(stack.region, "Lambda", f"{name}: SnapStart snapshot cache", usd)


PRICERS: dict[str, Pricer] = {
    "AWS::DAX::Cluster": _dax,
    "AWS::EC2::VPCEndpoint": _endpoint,
    "AWS::WAFv2::WebACL": _web_acl,
    "AWS::Kinesis::Stream": _stream,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::CloudWatch::CompositeAlarm": _composite,
    "AWS::CloudWatch::Dashboard": _dashboard,
    "AWS::Synthetics::Canary": _canary,
    "AWS::KMS::Key": _key,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::Route53::HealthCheck": _health_check,
    "AWS::DynamoDB::GlobalTable": _table,
    "AWS::Lambda::Alias": _alias,
    "AWS::Lambda::Function": _function,
}


def at_rest_lines(
    env: Environment, prices: Prices, assumptions: Assumptions = ASSUMPTIONS
) -> list[Line]:
    lines: list[Line] = []
    for stack in env.stacks:
        for logical_id, resource in stack.template.get("Resources", {}).items():
            pricer = PRICERS.get(resource["Type"])
            if pricer is not None:
                lines += pricer(
                    stack, logical_id, resource.get("Properties", {}), prices, assumptions
                )
    return lines


def by_region(lines: list[Line]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for line in lines:
        totals[line.region] = totals.get(line.region, 0.0) + line.usd
    return totals


def by_service(lines: list[Line]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for line in lines:
        totals[line.service] = totals.get(line.service, 0.0) + line.usd
    return dict(sorted(totals.items(), key=lambda kv: -kv[1]))
