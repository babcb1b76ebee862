"""Import jobs' failure paths (docs/imports.md, "Resume" and "Undelivered events"): a redrive
re-runs the failed chunk, a failed execution marks its job failed from EventBridge, an event
that cannot be delivered lands in an alarmed dead-letter queue, the upload bucket empties itself
on teardown, and Step Functions invokes the worker through its invoke target."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack

from squrl_config import load_config
from squrl_config.models import ColdStart
from tests.infra.helpers import function_logical_id, join, only, resources

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]

ENVS = ["dev", "staging", "prod"]


def home_api(synth: Any, env: str) -> dict[str, Any]:
    config = synth.config.environments[env]
    return synth.templates[f"squrl-{env}-api-{config.home_region}"]


def definition(template: dict[str, Any]) -> dict[str, Any]:
    machine = only(template, "AWS::StepFunctions::StateMachine")["Properties"]
    return json.loads(join(machine["DefinitionString"]))


def rules(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The rules by the source they listen to."""
    return {
        rule["Properties"]["EventPattern"]["source"][0]: rule["Properties"]
        for rule in resources(template, "AWS::Events::Rule").values()
    }


@pytest.mark.parametrize("env", ENVS)
def test_no_task_catches_into_a_fail_state_so_a_redrive_reruns_the_failed_chunk(synth, env):
    """RedriveExecution re-runs from the unsuccessful state: that must be the Chunk (or Start)
    task itself, never a Fail state reached through a Catch."""
    states = definition(home_api(synth, env))["States"]
    assert not [name for name, state in states.items() if state["Type"] == "Fail"]
    for name, state in states.items():
        assert "Catch" not in state, name
    for task in ("Start", "Chunk"):
        assert states[task]["Retry"][-1]["ErrorEquals"] == ["States.ALL"]


@pytest.mark.parametrize("env", ENVS)
def test_an_unsuccessful_execution_marks_its_job_failed_through_the_worker(synth, env):
    template = home_api(synth, env)
    rule = rules(template)["aws.states"]
    pattern = rule["EventPattern"]
    assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
    assert sorted(pattern["detail"]["status"]) == ["ABORTED", "FAILED", "TIMED_OUT"]
    machine_id = next(iter(resources(template, "AWS::StepFunctions::StateMachine")))
    assert pattern["detail"]["stateMachineArn"] == [{"Ref": machine_id}]
    (target,) = rule["Targets"]
    worker = function_logical_id(template, "-import-worker")
    assert target["Arn"] == {"Fn::GetAtt": [worker, "Arn"]}
    # The whole event goes to the worker: its detail.input holds the upload's key.
    assert "Input" not in target and "InputTransformer" not in target
    assert "DeadLetterConfig" in target
    permissions = [
        p["Properties"]
        for p in resources(template, "AWS::Lambda::Permission").values()
        if p["Properties"].get("Principal") == "events.amazonaws.com"
    ]
    assert any(p["FunctionName"] == {"Fn::GetAtt": [worker, "Arn"]} for p in permissions)


@pytest.mark.parametrize("env", ENVS)
def test_undelivered_upload_events_go_to_an_encrypted_tls_only_dead_letter_queue(synth, env):
    template = home_api(synth, env)
    queues = {
        logical_id: queue["Properties"]
        for logical_id, queue in resources(template, "AWS::SQS::Queue").items()
        if queue["Properties"].get("QueueName") == f"squrl-{env}-imports-dlq"
    }
    ((queue_id, queue),) = queues.items()
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 86400
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in resources(template, "AWS::SQS::QueuePolicy").values()
        if {"Ref": queue_id} in p["Properties"]["Queues"]
    ]
    statements = [s for document in policies for s in document]
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert any(s.get("Principal") == {"Service": "events.amazonaws.com"} for s in statements)
    for source in ("aws.s3", "aws.states"):
        (target,) = rules(template)[source]["Targets"]
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
        assert target["RetryPolicy"]["MaximumRetryAttempts"] == 20


@pytest.mark.parametrize("env", ENVS)
def test_undelivered_events_and_dead_letters_raise_alarms(synth, env):
    template = home_api(synth, env)
    alarms = {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["AlarmName"].startswith(f"squrl-{env}-imports-")
    }
    events = [a for a in alarms.values() if a.get("Namespace") == "AWS/Events"]
    assert len(events) == 2
    for alarm in events:
        assert alarm["MetricName"] == "FailedInvocations" and alarm["Statistic"] == "Sum"
        assert alarm["Threshold"] == 1 and alarm["AlarmActions"]
    rule_names = {json.dumps(a["Dimensions"][0]["Value"]) for a in events}
    assert rule_names == {
        json.dumps({"Ref": logical_id}) for logical_id in resources(template, "AWS::Events::Rule")
    }
    dead = alarms[f"squrl-{env}-imports-dead-letters"]
    assert (dead["Namespace"], dead["MetricName"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
    )
    assert dead["Threshold"] == 1 and dead["AlarmActions"]


@pytest.mark.parametrize("env", ENVS)
def test_alarm_descriptions_name_the_remedy_that_works(synth, env):
    template = home_api(synth, env)
    descriptions = {
        a["Properties"]["AlarmName"]: a["Properties"]["AlarmDescription"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["AlarmName"].startswith(f"squrl-{env}-imports-")
    }
    for name in ("failed", "timedout"):
        assert "redrive" in descriptions[f"squrl-{env}-imports-{name}"]
        assert "failed chunk" in descriptions[f"squrl-{env}-imports-{name}"]
    assert "dead-letter queue" in descriptions[f"squrl-{env}-imports-dead-letters"]


@pytest.mark.parametrize("env", ENVS)
def test_the_upload_bucket_is_emptied_when_its_stack_is_deleted(synth, env):
    """`make destroy` deletes the home API stack: a bucket with uploads in it (kept for 7
    days) would fail that unless it is emptied first."""
    template = home_api(synth, env)
    (bucket_id, bucket) = next(iter(resources(template, "AWS::S3::Bucket").items()))
    assert bucket["DeletionPolicy"] == "Delete"
    (emptier,) = resources(template, "Custom::S3AutoDeleteObjects").values()
    assert emptier["Properties"]["BucketName"] == {"Ref": bucket_id}


def test_step_functions_invokes_the_worker_through_its_alias_when_it_has_one(context):
    """A published worker (cold_starts) is invoked through its alias `live`, by the state
    machine's tasks and by the failure rule: the unqualified function is never the target."""
    from cdk_constructs.imports.import_pipeline import ImportPipeline

    config = load_config(context).environments["dev"]
    warmed = config.model_copy(
        update={"cold_starts": {"import_worker": ColdStart(provisioned_concurrency=1)}}
    )
    stack = Stack(App(), "Imports", env=Environment(account="111111111111", region="us-east-1"))
    ImportPipeline(stack, "Imports", config=warmed, environment={}, cors_origins=[])
    template = App.of(stack).synth().get_stack_by_name("Imports").template  # type: ignore[union-attr]
    (alias_id,) = resources(template, "AWS::Lambda::Alias")
    machine = only(template, "AWS::StepFunctions::StateMachine")["Properties"]
    states = json.loads(join(machine["DefinitionString"]))["States"]
    for task in ("Start", "Chunk"):
        assert states[task]["Resource"] == f"${{{alias_id}}}"
    (target,) = rules(template)["aws.states"]["Targets"]
    assert target["Arn"] == {"Ref": alias_id}


def test_the_docs_give_the_remedy_that_works():
    """docs/imports.md tells operators to redrive: it must say that the redrive re-runs the
    failed chunk, and no longer describe a Catch into a Fail state."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "imports.md").read_text()
    assert "MarkFailed" not in text and "-> Fail\n" not in text
    assert "re-runs the state that failed" in text
    assert "squrl-{env}-imports-dlq" in text and "-dead-letters" in text
