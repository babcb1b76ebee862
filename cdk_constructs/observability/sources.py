"""What the observability stack watches, described by physical names.

Dashboards and alarms name metrics by dimension values (function names, API names, queue names).
Where the owning stack gave a resource a fixed name, these helpers read that literal from the
L1 resource instead of using the L2 attribute: the attribute is a `Ref` token that would turn
into a cross-stack export, and an export pins the producer (CloudFormation refuses to change or
delete an exported value while an importer exists). A literal keeps the observability stack a
pure reader. Only unnamed resources fall back to the token (an export within one region).
A token cannot cross regions, so `RegionSources.portable()` drops what the home region's
side-by-side view could not reference.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from aws_cdk import CfnResource, Token
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import IConstruct

from shared.contracts import routes
from shared.contracts.http import HEALTH_PATH

# API Gateway answers CORS preflights itself; they are not squrl routes worth a graph.
_IGNORED_METHODS = frozenset({"OPTIONS"})


def _route_labels(function: str) -> tuple[str, ...]:
    return tuple(
        f"{route.method} {route.resource}"
        for route in routes.ROUTES
        if route.function == function and route.resource != HEALTH_PATH
    )


# Routes graphed and alarmed together, from the route table: redirects (the health check is not
# one) and creates.
REDIRECT_ROUTES = _route_labels("redirect")
CREATE_ROUTES = _route_labels("create_url")


def literal(construct: IConstruct, prop: str, fallback: str) -> str:
    """The literal `prop` of `construct`'s L1 resource, or `fallback` when it has none."""
    child = construct if isinstance(construct, CfnResource) else construct.node.default_child
    value = getattr(child, prop, None) if child is not None else None
    if isinstance(value, str) and not Token.is_unresolved(value):
        return value
    return fallback


def is_portable(value: str) -> bool:
    """Whether `value` can appear in another region's template (a token cannot)."""
    return not Token.is_unresolved(value)


@dataclass(frozen=True)
class FunctionSource:
    """One Lambda function: `key` names it on the dashboard and in alarm names."""

    key: str
    name: str
    log_group_name: str

    @classmethod
    def of(
        cls, key: str, function: lambda_.IFunction, log_group: logs.ILogGroup | None = None
    ) -> FunctionSource:
        name = literal(function, "function_name", function.function_name)
        group = f"/aws/lambda/{name}"
        if log_group is not None:
            group = literal(log_group, "log_group_name", log_group.log_group_name)
        return cls(key=key, name=name, log_group_name=group)


@dataclass(frozen=True)
class Route:
    method: str
    path: str

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class ApiSource:
    """A REST API stage with detailed (per-method) metrics turned on."""

    name: str
    stage: str
    routes: tuple[Route, ...]

    @classmethod
    def of(cls, api: apigw.RestApi) -> ApiSource:
        stage = api.deployment_stage
        stage_name = literal(stage, "stage_name", stage.stage_name)
        routes = sorted(
            {
                Route(method.http_method, method.resource.path)
                for method in api.methods
                if method.http_method not in _IGNORED_METHODS
            },
            key=lambda route: (route.path, route.method),
        )
        return cls(name=api.rest_api_name, stage=stage_name, routes=tuple(routes))

    def routes_matching(self, *labels: str) -> tuple[Route, ...]:
        wanted = set(labels)
        return tuple(route for route in self.routes if route.label in wanted)


@dataclass(frozen=True)
class RegionSources:
    """What one serving region runs: its API, its functions, its replica and its WAF."""

    region: str
    table_name: str
    index_names: tuple[str, ...] = ()
    api: ApiSource | None = None
    functions: tuple[FunctionSource, ...] = ()
    web_acl_name: str | None = None

    def function(self, key: str) -> FunctionSource | None:
        return next((f for f in self.functions if f.key == key), None)

    def portable(self) -> RegionSources:
        """This region's sources minus anything only its own region's templates can name."""
        api = self.api if self.api and is_portable(self.api.name + self.api.stage) else None
        return replace(
            self,
            api=api,
            functions=tuple(f for f in self.functions if is_portable(f.name)),
            web_acl_name=(
                self.web_acl_name if self.web_acl_name and is_portable(self.web_acl_name) else None
            ),
        )


@dataclass(frozen=True)
class AnalyticsSources:
    """The click pipeline in the home region; every part is optional until it exists."""

    stream_name: str | None = None
    consumer: FunctionSource | None = None
    dead_letter_queue_names: tuple[str, ...] = ()
    delivery_stream_name: str | None = None
    # Every lake delivery stream (regional and edge clicks), for the transform alarm.
    lake_delivery_stream_names: tuple[str, ...] = ()
    # Powertools metric names the click pipeline emits (shared.contracts.metrics).
    business_metrics: tuple[str, ...] = ()


@dataclass(frozen=True)
class EdgeSources:
    """CloudFront and Lambda@Edge; their metrics live in us-east-1 (CloudFront's region)."""

    distribution_id: str | None = None
    function_name: str | None = None
    web_acl_name: str | None = None
    # The real-time log stream (us-east-1) carrying the edge's click records.
    request_stream_name: str | None = None


@dataclass(frozen=True)
class InvalidationSources:
    """The invalidator (home region): its function and its dead-letter queue."""

    function: FunctionSource
    dead_letter_queue_name: str


@dataclass(frozen=True)
class ObservedEnvironment:
    """Everything one observability stack needs; `regions` lists every serving region."""

    env_name: str
    home_region: str
    regions: tuple[RegionSources, ...]
    analytics: AnalyticsSources | None = None
    edge: EdgeSources | None = None
    invalidation: InvalidationSources | None = None
    business_metrics: tuple[str, ...] = field(default=())

    def region(self, name: str) -> RegionSources:
        for sources in self.regions:
            if sources.region == name:
                return sources
        raise KeyError(f"no sources for region {name}")

    def replica_regions(self) -> list[str]:
        return [r.region for r in self.regions if r.region != self.home_region]


def names(items: Iterable[FunctionSource]) -> list[str]:
    return [item.name for item in items]
