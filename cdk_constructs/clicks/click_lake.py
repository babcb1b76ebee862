"""The click data lake: Firehose -> S3 (by day, gzip JSON lines) -> Glue table -> Athena.

Firehose reads each click stream and runs the same decoder as the counting consumer
(functions/click_lake), so the lake holds only sanitized clicks whichever producer wrote them.
Objects land under `clicks/dt=YYYY-MM-DD/` (Firehose's arrival day, UTC); the Glue table
projects that partition, so new days are queryable without a crawler or MSCK REPAIR.

Firehose writes under `errors/` only when the transformation itself fails (the function errs,
times out or is throttled past Firehose's retries); those objects hold the raw stream records,
user agents and referrers included, so they expire after a day instead of with the lake.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.core.compliance import acknowledge
from cdk_constructs.core.log_retention import log_retention
from cdk_constructs.core.squrl_function import SqurlFunction
from squrl_config import EnvironmentConfig, FunctionSettings

CLICKS_PREFIX = "clicks/"
ERRORS_PREFIX = "errors/"
# Long enough to look at a failed delivery, short enough that raw records do not pile up.
ERRORS_RETENTION = Duration.days(1)
RESULTS_PREFIX = "athena-results/"
TRANSFORM_SETTINGS = FunctionSettings(memory_mb=512, timeout_seconds=29)

# The columns functions/click_lake writes, in order.
COLUMNS = (
    ("event_id", "string"),
    ("short_code", "string"),
    ("clicked_at", "string"),
    ("click_date", "string"),
    ("referrer_domain", "string"),
    ("country", "string"),
    ("device", "string"),
    ("is_bot", "boolean"),
    ("source", "string"),
)

SAVED_QUERIES = {
    "daily-clicks": (
        "Human and bot clicks per day for one short code over the last 30 days",
        "SELECT dt, count_if(NOT is_bot) AS human_clicks, count_if(is_bot) AS bot_clicks\n"
        "FROM {table}\n"
        "WHERE short_code = 'REPLACE_ME'\n"
        "  AND dt >= date_format(current_date - interval '30' day, '%Y-%m-%d')\n"
        "GROUP BY dt ORDER BY dt",
    ),
    "top-links": (
        "The 50 most clicked links (human clicks) over the last 7 days",
        "SELECT short_code, count(*) AS clicks\n"
        "FROM {table}\n"
        "WHERE NOT is_bot AND dt >= date_format(current_date - interval '7' day, '%Y-%m-%d')\n"
        "GROUP BY short_code ORDER BY clicks DESC LIMIT 50",
    ),
    "top-referrers": (
        "Referrer domains of one short code's human clicks over the last 30 days",
        "SELECT referrer_domain, count(*) AS clicks\n"
        "FROM {table}\n"
        "WHERE short_code = 'REPLACE_ME' AND NOT is_bot\n"
        "  AND dt >= date_format(current_date - interval '30' day, '%Y-%m-%d')\n"
        "GROUP BY referrer_domain ORDER BY clicks DESC LIMIT 100",
    ),
    "countries-and-devices": (
        "Human clicks by country and device class for one short code, last 30 days",
        "SELECT country, device, count(*) AS clicks\n"
        "FROM {table}\n"
        "WHERE short_code = 'REPLACE_ME' AND NOT is_bot\n"
        "  AND dt >= date_format(current_date - interval '30' day, '%Y-%m-%d')\n"
        "GROUP BY country, device ORDER BY clicks DESC",
    ),
    "bot-share": (
        "Share of bot clicks per link yesterday, highest first",
        "SELECT short_code, count(*) AS clicks,\n"
        "       round(100.0 * count_if(is_bot) / count(*), 1) AS bot_percent\n"
        "FROM {table}\n"
        "WHERE dt = date_format(current_date - interval '1' day, '%Y-%m-%d')\n"
        "GROUP BY short_code HAVING count(*) >= 10 ORDER BY bot_percent DESC LIMIT 100",
    ),
}


def database_name(env_name: str) -> str:
    return f"squrl_{env_name}_analytics"


class ClickLake(Construct):
    """Exposes `.bucket`, `.delivery_streams`, `.database_name`, `.table_name`, `.workgroup`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        streams: dict[str, kinesis.IStream],
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        removal = RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY
        retention_days = config.analytics.raw_retention_days

        access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
            removal_policy=removal,
        )
        acknowledge(
            access_logs,
            "AwsSolutions-S1",
            "This bucket receives the data lake's server access logs; logging it would recurse.",
        )
        transitions = [
            s3.Transition(storage_class=storage_class, transition_after=Duration.days(days))
            for storage_class, days in (
                (s3.StorageClass.INFREQUENT_ACCESS, 30),
                (s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, 90),
            )
            if days < retention_days
        ]
        self.bucket = s3.Bucket(
            self,
            "Lake",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="lake/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="clicks",
                    prefix=CLICKS_PREFIX,
                    transitions=transitions,
                    expiration=Duration.days(retention_days),
                ),
                s3.LifecycleRule(id="errors", prefix=ERRORS_PREFIX, expiration=ERRORS_RETENTION),
                s3.LifecycleRule(
                    id="athena-results", prefix=RESULTS_PREFIX, expiration=Duration.days(7)
                ),
                s3.LifecycleRule(abort_incomplete_multipart_upload_after=Duration.days(1)),
            ],
            removal_policy=removal,
        )

        transform = SqurlFunction(
            self,
            "Transform",
            name="click_lake",
            config=config,
            settings=TRANSFORM_SETTINGS,
            environment={},
            description="Firehose transformation: click-stream records to sanitized JSON lines",
        )
        self.transform = transform.function

        # The buckets hold the lake and are kept with `retain_data` (their names are generated,
        # so a redeploy makes new ones); this group has a fixed name and goes with the stack.
        log_group = logs.LogGroup(
            self,
            "DeliveryLogs",
            log_group_name=f"/aws/kinesisfirehose/squrl-{config.name}-clicks",
            retention=log_retention(config.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.delivery_streams: dict[str, firehose.CfnDeliveryStream] = {}
        for key, stream in streams.items():
            self.delivery_streams[key] = self._delivery_stream(
                config, key, stream, log_group, stack
            )

        self.database_name = database_name(config.name)
        self.table_name = "clicks"
        database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=stack.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self.database_name,
                description=f"squrl {config.name} click analytics",
            ),
        )
        location = f"s3://{self.bucket.bucket_name}/{CLICKS_PREFIX}"
        table = glue.CfnTable(
            self,
            "ClicksTable",
            catalog_id=stack.account,
            database_name=self.database_name,
            table_input=glue.CfnTable.TableInputProperty(
                name=self.table_name,
                description="One row per click: no IP address, no user agent, referrer host only",
                table_type="EXTERNAL_TABLE",
                partition_keys=[glue.CfnTable.ColumnProperty(name="dt", type="string")],
                parameters={
                    "classification": "json",
                    "compressionType": "gzip",
                    "projection.enabled": "true",
                    "projection.dt.type": "date",
                    "projection.dt.format": "yyyy-MM-dd",
                    "projection.dt.range": "2025-01-01,NOW",
                    "projection.dt.interval": "1",
                    "projection.dt.interval.unit": "DAYS",
                    "storage.location.template": location + "dt=${dt}/",
                },
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    location=location,
                    columns=[glue.CfnTable.ColumnProperty(name=n, type=t) for n, t in COLUMNS],
                    input_format="org.apache.hadoop.mapred.TextInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library="org.openx.data.jsonserde.JsonSerDe",
                        parameters={"ignore.malformed.json": "true"},
                    ),
                ),
            ),
        )
        table.node.add_dependency(database)

        self.workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=f"squrl-{config.name}-clicks",
            description="Queries over squrl's click data lake",
            recursive_delete_option=not config.retain_data,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                # A runaway query stops at 10 GB scanned (about 5 cents).
                bytes_scanned_cutoff_per_query=10 * 1024**3,
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{self.bucket.bucket_name}/{RESULTS_PREFIX}",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_S3"
                    ),
                ),
            ),
        )
        qualified = f'"{self.database_name}"."{self.table_name}"'
        for query_id, (description, sql) in SAVED_QUERIES.items():
            query = athena.CfnNamedQuery(
                self,
                f"Query-{query_id}",
                name=f"squrl {config.name}: {query_id}",
                description=description,
                database=self.database_name,
                work_group=self.workgroup.name,
                query_string=sql.format(table=qualified),
            )
            query.node.add_dependency(self.workgroup)
            query.node.add_dependency(table)

    def _delivery_stream(
        self,
        config: EnvironmentConfig,
        key: str,
        stream: kinesis.IStream,
        log_group: logs.LogGroup,
        stack: Stack,
    ) -> firehose.CfnDeliveryStream:
        role = iam.Role(
            self,
            f"DeliveryRole-{key}",
            assumed_by=iam.ServicePrincipal(
                "firehose.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
            description=f"Firehose: {key} click stream -> transform -> S3 data lake",
        )
        stream.grant_read(role)
        # The actions Firehose's S3 destination documents, on the two prefixes it writes.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                resources=[self.bucket.bucket_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                resources=[
                    self.bucket.arn_for_objects(f"{CLICKS_PREFIX}*"),
                    self.bucket.arn_for_objects(f"{ERRORS_PREFIX}*"),
                ],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"],
                resources=[self.transform.function_arn],
            )
        )
        for prefix in (CLICKS_PREFIX, ERRORS_PREFIX):
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::<{stack.get_logical_id(_bucket_resource(self.bucket))}"
                f".Arn>/{prefix}*]",
                "Firehose names each object it delivers (date prefix, random suffix); the grant "
                "is limited to the one prefix it writes.",
            )
        log_stream = logs.LogStream(
            self,
            f"DeliveryLogStream-{key}",
            log_group=log_group,
            removal_policy=RemovalPolicy.DESTROY,
        )
        log_group.grant_write(role)
        delivery = firehose.CfnDeliveryStream(
            self,
            f"Delivery-{key}",
            delivery_stream_name=f"squrl-{config.name}-{key}-clicks-lake",
            delivery_stream_type="KinesisStreamAsSource",
            kinesis_stream_source_configuration=firehose.CfnDeliveryStream.KinesisStreamSourceConfigurationProperty(
                kinesis_stream_arn=stream.stream_arn, role_arn=role.role_arn
            ),
            extended_s3_destination_configuration=firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty(
                bucket_arn=self.bucket.bucket_arn,
                role_arn=role.role_arn,
                prefix=CLICKS_PREFIX + "dt=!{timestamp:yyyy-MM-dd}/",
                error_output_prefix=ERRORS_PREFIX
                + "!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/",
                buffering_hints=firehose.CfnDeliveryStream.BufferingHintsProperty(
                    interval_in_seconds=300, size_in_m_bs=64
                ),
                compression_format="GZIP",
                cloud_watch_logging_options=firehose.CfnDeliveryStream.CloudWatchLoggingOptionsProperty(
                    enabled=True,
                    log_group_name=log_group.log_group_name,
                    log_stream_name=log_stream.log_stream_name,
                ),
                processing_configuration=firehose.CfnDeliveryStream.ProcessingConfigurationProperty(
                    enabled=True,
                    processors=[
                        firehose.CfnDeliveryStream.ProcessorProperty(
                            type="Lambda",
                            parameters=[
                                firehose.CfnDeliveryStream.ProcessorParameterProperty(
                                    parameter_name="LambdaArn",
                                    parameter_value=self.transform.function_arn,
                                ),
                                firehose.CfnDeliveryStream.ProcessorParameterProperty(
                                    parameter_name="BufferSizeInMBs", parameter_value="1"
                                ),
                                firehose.CfnDeliveryStream.ProcessorParameterProperty(
                                    parameter_name="BufferIntervalInSeconds", parameter_value="60"
                                ),
                            ],
                        )
                    ],
                ),
            ),
        )
        # Firehose checks its permissions when the stream is created.
        delivery.node.add_dependency(role)
        acknowledge(
            delivery,
            "AwsSolutions-KDF1",
            "A delivery stream with a Kinesis stream source cannot use Firehose server-side "
            "encryption; the source stream is encrypted and S3 encrypts every object it writes.",
        )
        return delivery


def _bucket_resource(bucket: s3.Bucket) -> s3.CfnBucket:
    resource = bucket.node.default_child
    assert isinstance(resource, s3.CfnBucket)
    return resource
