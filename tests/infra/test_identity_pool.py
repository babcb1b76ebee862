"""The user pool's lifecycle (docs/identity.md, "Keeping users"): its logical id never changes,
an existing pool can be adopted with its users, and Cognito's emails may go through SES."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, assertions

from squrl_config import load_config
from tests.infra.conftest import cdk_json_context
from tests.infra.helpers import resources

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]

# The pool's logical id in the data stack: a change replaces the pool (a new, empty pool; the
# old one kept or deleted with every user id), so it is pinned.
POOL_LOGICAL_ID = "IdentityPool9E5AED46"
ADOPTED = "us-east-1_AbC123xyz"


def data_template(env: str, identity: dict[str, Any]) -> dict[str, Any]:
    from stacks.data_stack import DataStack

    context = cdk_json_context()
    context["squrl"]["environments"][env].setdefault("identity", {}).update(identity)
    config = load_config(context).environments[env]
    stack = DataStack(App(context=context), config=config)
    return assertions.Template.from_stack(stack).to_json()


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_pools_logical_id_is_pinned(synth: Any, env: str) -> None:
    home = synth.config.environments[env].home_region
    template = synth.templates[f"squrl-{env}-data-{home}"]
    assert list(resources(template, "AWS::Cognito::UserPool")) == [POOL_LOGICAL_ID]


def test_an_existing_pool_is_adopted_with_clients_domain_and_admin_group() -> None:
    template = data_template("prod", {"user_pool_id": ADOPTED})
    # No pool is made (none to replace or lose): everything else is made in the adopted one.
    assert resources(template, "AWS::Cognito::UserPool") == {}
    for kind in (
        "AWS::Cognito::UserPoolClient",
        "AWS::Cognito::UserPoolDomain",
        "AWS::Cognito::UserPoolGroup",
    ):
        found = resources(template, kind)
        assert found, kind
        assert all(r["Properties"]["UserPoolId"] == ADOPTED for r in found.values()), kind
    assert len(resources(template, "AWS::Cognito::UserPoolClient")) == 2
    outputs = {k: v["Value"] for k, v in template["Outputs"].items()}
    assert ADOPTED in outputs.values()
    (parameter,) = resources(template, "AWS::SSM::Parameter").values()
    assert ADOPTED in str(parameter["Properties"]["Value"])


def test_cognito_emails_go_through_ses_when_configured() -> None:
    template = data_template(
        "staging",
        {
            "ses_email": {
                "from_email": "no-reply@example.com",
                "from_name": "squrl",
                "ses_verified_domain": "example.com",
            }
        },
    )
    (pool,) = resources(template, "AWS::Cognito::UserPool").values()
    email = pool["Properties"]["EmailConfiguration"]
    assert email["EmailSendingAccount"] == "DEVELOPER"
    assert "no-reply@example.com" in email["From"]
    assert "identity/example.com" in str(email["SourceArn"])
