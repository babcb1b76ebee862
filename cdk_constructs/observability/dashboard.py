"""The dashboard an operator reads top to bottom, one per serving region.

Sections, in reading order (docs/operations.md has the picture): alarm status; traffic; latency;
cold starts; errors and throttles; global-table replication; the click stream; WAF; business
numbers; and, in the home region only, every region side by side.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from cdk_constructs.observability.metrics import MetricFactory
from cdk_constructs.observability.sources import (
    CREATE_ROUTES,
    REDIRECT_ROUTES,
    FunctionSource,
    ObservedEnvironment,
    RegionSources,
    is_portable,
)
from shared.contracts import metrics
from shared.contracts.names import CLOUDFRONT_REGION

FULL = 24
HALF = 12
THIRD = 8
HEIGHT = 6

# Lambda writes one REPORT line per invocation; only cold starts carry an init duration. The
# second spelling is the same record when a function logs in Lambda's JSON format.
COLD_START_QUERY = "\n".join(
    [
        "fields coalesce(@initDuration, record.metrics.initDurationMs) as initMs",
        '| filter (@type = "REPORT" or type = "platform.report") and ispresent(initMs)',
        "| parse @log /:\\/aws\\/lambda\\/(?<function>.+)$/",
        "| stats count(*) as coldStarts, pct(initMs, 50) as p50Ms, pct(initMs, 99) as p99Ms,"
        " max(initMs) as maxMs by function",
        "| sort coldStarts desc",
    ]
)


def dashboard_name(env_name: str, region: str) -> str:
    return f"squrl-{env_name}-{region}"


def _section(title: str, note: str = "") -> cw.TextWidget:
    body = f"## {title}" + (f"\n{note}" if note else "")
    return cw.TextWidget(markdown=body, width=FULL, height=2 if note else 1)


def _graph(
    title: str,
    left: Sequence[cw.IMetric],
    width: int = HALF,
    right: Sequence[cw.IMetric] = (),
    stacked: bool = False,
    left_label: str | None = None,
) -> cw.GraphWidget:
    return cw.GraphWidget(
        title=title,
        left=list(left),
        right=list(right),
        width=width,
        height=HEIGHT,
        stacked=stacked,
        left_y_axis=cw.YAxisProps(label=left_label, show_units=False) if left_label else None,
    )


class RegionDashboard(Construct):
    """`squrl-<env>-<region>`: this region's view; the home region's also compares regions."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        observed: ObservedEnvironment,
        region: str,
        alarms: Sequence[cw.IAlarm],
        canary_name: str | None = None,
        lambda_insights: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self._observed = observed
        self._region = region
        self._local = MetricFactory()
        # Replication, the click stream and the canary live in the home region.
        self._home = MetricFactory(None if region == observed.home_region else observed.home_region)
        sources = observed.region(region)
        self.dashboard = cw.Dashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name(observed.env_name, region),
            default_interval=Duration.hours(3),
        )
        add = self.dashboard.add_widgets

        add(
            cw.TextWidget(
                markdown=(
                    f"# squrl {observed.env_name} in {region}\n"
                    f"Home region: {observed.home_region}. Serving regions: "
                    f"{', '.join(r.region for r in observed.regions)}. Every alarm links its "
                    "runbook (docs/runbooks/); the layout is described in docs/operations.md."
                ),
                width=FULL,
                height=2,
            )
        )
        if alarms:
            add(cw.AlarmStatusWidget(title="Alarms", alarms=list(alarms), width=FULL, height=3))

        self._traffic(sources)
        self._latency(sources)
        self._cold_starts(sources.functions, lambda_insights)
        self._errors(sources)
        self._replication(sources)
        self._clicks()
        self._waf(sources)
        self._business(canary_name)
        if region == observed.home_region and len(observed.regions) > 1:
            self._side_by_side()

    # Sections ----------------------------------------------------------------------------

    def _traffic(self, sources: RegionSources) -> None:
        m = self._local
        add = self.dashboard.add_widgets
        add(_section("Traffic", "Requests per route at the regional API; edge requests below."))
        api = sources.api
        if api is not None:
            redirects = [
                m.api(api, "Count", "Sum", r, r.label)
                for r in api.routes_matching(*REDIRECT_ROUTES)
            ]
            creates = [
                m.api(api, "Count", "Sum", r, r.label) for r in api.routes_matching(*CREATE_ROUTES)
            ]
            add(
                _graph("Redirects (requests)", redirects, stacked=True),
                _graph("Creates (requests)", creates, stacked=True),
            )
            add(
                _graph(
                    "4xx by route",
                    [m.api(api, "4XXError", "Sum", r, r.label) for r in api.routes],
                    stacked=True,
                ),
                _graph(
                    "5xx by route",
                    [m.api(api, "5XXError", "Sum", r, r.label) for r in api.routes],
                    stacked=True,
                ),
            )
        edge = self._observed.edge
        if (
            edge
            and edge.distribution_id
            and self._can_name(edge.distribution_id, CLOUDFRONT_REGION)
        ):
            cf = m.in_region(CLOUDFRONT_REGION)
            add(
                _graph(
                    "CloudFront requests (all edges)",
                    [cf.cloudfront(edge.distribution_id, "Requests", "Sum")],
                ),
                _graph(
                    "CloudFront error rates (%)",
                    [
                        cf.cloudfront(edge.distribution_id, "4xxErrorRate", "Average"),
                        cf.cloudfront(edge.distribution_id, "5xxErrorRate", "Average"),
                    ],
                ),
            )

    def _latency(self, sources: RegionSources) -> None:
        m = self._local
        add = self.dashboard.add_widgets
        add(_section("Latency", "p50 / p90 / p99 in milliseconds."))
        widgets: list[cw.IWidget] = []
        api = sources.api
        if api is not None:
            widgets.append(
                _graph(
                    "API Gateway latency",
                    [m.api(api, "Latency", s, label=f"latency {s}") for s in ("p50", "p90", "p99")],
                    right=[m.api(api, "IntegrationLatency", "p99", label="integration p99")],
                    width=THIRD,
                )
            )
        for function in sources.functions:
            widgets.append(
                _graph(
                    f"{function.key} duration",
                    [m.function(function, "Duration", s, f"{s}") for s in ("p50", "p90", "p99")],
                    width=THIRD,
                )
            )
        edge = self._observed.edge
        if edge and edge.function_name and self._can_name(edge.function_name, CLOUDFRONT_REGION):
            widgets.append(
                _graph(
                    "Edge function duration (edges served from this region)",
                    [
                        m.edge_function(edge.function_name, "Duration", s)
                        for s in ("p50", "p90", "p99")
                    ],
                    width=THIRD,
                )
            )
        add(*widgets)

    def _cold_starts(self, functions: Sequence[FunctionSource], lambda_insights: bool) -> None:
        if not functions:
            return
        add = self.dashboard.add_widgets
        add(_section("Cold starts", "Lambda init duration (ms) from the functions' REPORT lines."))
        widgets: list[cw.IWidget] = [
            cw.LogQueryWidget(
                title="Cold starts by function",
                log_group_names=[f.log_group_name for f in functions],
                query_string=COLD_START_QUERY,
                view=cw.LogQueryVisualizationType.TABLE,
                width=HALF if lambda_insights else FULL,
                height=HEIGHT,
            )
        ]
        if lambda_insights:
            widgets.append(
                _graph(
                    "Init duration p99 (Lambda Insights)",
                    [self._local.insights_init_duration(f, "p99") for f in functions],
                )
            )
        add(*widgets)

    def _errors(self, sources: RegionSources) -> None:
        m = self._local
        add = self.dashboard.add_widgets
        add(_section("Errors and throttles"))
        functions = sources.functions
        row: list[cw.IWidget] = [
            _graph("Lambda errors", [m.function(f, "Errors", "Sum") for f in functions], THIRD),
            _graph(
                "Lambda throttles", [m.function(f, "Throttles", "Sum") for f in functions], THIRD
            ),
        ]
        if sources.api is not None:
            api = sources.api
            row.append(
                _graph(
                    "API Gateway 4xx / 5xx",
                    [
                        m.api(api, "4XXError", "Sum", label="4xx"),
                        m.api(api, "5XXError", "Sum", label="5xx"),
                    ],
                    THIRD,
                )
            )
        add(*row)
        table = sources.table_name
        throttles = [
            m.table(table, "ReadThrottleEvents", "Sum", label="read throttles"),
            m.table(table, "WriteThrottleEvents", "Sum", label="write throttles"),
        ]
        for index in sources.index_names:
            throttles += [
                m.table(table, "ReadThrottleEvents", "Sum", index, f"{index} read throttles"),
                m.table(table, "WriteThrottleEvents", "Sum", index, f"{index} write throttles"),
            ]
        operations = ("GetItem", "Query", "PutItem")
        add(
            _graph(f"DynamoDB throttles ({table})", throttles, THIRD),
            _graph(
                "DynamoDB system errors",
                [m.table_operation(table, "SystemErrors", op, "Sum") for op in operations],
                THIRD,
            ),
            _graph(
                "DynamoDB latency (avg ms)",
                [
                    m.table_operation(table, "SuccessfulRequestLatency", op, "Average")
                    for op in operations
                ],
                THIRD,
            ),
        )

    def _replication(self, sources: RegionSources) -> None:
        replicas = self._observed.replica_regions()
        add = self.dashboard.add_widgets
        if not replicas:
            add(_section("Replication", "Single-region environment: the table has no replicas."))
            return
        add(
            _section(
                "Replication",
                f"Global table replication from {self._observed.home_region} (where every write "
                "lands) to each replica; the alarm fires above 2 s.",
            ),
            _graph(
                "Replication latency (ms)",
                [self._home.replication_latency(sources.table_name, r) for r in replicas],
                FULL,
            ),
        )

    def _clicks(self) -> None:
        analytics = self._observed.analytics
        if analytics is None:
            return
        h = self._home
        home = self._observed.home_region
        add = self.dashboard.add_widgets
        add(_section("Click stream", f"Kinesis and its consumer in {self._observed.home_region}."))
        row: list[cw.IWidget] = []
        if analytics.stream_name and self._can_name(analytics.stream_name, home):
            row.append(
                _graph(
                    "Iterator age (ms)",
                    [
                        h.stream(
                            analytics.stream_name, "GetRecords.IteratorAgeMilliseconds", "Maximum"
                        )
                    ],
                    THIRD,
                    right=[h.stream(analytics.stream_name, "IncomingRecords", "Sum")],
                )
            )
        queues = [q for q in analytics.dead_letter_queue_names if self._can_name(q, home)]
        if queues:
            row.append(
                _graph(
                    "Dead-letter queue depth",
                    [h.queue(q, "ApproximateNumberOfMessagesVisible", "Maximum") for q in queues],
                    THIRD,
                )
            )
        consumer = analytics.consumer
        if consumer is not None and self._can_name(consumer.name, home):
            row.append(
                _graph(
                    "Consumer errors and iterator age",
                    [h.function(consumer, "Errors", "Sum", "errors")],
                    THIRD,
                    right=[h.function(consumer, "IteratorAge", "Maximum", "iterator age ms")],
                )
            )
        name = analytics.delivery_stream_name
        if name and self._can_name(name, home):
            row.append(
                _graph(
                    "Firehose data freshness (s)",
                    [h.delivery_stream(name, "DeliveryToS3.DataFreshness", "Maximum")],
                    THIRD,
                )
            )
        if row:
            add(*row)

    def _waf(self, sources: RegionSources) -> None:
        widgets: list[cw.IWidget] = []
        if sources.web_acl_name:
            widgets.append(
                _graph(
                    f"Regional WAF ({sources.web_acl_name})",
                    [
                        self._local.waf(sources.web_acl_name, "AllowedRequests", self._region),
                        self._local.waf(sources.web_acl_name, "BlockedRequests", self._region),
                    ],
                )
            )
        edge = self._observed.edge
        if edge and edge.web_acl_name and self._can_name(edge.web_acl_name, CLOUDFRONT_REGION):
            widgets.append(
                _graph(
                    f"CloudFront WAF ({edge.web_acl_name})",
                    [
                        self._local.waf(edge.web_acl_name, "AllowedRequests", None),
                        self._local.waf(edge.web_acl_name, "BlockedRequests", None),
                    ],
                )
            )
        if widgets:
            self.dashboard.add_widgets(_section("WAF", "Allowed and blocked requests."), *widgets)

    def _business(self, canary_name: str | None) -> None:
        add = self.dashboard.add_widgets
        add(_section("Business", f"Powertools metrics (namespace {metrics.NAMESPACE})."))
        widgets: list[cw.IWidget] = [
            _graph(
                "Links created in this region",
                [self._local.business(name) for name in metrics.API_BUSINESS_METRICS],
                THIRD,
            )
        ]
        clicks = self._observed.business_metrics
        if clicks:
            widgets.append(
                _graph(
                    f"Clicks counted (in {self._observed.home_region})",
                    [self._home.business(name) for name in clicks],
                    THIRD,
                )
            )
        if canary_name is not None:
            widgets.append(
                _graph(
                    "Canary success (%)",
                    [self._home.canary(canary_name, "SuccessPercent", "Average")],
                    THIRD,
                )
            )
        add(*widgets)

    def _side_by_side(self) -> None:
        add = self.dashboard.add_widgets
        add(_section("All regions", "The same numbers for every serving region, side by side."))
        regions = [r.portable() for r in self._observed.regions]
        requests, errors, latency, duration, throttles, created = [], [], [], [], [], []
        for sources in regions:
            m = self._local.in_region(None if sources.region == self._region else sources.region)
            if sources.api is not None:
                api = sources.api
                requests.append(m.api(api, "Count", "Sum", label=sources.region))
                errors.append(m.api(api, "5XXError", "Sum", label=sources.region))
                latency.append(m.api(api, "Latency", "p99", label=sources.region))
            redirect = sources.function("redirect")
            if redirect is not None:
                duration.append(m.function(redirect, "Duration", "p99", sources.region))
            throttles.append(
                m.table(sources.table_name, "ReadThrottleEvents", "Sum", label=sources.region)
            )
            created.append(m.business(metrics.LINKS_CREATED, label=sources.region))
        add(
            _graph("API requests", requests, THIRD),
            _graph("API 5xx", errors, THIRD),
            _graph("API p99 latency (ms)", latency, THIRD),
        )
        add(
            _graph("Redirect function p99 duration (ms)", duration, THIRD),
            _graph("DynamoDB read throttles", throttles, THIRD),
            _graph("Links created", created, THIRD),
        )

    def _can_name(self, value: str, region: str) -> bool:
        """A token resolves only in its own region; a cross-region widget needs a literal."""
        return self._region == region or is_portable(value)
