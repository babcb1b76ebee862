"""squrl's alarms for one region (the topic they page is alarm_topic.py, the budget budget.py).

Thresholds follow docs/api.md section 11, tightened for a redirect service (docs/operations.md):
5xx over 1 % for 5 minutes, p99 over the SLO for 5 minutes, any Lambda throttle, DynamoDB throttles,
replication over 2 s, click-stream iterator age over 5 minutes, any message in a DLQ, WAF block
spikes, a failing canary, any edge log record refused by its stream.

Paging policy: alarms that describe one user-visible symptom are grouped under a composite
alarm, which pages once; its members record an OpsCenter OpsItem instead of paging, so the
operator still sees which member fired without receiving one page per member. Alarms that stand
alone page the topic directly. Every alarm description links its runbook in docs/runbooks/.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_constructs.observability.metrics import ONE_MINUTE, MetricFactory
from cdk_constructs.observability.runbooks import Runbooks
from cdk_constructs.observability.sources import (
    CREATE_ROUTES,
    REDIRECT_ROUTES,
    AnalyticsSources,
    EdgeSources,
    FunctionSource,
    InvalidationSources,
    ObservedEnvironment,
    RegionSources,
)
from shared.contracts.names import CLOUDFRONT_REGION
from squrl_config import ObservabilityConfig

# Replication slower than this means reads in the replica regions serve stale or missing links.
REPLICATION_LATENCY_MS = 2000
# A click-stream record older than this is counted late; the stream's retention is the hard limit.
ITERATOR_AGE_MS = 5 * 60 * 1000
# Percent of requests that may fail before squrl pages (the usual 5 %; a redirect is either
# there or broken, so squrl pages at 1 %).
ERROR_RATE_PERCENT = 1
SUSTAINED_MINUTES = 5
# The regional and the CloudFront web ACL share one runbook; the alarm names the ACL.
WAF_RUNBOOK = "waf-block-spike"


class RegionAlarms(Construct):
    """Every alarm of one serving region; `.alarms` lists them, `.paging` those on the topic."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        observed: ObservedEnvironment,
        region: str,
        settings: ObservabilityConfig,
        topic: sns.ITopic,
        canary_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._env_prefix = f"squrl-{observed.env_name}-"
        self._prefix = f"{self._env_prefix}{region}"
        self._settings = settings
        self._runbooks = Runbooks(settings.runbook_base_url)
        self._page = cw_actions.SnsAction(topic)
        self._record = cw_actions.SsmAction(
            cw_actions.OpsItemSeverity.HIGH, cw_actions.OpsItemCategory.AVAILABILITY
        )
        self._metrics = MetricFactory(period=ONE_MINUTE)
        self._metrics_5min = MetricFactory()
        self.alarms: list[cw.AlarmBase] = []
        self.paging: list[cw.AlarmBase] = []

        sources = observed.region(region)
        self._requests_failing(sources)
        self._latency(sources)
        self._lambda_throttles(sources.functions)
        self._dynamodb_throttles(sources)
        if sources.web_acl_name:
            self._waf_spike("waf-block-spike", sources.web_acl_name, regional_in=region)
        if region == observed.home_region:
            for replica in observed.replica_regions():
                self._replication(sources.table_name, replica)
            if observed.analytics is not None:
                self._clicks(observed.analytics)
            if canary_name is not None:
                self._canary(canary_name)
            if observed.invalidation is not None:
                self._invalidation(observed.invalidation)
        if observed.edge is not None and region == CLOUDFRONT_REGION:
            self._edge(observed.edge)

    # Building blocks ---------------------------------------------------------------------

    def _describe(self, slug: str, summary: str) -> str:
        return f"{summary} Runbook: {self._runbooks.link(slug)}"

    def _alarm(
        self,
        slug: str,
        summary: str,
        metric: cw.IMetric,
        threshold: float,
        *,
        qualifier: str | None = None,
        evaluation_periods: int = SUSTAINED_MINUTES,
        datapoints: int | None = None,
        comparison: cw.ComparisonOperator = cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        missing: cw.TreatMissingData = cw.TreatMissingData.NOT_BREACHING,
        pages: bool = True,
        runbook: str | None = None,
    ) -> cw.Alarm:
        name = f"{slug}-{qualifier}" if qualifier else slug
        alarm = cw.Alarm(
            self,
            name,
            alarm_name=f"{self._prefix}-{name}",
            alarm_description=self._describe(runbook or slug, summary),
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints or evaluation_periods,
            comparison_operator=comparison,
            treat_missing_data=missing,
        )
        self._act(alarm, pages)
        return alarm

    def _act(self, alarm: cw.AlarmBase, pages: bool) -> None:
        self.alarms.append(alarm)
        if pages:
            alarm.add_alarm_action(self._page)
            alarm.add_ok_action(self._page)
            self.paging.append(alarm)
        else:
            alarm.add_alarm_action(self._record)

    def _composite(
        self,
        slug: str,
        summary: str,
        members: Sequence[cw.IAlarm],
        *,
        every: bool = False,
        runbook: str | None = None,
    ) -> cw.CompositeAlarm | None:
        if not members:
            return None
        rules = [cw.AlarmRule.from_alarm(m, cw.AlarmState.ALARM) for m in members]
        composite = cw.CompositeAlarm(
            self,
            slug,
            composite_alarm_name=f"{self._prefix}-{slug}",
            alarm_description=self._describe(runbook or slug, summary),
            alarm_rule=cw.AlarmRule.all_of(*rules) if every else cw.AlarmRule.any_of(*rules),
        )
        self._act(composite, pages=True)
        return composite

    def _guarded_rate(
        self, errors: cw.IMetric, requests: cw.IMetric, label: str
    ) -> cw.MathExpression:
        floor = self._settings.alarm_min_requests_per_minute
        return cw.MathExpression(
            expression=f"IF(requests >= {floor}, 100 * errors / requests, 0)",
            using_metrics={"errors": errors, "requests": requests},
            period=ONE_MINUTE,
            label=label,
        )

    # Alarms ------------------------------------------------------------------------------

    def _requests_failing(self, sources: RegionSources) -> None:
        members: list[cw.IAlarm] = []
        api = sources.api
        if api is not None:
            rate = self._guarded_rate(
                self._metrics.api(api, "5XXError", "Sum"),
                self._metrics.api(api, "Count", "Sum"),
                "API 5xx %",
            )
            members.append(
                self._alarm(
                    "api-5xx-rate",
                    f"More than {ERROR_RATE_PERCENT}% of API requests in {sources.region} "
                    f"answered 5xx for {SUSTAINED_MINUTES} minutes.",
                    rate,
                    ERROR_RATE_PERCENT,
                    pages=False,
                )
            )
        for function in sources.functions:
            rate = self._guarded_rate(
                self._metrics.function(function, "Errors", "Sum"),
                self._metrics.function(function, "Invocations", "Sum"),
                f"{function.key} errors %",
            )
            members.append(
                self._alarm(
                    "function-errors",
                    f"More than {ERROR_RATE_PERCENT}% of {function.name} invocations failed "
                    f"for {SUSTAINED_MINUTES} minutes.",
                    rate,
                    ERROR_RATE_PERCENT,
                    qualifier=function.key.replace("_", "-"),
                    pages=False,
                )
            )
        self._composite(
            "requests-failing",
            f"squrl requests are failing in {sources.region}: the API's 5xx rate or a "
            "function's error rate is above 1%. The member alarm's OpsItem names which.",
            members,
        )

    def _route_p99(self, sources: RegionSources, labels: Sequence[str]) -> cw.MathExpression | None:
        api = sources.api
        routes = api.routes_matching(*labels) if api else ()
        if api is None or not routes:
            return None
        using: dict[str, cw.IMetric] = {}
        for index, route in enumerate(routes):
            using[f"p{index}"] = self._metrics.api(api, "Latency", "p99", route)
            using[f"c{index}"] = self._metrics.api(api, "Count", "Sum", route)
        count = " + ".join(f"FILL(c{i}, 0)" for i in range(len(routes)))
        latency = ", ".join(f"FILL(p{i}, 0)" for i in range(len(routes)))
        floor = self._settings.alarm_min_requests_per_minute
        return cw.MathExpression(
            expression=f"IF({count} >= {floor}, MAX([{latency}]), 0)",
            using_metrics=using,
            period=ONE_MINUTE,
            label="p99 ms",
        )

    def _latency(self, sources: RegionSources) -> None:
        members: list[cw.IAlarm] = []
        settings = self._settings
        redirect = self._route_p99(sources, REDIRECT_ROUTES)
        if redirect is not None:
            members.append(
                self._alarm(
                    "redirect-latency",
                    f"Redirect p99 latency at API Gateway in {sources.region} was above "
                    f"{settings.redirect_p99_slo_ms} ms for {SUSTAINED_MINUTES} minutes.",
                    redirect,
                    settings.redirect_p99_slo_ms,
                    pages=False,
                )
            )
        create = self._route_p99(sources, CREATE_ROUTES)
        if create is not None:
            members.append(
                self._alarm(
                    "create-latency",
                    f"Create p99 latency at API Gateway in {sources.region} was above "
                    f"{settings.create_p99_slo_ms} ms for {SUSTAINED_MINUTES} minutes.",
                    create,
                    settings.create_p99_slo_ms,
                    pages=False,
                )
            )
        self._composite(
            "latency-slo",
            f"squrl's p99 latency SLO is breached in {sources.region} (redirect or create).",
            members,
        )

    def _lambda_throttles(self, functions: Sequence[FunctionSource]) -> None:
        if not functions:
            return
        using = {
            f"t{i}": self._metrics.function(f, "Throttles", "Sum") for i, f in enumerate(functions)
        }
        total = _sum_per_minute(using, "throttles")
        self._alarm(
            "lambda-throttles",
            "A squrl function was throttled (concurrency limit reached): requests were refused.",
            total,
            0,
            evaluation_periods=1,
        )

    def _dynamodb_throttles(self, sources: RegionSources) -> None:
        metrics = self._metrics
        using: dict[str, cw.IMetric] = {
            "reads": metrics.table(sources.table_name, "ReadThrottleEvents", "Sum"),
            "writes": metrics.table(sources.table_name, "WriteThrottleEvents", "Sum"),
        }
        for i, index in enumerate(sources.index_names):
            using[f"ir{i}"] = metrics.table(sources.table_name, "ReadThrottleEvents", "Sum", index)
            using[f"iw{i}"] = metrics.table(sources.table_name, "WriteThrottleEvents", "Sum", index)
        total = _sum_per_minute(using, "throttle events")
        # The SDK retries a throttled call; throttling in 3 of 5 minutes outlasts the retries.
        self._alarm(
            "dynamodb-throttles",
            f"{sources.table_name} in {sources.region} throttled reads or writes in 3 of the "
            "last 5 minutes (hot partition or account limit).",
            total,
            0,
            datapoints=3,
        )

    def _waf_spike(self, slug: str, web_acl_name: str, regional_in: str | None) -> None:
        blocked = self._metrics_5min.waf(web_acl_name, "BlockedRequests", regional_in)
        volume = self._alarm(
            f"{slug}-volume",
            f"More than {self._settings.waf_blocked_spike} requests blocked by {web_acl_name} "
            "in 5 minutes.",
            blocked,
            self._settings.waf_blocked_spike,
            evaluation_periods=1,
            pages=False,
            runbook=WAF_RUNBOOK,
        )
        anomaly = cw.AnomalyDetectionAlarm(
            self,
            f"{slug}-anomaly",
            alarm_name=f"{self._prefix}-{slug}-anomaly",
            alarm_description=self._describe(
                WAF_RUNBOOK,
                f"Requests blocked by {web_acl_name} are above their learned normal band.",
            ),
            metric=blocked,
            std_devs=3,
            evaluation_periods=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        self._act(anomaly, pages=False)
        # Both must hold: volume alone pages on a steady scanner, the band alone on a quiet day.
        self._composite(
            slug,
            f"{web_acl_name} is blocking an unusual number of requests (above "
            f"{self._settings.waf_blocked_spike} per 5 minutes and above its normal band).",
            [volume, anomaly],
            every=True,
            runbook=WAF_RUNBOOK,
        )

    def _replication(self, table_name: str, replica: str) -> None:
        self._alarm(
            "replication-latency",
            f"Replication of {table_name} to {replica} took over "
            f"{REPLICATION_LATENCY_MS / 1000:g} s for {SUSTAINED_MINUTES} minutes: new links "
            f"may 404 in {replica}.",
            self._metrics.replication_latency(table_name, replica),
            REPLICATION_LATENCY_MS,
            qualifier=replica,
        )

    def _clicks(self, analytics: AnalyticsSources) -> None:
        if analytics.stream_name:
            self._alarm(
                "click-iterator-age",
                f"Click records in {analytics.stream_name} waited over 5 minutes to be read "
                "for 3 minutes: counts lag and records near retention may be lost.",
                self._metrics.stream(
                    analytics.stream_name, "GetRecords.IteratorAgeMilliseconds", "Maximum"
                ),
                ITERATOR_AGE_MS,
                evaluation_periods=3,
            )
        for queue in analytics.dead_letter_queue_names:
            self._alarm(
                "dlq-messages",
                f"{queue} holds messages: click batches failed processing and are not counted.",
                self._metrics.queue(queue, "ApproximateNumberOfMessagesVisible", "Maximum"),
                1,
                qualifier=queue.removeprefix(self._env_prefix),
                evaluation_periods=1,
                comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            )

        for name in analytics.lake_delivery_stream_names:
            # A transform invocation that still fails after Firehose's retries sends its whole
            # batch to the lake's errors/ prefix as it arrived, user agents included; counts
            # are unaffected (the consumer reads the stream itself), the lake misses the batch.
            self._alarm(
                "lake-transform-failed",
                f"The lake transform of {name} failed invocations in the last 5 minutes: "
                "failed batches land raw in errors/ (expiring after a day) and miss the lake.",
                self._metrics_5min.delivery_stream(name, "ExecuteProcessing.Success", "Minimum"),
                1,
                qualifier=name.removeprefix(self._env_prefix).removesuffix("-clicks-lake"),
                evaluation_periods=1,
                comparison=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
            )

    def _invalidation(self, invalidation: InvalidationSources) -> None:
        """Edge caches keep serving a changed link's old answer while invalidations fail."""
        function = invalidation.function
        self._alarm(
            "invalidation-failed",
            f"{function.name} failed invocations in the last minute: CloudFront may serve "
            "changed links' old answers until their cache lifetimes end.",
            self._metrics.function(function, "Errors", "Sum"),
            1,
            qualifier="errors",
            evaluation_periods=1,
            comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        )
        queue = invalidation.dead_letter_queue_name
        self._alarm(
            "invalidation-failed",
            f"{queue} holds messages: stream batches whose invalidations were given up on.",
            self._metrics.queue(queue, "ApproximateNumberOfMessagesVisible", "Maximum"),
            1,
            qualifier="dlq",
            evaluation_periods=1,
            comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        )

    def _canary(self, canary_name: str) -> None:
        # Missing data means the canary stopped running, which leaves squrl unwatched.
        self._alarm(
            "canary-failed",
            f"The end-to-end canary {canary_name} (create a link, follow it) failed twice "
            "in a row.",
            self._metrics_5min.canary(canary_name, "SuccessPercent", "Average"),
            100,
            evaluation_periods=2,
            comparison=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
            missing=cw.TreatMissingData.BREACHING,
        )

    def _edge(self, edge: EdgeSources) -> None:
        if edge.distribution_id:
            rate = cw.MathExpression(
                expression=(
                    f"IF(requests >= {self._settings.alarm_min_requests_per_minute}, rate, 0)"
                ),
                using_metrics={
                    "rate": self._metrics.cloudfront(
                        edge.distribution_id, "5xxErrorRate", "Average"
                    ),
                    "requests": self._metrics.cloudfront(edge.distribution_id, "Requests", "Sum"),
                },
                period=ONE_MINUTE,
                label="CloudFront 5xx %",
            )
            self._alarm(
                "edge-5xx-rate",
                f"More than {ERROR_RATE_PERCENT}% of CloudFront responses were 5xx for "
                f"{SUSTAINED_MINUTES} minutes: redirects fail at the edge.",
                rate,
                ERROR_RATE_PERCENT,
            )
        if edge.web_acl_name:
            self._waf_spike("edge-waf-block-spike", edge.web_acl_name, regional_in=None)
        if edge.request_stream_name:
            # Real-time logs are best effort and CloudFront documents no retry, so a refused
            # record is a click that may never be counted.
            self._alarm(
                "edge-log-throttled",
                f"{edge.request_stream_name} refused CloudFront real-time log records in the "
                "last 5 minutes (write throughput exceeded): edge clicks may be lost.",
                self._metrics_5min.stream(
                    edge.request_stream_name, "WriteProvisionedThroughputExceeded", "Sum"
                ),
                0,
                evaluation_periods=1,
            )


def _sum_per_minute(using: Mapping[str, cw.IMetric], label: str) -> cw.MathExpression:
    """The per-minute sum of several metrics, a missing datapoint counting as zero."""
    return cw.MathExpression(
        expression=" + ".join(f"FILL({key}, 0)" for key in using),
        using_metrics=using,
        period=ONE_MINUTE,
        label=label,
    )
