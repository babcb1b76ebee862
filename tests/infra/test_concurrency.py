"""Reserved concurrency: the API functions keep theirs when a redirect flood takes the rest."""

from __future__ import annotations

import copy

import pytest

from squrl_config import ConfigError, load_config
from tests.infra.helpers import resources

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]


def _reserved(template):
    return {
        f["Properties"]["FunctionName"]: f["Properties"].get("ReservedConcurrentExecutions")
        for f in resources(template, "AWS::Lambda::Function").values()
        if "FunctionName" in f["Properties"]  # not CDK's own custom resource handlers
    }


@pytest.mark.parametrize(
    ("env", "create_url", "get_url"), [("dev", None, None), ("staging", 50, 10), ("prod", 100, 20)]
)
def test_api_functions_reserve_what_cdk_json_says(synth, env, create_url, get_url):
    config = synth.config.environments[env]
    for region in config.serving_regions:
        reserved = _reserved(synth.templates[f"squrl-{env}-api-{region}"])
        assert reserved[f"squrl-{env}-create-url"] == create_url, region
        assert reserved[f"squrl-{env}-get-url"] == get_url, region
        # The redirect keeps the unreserved pool: a reservation would also cap it.
        assert reserved[f"squrl-{env}-redirect"] is None, region


def test_reservations_leave_lambdas_unreserved_minimum(synth):
    for config in synth.config.environments.values():
        total = sum(config.concurrency.reserved.values())
        assert total <= config.concurrency.account_limit - 100


def _with(context, env, concurrency):
    changed = copy.deepcopy(context)
    changed["squrl"]["environments"][env]["concurrency"] = concurrency
    return changed


def test_a_new_accounts_limit_of_ten_refuses_any_reservation(context):
    with pytest.raises(ConfigError, match=r"prod\.concurrency.*New accounts start at 10"):
        load_config(_with(context, "prod", {"account_limit": 10, "reserved": {"create_url": 1}}))
    # Without reservations, a limit of 10 is fine.
    load_config(_with(context, "prod", {"account_limit": 10}))


def test_reservations_may_not_eat_the_unreserved_hundred(context):
    load_config(_with(context, "prod", {"account_limit": 1000, "reserved": {"create_url": 900}}))
    with pytest.raises(ConfigError, match=r"totals 901.*leaves 900"):
        load_config(
            _with(
                context,
                "prod",
                {"account_limit": 1000, "reserved": {"create_url": 900, "get_url": 1}},
            )
        )


@pytest.mark.parametrize("reserved", [{"edge_redirect": 5}, {"create_url": 0}])
def test_unknown_functions_and_zero_are_refused(context, reserved):
    with pytest.raises(ConfigError, match=r"prod\.concurrency\.reserved"):
        load_config(_with(context, "prod", {"reserved": reserved}))
