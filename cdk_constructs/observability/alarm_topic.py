"""The SNS topic a region's alarms and the environment's budget page."""

from __future__ import annotations

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

CLOUDWATCH = "cloudwatch.amazonaws.com"
BUDGETS = "budgets.amazonaws.com"


class AlarmTopic(Construct):
    """The topic every paging alarm and the budget notify, encrypted with its own key.

    CloudWatch and Budgets cannot publish to a topic encrypted with the AWS-managed SNS key, so
    the topic has a customer-managed key whose policy lets those two services use it. A topic
    policy replaces SNS's default one (which lets the account's own principals publish), so both
    services are named in it too: without the CloudWatch statement no alarm could page.

    Each grant is limited to this account, and CloudWatch's to the alarms of this region
    (`aws:SourceArn`), so no other account's alarm or budget can use the topic or its key.
    Exposes `.topic`, `.key` and `.policy` (what publishers must wait for).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, env_name: str, email: str | None
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        account = stack.account
        alarms = stack.format_arn(
            service="cloudwatch",
            resource="alarm",
            resource_name="*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        conditions = {
            CLOUDWATCH: {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": alarms},
            },
            BUDGETS: {"StringEquals": {"aws:SourceAccount": account}},
        }
        self.key = kms.Key(
            self,
            "Key",
            description=f"squrl {env_name} alarm topic",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
        )
        for service, condition in conditions.items():
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal(service)],
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    resources=["*"],
                    conditions=condition,
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
        for service, condition in conditions.items():
            self.topic.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal(service)],
                    actions=["sns:Publish"],
                    resources=[self.topic.topic_arn],
                    conditions=condition,
                )
            )
        policy = self.topic.node.find_child("Policy")
        assert isinstance(policy, sns.TopicPolicy)
        self.policy = policy
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
