"""Marginal cost: what 1M more redirects (per path), creates and counted clicks cost.

Every component is a price-table line times a quantity the templates decide (which services a
request passes, memory, architecture, indexes, replicas, stream modes) or an assumption
(assumptions.py). A path is a list of (component, USD per 1M) so the tables can show why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tools.cost_model.assembly import Environment, Stack
from tools.cost_model.assumptions import ASSUMPTIONS, Assumptions
from tools.cost_model.at_rest import GB, function_gb
from tools.cost_model.prices import Prices

MILLION = 1_000_000
Components = list[tuple[str, float]]


@dataclass(frozen=True)
class Features:
    """What the templates say a request passes through."""

    edge: bool
    edge_waf: bool
    edge_function: bool  # the viewer-request CloudFront Function
    lambda_edge_gb: float | None
    realtime_log_percent: float  # 0 without real-time logs
    edge_stream_on_demand: bool
    regional_waf: bool
    redirect_gb: float
    redirect_arch: str
    create_gb: float
    create_arch: str
    create_snapstart: bool
    traced: bool
    dax: bool
    replicas: int  # table copies besides the home region's
    link_indexes: int  # indexes a link item is written to
    full_indexes: int  # indexes projecting ALL attributes (a click count update rewrites them)
    click_stream_on_demand: bool
    firehoses: int
    consumer_gb: float
    consumer_arch: str


def _function_named(stack: Stack, suffix: str) -> tuple[float, str, dict[str, Any]]:
    for logical_id, props in stack.resources("AWS::Lambda::Function"):
        if str(props.get("FunctionName", "")).endswith(suffix):
            gb, architecture = function_gb(stack, logical_id)
            return gb, architecture, props
    raise LookupError(f"{stack.name} has no function named *{suffix}")


def _edge_features(edge: Stack | None) -> dict[str, Any]:
    if edge is None:
        return {
            "edge": False, "edge_waf": False, "edge_function": False, "lambda_edge_gb": None,
            "realtime_log_percent": 0.0, "edge_stream_on_demand": False,
        }  # fmt: skip
    (_, distribution), *_ = edge.resources("AWS::CloudFront::Distribution")
    behaviour = distribution["DistributionConfig"]["DefaultCacheBehavior"]
    lambda_edge_gb = None
    if behaviour.get("LambdaFunctionAssociations"):
        lambda_edge_gb, _, _ = _function_named(edge, "-edge-redirect")
    logs = [props for _, props in edge.resources("AWS::CloudFront::RealtimeLogConfig")]
    streams = [props for _, props in edge.resources("AWS::Kinesis::Stream")]
    return {
        "edge": True,
        "edge_waf": edge.count("AWS::WAFv2::WebACL") > 0,
        "edge_function": bool(behaviour.get("FunctionAssociations")),
        "lambda_edge_gb": lambda_edge_gb,
        "realtime_log_percent": float(logs[0]["SamplingRate"]) if logs else 0.0,
        "edge_stream_on_demand": any(_on_demand(s) for s in streams),
    }


def _on_demand(stream: dict[str, Any]) -> bool:
    return bool(stream.get("StreamModeDetails", {}).get("StreamMode") == "ON_DEMAND")


def _table_features(data: Stack) -> dict[str, Any]:
    (_, table), *_ = data.resources("AWS::DynamoDB::GlobalTable")
    indexes = table.get("GlobalSecondaryIndexes", [])
    return {
        "replicas": len(table.get("Replicas", [])) - 1,
        # Both indexes are keyed on attributes every link has (original_url, owner_id).
        "link_indexes": len(indexes),
        "full_indexes": sum(1 for i in indexes if i["Projection"]["ProjectionType"] == "ALL"),
    }


def _click_features(analytics: Stack | None) -> dict[str, Any]:
    if analytics is None:
        return {
            "click_stream_on_demand": False, "firehoses": 0,
            "consumer_gb": 0.5, "consumer_arch": "arm64",
        }  # fmt: skip
    streams = [props for _, props in analytics.resources("AWS::Kinesis::Stream")]
    gb, architecture, _ = _function_named(analytics, "-click-consumer")
    return {
        "click_stream_on_demand": any(_on_demand(s) for s in streams),
        "firehoses": analytics.count("AWS::KinesisFirehose::DeliveryStream"),
        "consumer_gb": gb,
        "consumer_arch": architecture,
    }


def features(env: Environment) -> Features:
    home = env.role("data")[0].region
    api = env.one("api", home)
    data = env.one("data", home)
    assert api is not None and data is not None, f"{env.name}: no API or data stack in {home}"
    redirect_gb, redirect_arch, redirect = _function_named(api, "-redirect")
    create_gb, create_arch, create = _function_named(api, "-create-url")
    return Features(
        **_edge_features(env.one("edge")),
        regional_waf=api.count("AWS::WAFv2::WebACL") > 0,
        redirect_gb=redirect_gb,
        redirect_arch=redirect_arch,
        create_gb=create_gb,
        create_arch=create_arch,
        create_snapstart=create.get("SnapStart", {}).get("ApplyOn") == "PublishedVersions",
        traced=redirect.get("TracingConfig", {}).get("Mode") == "Active",
        dax=api.count("AWS::DAX::Cluster") > 0,
        **_table_features(data),
        **_click_features(env.one("analytics")),
    )


class Model:
    def __init__(self, f: Features, prices: Prices, assumptions: Assumptions = ASSUMPTIONS):
        self.f, self.p, self.a = f, prices, assumptions

    # -- pieces -----------------------------------------------------------------------------
    def _logs(self, what: str, nbytes: float) -> tuple[str, float]:
        return (what, nbytes * MILLION / GB * self.p("cloudwatch", "logs_ingest_per_gb"))

    def _lambda(self, name: str, gb: float, ms: float, arch: str) -> Components:
        p = self.p
        return [
            (f"{name} requests", p("lambda", "request_per_million")),
            (f"{name} duration", gb * ms / 1000 * MILLION * p("lambda", f"gb_second_{arch}")),
        ]

    def _read(self, share: float = 1.0) -> tuple[str, float]:
        # One eventually consistent GetItem of an item under 4 KB: half a read request unit.
        return ("DynamoDB read", share * 0.5 * self.p("dynamodb", "read_request_units_per_million"))

    def _regional(self, read: tuple[str, float]) -> Components:
        f, a, p = self.f, self.a, self.p
        path: Components = [("API Gateway requests", p("api_gateway", "rest_requests_per_million"))]
        if f.regional_waf:
            path.append(("regional WAF requests", p("waf", "requests_per_million")))
        path += self._lambda("redirect", f.redirect_gb, a.regional_redirect_ms, f.redirect_arch)
        path.append(read)
        path.append(
            self._logs("logs: platform + access", a.platform_log_bytes + a.access_log_bytes)
        )
        if f.traced:
            xray = a.xray_sampled_fraction * p("xray", "traces_recorded_per_million")
            path.append(("X-Ray traces", xray))
        return path

    def _transfer(self, per_gb: float, nbytes: float) -> float:
        return nbytes * MILLION / GB * per_gb

    # -- redirect paths -----------------------------------------------------------------------
    def edge_hit(self) -> Components:
        f, p = self.f, self.p
        path: Components = [("CloudFront requests", p("cloudfront", "https_requests_per_million"))]
        if f.edge_function:
            path.append(
                ("CloudFront Function", p("cloudfront", "function_invocations_per_million"))
            )
        if f.edge_waf:
            path.append(("CloudFront WAF requests", p("waf", "requests_per_million")))
        dto = self._transfer(
            p("cloudfront", "data_transfer_out_per_gb"), self.a.redirect_response_bytes
        )
        path.append(("CloudFront data transfer out", dto))
        return path

    def edge_miss(self) -> Components:
        """A miss answered by Lambda@Edge from the nearest replica."""
        f, a, p = self.f, self.a, self.p
        if f.lambda_edge_gb is None:
            return self.edge_miss_regional()
        duration = (
            f.lambda_edge_gb * a.edge_function_ms / 1000 * MILLION * p("lambda_edge", "gb_second")
        )
        return [
            *self.edge_hit(),
            ("Lambda@Edge requests", p("lambda_edge", "request_per_million")),
            ("Lambda@Edge duration", duration),
            self._read(),
            self._logs("logs: Lambda@Edge platform", a.edge_platform_log_bytes),
        ]

    def edge_miss_regional(self) -> Components:
        """A miss the origin group sends to a regional API (edge function off or failing)."""
        return self.edge_hit() + self._regional(self._read())

    def regional_direct(self) -> Components:
        transfer = self._transfer(
            self.p("api_gateway", "data_transfer_out_per_gb"), self.a.redirect_response_bytes
        )
        return [*self._regional(self._read()), ("API Gateway data transfer out", transfer)]

    def regional_dax(self) -> Components:
        """The regional path with DAX: only DAX misses read the replica."""
        miss = 1 - self.a.dax_hit_ratio
        read = (f"DynamoDB read ({miss:.0%} DAX misses)", self._read(miss)[1])
        transfer = self._transfer(
            self.p("api_gateway", "data_transfer_out_per_gb"), self.a.redirect_response_bytes
        )
        return [*self._regional(read), ("API Gateway data transfer out", transfer)]

    def blended(self, hit_ratio: float) -> float:
        return hit_ratio * total(self.edge_hit()) + (1 - hit_ratio) * total(self.edge_miss())

    # -- creates ------------------------------------------------------------------------------
    def _write_units(self, items: float, index_writes: float) -> Components:
        """Writes in the home region and their replication to every replica region."""
        p, f = self.p, self.f
        wru = p("dynamodb", "write_request_units_per_million")
        path: Components = [
            ("DynamoDB writes", items * wru),
            ("DynamoDB index writes", index_writes * wru),
        ]
        if f.replicas:
            rwru = p("dynamodb", "replicated_write_request_units_per_million")
            replicated = f.replicas * (items / 2 * rwru + index_writes * wru)
            path.append((f"DynamoDB replication to {f.replicas} region(s)", replicated))
        return path

    def create(self) -> Components:
        f, a, p = self.f, self.a, self.p
        path: Components = [("API Gateway requests", p("api_gateway", "rest_requests_per_million"))]
        if f.regional_waf:
            path.append(("regional WAF requests", p("waf", "requests_per_million")))
        path += self._lambda("create_url", f.create_gb, a.create_ms, f.create_arch)
        if f.create_snapstart:
            restores = a.snapstart_restores_per_million * f.create_gb
            path.append(("SnapStart restores", restores * p("lambda", "snapstart_restore_per_gb")))
        path.append(("DynamoDB dedup query", 0.5 * p("dynamodb", "read_request_units_per_million")))
        # One transaction of two items (the link and its first history entry): 2 WRU each.
        path += self._write_units(items=4, index_writes=f.link_indexes)
        logs = a.platform_log_bytes + a.access_log_bytes + a.create_log_bytes
        path.append(self._logs("logs: platform + access + application", logs))
        if f.traced:
            path.append(
                ("X-Ray traces", a.xray_sampled_fraction * p("xray", "traces_recorded_per_million"))
            )
        transfer = self._transfer(
            p("api_gateway", "data_transfer_out_per_gb"), a.create_response_bytes
        )
        path.append(("API Gateway data transfer out", transfer))
        return path

    # -- counted clicks -----------------------------------------------------------------------
    def _counting(self) -> Components:
        f, a, p = self.f, self.a, self.p
        items = a.click_item_writes_per_1000 / 1000
        index_writes = items * a.click_link_item_share * f.full_indexes
        path = self._write_units(items=2 * items, index_writes=index_writes)
        batches = 1 / a.consumer_batch_records
        duration = f.consumer_gb * a.consumer_ms_per_batch / 1000 * batches * MILLION
        path += [
            ("consumer requests", batches * p("lambda", "request_per_million")),
            ("consumer duration", duration * p("lambda", f"gb_second_{f.consumer_arch}")),
        ]
        if f.firehoses:
            firehose = self._transfer(p("firehose", "ingest_per_gb"), a.firehose_record_bytes)
            path.append(("Firehose to the lake", firehose))
        return path

    def _stream_put(self, nbytes: int, on_demand: bool, readers: int) -> tuple[str, float]:
        p = self.p
        if not on_demand:
            return ("Kinesis PUT payload units", p("kinesis", "put_payload_units_per_million"))
        ingest = self._transfer(p("kinesis", "on_demand_ingest_per_gb"), max(nbytes, 1024))
        retrieval = readers * self._transfer(p("kinesis", "on_demand_retrieval_per_gb"), nbytes)
        return ("Kinesis on-demand ingest + reads", ingest + retrieval)

    def edge_click(self) -> Components:
        f, a, p = self.f, self.a, self.p
        return [
            ("CloudFront real-time log lines", p("cloudfront", "realtime_log_lines_per_million")),
            self._stream_put(
                a.edge_log_record_bytes, f.edge_stream_on_demand, a.edge_stream_readers
            ),
            *self._counting(),
        ]

    def regional_click(self) -> Components:
        f, a = self.f, self.a
        return [
            self._logs("logs: click line", a.click_line_bytes),
            self._stream_put(a.click_record_bytes, f.click_stream_on_demand, 2),
            *self._counting(),
        ]


def total(path: Components) -> float:
    return sum(usd for _, usd in path)
