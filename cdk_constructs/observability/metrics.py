"""The metrics squrl's dashboards and alarms read, one factory for both.

Namespaces, names and dimensions are the ones AWS services publish (see docs/operations.md);
squrl's own metrics come from Powertools' EMF output in the namespace and with the `service`
dimension that shared.contracts.metrics names (the function construct sets both).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw

from cdk_constructs.observability.sources import ApiSource, FunctionSource, Route
from shared.contracts import metrics
from shared.contracts.names import CLOUDFRONT_REGION

# Lambda@Edge reports from the region nearest the edge location that ran it, under the name
# of the function prefixed with the region it was created in (always CloudFront's).
EDGE_FUNCTION_PREFIX = f"{CLOUDFRONT_REGION}."

ONE_MINUTE = Duration.minutes(1)
FIVE_MINUTES = Duration.minutes(5)


class MetricFactory:
    """Metrics for one region. `region=None` means the region of the stack that uses them."""

    def __init__(self, region: str | None = None, period: Duration = FIVE_MINUTES) -> None:
        self.region = region
        self.period = period

    def in_region(self, region: str | None) -> MetricFactory:
        return MetricFactory(region, self.period)

    def with_period(self, period: Duration) -> MetricFactory:
        return MetricFactory(self.region, period)

    def metric(
        self,
        namespace: str,
        name: str,
        dimensions: dict[str, str],
        statistic: str,
        label: str | None = None,
        region: str | None = None,
    ) -> cw.Metric:
        return cw.Metric(
            namespace=namespace,
            metric_name=name,
            dimensions_map=dimensions,
            statistic=statistic,
            period=self.period,
            label=label,
            region=region or self.region,
        )

    # API Gateway (REST). Per-route metrics need the stage's detailed metrics (metrics_enabled).
    def api(
        self,
        api: ApiSource,
        name: str,
        statistic: str,
        route: Route | None = None,
        label: str | None = None,
    ) -> cw.Metric:
        dimensions = {"ApiName": api.name, "Stage": api.stage}
        if route is not None:
            dimensions |= {"Method": route.method, "Resource": route.path}
        return self.metric("AWS/ApiGateway", name, dimensions, statistic, label)

    # Lambda
    def function(
        self, function: FunctionSource, name: str, statistic: str, label: str | None = None
    ) -> cw.Metric:
        return self.metric(
            "AWS/Lambda", name, {"FunctionName": function.name}, statistic, label or function.key
        )

    def edge_function(self, function_name: str, name: str, statistic: str) -> cw.Metric:
        return self.metric(
            "AWS/Lambda",
            name,
            {"FunctionName": EDGE_FUNCTION_PREFIX + function_name},
            statistic,
            f"edge {statistic}",
        )

    def insights_init_duration(self, function: FunctionSource, statistic: str) -> cw.Metric:
        return self.metric(
            "LambdaInsights",
            "init_duration",
            {"function_name": function.name},
            statistic,
            function.key,
        )

    # DynamoDB
    def table(
        self,
        table_name: str,
        name: str,
        statistic: str,
        index_name: str | None = None,
        label: str | None = None,
    ) -> cw.Metric:
        dimensions = {"TableName": table_name}
        if index_name is not None:
            dimensions["GlobalSecondaryIndexName"] = index_name
        return self.metric("AWS/DynamoDB", name, dimensions, statistic, label)

    def table_operation(
        self, table_name: str, name: str, operation: str, statistic: str, label: str | None = None
    ) -> cw.Metric:
        return self.metric(
            "AWS/DynamoDB",
            name,
            {"TableName": table_name, "Operation": operation},
            statistic,
            label or operation,
        )

    def replication_latency(
        self, table_name: str, receiving_region: str, statistic: str = "Average"
    ) -> cw.Metric:
        # Published in the region the write came from: squrl writes only in the home region.
        return self.metric(
            "AWS/DynamoDB",
            "ReplicationLatency",
            {"TableName": table_name, "ReceivingRegion": receiving_region},
            statistic,
            f"to {receiving_region}",
        )

    # Click pipeline
    def stream(self, stream_name: str, name: str, statistic: str) -> cw.Metric:
        return self.metric("AWS/Kinesis", name, {"StreamName": stream_name}, statistic, name)

    def queue(self, queue_name: str, name: str, statistic: str) -> cw.Metric:
        return self.metric("AWS/SQS", name, {"QueueName": queue_name}, statistic, queue_name)

    def delivery_stream(self, delivery_stream_name: str, name: str, statistic: str) -> cw.Metric:
        return self.metric(
            "AWS/Firehose", name, {"DeliveryStreamName": delivery_stream_name}, statistic, name
        )

    # WAF. Regional web ACLs carry a Region dimension; CloudFront's (in us-east-1) do not.
    def waf(self, web_acl_name: str, name: str, regional_in: str | None) -> cw.Metric:
        dimensions = {"WebACL": web_acl_name, "Rule": "ALL"}
        if regional_in is not None:
            dimensions["Region"] = regional_in
        region = None if regional_in is not None else CLOUDFRONT_REGION
        return self.metric("AWS/WAFV2", name, dimensions, "Sum", name, region=region)

    # CloudFront publishes distribution metrics in us-east-1 under Region=Global.
    def cloudfront(self, distribution_id: str, name: str, statistic: str) -> cw.Metric:
        return self.metric(
            "AWS/CloudFront",
            name,
            {"DistributionId": distribution_id, "Region": "Global"},
            statistic,
            name,
            region=CLOUDFRONT_REGION,
        )

    # squrl's own metrics (Powertools EMF, from the function construct's settings)
    def business(self, name: str, statistic: str = "Sum", label: str | None = None) -> cw.Metric:
        return self.metric(
            metrics.NAMESPACE, name, {"service": metrics.SERVICE}, statistic, label or name
        )

    def canary(self, canary_name: str, name: str, statistic: str) -> cw.Metric:
        return self.metric(
            "CloudWatchSynthetics", name, {"CanaryName": canary_name}, statistic, name
        )
