"""Import jobs' infrastructure (docs/imports.md): the upload bucket, the state machine that
starts on an upload, its alarms, and least-privilege grants, in every environment."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from shared.contracts import names
from tests.infra.helpers import (
    function_by_name,
    join,
    only,
    policy_statements_of_role,
    resources,
    role_of_function,
)

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]

ENVS = ["dev", "staging", "prod"]
# Step Functions' limit on a Standard execution's history, and the row count the issue names.
HISTORY_LIMIT = 25_000
ROWS = 100_000


def home_api(synth: Any, env: str) -> dict[str, Any]:
    config = synth.config.environments[env]
    return synth.templates[f"squrl-{env}-api-{config.home_region}"]


def statements(template: dict[str, Any], function: str) -> list[dict[str, Any]]:
    return policy_statements_of_role(template, role_of_function(template, function))


def actions(statement: dict[str, Any]) -> set[str]:
    found = statement["Action"]
    return {found} if isinstance(found, str) else set(found)


def definition(template: dict[str, Any]) -> dict[str, Any]:
    machine = only(template, "AWS::StepFunctions::StateMachine")["Properties"]
    return json.loads(join(machine["DefinitionString"]))


@pytest.mark.parametrize("env", ENVS)
def test_the_upload_bucket_is_private_encrypted_tls_only_and_expires_uploads(synth, env):
    config = synth.config.environments[env]
    template = home_api(synth, env)
    bucket = only(template, "AWS::S3::Bucket")["Properties"]
    assert bucket["BucketName"] == names.import_bucket_name(env, config.account, config.home_region)
    sse = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    rules = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["uploads"]["Prefix"] == "uploads/"
    assert rules["uploads"]["ExpirationInDays"] == config.imports.upload_retention_days == 7
    assert rules["incomplete"]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1
    assert bucket["NotificationConfiguration"]["EventBridgeConfiguration"]["EventBridgeEnabled"]
    policy = only(template, "AWS::S3::BucketPolicy")["Properties"]["PolicyDocument"]
    (deny,) = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    origins = config.api.cors_allowed_origins
    if origins:
        (cors,) = bucket["CorsConfiguration"]["CorsRules"]
        assert (cors["AllowedMethods"], cors["AllowedOrigins"]) == (["PUT"], list(origins))
    else:
        assert "CorsConfiguration" not in bucket


def test_only_the_home_region_processes_imports_every_region_serves_the_route(synth):
    config = synth.config.environments["prod"]
    bucket = names.import_bucket_name("prod", config.account, config.home_region)
    for region in config.serving_regions:
        template = synth.templates[f"squrl-prod-api-{region}"]
        home = region == config.home_region
        assert len(resources(template, "AWS::S3::Bucket")) == (1 if home else 0)
        assert len(resources(template, "AWS::StepFunctions::StateMachine")) == (1 if home else 0)
        variables = function_by_name(template, "-imports")["Environment"]["Variables"]
        # Writes and uploads go to the home region from wherever the request arrives.
        assert variables["SQURL_IMPORT_BUCKET"] == bucket
        assert variables["SQURL_HOME_REGION"] == config.home_region
        assert variables["SQURL_IMPORT_URL_SECONDS"] == "3600"
        s3_grant = next(s for s in statements(template, "-imports") if "s3:PutObject" in actions(s))
        assert join(s3_grant["Resource"]).endswith(f":s3:::{bucket}/uploads/*")


@pytest.mark.parametrize("env", ENVS)
def test_an_upload_starts_the_standard_state_machine(synth, env):
    template = home_api(synth, env)
    machine = only(template, "AWS::StepFunctions::StateMachine")["Properties"]
    assert machine["StateMachineType"] == "STANDARD"
    assert machine["TracingConfiguration"] == {"Enabled": True}
    assert machine["LoggingConfiguration"]["Level"] == "ALL"
    (rule,) = [
        r["Properties"]
        for r in resources(template, "AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"]["source"] == ["aws.s3"]
    ]
    pattern = rule["EventPattern"]
    assert pattern["source"] == ["aws.s3"] and pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["object"]["key"] == [{"prefix": "uploads/"}]
    (target,) = rule["Targets"]
    machine_id = next(iter(resources(template, "AWS::StepFunctions::StateMachine")))
    assert target["Arn"] == {"Ref": machine_id}
    assert "$.detail.object.key" in json.dumps(target["InputTransformer"])


@pytest.mark.parametrize("env", ENVS)
def test_the_definition_loops_over_chunks_with_retries(synth, env):
    states = definition(home_api(synth, env))
    assert definition(home_api(synth, env))["StartAt"] == "Start"
    states = states["States"]
    assert states["Start"]["Next"] == states["Chunk"]["Next"] == "Finished?"
    choice = states["Finished?"]
    assert choice["Type"] == "Choice"
    assert choice["Choices"][0]["Variable"] == "$.done" and choice["Default"] == "Chunk"
    for task in ("Start", "Chunk"):
        retries = states[task]["Retry"]
        assert retries[-1]["ErrorEquals"] == ["States.ALL"]
        assert all(r["MaxAttempts"] >= 3 for r in retries)
    # The failure path is no state of its own (test_imports_resilience.py): a redrive re-runs
    # the failed task.
    assert set(states) == {"Start", "Finished?", "Chunk", "Imported"}


@pytest.mark.parametrize("env", ENVS)
def test_100000_rows_stay_far_below_the_execution_history_limit(synth, env):
    """Each chunk is a Task (5 history events) and a Choice (2); Start, the end and the
    execution's own events add a handful."""
    config = synth.config.environments[env]
    states = definition(home_api(synth, env))["States"]
    assert {"Chunk", "Finished?"} <= set(states)
    chunks = math.ceil(ROWS / config.imports.chunk_rows) + 1
    events = chunks * (5 + 2) + 20
    assert events < HISTORY_LIMIT / 10
    worker = function_by_name(home_api(synth, env), "-import-worker")
    assert worker["Timeout"] == 300 and worker["MemorySize"] == 1024
    assert worker["Environment"]["Variables"]["SQURL_IMPORT_CHUNK_ROWS"] == "1000"


@pytest.mark.parametrize("env", ENVS)
def test_failed_and_timed_out_executions_raise_alarms(synth, env):
    template = home_api(synth, env)
    alarms = {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == "AWS/States"
    }
    assert set(alarms) == {"ExecutionsFailed", "ExecutionsTimedOut"}
    for alarm in alarms.values():
        assert alarm["Threshold"] == 1 and alarm["Statistic"] == "Sum"
        assert alarm["AlarmActions"], alarm


@pytest.mark.parametrize("env", ENVS)
def test_grants_are_least_privilege(synth, env):
    template = home_api(synth, env)
    api = statements(template, "-imports")
    dynamo = [s for s in api if any(a.startswith("dynamodb:") for a in actions(s))]
    (jobs,) = dynamo
    assert actions(jobs) == {"dynamodb:PutItem", "dynamodb:GetItem"}
    assert jobs["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["import#*"]
    worker = statements(template, "-import-worker")
    granted = set().union(*(actions(s) for s in worker))
    assert not granted & {"dynamodb:DeleteItem", "dynamodb:Scan", "s3:PutObject", "s3:*"}
    (update,) = [s for s in worker if "dynamodb:UpdateItem" in actions(s)]
    assert update["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["import#*"]
    (read,) = [s for s in worker if "s3:GetObject" in actions(s)]
    assert join(read["Resource"]).endswith("/uploads/*")
