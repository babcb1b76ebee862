"""The regional REST API of docs/api.md section 2: routes, validation, keys, errors, logs,
tracing."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_constructs.core.compliance import acknowledge
from cdk_constructs.core.log_retention import log_retention
from shared.contracts import routes
from shared.contracts.http import (
    CORS_ALLOW_HEADERS,
    CORS_EXPOSE_HEADERS,
    METHOD_NOT_ALLOWED,
    REDIRECT_STATUSES,
)
from squrl_config import ApiConfig

# The function whose routes take the create body, and the resource of its bulk form.
CREATE_FUNCTION = "create_url"
BULK_RESOURCE = "/urls/bulk"
# Answers API Gateway sends as binary: it decodes a function's base64 body of these types when
# the request's Accept names one (GET /urls/{code}/qr?format=png). SVG travels as text.
BINARY_MEDIA_TYPES = ("image/png",)

# Access log fields. Chosen for debugging, latency and abuse work without personal data:
# no source IP, no user agent, no caller/user identity. The API key id is an operator-issued
# pseudonym (it is also the link owner id) and lets an operator trace a misbehaving client.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "requestTimeEpoch": "$context.requestTimeEpoch",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "path": "$context.path",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integration.latency",
    "integrationStatus": "$context.integration.status",
    "errorType": "$context.error.responseType",
    "errorMessage": "$context.error.message",
    "wafStatus": "$context.waf.status",
    "apiKeyId": "$context.identity.apiKeyId",
    "xrayTraceId": "$context.xrayTraceId",
    "stage": "$context.stage",
}

# The create body as the gateway checks it. custom_code is only typed here: the function's
# check answers a malformed code with details.reason "format" (docs/api.md section 4), which a
# gateway rejection cannot carry. original_url's bound is the body limit; the 2048-character rule
# applies after normalization and answers InvalidUrl/too_long, so it also stays in the function.
CREATE_URL_SCHEMA = apigw.JsonSchema(
    schema=apigw.JsonSchemaVersion.DRAFT4,
    title="CreateUrl",
    type=apigw.JsonSchemaType.OBJECT,
    required=["original_url"],
    additional_properties=False,
    properties={
        "original_url": apigw.JsonSchema(
            type=apigw.JsonSchemaType.STRING, min_length=1, max_length=8192
        ),
        "custom_code": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, max_length=256),
        "ttl_hours": apigw.JsonSchema(type=apigw.JsonSchemaType.INTEGER, minimum=1, maximum=87600),
        "redirect_type": apigw.JsonSchema(
            type=apigw.JsonSchemaType.INTEGER, enum=list(REDIRECT_STATUSES)
        ),
        # Only typed here; their rules (200 characters; 10 tags of [a-z0-9-]{1,32}) answer with
        # the field and reason from the function (docs/api.md section 7).
        "title": apigw.JsonSchema(
            type=[apigw.JsonSchemaType.STRING, apigw.JsonSchemaType.NULL], max_length=8192
        ),
        "tags": apigw.JsonSchema(
            type=apigw.JsonSchemaType.ARRAY,
            max_items=256,
            items=apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, max_length=256),
        ),
    },
)


# The bulk envelope as the gateway checks it: 1..100 objects. Each item is a create body that
# the function checks on its own, answering that item's problem in its result (section 9).
BULK_CREATE_SCHEMA = apigw.JsonSchema(
    schema=apigw.JsonSchemaVersion.DRAFT4,
    title="BulkCreateUrls",
    type=apigw.JsonSchemaType.OBJECT,
    required=["items"],
    additional_properties=False,
    properties={
        "items": apigw.JsonSchema(
            type=apigw.JsonSchemaType.ARRAY,
            min_items=1,
            max_items=100,
            items=apigw.JsonSchema(type=apigw.JsonSchemaType.OBJECT),
        ),
    },
)


# Request body types whose body the 405 mock replaces with its own template. A body of a type
# not named here reaches the MOCK integration raw (WHEN_NO_MATCH), which cannot read a status
# code from it: a 500, not the 405. So the API's binary media types (a body of these would
# otherwise pass as binary) and `application/octet-stream` (what clients send for a file) are
# named too; the template ignores the body, so any body of a named type answers 405.
_MOCKED_BODY_TYPES = (
    "application/json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "application/xml",
    "text/csv",
    "application/octet-stream",
    *BINARY_MEDIA_TYPES,
)


def method_not_allowed_body() -> str:
    """The 405 body of the ANY methods: the spec's error shape, naming the method asked."""
    return json.dumps(
        {
            "error": METHOD_NOT_ALLOWED,
            "message": "$context.httpMethod is not allowed on this path; see the Allow header.",
            "details": None,
        }
    )


@dataclass(frozen=True)
class _ErrorShape:
    response_type: apigw.ResponseType
    status: str | None
    error: str
    message: str
    retry_after: str | None = None


_GATEWAY_ERRORS = (
    _ErrorShape(
        apigw.ResponseType.BAD_REQUEST_BODY,
        "400",
        "ValidationError",
        "The request body is not valid JSON or does not match the create schema.",
    ),
    _ErrorShape(
        apigw.ResponseType.BAD_REQUEST_PARAMETERS,
        "400",
        "ValidationError",
        "A required request parameter is missing or invalid.",
    ),
    _ErrorShape(
        apigw.ResponseType.ACCESS_DENIED, "403", "Forbidden", "Access to this resource is denied."
    ),
    _ErrorShape(
        apigw.ResponseType.INVALID_API_KEY,
        "403",
        "Forbidden",
        "A valid x-api-key header is required.",
    ),
    _ErrorShape(apigw.ResponseType.WAF_FILTERED, "403", "Forbidden", "The request was blocked."),
    # The authorizer refuses with a Deny (ACCESS_DENIED); a 401 would only come from an
    # authorizer that failed to answer, and the spec's missing-credential status is 403.
    _ErrorShape(
        apigw.ResponseType.UNAUTHORIZED,
        "403",
        "Forbidden",
        "A valid credential is required (Authorization: Bearer, or x-api-key).",
    ),
    # API Gateway answers a route that does not exist with this type; there is no token auth.
    _ErrorShape(
        apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN,
        "404",
        "NotFound",
        "No such resource.",
    ),
    _ErrorShape(
        apigw.ResponseType.REQUEST_TOO_LARGE,
        "413",
        "PayloadTooLarge",
        "The request body is too large.",
    ),
    # The usage plan's token bucket refills every second.
    _ErrorShape(
        apigw.ResponseType.THROTTLED,
        "429",
        "RateLimitExceeded",
        "Too many requests; retry later.",
        retry_after="1",
    ),
    # Quotas reset at the period boundary, which the gateway does not expose; an hour is a
    # polite lower bound for a client that exhausted a daily or longer quota.
    _ErrorShape(
        apigw.ResponseType.QUOTA_EXCEEDED,
        "429",
        "RateLimitExceeded",
        "The API key's request quota is used up; retry later.",
        retry_after="3600",
    ),
    # Keep the gateway's own status (415, 404...) but the spec's body shape.
    _ErrorShape(
        apigw.ResponseType.DEFAULT_4_XX, None, "ValidationError", "The request was rejected."
    ),
    _ErrorShape(
        apigw.ResponseType.DEFAULT_5_XX,
        None,
        "InternalServerError",
        "An internal error occurred.",
    ),
)


def error_body(error: str, message: str) -> str:
    return json.dumps({"error": error, "message": message, "details": None})


class LinksApi(Construct):
    """REST API (regional endpoint) with the environment's stage, key, usage plan and logs.

    Routes are attached with `add_routes` once the functions exist, because the functions'
    environment names the API's own URL.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        env_name: str,
        settings: ApiConfig,
        log_retention_days: int,
        retain: bool,
    ) -> None:
        """The stage is named after the environment; `settings` holds its limits and CORS."""
        super().__init__(scope, construct_id)
        self._settings = settings
        self.stage_name = env_name

        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=log_retention(log_retention_days),
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"squrl-{env_name}",
            description=f"squrl {env_name}: create, look up and redirect short links",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # The authorizer names the usage key (docs/identity.md): the caller's x-api-key, or
            # the bearer key for token and user callers, so x-api-key and Bearer both work.
            api_key_source_type=apigw.ApiKeySourceType.AUTHORIZER,
            binary_media_types=list(BINARY_MEDIA_TYPES),
            # The account-level role lets the stage write execution (error) logs.
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=self.stage_name,
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                # Full request/response logging would store URLs and keys in CloudWatch.
                data_trace_enabled=False,
                throttling_rate_limit=settings.stage_throttle_rate_limit,
                throttling_burst_limit=settings.stage_throttle_burst_limit,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
            ),
        )
        cloud_watch_role = self.rest_api.node.try_find_child("CloudWatchRole")
        if cloud_watch_role is not None:
            acknowledge(
                cloud_watch_role,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs]",
                "AmazonAPIGatewayPushToCloudWatchLogs is the AWS-maintained policy that API "
                "Gateway's account-level logging role is documented to use.",
            )

        self.body_validator = self.rest_api.add_request_validator(
            "BodyValidator",
            request_validator_name="body-and-parameters",
            validate_request_body=True,
            validate_request_parameters=True,
        )
        self.create_model = self.rest_api.add_model(
            "CreateUrlModel",
            model_name="CreateUrl",
            content_type="application/json",
            schema=CREATE_URL_SCHEMA,
        )
        self.bulk_model = self.rest_api.add_model(
            "BulkCreateUrlsModel",
            model_name="BulkCreateUrls",
            content_type="application/json",
            schema=BULK_CREATE_SCHEMA,
        )
        for shape in _GATEWAY_ERRORS:
            headers = {"Content-Type": "'application/json'"}
            if shape.retry_after is not None:
                headers["Retry-After"] = f"'{shape.retry_after}'"
            # Auth is a bearer header (no cookies, no Allow-Credentials), so an error may be
            # read by any origin: a browser on another allowed origin sees the 403/429 itself,
            # not a network error. Gateway responses cannot echo a matching origin.
            headers["Access-Control-Allow-Origin"] = "'*'"
            exposed = (*CORS_EXPOSE_HEADERS, "Retry-After")
            headers["Access-Control-Expose-Headers"] = f"'{','.join(exposed)}'"
            self.rest_api.add_gateway_response(
                f"Gateway{shape.response_type.response_type}",
                type=shape.response_type,
                status_code=shape.status,
                response_headers=headers,
                templates={"application/json": error_body(shape.error, shape.message)},
            )

        self.api_key = self.rest_api.add_api_key(
            "ApiKey",
            api_key_name=f"squrl-{env_name}-{Aws.REGION}",
            description=f"squrl {env_name} default client key",
        )
        self.usage_plan = self.rest_api.add_usage_plan(
            "UsagePlan",
            name=f"squrl-{env_name}",
            throttle=apigw.ThrottleSettings(
                rate_limit=settings.throttle_rate_limit,
                burst_limit=settings.throttle_burst_limit,
            ),
            quota=apigw.QuotaSettings(
                limit=settings.quota_limit, period=apigw.Period[settings.quota_period]
            ),
        )
        self.usage_plan.add_api_stage(stage=self.rest_api.deployment_stage)
        self.usage_plan.add_api_key(self.api_key)
        # Callers with a personal token or a Cognito JWT are all metered under this one key, so
        # it has a usage plan of its own: no quota (a shared daily quota would let one busy
        # script lock every user of the region out) and a throttle sized for all bearer traffic,
        # the stage's. Per-owner limits of bearer callers are not enforced by API Gateway
        # (docs/identity.md). Not bound to the stage itself (the usage plan binds it): the
        # authorizer names this key, and the stage's deployment waits for the authorizer, so a
        # stage binding would be a dependency cycle.
        self.bearer_key = apigw.ApiKey(
            self,
            "BearerUsageKey",
            api_key_name=f"squrl-{env_name}-{Aws.REGION}-bearer",
            description=f"squrl {env_name}: the usage key of token and user callers",
        )
        self.bearer_usage_plan = self.rest_api.add_usage_plan(
            "BearerUsagePlan",
            name=f"squrl-{env_name}-bearer",
            description="token and user callers: no quota, the stage's throttle",
            throttle=apigw.ThrottleSettings(
                rate_limit=settings.stage_throttle_rate_limit,
                burst_limit=settings.stage_throttle_burst_limit,
            ),
        )
        self.bearer_usage_plan.add_api_stage(stage=self.rest_api.deployment_stage)
        self.bearer_usage_plan.add_api_key(self.bearer_key)
        self._authorizer: apigw.IAuthorizer | None = None

    @property
    def host(self) -> str:
        """The execute-api host name, a token resolved at deploy time."""
        return f"{self.rest_api.rest_api_id}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}"

    @property
    def base_url(self) -> str:
        """Stage URL without a trailing slash; built from the id so functions may reference it."""
        return f"https://{self.host}/{self.stage_name}"

    def add_routes(
        self,
        functions: Mapping[str, lambda_.IFunction],
        authorizer: apigw.IAuthorizer | None = None,
    ) -> None:
        """Every route of shared.contracts.routes.ROUTES, served by `functions[route.function]`;
        every authenticated one behind `authorizer`."""
        self._authorizer = authorizer
        missing = sorted(set(routes.functions()) - set(functions))
        if missing:
            raise ValueError(f"no function given for the routes of {missing}")
        integrations = {
            name: apigw.LambdaIntegration(functions[name], allow_test_invoke=False)
            for name in routes.functions()
        }
        keyed = [route for route in routes.ROUTES if route.api_key_required]
        public = [route for route in routes.ROUTES if not route.api_key_required]
        # The deployment's logical id hashes resources and methods in the order they are created.
        # This is the order the API was first built in (the keyed routes' resources, their
        # methods, their CORS preflights, then each public route); another order would replace
        # the deployment for no change in behaviour.
        for route in keyed:
            self._resource(route.resource)
        for route in keyed:
            self._keyed(
                self._resource(route.resource),
                route.method,
                integrations[route.function],
                # Create bodies are checked against their model before the function runs.
                model=self._body_model(route),
            )
        preflight_methods: dict[str, list[str]] = {}
        for route in keyed:
            preflight_methods.setdefault(route.resource, []).append(route.method)
        for path, allowed_methods in preflight_methods.items():
            self._cors(self._resource(path), allowed_methods)
        for route in public:
            self._public(self._resource(route.resource), route.method, integrations[route.function])
        declared: dict[str, set[str]] = {}
        for route in routes.ROUTES:
            declared.setdefault(route.resource, set()).add(route.method)
        for path, declared_methods in declared.items():
            self._method_not_allowed(self._resource(path), sorted(declared_methods))

    def _body_model(self, route: routes.Route) -> apigw.IModel | None:
        if route.function != CREATE_FUNCTION:
            return None
        return self.bulk_model if route.resource == BULK_RESOURCE else self.create_model

    def _method_not_allowed(self, resource: apigw.IResource, allowed: Sequence[str]) -> None:
        """An ANY method answering 405 with `Allow` (a MOCK: no function runs). API Gateway
        prefers a resource's explicit methods, OPTIONS preflights included, over ANY."""
        allow = f"'{', '.join(allowed)}'"
        method = resource.add_method(
            "ANY",
            apigw.MockIntegration(
                # The only integration response has no selection pattern, so it is the answer
                # to whatever the mock returns. A body of the common types is replaced by the
                # template; any other passes (WHEN_NO_MATCH, not a 415 for an unnamed type).
                passthrough_behavior=apigw.PassthroughBehavior.WHEN_NO_MATCH,
                request_templates={
                    content_type: '{"statusCode": 405}' for content_type in _MOCKED_BODY_TYPES
                },
                integration_responses=[
                    apigw.IntegrationResponse(
                        status_code="405",
                        response_parameters={
                            "method.response.header.Allow": allow,
                            "method.response.header.Content-Type": "'application/json'",
                        },
                        response_templates={"application/json": method_not_allowed_body()},
                    )
                ],
            ),
            method_responses=[
                apigw.MethodResponse(
                    status_code="405",
                    response_parameters={
                        "method.response.header.Allow": True,
                        "method.response.header.Content-Type": True,
                    },
                )
            ],
        )
        _suppress_authorizer_rules(
            method,
            "Answers 405 Method Not Allowed from a MOCK integration, for every caller alike; "
            "it reaches no function and no data.",
        )

    def _resource(self, path: str) -> apigw.IResource:
        """The resource for `path`, creating the missing parts of it."""
        resource = self.rest_api.root
        for part in path.strip("/").split("/"):
            resource = resource.get_resource(part) or resource.add_resource(part)
        return resource

    def _keyed(
        self,
        resource: apigw.IResource,
        http_method: str,
        integration: apigw.Integration,
        *,
        model: apigw.IModel | None = None,
    ) -> apigw.Method:
        method = resource.add_method(
            http_method,
            integration,
            api_key_required=True,
            authorizer=self._authorizer,
            authorization_type=apigw.AuthorizationType.CUSTOM if self._authorizer else None,
            request_validator=self.body_validator if model is not None else None,
            request_models={"application/json": model} if model is not None else None,
        )
        if self._authorizer is None:
            _suppress_authorizer_rules(
                method,
                "Authenticated with an API key bound to a usage plan (docs/api.md section 2).",
            )
        else:
            acknowledge(
                method,
                "AwsSolutions-COG4",
                "The Lambda REQUEST authorizer verifies Cognito JWTs against the user pool's "
                "JWKS, and also personal tokens and API keys, which a Cognito authorizer cannot "
                "(docs/identity.md).",
            )
        return method

    def _public(
        self, resource: apigw.IResource, http_method: str, integration: apigw.Integration
    ) -> apigw.Method:
        method = resource.add_method(http_method, integration)
        _suppress_authorizer_rules(
            method,
            "Public by design: short links and the health check are opened by anonymous "
            "browsers and failover probes (docs/api.md section 2); WAF and stage throttling "
            "guard it.",
        )
        return method

    def _cors(self, resource: apigw.IResource, allowed_methods: Sequence[str]) -> None:
        origins = self._settings.cors_allowed_origins
        if not origins:
            return
        preflight = resource.add_cors_preflight(
            allow_origins=origins,
            allow_methods=[*allowed_methods, "OPTIONS"],
            # The same list the functions' CORS answers name (shared.contracts.http).
            allow_headers=list(CORS_ALLOW_HEADERS),
        )
        _suppress_authorizer_rules(
            preflight,
            "CORS preflight requests never carry credentials (Fetch standard), so an "
            "authorizer would reject every browser preflight.",
        )


def _suppress_authorizer_rules(method: Construct, reason: str) -> None:
    acknowledge(method, "AwsSolutions-APIG4", reason)
    acknowledge(method, "AwsSolutions-COG4", reason)
