"""Every metric a dashboard draws must be one the environment actually emits.

The dashboard body is an Fn::Join of JSON text and tokens. The test renders it, collects every
metric's region, namespace, name and dimensions, and checks each dimension value against the
resources synthesized for the same environment and region (function, API, stage, route, table,
index, web ACL, stream, queue, canary names), and squrl's own metric names against the
`add_metric` calls in the runtime code.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from shared.contracts import metrics as metric_contract
from tests.infra.helpers import methods, resources

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]

REPO_ROOT = Path(__file__).resolve().parents[2]
# The runtime names its metrics by shared.contracts.metrics constants (or a literal).
ADD_METRIC = re.compile(
    r"add_metric\(\s*name\s*=\s*(?:[\"']([A-Za-z0-9_.-]+)[\"']|metric_names\.([A-Z_]+)\b)"
)


def emitted_metric_names() -> set[str]:
    names: set[str] = set()
    for folder in ("functions", "shared"):
        for path in (REPO_ROOT / folder).rglob("*.py"):
            for literal, constant in ADD_METRIC.findall(path.read_text()):
                names.add(literal or getattr(metric_contract, constant))
    return names


def render(value: Any, template: dict[str, Any], synth: Any) -> str:
    """Text of an Fn::Join; a Ref or an import becomes the name of what it points at."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(render(part, template, synth) for part in parts)
    if "Ref" in value:
        ref = value["Ref"]
        if ref.startswith("AWS::"):
            return "{" + ref + "}"
        return f"<ref:{ref}>"
    if "Fn::ImportValue" in value:
        name = render(value["Fn::ImportValue"], template, synth)
        for other in synth.templates.values():
            for output in other.get("Outputs", {}).values():
                export = output.get("Export", {}).get("Name")
                if export == name and "Ref" in output["Value"]:
                    return f"<ref:{output['Value']['Ref']}>"
        raise AssertionError(f"import {name!r} has no matching export")
    if "Fn::GetAtt" in value:
        # Alarm ARNs in the alarm status widget; the alarms are in the same template.
        logical_id = value["Fn::GetAtt"][0]
        assert logical_id in template["Resources"], logical_id
        return f"<arn:{logical_id}>"
    raise AssertionError(f"unexpected token in dashboard body: {value}")


class Inventory:
    """Names of what one environment synthesizes, per region."""

    def __init__(self, synth: Any, env: str) -> None:
        self.by_region: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self.routes: dict[str, set[tuple[str, str]]] = defaultdict(set)
        self.refs: dict[str, str] = {}
        for stack_name, template in synth.templates.items():
            if not stack_name.startswith(f"squrl-{env}-"):
                continue
            region = synth.stack_regions[stack_name]
            names = self.by_region[region]
            for logical_id, resource in template.get("Resources", {}).items():
                self.refs[logical_id] = resource["Type"]
                props = resource.get("Properties", {})
                kind = resource["Type"]
                if kind == "AWS::Lambda::Function" and "FunctionName" in props:
                    names["FunctionName"].add(props["FunctionName"])
                    if region == "us-east-1":
                        # Lambda@Edge reports under this name in every region it runs in.
                        for edge_region in synth.stack_regions.values():
                            self.by_region[edge_region]["FunctionName"].add(
                                "us-east-1." + props["FunctionName"]
                            )
                elif kind == "AWS::Logs::LogGroup" and "LogGroupName" in props:
                    names["LogGroup"].add(props["LogGroupName"])
                elif kind == "AWS::ApiGateway::RestApi":
                    names["ApiName"].add(props["Name"])
                elif kind == "AWS::ApiGateway::Stage":
                    names["Stage"].add(props["StageName"])
                elif kind == "AWS::DynamoDB::GlobalTable":
                    for replica in props["Replicas"]:
                        replica_region = replica["Region"]
                        if isinstance(replica_region, dict):
                            replica_region = region
                        self.by_region[replica_region]["TableName"].add(props["TableName"])
                        names["ReceivingRegion"].add(replica_region)
                    names["ReceivingRegion"].discard(region)
                    for index in props.get("GlobalSecondaryIndexes", []):
                        for replica in props["Replicas"]:
                            replica_region = replica["Region"]
                            if isinstance(replica_region, dict):
                                replica_region = region
                            self.by_region[replica_region]["GlobalSecondaryIndexName"].add(
                                index["IndexName"]
                            )
                elif kind == "AWS::WAFv2::WebACL":
                    names["WebACL"].add(props["Name"])
                elif kind == "AWS::Kinesis::Stream" and "Name" in props:
                    names["StreamName"].add(props["Name"])
                elif kind == "AWS::SQS::Queue" and "QueueName" in props:
                    names["QueueName"].add(props["QueueName"])
                elif (
                    kind == "AWS::KinesisFirehose::DeliveryStream" and "DeliveryStreamName" in props
                ):
                    names["DeliveryStreamName"].add(props["DeliveryStreamName"])
                elif kind == "AWS::Synthetics::Canary":
                    names["CanaryName"].add(props["Name"])
            for method, path in methods(template):
                self.routes[region].add((method, path))

    def check(self, region: str, dimension: str, value: str) -> str | None:
        """None when `value` names something in `region`; else what is wrong."""
        names = self.by_region[region]
        if value.startswith("<ref:"):
            logical_id = value[5:-1]
            kind = self.refs.get(logical_id)
            expected = {
                "DistributionId": "AWS::CloudFront::Distribution",
                "StreamName": "AWS::Kinesis::Stream",
                "QueueName": "AWS::SQS::Queue",
                "FunctionName": "AWS::Lambda::Function",
                "DeliveryStreamName": "AWS::KinesisFirehose::DeliveryStream",
            }.get(dimension)
            if kind != expected:
                return f"{dimension} refers to {logical_id} ({kind}), expected {expected}"
            return None
        if dimension == "Region":
            return None if value == region else f"Region={value} in a {region} metric"
        if dimension == "Rule":
            return None if value == "ALL" else f"Rule={value}"
        if dimension == "service":
            return None if value == "squrl" else f"service={value}"
        if dimension == "Operation":
            return None if value in {"GetItem", "Query", "PutItem", "UpdateItem"} else value
        if dimension == "function_name":
            dimension = "FunctionName"
        if dimension in ("Method", "Resource"):
            return None  # checked as a pair in check_route
        if value not in names[dimension]:
            return f"{dimension}={value!r} is not synthesized in {region}"
        return None

    def check_route(self, region: str, method: str, path: str) -> str | None:
        if (method, path) not in self.routes[region]:
            return f"route {method} {path} is not a method of the API in {region}"
        return None


def dashboard_metrics(body: str, stack_region: str) -> list[tuple[str, str, str, dict]]:
    """(region, namespace, name, dimensions) of every metric drawn; math ids are skipped."""
    found = []
    for widget in json.loads(body)["widgets"]:
        props = widget.get("properties", {})
        widget_region = props.get("region", stack_region)
        previous: list[Any] = []
        for row in props.get("metrics", []):
            options = row[-1] if row and isinstance(row[-1], dict) else {}
            cells = row[:-1] if options else row
            if not cells:
                continue  # a math expression row: {"expression": ...}
            # CloudWatch's shorthand: "." repeats the cell above, "..." the rest of it.
            expanded: list[Any] = []
            for i, cell in enumerate(cells):
                if cell == "...":
                    expanded += previous[i:]
                elif cell == ".":
                    expanded.append(previous[i])
                else:
                    expanded.append(cell)
            previous = expanded
            namespace, name, *pairs = expanded
            dims = dict(zip(pairs[::2], pairs[1::2], strict=True))
            region = options.get("region", widget_region).replace("{AWS::Region}", stack_region)
            found.append((region, namespace, name, dims))
    return found


def dashboards(synth: Any) -> list[tuple[str, str, str, str]]:
    """(env, stack region, stack name, rendered body) of every dashboard in the app."""
    found = []
    for stack_name, template in synth.templates.items():
        for resource in resources(template, "AWS::CloudWatch::Dashboard").values():
            env = stack_name.split("-")[1]
            body = render(resource["Properties"]["DashboardBody"], template, synth)
            region = synth.stack_regions[stack_name]
            found.append((env, region, stack_name, body.replace("{AWS::Region}", region)))
    return found


def test_runtime_emits_the_business_metrics_the_dashboards_use():
    # The grep must see the create handler's metrics, or the check below proves nothing.
    assert {"LinksCreated", "LinksDeduplicated"} <= emitted_metric_names()


def test_every_dashboard_metric_names_a_synthesized_resource(synth):
    emitted = emitted_metric_names()
    problems: list[str] = []
    checked = 0
    for env, region, stack_name, body in dashboards(synth):
        inventory = Inventory(synth, env)
        for metric_region, namespace, name, dims in dashboard_metrics(body, region):
            checked += 1
            where = f"{stack_name}: {namespace}/{name} {dims} in {metric_region}"
            if namespace == "Squrl" and name not in emitted:
                problems.append(f"{where}: no add_metric(name={name!r}) in the runtime")
            for dimension, value in dims.items():
                if (namespace, dimension, value) == ("AWS/CloudFront", "Region", "Global"):
                    continue  # CloudFront's distribution metrics are all published as Global
                problem = inventory.check(metric_region, dimension, value)
                if problem:
                    problems.append(f"{where}: {problem}")
            if "Method" in dims:
                problem = inventory.check_route(metric_region, dims["Method"], dims["Resource"])
                if problem:
                    problems.append(f"{where}: {problem}")
    assert checked > 100, "the parser found too few metrics to mean anything"
    assert problems == []


def test_cold_start_queries_read_existing_log_groups(synth):
    seen = 0
    for env, region, stack_name, body in dashboards(synth):
        inventory = Inventory(synth, env)
        for widget in json.loads(body)["widgets"]:
            query = widget.get("properties", {}).get("query")
            if not query:
                continue
            groups = re.findall(r"SOURCE '([^']+)'", query)
            assert groups, f"{stack_name}: log query without a source"
            for group in groups:
                seen += 1
                assert group in inventory.by_region[region]["LogGroup"], (stack_name, group)
    assert seen >= 3


def test_dashboards_show_every_section_an_operator_reads(synth):
    for env, region, stack_name, body in dashboards(synth):
        texts = " ".join(
            w["properties"].get("markdown", "") + w["properties"].get("title", "")
            for w in json.loads(body)["widgets"]
        )
        for section in (
            "Traffic",
            "Latency",
            "Cold starts",
            "Errors and throttles",
            "Replication",
            "Business",
            "4xx by route",
            "5xx by route",
            "DynamoDB throttles",
        ):
            assert section in texts, f"{stack_name} lacks {section}"
        env_config = synth.config.environments[env]
        if env_config.waf.enabled:
            assert "Regional WAF" in texts
        home_with_peers = region == env_config.home_region and len(env_config.serving_regions) > 1
        assert ("All regions" in texts) == home_with_peers, stack_name


def test_home_dashboard_compares_every_serving_region(synth):
    prod = synth.config.environments["prod"]
    body = next(b for e, r, _, b in dashboards(synth) if e == "prod" and r == prod.home_region)
    regions = {
        metric_region
        for metric_region, namespace, name, _ in dashboard_metrics(body, prod.home_region)
        if namespace == "AWS/ApiGateway" and name == "Count"
    }
    assert regions == set(prod.serving_regions)
    replication = {
        dims["ReceivingRegion"]
        for _, _, name, dims in dashboard_metrics(body, prod.home_region)
        if name == "ReplicationLatency"
    }
    assert replication == set(prod.replica_regions)
