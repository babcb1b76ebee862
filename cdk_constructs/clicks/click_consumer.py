"""The click consumer: Kinesis -> Lambda -> batched atomic counters, with a dead-letter queue.

Every stream it reads gets the same event source settings: one shard's records in order
(parallelization 1, which the per-shard checkpoint in shared/clicks/counter.py relies on),
partial batch responses, bisection on error, a bounded number of retries and a record age limit,
and an on-failure destination. The queue also receives poison records from the function itself, as
their shard, sequence number, arrival time and reason: no payload, which would hold user agents
and referrers for the queue's 14 days.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from constructs import Construct

from cdk_constructs.core.dead_letter_queue import dead_letter_queue
from cdk_constructs.core.links_table import replica_arn
from cdk_constructs.core.squrl_function import SqurlFunction
from shared.contracts import names
from squrl_config import EnvironmentConfig, FunctionSettings

# Large batches make few writes: one update per counter item a batch touches, so the more clicks a
# batch holds, the more of them share a write (docs/analytics.md: 486.9 item writes per 1,000
# long-tail clicks at 2,000 records, 647.9 at 1,000). Lambda caps a batch at 6 MB of payload
# whatever this says. The window lets a quiet stream fill them and keeps counts seconds behind.
BATCH_SIZE = 2000
BATCHING_WINDOW = Duration.seconds(5)
RETRY_ATTEMPTS = 10
# Records older than this go to the queue as a shard range; the stream keeps them for its full
# retention, which leaves time to replay the range (docs/analytics.md).
MAX_RECORD_AGE = Duration.hours(6)
CONSUMER_SETTINGS = FunctionSettings(memory_mb=512, timeout_seconds=29)


class ClickConsumer(Construct):
    """Exposes `.function`, `.dead_letter_queue` and `.function_construct`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        streams: list[kinesis.IStream],
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = dead_letter_queue(
            self,
            queue_name=names.dead_letter_queue_name(config.name),
            holds="the consumer's on-failure destination and poison-record store",
        )
        table_name = names.table_name(config.name)
        self.function_construct = SqurlFunction(
            self,
            "Consumer",
            name="click_consumer",
            config=config,
            settings=CONSUMER_SETTINGS,
            environment={
                "SQURL_TABLE_NAME": table_name,
                "SQURL_CLICK_DLQ_URL": self.dead_letter_queue.queue_url,
            },
            description="Counts click-stream batches into the links table, one ADD per code",
        )
        self.function: lambda_.Function = self.function_construct.function
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                # TransactWriteItems is authorized per action: UpdateItem on each item.
                actions=["dynamodb:GetItem", "dynamodb:UpdateItem"],
                resources=[replica_arn(self, table_name, config.home_region)],
            )
        )
        self.dead_letter_queue.grant_send_messages(self.function)
        for stream in streams:
            self.function.add_event_source(
                sources.KinesisEventSource(
                    stream,
                    starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                    batch_size=BATCH_SIZE,
                    max_batching_window=BATCHING_WINDOW,
                    parallelization_factor=1,
                    report_batch_item_failures=True,
                    bisect_batch_on_error=True,
                    retry_attempts=RETRY_ATTEMPTS,
                    max_record_age=MAX_RECORD_AGE,
                    on_failure=sources.SqsDlq(self.dead_letter_queue),
                )
            )
