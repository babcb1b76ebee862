"""The environment's monthly cost budget, alerting the alarm topic."""

from __future__ import annotations

from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_sns as sns
from constructs import Construct


def environment_budget(
    scope: Construct, *, env_name: str, limit_usd: float, topic: sns.ITopic
) -> budgets.CfnBudget:
    """A monthly cost budget for the environment's account, alerting the alarm topic.

    Each environment has its own account in cdk.json, so the budget covers the whole account:
    a tag filter would need the tag activated for cost allocation first and would read $0
    until then, which is a silent failure for a guard.
    """

    def notify(kind: str, percent: float) -> budgets.CfnBudget.NotificationWithSubscribersProperty:
        return budgets.CfnBudget.NotificationWithSubscribersProperty(
            notification=budgets.CfnBudget.NotificationProperty(
                notification_type=kind,
                comparison_operator="GREATER_THAN",
                threshold=percent,
                threshold_type="PERCENTAGE",
            ),
            subscribers=[
                budgets.CfnBudget.SubscriberProperty(
                    subscription_type="SNS", address=topic.topic_arn
                )
            ],
        )

    return budgets.CfnBudget(
        scope,
        "Budget",
        budget=budgets.CfnBudget.BudgetDataProperty(
            budget_name=f"squrl-{env_name}",
            budget_type="COST",
            time_unit="MONTHLY",
            budget_limit=budgets.CfnBudget.SpendProperty(amount=limit_usd, unit="USD"),
        ),
        notifications_with_subscribers=[
            notify("ACTUAL", 80),
            notify("ACTUAL", 100),
            notify("FORECASTED", 100),
        ],
    )
