"""The analytics stack and the click shipping stacks, as synthesized from cdk.json."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Template

from shared.contracts.clicks import SUBSCRIPTION_FILTER_PATTERN
from tests.infra.helpers import (
    function_by_name,
    join,
    only,
    policy_statements_of_role,
    resources,
    role_of_function,
)

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]

ANALYTICS_ENVS = ["staging", "prod"]


def analytics(synth, env):
    return synth.templates[f"squrl-{env}-analytics-us-east-1"]


def test_analytics_exists_only_where_enabled_and_in_the_home_region(synth):
    names = [name for name in synth.templates if "-analytics-" in name]
    assert sorted(names) == [
        "squrl-prod-analytics-us-east-1",
        "squrl-staging-analytics-us-east-1",
    ]
    shipping = sorted(name for name in synth.templates if "-clicks-" in name)
    assert shipping == [
        "squrl-prod-clicks-ap-southeast-1",
        "squrl-prod-clicks-eu-west-1",
        "squrl-prod-clicks-us-east-1",
        "squrl-staging-clicks-eu-west-1",
        "squrl-staging-clicks-us-east-1",
    ]


@pytest.mark.parametrize("env", ANALYTICS_ENVS)
def test_the_stream_is_encrypted_and_named_for_the_producers(synth, env):
    Template.from_json(analytics(synth, env)).has_resource_properties(
        "AWS::Kinesis::Stream",
        {
            "Name": f"squrl-{env}-clicks",
            "RetentionPeriodHours": 24,
            "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"},
        },
    )


@pytest.mark.parametrize("env", ANALYTICS_ENVS)
def test_the_consumer_reports_partial_failures_bisects_and_ends_in_the_queue(synth, env):
    template = analytics(synth, env)
    queues = resources(template, "AWS::SQS::Queue")
    [(queue_id, queue)] = queues.items()
    assert queue["Properties"]["QueueName"] == f"squrl-{env}-clicks-dlq"
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    mappings = [
        m["Properties"] for m in resources(template, "AWS::Lambda::EventSourceMapping").values()
    ]
    for mapping in mappings:
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["BisectBatchOnFunctionError"] is True
        assert 0 < mapping["MaximumRetryAttempts"] <= 10
        assert 60 <= mapping["MaximumRecordAgeInSeconds"] <= 24 * 3600
        # The per-shard checkpoint needs one batch per shard at a time, in order.
        assert mapping["ParallelizationFactor"] == 1
        assert mapping["StartingPosition"] == "TRIM_HORIZON"
        # 2,000 records a batch keep long-tail counting under 600 item writes per 1,000 clicks
        # (bench/click_producer.py measures it at this size).
        assert mapping["BatchSize"] == 2000
        destination = mapping["DestinationConfig"]["OnFailure"]["Destination"]
        assert destination == {"Fn::GetAtt": [queue_id, "Arn"]}
    sources = [join(m["EventSourceArn"]) for m in mappings]
    stream_id = next(iter(resources(template, "AWS::Kinesis::Stream")))
    assert "${" + stream_id + ".Arn}" in sources
    config = synth.config.environments[env]
    edge = [arn for arn in sources if arn.endswith(f":stream/squrl-{env}-edge-requests")]
    assert len(edge) == (1 if config.edge.enabled else 0)
    assert len(sources) == 1 + len(edge)
    assert all(f":kinesis:us-east-1:{config.account}:" in arn for arn in edge)


@pytest.mark.parametrize("env", ANALYTICS_ENVS)
def test_the_consumer_may_update_the_home_table_and_use_its_queue_nothing_more(synth, env):
    template = analytics(synth, env)
    consumer = function_by_name(template, "click-consumer")
    variables = consumer["Environment"]["Variables"]
    assert variables["SQURL_TABLE_NAME"] == f"squrl-urls-{env}"
    statements = policy_statements_of_role(template, role_of_function(template, "click-consumer"))
    dynamo = [s for s in statements if any("dynamodb" in a for a in _actions(s))]
    assert len(dynamo) == 1
    assert sorted(_actions(dynamo[0])) == ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    assert join(dynamo[0]["Resource"]).endswith(f":table/squrl-urls-{env}")
    assert "us-east-1" in join(dynamo[0]["Resource"])
    sqs = [a for s in statements for a in _actions(s) if a.startswith("sqs:")]
    assert "sqs:SendMessage" in sqs and not any(a.startswith("sqs:Delete") for a in sqs)


@pytest.mark.parametrize("env", ANALYTICS_ENVS)
def test_the_lake_is_private_encrypted_partitioned_and_tiered(synth, env):
    template = analytics(synth, env)
    deliveries = resources(template, "AWS::KinesisFirehose::DeliveryStream")
    edge = synth.config.environments[env].edge.enabled
    assert len(deliveries) == (2 if edge else 1)
    delivery = next(
        d["Properties"]
        for d in deliveries.values()
        if d["Properties"]["DeliveryStreamName"] == f"squrl-{env}-regional-clicks-lake"
    )
    assert delivery["DeliveryStreamType"] == "KinesisStreamAsSource"
    s3 = delivery["ExtendedS3DestinationConfiguration"]
    assert s3["Prefix"] == "clicks/dt=!{timestamp:yyyy-MM-dd}/"
    assert s3["CompressionFormat"] == "GZIP"
    [processor] = s3["ProcessingConfiguration"]["Processors"]
    assert processor["Type"] == "Lambda"
    lake_id = join(s3["BucketARN"]).split(".")[0].strip("${")
    lake = template["Resources"][lake_id]["Properties"]
    assert lake["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert lake["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    rules = {rule.get("Id"): rule for rule in lake["LifecycleConfiguration"]["Rules"]}
    clicks = rules["clicks"]
    assert clicks["Prefix"] == "clicks/"
    assert [t["StorageClass"] for t in clicks["Transitions"]] == [
        "STANDARD_IA",
        "GLACIER_IR",
    ]
    assert clicks["ExpirationInDays"] == 365
    assert "LoggingConfiguration" in lake


@pytest.mark.parametrize("env", ANALYTICS_ENVS)
def test_records_firehose_could_not_transform_expire_after_a_day(synth, env):
    # Firehose writes them raw, user agent and referrer included, under the error prefix.
    template = analytics(synth, env)
    deliveries = resources(template, "AWS::KinesisFirehose::DeliveryStream").values()
    buckets = set()
    for delivery in deliveries:
        s3 = delivery["Properties"]["ExtendedS3DestinationConfiguration"]
        assert s3["ErrorOutputPrefix"].startswith("errors/")
        buckets.add(join(s3["BucketARN"]).split(".")[0].strip("${"))
    [lake_id] = buckets
    rules = template["Resources"][lake_id]["Properties"]["LifecycleConfiguration"]["Rules"]
    [errors] = [rule for rule in rules if rule.get("Prefix") == "errors/"]
    assert errors["Status"] == "Enabled"
    assert errors["ExpirationInDays"] == 1
    assert not errors.get("Transitions")


@pytest.mark.parametrize("env", ANALYTICS_ENVS)
def test_glue_and_athena_answer_the_common_questions(synth, env):
    template = analytics(synth, env)
    table = only(template, "AWS::Glue::Table")["Properties"]["TableInput"]
    assert [k["Name"] for k in table["PartitionKeys"]] == ["dt"]
    assert table["Parameters"]["projection.enabled"] == "true"
    columns = {c["Name"] for c in table["StorageDescriptor"]["Columns"]}
    assert {"short_code", "referrer_domain", "country", "device", "is_bot"} <= columns
    assert not columns & {"ip", "c_ip", "user_agent"}
    workgroup = only(template, "AWS::Athena::WorkGroup")["Properties"]
    configuration = workgroup["WorkGroupConfiguration"]
    assert configuration["EnforceWorkGroupConfiguration"] is True
    result = configuration["ResultConfiguration"]
    assert result["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}
    queries = resources(template, "AWS::Athena::NamedQuery")
    assert len(queries) >= 4
    for query in queries.values():
        assert query["Properties"]["WorkGroup"] == workgroup["Name"]
        assert "clicks" in query["Properties"]["QueryString"]


@pytest.mark.parametrize(
    ("env", "stream"),
    [("dev", ""), ("staging", "squrl-staging-clicks"), ("prod", "squrl-prod-clicks")],
)
def test_redirects_write_click_lines_where_analytics_is_on(synth, env, stream):
    template = synth.templates[f"squrl-{env}-api-us-east-1"]
    redirect = function_by_name(template, "-redirect")
    assert redirect["Environment"]["Variables"]["SQURL_CLICK_STREAM"] == stream


def test_the_home_region_ships_click_lines_straight_to_the_stream(synth):
    template = synth.templates["squrl-prod-clicks-us-east-1"]
    subscription = only(template, "AWS::Logs::SubscriptionFilter")["Properties"]
    assert subscription["FilterPattern"] == SUBSCRIPTION_FILTER_PATTERN
    assert subscription["LogGroupName"] == "/aws/lambda/squrl-prod-redirect"
    assert subscription["Distribution"] == "Random"
    assert join(subscription["DestinationArn"]).endswith(":stream/squrl-prod-clicks")


@pytest.mark.parametrize("region", ["eu-west-1", "ap-southeast-1"])
def test_other_regions_ship_through_a_destination_to_the_home_stream(synth, region):
    template = synth.templates[f"squrl-prod-clicks-{region}"]
    destination = only(template, "AWS::Logs::Destination")["Properties"]
    target = join(destination["TargetArn"])
    assert ":kinesis:us-east-1:" in target and target.endswith(":stream/squrl-prod-clicks")
    subscription = only(template, "AWS::Logs::SubscriptionFilter")["Properties"]
    assert subscription["FilterPattern"] == SUBSCRIPTION_FILTER_PATTERN
    assert subscription["LogGroupName"] == "/aws/lambda/squrl-prod-redirect"
    role = only(template, "AWS::IAM::Policy")["Properties"]["PolicyDocument"]["Statement"]
    assert [s["Action"] for s in role] == ["kinesis:PutRecord"]
    assert json.dumps(role).count("squrl-prod-clicks") == 1


def test_deployment_order_has_no_cycle(synth):
    env = synth.environments["prod"]
    analytics_stack = env.analytics
    for region, shipping in env.click_shipping.items():
        needs = {stack.stack_name for stack in shipping.dependencies}
        assert analytics_stack.stack_name in needs
        assert env.api[region].stack_name in needs
    after = {s.stack_name for s in analytics_stack.dependencies}
    assert not any(name.startswith("squrl-prod-clicks") for name in after)


def _actions(statement):
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else actions


def test_edge_clicks_outside_the_home_region_are_refused_not_ignored(context):
    from app import build_app
    from squrl_config import ConfigError

    overrides = {
        "env": "dev",
        "squrl.dev.home_region": "eu-west-1",
        "squrl.dev.serving_regions": '["eu-west-1"]',
        "squrl.dev.analytics.enabled": "true",
        "squrl.dev.edge.enabled": "true",
    }
    with pytest.raises(ConfigError, match="edge clicks arrive in us-east-1"):
        build_app({**context, **overrides})
