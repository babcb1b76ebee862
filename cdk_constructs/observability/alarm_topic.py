"""The SNS topic a region's alarms and the environment's budget page."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


class AlarmTopic(Construct):
    """The topic every paging alarm and the budget notify, encrypted with its own key.

    CloudWatch and Budgets cannot publish to a topic encrypted with the AWS-managed SNS key, so
    the topic has a customer-managed key whose policy lets those two services use it.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, env_name: str, email: str | None
    ) -> None:
        super().__init__(scope, construct_id)
        account = Stack.of(self).account
        self.key = kms.Key(
            self,
            "Key",
            description=f"squrl {env_name} alarm topic",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
        )
        for service in ("cloudwatch.amazonaws.com", "budgets.amazonaws.com"):
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal(service)],
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    resources=["*"],
                    conditions={"StringEquals": {"aws:SourceAccount": account}},
                )
            )
        self.topic = sns.Topic(
            self,
            "Topic",
            topic_name=f"squrl-{env_name}-alarms",
            display_name=f"squrl {env_name} alarms",
            master_key=self.key,
            enforce_ssl=True,
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("budgets.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": account}},
            )
        )
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
