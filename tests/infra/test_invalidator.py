"""The invalidator: links-table stream -> Lambda -> CloudFront invalidations (docs/edge.md)."""

from __future__ import annotations

import json

import pytest

from shared.contracts import names
from tests.infra.helpers import (
    function_by_name,
    function_logical_id,
    join,
    only,
    policy_statements_of_role,
    resources,
    role_of_function,
)

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]

ENVS = ["dev", "staging", "prod"]


def data_template(synth, env):
    return synth.templates[f"squrl-{env}-data-{synth.config.environments[env].home_region}"]


@pytest.mark.parametrize("env", ENVS)
def test_the_table_stream_feeds_the_invalidator_with_retries_and_a_queue(synth, env):
    template = data_template(synth, env)
    mapping = only(template, "AWS::Lambda::EventSourceMapping")["Properties"]
    table_id = next(iter(resources(template, "AWS::DynamoDB::GlobalTable")))
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
    assert mapping["FunctionName"] == {"Ref": function_logical_id(template, "-invalidator")}
    assert mapping["StartingPosition"] == "LATEST"
    assert mapping["BatchSize"] == 1000
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == 5
    assert mapping["MaximumRecordAgeInSeconds"] == 3600
    assert mapping["ParallelizationFactor"] == 1
    queues = resources(template, "AWS::SQS::Queue")
    (queue_id,) = [
        q
        for q, body in queues.items()
        if body["Properties"]["QueueName"] == names.invalidation_dead_letter_queue_name(env)
    ]
    destination = mapping["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == {"Fn::GetAtt": [queue_id, "Arn"]}


@pytest.mark.parametrize("env", ENVS)
def test_invalidator_reads_the_distribution_id_by_name_and_waits_out_the_edge_memory(synth, env):
    props = function_by_name(data_template(synth, env), "-invalidator")
    variables = props["Environment"]["Variables"]
    assert variables["SQURL_DISTRIBUTION_ID_PARAMETER"] == f"/squrl/{env}/edge/distribution-id"
    assert variables["SQURL_DISTRIBUTION_ID_REGION"] == "us-east-1"
    assert variables["SQURL_INVALIDATION_MAX_PATHS"] == "100"
    # The edge function's 30 s lookup memory plus 5 s for replication lag.
    assert variables["SQURL_EDGE_MEMORY_SECONDS"] == "35"
    # 30 s of edge lookup memory, then CloudFront's API.
    assert props["Timeout"] == 90
    edge = synth.templates[f"squrl-{env}-edge-us-east-1"]
    parameter = only(edge, "AWS::SSM::Parameter")["Properties"]
    assert parameter["Name"] == f"/squrl/{env}/edge/distribution-id"
    distribution = next(iter(resources(edge, "AWS::CloudFront::Distribution")))
    assert parameter["Value"] == {"Ref": distribution}


@pytest.mark.parametrize("env", ENVS)
def test_invalidator_may_only_invalidate_its_environments_distribution(synth, env):
    template = data_template(synth, env)
    statements = policy_statements_of_role(template, role_of_function(template, "-invalidator"))
    by_action = {str(s["Action"]): s for s in statements}
    invalidate = by_action["cloudfront:CreateInvalidation"]
    assert join(invalidate["Resource"]).endswith(":distribution/*")
    assert invalidate["Condition"] == {"StringEquals": {"aws:ResourceTag/squrl:environment": env}}
    parameter = by_action["ssm:GetParameter"]
    account = synth.config.environments[env].account
    assert join(parameter["Resource"]).endswith(
        f":ssm:us-east-1:{account}:parameter/squrl/{env}/edge/distribution-id"
    )
    stream_actions = {
        action
        for s in statements
        for action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        if action.startswith("dynamodb:")
    }
    assert stream_actions <= {
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    }
    assert not any(a in str(statements) for a in ("PutItem", "UpdateItem", "DeleteItem"))
    assert "cloudfront:*" not in str(statements)


@pytest.mark.parametrize("env", ENVS)
def test_invalidation_failures_and_dead_letters_page_with_a_runbook(synth, env):
    home = synth.config.environments[env].home_region
    template = synth.templates[f"squrl-{env}-observability-{home}"]
    alarms = {
        body["Properties"]["AlarmName"]: body["Properties"]
        for body in resources(template, "AWS::CloudWatch::Alarm").values()
    }
    errors = alarms[f"squrl-{env}-{home}-invalidation-failed-errors"]
    assert errors["Threshold"] == 1 and '"Errors"' in json.dumps(errors)
    assert names.function_name(env, "invalidator") in json.dumps(errors)
    dlq = alarms[f"squrl-{env}-{home}-invalidation-failed-dlq"]
    assert dlq["Threshold"] == 1 and "ApproximateNumberOfMessagesVisible" in json.dumps(dlq)
    assert names.invalidation_dead_letter_queue_name(env) in json.dumps(dlq)
    for alarm in (errors, dlq):
        assert "docs/runbooks/invalidation-failed.md" in alarm["AlarmDescription"]
        assert alarm["AlarmActions"], "pages"
