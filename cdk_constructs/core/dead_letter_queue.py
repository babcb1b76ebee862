"""The one way squrl builds a dead-letter queue: encrypted, TLS only, 14 days, deleted with its
stack (a kept queue of a fixed name would make the next deploy fail with "already exists", and
its messages only point into a stream that is deleted too)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk_constructs.core.compliance import acknowledge


def dead_letter_queue(scope: Construct, *, queue_name: str, holds: str) -> sqs.Queue:
    """A queue named `queue_name` in `scope` (construct id `DeadLetters`); `holds` says what
    lands in it, for the acknowledgment that it needs no dead-letter queue of its own."""
    queue = sqs.Queue(
        scope,
        "DeadLetters",
        queue_name=queue_name,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(14),
        removal_policy=RemovalPolicy.DESTROY,
    )
    acknowledge(
        queue,
        "AwsSolutions-SQS3",
        f"This queue is the dead-letter destination itself ({holds}); an alarm fires on its "
        "first message.",
    )
    return queue
