"""The environment's Cognito user pool, in the home region (docs/identity.md).

Email sign-in, the hosted UI on a Cognito domain, one public app client for the web app and one
for the CLI (authorization code grant; both are public clients without a secret, so PKCE is
what protects their codes), the `admin` group, optional SAML/OIDC federation from cdk.json, MFA
as configured. Its id and client ids are published in an SSM parameter of the home region,
which every region's authorizer reads: an API stack in another region cannot reference them.
"""

from __future__ import annotations

import json

from aws_cdk import CfnOutput, Duration, RemovalPolicy, SecretValue
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from cdk_constructs.core.compliance import acknowledge
from shared.contracts import web
from shared.contracts.auth import ADMIN_GROUP
from squrl_config import EnvironmentConfig, FederationProvider, SesEmail

_MFA = {"OFF": cognito.Mfa.OFF, "OPTIONAL": cognito.Mfa.OPTIONAL, "REQUIRED": cognito.Mfa.REQUIRED}
_THREAT = {
    "AUDIT": cognito.StandardThreatProtectionMode.AUDIT_ONLY,
    "ENFORCED": cognito.StandardThreatProtectionMode.FULL_FUNCTION,
}
# What both app clients allow and both clients ask for (squrl_cli/oauth.py, web/js/auth.js).
OAUTH_SCOPE_NAMES = ("openid", "email", "profile")
OAUTH_SCOPES = [cognito.OAuthScope.custom(name) for name in OAUTH_SCOPE_NAMES]
# The redirect URI `squrl login` sends (squrl_cli/oauth.py: `http://localhost:<port>/callback`,
# port 8765 by default). Cognito compares it exactly, and plain http only for `localhost`, so the
# CLI client always lists it, whatever `identity.cli_callback_urls` adds.
CLI_LOOPBACK_CALLBACK = "http://localhost:8765/callback"


def hosted_ui_domain(config: EnvironmentConfig) -> str:
    """The hosted UI's origin, `https://<prefix>.auth.<home region>.amazoncognito.com`: known
    from cdk.json alone, so a stack in another region needs no reference to the pool for it."""
    prefix = config.identity.domain_prefix or f"squrl-{config.name}-{config.account}"
    return f"https://{prefix}.auth.{config.home_region}.amazoncognito.com"


def web_app_url(config: EnvironmentConfig) -> str | None:
    """`https://<short domain>/app/`, the web app's address on the distribution, when the short
    domain is configured; None otherwise (the distribution's own name is known only after its
    first deploy: docs/identity.md, "The web app's callback URL")."""
    if config.short_domain and config.edge.enabled:
        return f"https://{config.short_domain}{web.PREFIX}/"
    return None


def _unique(urls: list[str]) -> list[str]:
    return list(dict.fromkeys(urls))


def pool_parameter_name(env_name: str) -> str:
    """The SSM parameter (home region) holding `{"pool_id", "client_ids", "region"}`."""
    return f"/squrl/{env_name}/identity/user-pool"


def _email(ses: SesEmail | None) -> cognito.UserPoolEmail | None:
    """Cognito's emails through SES when configured; else Cognito's sender (about 50 a day)."""
    if ses is None:
        return None
    return cognito.UserPoolEmail.with_ses(
        from_email=ses.from_email,
        from_name=ses.from_name,
        reply_to=ses.reply_to,
        ses_verified_domain=ses.ses_verified_domain,
        ses_region=ses.ses_region,
    )


class SqurlUserPool(Construct):
    """Exposes `.pool`, `.web_client`, `.cli_client`, `.domain` (and its origin as
    `.hosted_ui_domain`) and `.parameter`."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, construct_id)
        settings = config.identity
        # identity.user_pool_id adopts an existing pool (one a teardown kept, with its users);
        # its logical id stays "Pool" either way, so the pool made here is never replaced by a
        # refactoring of this construct (tests/infra/test_identity.py pins it).
        self.pool: cognito.IUserPool = (
            cognito.UserPool.from_user_pool_id(self, "Pool", settings.user_pool_id)
            if settings.user_pool_id
            else self._new_pool(config)
        )
        self.domain = self.pool.add_domain(
            "HostedUi",
            cognito_domain=cognito.CognitoDomainOptions(
                domain_prefix=settings.domain_prefix or f"squrl-{config.name}-{config.account}"
            ),
        )
        self.hosted_ui_domain = hosted_ui_domain(config)
        app_url = web_app_url(config)
        providers = [self._federate(provider) for provider in settings.federation]
        supported = [cognito.UserPoolClientIdentityProvider.COGNITO] + [
            cognito.UserPoolClientIdentityProvider.custom(p.provider_name) for p in providers
        ]
        web_urls = _unique([*settings.web_callback_urls, *([app_url] if app_url else [])])
        cli_urls = _unique([CLI_LOOPBACK_CALLBACK, *settings.cli_callback_urls])
        self.web_client = self._client("WebClient", "web", web_urls, supported)
        self.cli_client = self._client("CliClient", "cli", cli_urls, supported)
        for client in (self.web_client, self.cli_client):
            for provider in providers:
                client.node.add_dependency(provider)
        cognito.CfnUserPoolGroup(
            self,
            "AdminGroup",
            user_pool_id=self.pool.user_pool_id,
            group_name=ADMIN_GROUP,
            description="May read any link and change its status, to stop abuse",
        )
        # What a client needs to sign in (`squrl login`). The edge stack's web app reads the
        # web client's id by reference (docs/web.md, "Sign-in in AWS"); nothing else is pinned.
        hosted_ui = self.domain.base_url()
        for name, value in (
            ("UserPoolId", self.pool.user_pool_id),
            ("WebClientId", self.web_client.user_pool_client_id),
            ("CliClientId", self.cli_client.user_pool_client_id),
            ("HostedUiUrl", hosted_ui),
        ):
            CfnOutput(self, name, value=value)
        self.parameter = ssm.StringParameter(
            self,
            "PoolParameter",
            parameter_name=pool_parameter_name(config.name),
            description="squrl user pool id and app client ids, read by every region's API",
            string_value=json.dumps(
                {
                    "pool_id": self.pool.user_pool_id,
                    "client_ids": [
                        self.web_client.user_pool_client_id,
                        self.cli_client.user_pool_client_id,
                    ],
                    "region": config.home_region,
                    "hosted_ui": hosted_ui,
                }
            ),
        )

    def _new_pool(self, config: EnvironmentConfig) -> cognito.UserPool:
        settings = config.identity
        threat = _THREAT.get(settings.advanced_security)
        pool = cognito.UserPool(
            self,
            "Pool",
            # No fixed name: a pool kept by a teardown (retain_data) must not be mistaken for
            # the next deploy's (docs/identity.md, "Teardown").
            self_sign_up_enabled=True,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            sign_in_case_sensitive=False,
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=_MFA[settings.mfa],
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False)
            if settings.mfa != "OFF"
            else None,
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.PLUS if threat else cognito.FeaturePlan.ESSENTIALS,
            standard_threat_protection_mode=threat,
            email=_email(settings.ses_email),
            deletion_protection=config.retain_data,
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )
        if settings.mfa != "REQUIRED":
            acknowledge(
                pool,
                "AwsSolutions-COG2",
                f"identity.mfa is {settings.mfa} for {config.name} in cdk.json: users may turn "
                "on TOTP themselves; an operator sets REQUIRED where policy demands it.",
            )
        if threat is None:
            acknowledge(
                pool,
                "AwsSolutions-COG3",
                f"identity.advanced_security is OFF for {config.name} in cdk.json: threat "
                "protection needs the Plus feature plan, billed per monthly active user.",
            )
            acknowledge(
                pool,
                "AwsSolutions-COG8",
                f"identity.advanced_security is OFF for {config.name} in cdk.json: the Plus "
                "feature plan is billed per monthly active user; AUDIT or ENFORCED selects it.",
            )
        return pool

    def _client(
        self,
        construct_id: str,
        label: str,
        callback_urls: list[str],
        providers: list[cognito.UserPoolClientIdentityProvider],
    ) -> cognito.UserPoolClient:
        return self.pool.add_client(
            construct_id,
            user_pool_client_name=f"squrl-{label}",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=OAUTH_SCOPES,
                callback_urls=callback_urls,
                logout_urls=callback_urls,
            ),
            supported_identity_providers=providers,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
        )

    def _federate(self, provider: FederationProvider) -> cognito.IUserPoolIdentityProvider:
        mapping = cognito.AttributeMapping(email=cognito.ProviderAttribute.other("email"))
        if provider.type == "SAML":
            return cognito.UserPoolIdentityProviderSaml(
                self,
                f"Saml{provider.name}",
                user_pool=self.pool,
                name=provider.name,
                metadata=cognito.UserPoolIdentityProviderSamlMetadata.url(
                    provider.metadata_url or ""
                ),
                attribute_mapping=mapping,
            )
        return cognito.UserPoolIdentityProviderOidc(
            self,
            f"Oidc{provider.name}",
            user_pool=self.pool,
            name=provider.name,
            issuer_url=provider.issuer or "",
            client_id=provider.client_id or "",
            # A dynamic reference resolved by CloudFormation at deploy time: the template holds
            # the secret's name, never its value.
            client_secret=SecretValue.secrets_manager(
                provider.client_secret_name or ""
            ).unsafe_unwrap(),
            scopes=["openid", "email"],
            attribute_mapping=mapping,
        )
