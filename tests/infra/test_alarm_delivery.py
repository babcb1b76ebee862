"""Every alarm can reach a person: CloudWatch may publish to each topic it notifies, and use the
topic's key. A topic policy replaces SNS's default one, so a service missing from it cannot
publish at all, and the alarm's notification is dropped without a trace in the template."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.helpers import join, resources

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]

ALARM_KINDS = ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
ACTION_KEYS = ("AlarmActions", "OKActions", "InsufficientDataActions")


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _topics_alarms_notify(template: dict[str, Any]) -> set[str]:
    """Logical ids of the SNS topics any alarm of the template notifies."""
    topics = resources(template, "AWS::SNS::Topic")
    notified: set[str] = set()
    for kind in ALARM_KINDS:
        for logical_id, alarm in resources(template, kind).items():
            for key in ACTION_KEYS:
                for action in alarm["Properties"].get(key, []):
                    if isinstance(action, dict) and "Ref" in action:
                        assert action["Ref"] in topics, f"{logical_id} notifies {action}"
                        notified.add(action["Ref"])
                    else:
                        # Anything else must be a non-SNS action (an OpsItem), never a topic
                        # named by a literal ARN this test could not follow.
                        assert ":sns:" not in join(action), f"{logical_id}: {action}"
    return notified


def _grants(statements: list[dict[str, Any]], service: str, action: str) -> list[dict]:
    return [
        s
        for s in statements
        if s["Effect"] == "Allow"
        and service in _list(s.get("Principal", {}).get("Service", []))
        and action in _list(s["Action"])
    ]


def _assert_scoped_to_this_accounts_alarms(statement: dict, account: str, region: str) -> None:
    conditions = statement.get("Condition", {})
    assert conditions.get("StringEquals", {}).get("aws:SourceAccount") == account, statement
    source_arn = join(conditions.get("ArnLike", {}).get("aws:SourceArn", ""))
    assert source_arn == f"arn:${{AWS::Partition}}:cloudwatch:{region}:{account}:alarm:*", (
        source_arn
    )


def test_every_topic_an_alarm_notifies_lets_cloudwatch_publish_and_use_its_key(synth):
    checked = 0
    for stack_name, template in synth.templates.items():
        region = synth.stack_regions[stack_name]
        env = stack_name.split("-")[1]
        account = synth.config.environments[env].account
        policies = resources(template, "AWS::SNS::TopicPolicy").values()
        for topic_id in _topics_alarms_notify(template):
            statements = [
                statement
                for policy in policies
                if {"Ref": topic_id} in policy["Properties"]["Topics"]
                for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            ]
            (publish,) = _grants(statements, "cloudwatch.amazonaws.com", "sns:Publish")
            assert publish["Resource"] == {"Ref": topic_id}
            _assert_scoped_to_this_accounts_alarms(publish, account, region)
            # The budget still pages the home region's topic.
            (budget,) = _grants(statements, "budgets.amazonaws.com", "sns:Publish")
            assert budget["Condition"]["StringEquals"]["aws:SourceAccount"] == account

            key_arn = template["Resources"][topic_id]["Properties"]["KmsMasterKeyId"]
            key = template["Resources"][key_arn["Fn::GetAtt"][0]]
            key_statements = key["Properties"]["KeyPolicy"]["Statement"]
            for action in ("kms:Decrypt", "kms:GenerateDataKey*"):
                (use,) = _grants(key_statements, "cloudwatch.amazonaws.com", action)
                _assert_scoped_to_this_accounts_alarms(use, account, region)
            checked += 1
    # One topic per observability stack: dev 1 region, staging 2, prod 3.
    assert checked == 6


def test_the_budget_waits_for_the_topic_policy(synth):
    for stack_name, template in synth.templates.items():
        for budget in resources(template, "AWS::Budgets::Budget").values():
            (policy_id,) = resources(template, "AWS::SNS::TopicPolicy")
            assert policy_id in budget.get("DependsOn", []), stack_name
