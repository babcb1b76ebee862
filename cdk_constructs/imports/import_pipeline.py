"""Import jobs in the home region: the upload bucket, the chunk worker and its state machine.

```
PUT (pre-signed) -> S3 uploads/<id> --Object Created (EventBridge)--> Step Functions (Standard)
    Start (count rows, mark running) -> Done? -no-> Chunk (<= chunk_rows rows) -> Done? ...
    a task failing past its retries fails the execution (no Catch: the failed state is that task)
Execution Status Change FAILED | TIMED_OUT | ABORTED (EventBridge) -> worker `fail`
    (job failed, cursor kept)
```
A redrive (RedriveExecution) re-runs the task that failed; every task is idempotent
(shared/imports/processor.py) and a chunk reads the job's cursor, so retries and a redriven
execution resume at the cursor without creating a row twice, and the chunk's commit flips the
job back to running. An upload event EventBridge cannot deliver lands in a dead-letter queue
(alarmed), so a dropped event is seen, not a job waiting forever. About 7 history events per chunk:
100,000 rows at 1,000 rows per chunk are ~700 events of the 25,000 a Standard execution may have.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from cdk_constructs.core.compliance import acknowledge
from cdk_constructs.core.dead_letter_queue import dead_letter_queue
from cdk_constructs.core.links_table import replica_arn
from cdk_constructs.core.log_retention import log_retention
from cdk_constructs.core.squrl_function import SqurlFunction
from shared.contracts import names
from shared.contracts import table as table_def
from squrl_config import EnvironmentConfig

UPLOAD_PREFIX = "uploads/"
EXECUTION_TIMEOUT = Duration.hours(24)
# Lambda's own transient errors, retried with backoff before a task counts as failed.
LAMBDA_TRANSIENT = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]


def import_bucket_name(scope: Construct, env_name: str, home_region: str) -> str:
    return names.import_bucket_name(env_name, Stack.of(scope).account, home_region)


def _import_keys() -> dict[str, dict[str, list[str]]]:
    return {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{table_def.IMPORT_PREFIX}*"]}}


def api_statements(
    scope: Construct, *, table_name: str, home_region: str, bucket_name: str
) -> list[iam.PolicyStatement]:
    """The imports route's function, in any region: job items only (`import#*`) on the home
    table, and PutObject under uploads/ of the home bucket, which its pre-signed URLs carry."""
    return [
        iam.PolicyStatement(
            actions=["dynamodb:PutItem", "dynamodb:GetItem"],
            resources=[replica_arn(scope, table_name, home_region)],
            conditions=_import_keys(),
        ),
        iam.PolicyStatement(
            actions=["s3:PutObject"],
            resources=[f"arn:{Stack.of(scope).partition}:s3:::{bucket_name}/{UPLOAD_PREFIX}*"],
        ),
    ]


def worker_statements(
    scope: Construct, table_name: str, home_region: str
) -> list[iam.PolicyStatement]:
    """The worker creates links as create_url does (GetItem, PutItem in transactions, the dedup
    index), reads row markers (BatchGetItem) and updates only job items (`import#*`)."""
    arn = replica_arn(scope, table_name, home_region)
    return [
        iam.PolicyStatement(
            actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:BatchGetItem"],
            resources=[arn],
        ),
        iam.PolicyStatement(
            actions=["dynamodb:UpdateItem"], resources=[arn], conditions=_import_keys()
        ),
        iam.PolicyStatement(
            actions=["dynamodb:Query"], resources=[f"{arn}/index/{table_def.DEDUP_INDEX}"]
        ),
    ]


class ImportPipeline(Construct):
    """Exposes `.bucket`, `.worker` (SqurlFunction), `.state_machine` and `.alarms`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        environment: Mapping[str, str],
        cors_origins: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        settings = config.imports
        table_name = names.table_name(config.name)
        self.bucket = s3.Bucket(
            self,
            "Uploads",
            bucket_name=import_bucket_name(self, config.name, config.home_region),
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="uploads",
                    prefix=UPLOAD_PREFIX,
                    expiration=Duration.days(settings.upload_retention_days),
                ),
                s3.LifecycleRule(
                    id="incomplete", abort_incomplete_multipart_upload_after=Duration.days(1)
                ),
            ],
            cors=[
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods.PUT],
                    allowed_origins=list(cors_origins),
                    allowed_headers=["Content-Type", "Content-Length"],
                    max_age=600,
                )
            ]
            if cors_origins
            else None,
            # Uploads are transient input; nothing in them outlives the job. Emptied on delete,
            # so tearing the stack down does not fail on a bucket with uploads in it.
            removal_policy=RemovalPolicy.DESTROY,
            auto_delete_objects=True,
        )
        # EventBridge notifications set on the bucket itself: `event_bridge_enabled` would add a
        # custom-resource function (and its managed-policy role) only to switch this on.
        bucket_resource = self.bucket.node.default_child
        assert isinstance(bucket_resource, s3.CfnBucket)
        bucket_resource.add_property_override(
            "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
        )
        stack = Stack.of(self)
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "Uploads are transient import input, written only through pre-signed URLs that the "
            "imports function issues (and logs) for one job each, read once by the worker and "
            "expired by the lifecycle rule; access logs would outlive the data they describe.",
        )

        worker = SqurlFunction(
            self,
            "Worker",
            name="import_worker",
            config=config,
            settings=settings.worker,
            environment={
                **environment,
                "SQURL_IMPORT_BUCKET": self.bucket.bucket_name,
                "SQURL_IMPORT_CHUNK_ROWS": str(settings.chunk_rows),
                "SQURL_IMPORT_MAX_BYTES": str(settings.max_upload_mb * 1024 * 1024),
            },
            description="Import jobs: count, process a chunk of rows from the cursor, or fail",
        )
        self.worker = worker
        for statement in worker_statements(self, table_name, config.home_region):
            worker.function.add_to_role_policy(statement)
        worker.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[self.bucket.arn_for_objects(f"{UPLOAD_PREFIX}*")],
            )
        )
        acknowledge(
            worker.function,
            f"AwsSolutions-IAM5[Resource::<{stack.get_logical_id(bucket_resource)}.Arn>/"
            f"{UPLOAD_PREFIX}*]",
            "Each job's upload has its own key under uploads/; the worker reads only that prefix.",
        )

        self.state_machine = self._state_machine(config, worker)
        self.dead_letter_queue = dead_letter_queue(
            Construct(self, "UploadEvents"),
            queue_name=names.import_dead_letter_queue_name(config.name),
            holds="import events EventBridge could not deliver",
        )
        self.upload_rule = self._start_on_upload(config)
        self.failure_rule = self._fail_on_execution_end(worker)
        self.alarms = self._alarms(config)

    def _task(
        self, name: str, payload: sfn.TaskInput, function: SqurlFunction
    ) -> tasks.LambdaInvoke:
        task = tasks.LambdaInvoke(
            self,
            name,
            # The alias when the worker is published (cold_starts): never bypass it.
            lambda_function=function.invoke_target,
            payload=payload,
            payload_response_only=True,
            retry_on_service_exceptions=False,
        )
        task.add_retry(
            errors=LAMBDA_TRANSIENT,
            interval=Duration.seconds(2),
            max_attempts=6,
            backoff_rate=2,
        )
        # Anything else (a timeout, a throttled table): the task is idempotent, try again.
        task.add_retry(
            errors=["States.ALL"], interval=Duration.seconds(10), max_attempts=3, backoff_rate=3
        )
        return task

    def _state_machine(self, config: EnvironmentConfig, worker: SqurlFunction) -> sfn.StateMachine:
        start = self._task(
            "Start",
            sfn.TaskInput.from_object({"action": "start", "key": sfn.JsonPath.string_at("$.key")}),
            worker,
        )
        chunk = self._task(
            "Chunk",
            sfn.TaskInput.from_object(
                {"action": "chunk", "job_id": sfn.JsonPath.string_at("$.job_id")}
            ),
            worker,
        )
        # No Catch: a task failing past its retries fails the execution, so a redrive re-runs
        # that very task; the job is marked failed by the Execution Status Change rule.
        finished = sfn.Choice(self, "Finished?")
        finished.when(
            sfn.Condition.boolean_equals("$.done", True), sfn.Succeed(self, "Imported")
        ).otherwise(chunk)
        start.next(finished)
        chunk.next(finished)

        log_group = logs.LogGroup(
            self,
            "Executions",
            log_group_name=f"/aws/vendedlogs/states/{names.import_state_machine_name(config.name)}",
            retention=log_retention(config.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=names.import_state_machine_name(config.name),
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_chainable(start),
            timeout=EXECUTION_TIMEOUT,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL),
        )
        function_resource = worker.function.node.default_child
        assert isinstance(function_resource, lambda_.CfnFunction)
        stack = Stack.of(self)
        acknowledge(
            machine,
            f"AwsSolutions-IAM5[Resource::<{stack.get_logical_id(function_resource)}.Arn>:*]",
            "Step Functions' Lambda task grant covers the worker's versions and aliases "
            "(`<arn>:*`); it is the one function the state machine invokes.",
        )
        acknowledge(
            machine,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray tracing (PutTraceSegments, PutTelemetryRecords, sampling rules) and CloudWatch "
            "Logs delivery (CreateLogDelivery and its kin) support no resource-level permissions.",
        )
        return machine

    def _start_on_upload(self, config: EnvironmentConfig) -> events.Rule:
        return events.Rule(
            self,
            "OnUpload",
            description="An import's file was uploaded: start its state machine",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [self.bucket.bucket_name]},
                    "object": {"key": [{"prefix": UPLOAD_PREFIX}]},
                },
            ),
            targets=[
                targets.SfnStateMachine(
                    self.state_machine,
                    input=events.RuleTargetInput.from_object(
                        {"key": events.EventField.from_path("$.detail.object.key")}
                    ),
                    retry_attempts=20,
                    max_event_age=Duration.hours(2),
                    dead_letter_queue=self.dead_letter_queue,
                )
            ],
        )

    def _fail_on_execution_end(self, worker: SqurlFunction) -> events.Rule:
        """An execution that failed, timed out or was stopped marks its job failed (cursor
        kept): the worker's `fail` step, given the whole event (its `detail.input` holds the
        upload's key)."""
        return events.Rule(
            self,
            "OnExecutionFailed",
            description="An import execution failed, timed out or was aborted: mark its job failed",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={
                    "stateMachineArn": [self.state_machine.state_machine_arn],
                    "status": ["FAILED", "TIMED_OUT", "ABORTED"],
                },
            ),
            targets=[
                targets.LambdaFunction(
                    worker.invoke_target,
                    retry_attempts=20,
                    max_event_age=Duration.hours(2),
                    dead_letter_queue=self.dead_letter_queue,
                )
            ],
        )

    def _alarms(self, config: EnvironmentConfig) -> list[cloudwatch.Alarm]:
        """Executions that failed or timed out, and import events EventBridge could not deliver.
        Each opens an OpsItem (the observability stack's action for alarms that do not page): a
        failed import is one user's job, not an outage (docs/imports.md, "Operations")."""
        record = cw_actions.SsmAction(
            cw_actions.OpsItemSeverity.MEDIUM, cw_actions.OpsItemCategory.AVAILABILITY
        )
        redrive = (
            "its job is marked failed with its cursor kept; redrive the execution "
            "(aws stepfunctions redrive-execution) to re-run the failed chunk from the cursor "
            "(docs/imports.md, Resume)."
        )
        undelivered = (
            "an import event was not delivered (an upload's start, or a failed execution's job "
            "mark); read the message in the dead-letter queue and start the execution by hand "
            "with its key (docs/imports.md, Undelivered events)."
        )
        failed_invocations = cloudwatch.Metric(
            namespace="AWS/Events",
            metric_name="FailedInvocations",
            dimensions_map={"RuleName": self.upload_rule.rule_name},
        )
        failed_marks = cloudwatch.Metric(
            namespace="AWS/Events",
            metric_name="FailedInvocations",
            dimensions_map={"RuleName": self.failure_rule.rule_name},
        )
        alarms = []
        for name, alarm_name, metric, what in (
            (
                "ExecutionsFailed",
                "failed",
                self.state_machine.metric_failed(),
                f"An import execution failed: {redrive}",
            ),
            (
                "ExecutionsTimedOut",
                "timedout",
                self.state_machine.metric_timed_out(),
                f"An import execution timed out: {redrive}",
            ),
            (
                "UploadEventsUndelivered",
                "undelivered",
                failed_invocations,
                f"EventBridge failed to start an import execution: {undelivered}",
            ),
            (
                "FailMarksUndelivered",
                "fail-undelivered",
                failed_marks,
                f"EventBridge failed to mark a failed import's job: {undelivered}",
            ),
            (
                "DeadLetters",
                "dead-letters",
                self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                    statistic="Maximum"
                ),
                f"Import events are in the dead-letter queue: {undelivered}",
            ),
        ):
            alarm = cloudwatch.Alarm(
                self,
                name,
                alarm_name=f"squrl-{config.name}-imports-{alarm_name}",
                alarm_description=what,
                metric=metric.with_(
                    period=Duration.minutes(5),
                    statistic="Maximum" if name == "DeadLetters" else "Sum",
                ),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(record)
            alarms.append(alarm)
        return alarms
