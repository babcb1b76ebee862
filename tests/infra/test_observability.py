"""The observability stacks: dashboards per region, alarms that reach a person, budget, canary."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from squrl_config.cost_at_rest import budget_usd
from tests.infra.helpers import only, resources

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]

REPO_ROOT = Path(__file__).resolve().parents[2]
ALARM_KINDS = ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")


def observability_templates(synth, env):
    config = synth.config.environments[env]
    return {
        region: synth.templates[f"squrl-{env}-observability-{region}"]
        for region in config.serving_regions
    }


def alarms(template):
    found = {}
    for kind in ALARM_KINDS:
        found |= resources(template, kind)
    return found


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_every_serving_region_has_a_dashboard_and_an_alarm_topic(synth, env):
    for region, template in observability_templates(synth, env).items():
        assert synth.stack_regions[f"squrl-{env}-observability-{region}"] == region
        dashboard = only(template, "AWS::CloudWatch::Dashboard")["Properties"]
        assert dashboard["DashboardName"] == f"squrl-{env}-{region}"
        topic = only(template, "AWS::SNS::Topic")["Properties"]
        assert topic["TopicName"] == f"squrl-{env}-alarms"
        assert "KmsMasterKeyId" in topic


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_every_alarm_has_an_action_and_members_page_through_a_composite(synth, env):
    total = 0
    for template in observability_templates(synth, env).values():
        topic_id = next(iter(resources(template, "AWS::SNS::Topic")))
        found = alarms(template)
        total += len(found)
        composite_rules = " ".join(
            str(a["Properties"]["AlarmRule"])
            for a in resources(template, "AWS::CloudWatch::CompositeAlarm").values()
        )
        for logical_id, alarm in found.items():
            actions = alarm["Properties"].get("AlarmActions", [])
            assert actions, f"{logical_id} has no action"
            pages = {"Ref": topic_id} in actions
            if not pages:
                # Members record an OpsItem and reach the topic through their composite.
                assert any(":opsitem:" in str(a) for a in actions), logical_id
                assert logical_id in composite_rules, f"{logical_id} is in no composite"
        for alarm in resources(template, "AWS::CloudWatch::CompositeAlarm").values():
            assert {"Ref": topic_id} in alarm["Properties"]["AlarmActions"]
    assert total >= 8


def test_email_subscription_comes_from_config(synth):
    for env, config in synth.config.environments.items():
        for template in observability_templates(synth, env).values():
            subscriptions = resources(template, "AWS::SNS::Subscription").values()
            emails = {s["Properties"]["Endpoint"] for s in subscriptions}
            expected = (
                {config.observability.alarm_email} if config.observability.alarm_email else set()
            )
            assert emails == expected


def test_alarm_descriptions_link_a_runbook_that_exists(synth):
    for env in synth.config.environments:
        for template in observability_templates(synth, env).values():
            for logical_id, alarm in alarms(template).items():
                description = alarm["Properties"]["AlarmDescription"]
                match = re.search(r"docs/runbooks/([a-z0-9-]+)\.md", description)
                assert match, f"{logical_id}: no runbook link"
                assert (REPO_ROOT / "docs" / "runbooks" / f"{match[1]}.md").is_file()


def _alarm_named(template, suffix):
    for alarm in alarms(template).values():
        props = alarm["Properties"]
        if props.get("AlarmName", props.get("CompositeAlarmName", "")).endswith(suffix):
            return props
    raise AssertionError(f"no alarm named *{suffix}")


def test_thresholds_follow_the_alerting_policy(synth):
    prod = synth.config.environments["prod"]
    home = observability_templates(synth, "prod")[prod.home_region]
    five_xx = _alarm_named(home, "-api-5xx-rate")
    assert (five_xx["Threshold"], five_xx["EvaluationPeriods"]) == (1, 5)
    assert "IF(requests >= 10, 100 * errors / requests, 0)" in str(five_xx["Metrics"])
    throttles = _alarm_named(home, "-lambda-throttles")
    assert (throttles["Threshold"], throttles["EvaluationPeriods"]) == (0, 1)
    redirect = _alarm_named(home, "-redirect-latency")
    assert redirect["Threshold"] == prod.observability.redirect_p99_slo_ms
    for replica in prod.replica_regions:
        replication = _alarm_named(home, f"-replication-latency-{replica}")
        assert replication["Threshold"] == 2000
        assert {"Name": "ReceivingRegion", "Value": replica} in (
            replication["Metrics"][0]["MetricStat"]["Metric"]["Dimensions"]
        )
    # Replication is measured where writes happen: replica regions have no such alarm.
    for region in prod.replica_regions:
        template = observability_templates(synth, "prod")[region]
        assert not any("replication" in str(a) for a in alarms(template).values())


def test_budget_in_the_home_region_notifies_the_topic(synth):
    for env, config in synth.config.environments.items():
        for region, template in observability_templates(synth, env).items():
            budgets = resources(template, "AWS::Budgets::Budget")
            # cdk.json's budget_usd, else the cost model's default (squrl_config/cost_at_rest.py).
            limit = budget_usd(config)
            if region != config.home_region or limit is None:
                assert budgets == {}
                continue
            budget = only(template, "AWS::Budgets::Budget")["Properties"]
            assert budget["Budget"]["BudgetLimit"] == {"Amount": limit, "Unit": "USD"}
            topic_id = next(iter(resources(template, "AWS::SNS::Topic")))
            for notification in budget["NotificationsWithSubscribers"]:
                assert notification["Subscribers"] == [
                    {"SubscriptionType": "SNS", "Address": {"Ref": topic_id}}
                ]


def test_canary_runs_where_configured_every_five_minutes(synth):
    for env, config in synth.config.environments.items():
        for region, template in observability_templates(synth, env).items():
            canaries = resources(template, "AWS::Synthetics::Canary")
            wanted = config.observability.canary and region == config.home_region
            assert bool(canaries) == wanted, (env, region)
            if not wanted:
                continue
            canary = only(template, "AWS::Synthetics::Canary")["Properties"]
            assert canary["RuntimeVersion"].startswith("syn-python-selenium-")
            assert canary["Schedule"]["Expression"] == "rate(5 minutes)"
            assert canary["Code"]["Handler"] == "index.handler"
            ast.parse(canary["Code"]["Script"])  # the inline script is valid Python
            variables = canary["RunConfig"]["EnvironmentVariables"]
            assert variables["API_KEY_PARAMETER"] == f"/squrl/{env}/canary-api-key"
            # No short domain in the committed config: the canary follows the short_url the
            # create answers (the home stage), never a placeholder host.
            assert config.short_domain is None
            assert variables["SHORT_BASE_URL"] == ""
            assert ".execute-api." in str(variables["API_URL"])
            _alarm_named(template, "-canary-failed")
    assert not synth.config.environments["dev"].observability.canary


def test_functions_and_stage_are_traced_and_keep_logs_for_the_configured_days(synth):
    for env, config in synth.config.environments.items():
        for region in config.serving_regions:
            template = synth.templates[f"squrl-{env}-api-{region}"]
            squrl_functions = [
                f["Properties"]
                for f in resources(template, "AWS::Lambda::Function").values()
                if str(f["Properties"].get("FunctionName", "")).startswith(f"squrl-{env}-")
            ]
            # create, get, update, redirect, imports, identity, authorizer; the import worker
            # in the home region
            assert len(squrl_functions) == (8 if region == config.home_region else 7)
            for function in squrl_functions:
                assert function["TracingConfig"] == {"Mode": "Active"}
            for group in resources(template, "AWS::Logs::LogGroup").values():
                assert group["Properties"]["RetentionInDays"] == config.log_retention_days
            stage = only(template, "AWS::ApiGateway::Stage")["Properties"]
            assert stage["TracingEnabled"] is True
            assert "requestId" in stage["AccessLogSetting"]["Format"]


@pytest.mark.parametrize("env", ["staging", "prod"])  # dev has no request stream (no analytics)
def test_edge_log_stream_throttling_pages(synth, env):
    # One real-time log record per edge request: a refused record is a click not counted.
    config = synth.config.environments[env]
    assert config.edge.enabled and "us-east-1" in config.serving_regions
    template = observability_templates(synth, env)["us-east-1"]
    alarm = _alarm_named(template, "-us-east-1-edge-log-throttled")
    (query,) = alarm["Metrics"]
    stat = query["MetricStat"]
    assert stat["Metric"] == {
        "Namespace": "AWS/Kinesis",
        "MetricName": "WriteProvisionedThroughputExceeded",
        "Dimensions": [{"Name": "StreamName", "Value": f"squrl-{env}-edge-requests"}],
    }
    assert (stat["Stat"], stat["Period"]) == ("Sum", 300)
    assert (alarm["Threshold"], alarm["EvaluationPeriods"]) == (0, 1)
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    topic_id = next(iter(resources(template, "AWS::SNS::Topic")))
    assert alarm["AlarmActions"] == [{"Ref": topic_id}]
    assert "docs/runbooks/edge-log-throttled.md" in alarm["AlarmDescription"]
    # The stream it watches is the one the edge stack creates.
    edge = only(synth.templates[f"squrl-{env}-edge-us-east-1"], "AWS::Kinesis::Stream")
    assert edge["Properties"]["Name"] == f"squrl-{env}-edge-requests"


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_a_failing_lake_transform_pages_for_every_delivery_stream(synth, env):
    # A batch the transform still fails after Firehose's retries lands raw in errors/ (personal
    # data until it expires) and misses the lake.
    config = synth.config.environments[env]
    home = config.home_region
    template = observability_templates(synth, env)[home]
    analytics = synth.templates[f"squrl-{env}-analytics-{home}"]
    streams = [
        stream["Properties"]["DeliveryStreamName"]
        for stream in resources(analytics, "AWS::KinesisFirehose::DeliveryStream").values()
    ]
    assert sorted(streams) == [f"squrl-{env}-edge-clicks-lake", f"squrl-{env}-regional-clicks-lake"]
    topic_id = next(iter(resources(template, "AWS::SNS::Topic")))
    for stream in streams:
        role = stream.removeprefix(f"squrl-{env}-").removesuffix("-clicks-lake")
        alarm = _alarm_named(template, f"-lake-transform-failed-{role}")
        (query,) = alarm["Metrics"]
        stat = query["MetricStat"]
        assert stat["Metric"] == {
            "Namespace": "AWS/Firehose",
            "MetricName": "ExecuteProcessing.Success",
            "Dimensions": [{"Name": "DeliveryStreamName", "Value": stream}],
        }
        assert (stat["Stat"], stat["Period"]) == ("Minimum", 300)
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "LessThanThreshold")
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]
        assert "docs/runbooks/lake-transform-failed.md" in alarm["AlarmDescription"]
