"""Resources that AWS checks against another resource when they are created wait for it.

Without the dependency CloudFormation may create both at once, and the first deploy fails (a
retry then succeeds): the real-time log config and the Logs destination check their role's
policy, the budget checks the topic policy, and the WAF association needs the stage.
"""

from __future__ import annotations

import pytest

from tests.infra.helpers import resources

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]


def _policy_of_role(template, role_id):
    (policy_id,) = [
        logical_id
        for logical_id, policy in resources(template, "AWS::IAM::Policy").items()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
    ]
    return policy_id


def _depends_on(resource):
    depends = resource.get("DependsOn", [])
    return set(depends if isinstance(depends, list) else [depends])


def test_realtime_log_config_waits_for_its_role_policy(synth):
    found = 0
    for stack, template in synth.templates.items():
        for config in resources(template, "AWS::CloudFront::RealtimeLogConfig").values():
            for endpoint in config["Properties"]["EndPoints"]:
                role_id = endpoint["KinesisStreamConfig"]["RoleArn"]["Fn::GetAtt"][0]
                assert _policy_of_role(template, role_id) in _depends_on(config), stack
                found += 1
    assert found == 2  # staging and prod; dev has no analytics, so no request stream


def test_logs_destinations_and_subscriptions_wait_for_their_role_policy(synth):
    found = 0
    for stack, template in synth.templates.items():
        for destination in resources(template, "AWS::Logs::Destination").values():
            role_id = destination["Properties"]["RoleArn"]["Fn::GetAtt"][0]
            assert _policy_of_role(template, role_id) in _depends_on(destination), stack
            found += 1
        for subscription in resources(template, "AWS::Logs::SubscriptionFilter").values():
            role = subscription["Properties"].get("RoleArn")
            if role is not None:
                role_id = role["Fn::GetAtt"][0]
                assert _policy_of_role(template, role_id) in _depends_on(subscription), stack
    # staging: eu-west-1; prod: eu-west-1 and ap-southeast-1.
    assert found == 3


def test_waf_association_waits_for_the_stage(synth):
    found = 0
    for stack, template in synth.templates.items():
        stages = set(resources(template, "AWS::ApiGateway::Stage"))
        for association in resources(template, "AWS::WAFv2::WebACLAssociation").values():
            (stage_id,) = stages
            assert stage_id in _depends_on(association), stack
            found += 1
    assert found == 6  # one per regional API: dev 1, staging 2, prod 3
